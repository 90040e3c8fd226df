import TopologyModel

/// One JUnit test case per expected pair and family, for CI: `h1 -> web ipv6 tcp/4444 reach`.
public enum JUnitReport {
  /// The base matrix as one suite, each scenario as a suite of its own (`lab: spine1-fails`).
  public static func render(_ r: TestReport, scenarios: [ScenarioReport] = [], throughput: [ThroughputCheck] = []) -> String {
    let all = [(r.topology, r)] + scenarios.map { ("\(r.topology): \($0.name)", $0.report) }
    let cases = all.reduce(0) { $0 + $1.1.pairs.lazy.filter { $0.expected != nil }.count } + throughput.count
    let failures = all.reduce(0) { $0 + $1.1.pairs.lazy.filter { $0.holds == false }.count } + throughput.filter { !$0.held }.count
    let seconds = all.reduce(0) { $0 + $1.1.seconds }
    var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    out += "<testsuites name=\"nstopo\" tests=\"\(cases)\" failures=\"\(failures)\" time=\"\(fixed(seconds, 3))\">\n"
    for (name, report) in all { out += suite(report, name: name) }
    if !throughput.isEmpty {
      // `test --perf`: a case per direction across a shaped link.
      let name = "\(r.topology): perf"
      out += "  <testsuite name=\"\(xml(name))\" tests=\"\(throughput.count)\" failures=\"\(throughput.filter { !$0.held }.count)\">\n"
      for c in throughput {
        out += "    <testcase classname=\"nstopo.\(xml(name))\" name=\"\(xml("\(c.source) -> \(c.target) throughput"))\""
        out += c.held ? "/>\n" : ">\n      <failure message=\"\(xml("\(c.text), more than 10 % from the rate"))\"/>\n    </testcase>\n"
      }
      out += "  </testsuite>\n"
    }
    out += "</testsuites>\n"
    return out
  }

  static func suite(_ r: TestReport, name: String) -> String {
    let cases = r.pairs.lazy.filter { $0.expected != nil }
    let failures = cases.filter { $0.holds == false }.count
    var out = "  <testsuite name=\"\(xml(name))\" tests=\"\(cases.count)\" failures=\"\(failures)\" time=\"\(fixed(r.seconds, 3))\">\n"
    for c in cases {
      let caseName = "\(c.source) -> \(c.target) \(c.family.map { "\($0.rawValue) " } ?? "")\(c.proto.label(Int(c.port))) \(c.expected!.rawValue)"
      let time = fixed((c.latencyMs ?? 0) / 1000, 6)
      out += "    <testcase classname=\"nstopo.\(xml(name))\" name=\"\(xml(caseName))\" time=\"\(time)\""
      if c.holds == false {
        // The message says what went wrong and why (the model's or the kernel's reason);
        // the body where: the `expect` line, or that the model predicted it.
        let why = c.reason.map { ": \($0)" } ?? ""
        out += ">\n      <failure message=\"\(xml("expected \(c.expected!.rawValue), got \(c.outcome.rawValue)\(why)"))\">"
        let origin = c.line.map { "line \($0)" } ?? "predicted by the model (no expect line)"
        out += xml("\(origin): \(c.source) -> \(c.target) (\(c.address?.description ?? "no address")) \(c.proto.label(Int(c.port))): \(MatrixText.verdicts(c))")
        out += "</failure>\n    </testcase>\n"
      } else {
        out += "/>\n"
      }
    }
    out += "  </testsuite>\n"
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
