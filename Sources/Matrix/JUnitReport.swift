import TopologyModel

/// One JUnit test case per expected pair and family, for CI: `h1 -> web ipv6 tcp/4444 reach`.
public enum JUnitReport {
  public static func render(_ r: TestReport) -> String {
    let cases = r.pairs.lazy.filter { $0.expected != nil }
    let failures = cases.filter { $0.holds == false }.count
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out += "<testsuites name=\"nstopo\" tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(fixed(r.seconds, 3))\">\n"
    out += "  <testsuite name=\"\(xml(r.topology))\" tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(fixed(r.seconds, 3))\">\n"
    for c in cases {
      let name = "\(c.source) -> \(c.target) \(c.family.map { "\($0.rawValue) " } ?? "")\(c.proto.rawValue)/\(c.port) \(c.expected!.rawValue)"
      let time = fixed((c.latencyMs ?? 0) / 1000, 6)
      out += "    <testcase classname=\"nstopo.\(xml(r.topology))\" name=\"\(xml(name))\" time=\"\(time)\""
      if c.holds == false {
        out += ">\n      <failure message=\"\(xml("expected \(c.expected!.rawValue), got \(c.outcome.rawValue)"))\">"
        out += xml("line \(c.line ?? 0): \(c.source) -> \(c.target) (\(c.address?.description ?? "no address")) \(c.proto.rawValue)/\(c.port): \(c.outcome.rawValue)")
        out += "</failure>\n    </testcase>\n"
      } else {
        out += "/>\n"
      }
    }
    out += "  </testsuite>\n</testsuites>\n"
    return out
  }

  static func xml(_ s: String) -> String {
    var o = ""
    for c in s {
      switch c {
      case "&": o += "&amp;"
      case "<": o += "&lt;"
      case ">": o += "&gt;"
      case "\"": o += "&quot;"
      case "'": o += "&apos;"
      default: o.append(c)
      }
    }
    return o
  }
}
