import TopologyModel

/// `nstopo test --json`, written pair by pair so that a million pairs never sit in memory as
/// one document. Keys are sorted, as JSONEncoder's `.sortedKeys` would; `TestDocument` below
/// is what it writes, for a reader to decode.
public enum TestJSON {
  public static func write(_ r: TestReport, passed: Bool, _ emit: (String) -> Void) {
    emit("{\n")
    emit("  \"endpoints\" : [\(r.endpoints.map(string).joined(separator: ", "))],\n")
    emit("  \"format\" : 1,\n")
    emit("  \"pairs\" : [\n")
    for (i, p) in r.pairs.enumerated() {
      var f: [String] = []
      if let a = p.address { f.append("\"address\":\"\(a)\"") }
      if let d = p.declared { f.append("\"declared\":\"\(d.rawValue)\"") }
      if let x = p.exactly { f.append("\"exactly\":\"\(x.rawValue)\"") }
      if let e = p.expected { f.append("\"expected\":\"\(e.rawValue)\"") }
      if let fam = p.family { f.append("\"family\":\"\(fam.rawValue)\"") }
      if let l = r.landed[i] { f.append("\"landed\":\(string(l))") }
      if let l = p.latencyMs { f.append("\"latencyMs\":\(l)") }
      if let l = p.line { f.append("\"line\":\(l)") }
      f.append("\"outcome\":\"\(p.outcome.rawValue)\"")
      f.append("\"port\":\(p.port)")
      if let x = p.predicted { f.append("\"predicted\":\"\(x.rawValue)\"") }
      f.append("\"proto\":\"\(p.proto.rawValue)\"")
      if let why = p.reason { f.append("\"reason\":\(string(why))") }
      f.append("\"source\":\(string(p.source))")
      f.append("\"target\":\(string(p.target))")
      emit("    {" + f.joined(separator: ",") + (i + 1 < r.pairs.count ? "},\n" : "}\n"))
    }
    emit("  ],\n")
    emit("  \"passed\" : \(passed),\n")
    emit("  \"peakInFlight\" : \(r.peakInFlight),\n")
    emit("  \"port\" : \(r.port),\n")
    emit("  \"protocols\" : [\(r.protocols.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))],\n")
    emit("  \"seconds\" : \(r.seconds),\n")
    emit("  \"summary\" : \(string(r.summary)),\n")
    emit("  \"timeoutSeconds\" : \(r.timeoutSeconds),\n")
    emit("  \"topology\" : \(string(r.topology))\n")
    emit("}\n")
  }

  /// A JSON string literal.
  static func string(_ s: String) -> String {
    var o = "\""
    for u in s.unicodeScalars {
      switch u {
      case "\"": o += "\\\""
      case "\\": o += "\\\\"
      case "\n": o += "\\n"
      case "\t": o += "\\t"
      case "\r": o += "\\r"
      default:
        if u.value < 0x20 {
          let h = String(u.value, radix: 16)
          o += "\\u" + String(repeating: "0", count: 4 - h.count) + h
        } else {
          o.unicodeScalars.append(u)
        }
      }
    }
    return o + "\""
  }
}

/// The documented JSON of `nstopo test --json` and `predict --json` (format 1), as `TestJSON`
/// writes it, for a reader to decode (`nstopo graph --results`).
public struct TestDocument: Codable, Sendable {
  public var format = 1
  public var topology: String
  public var passed: Bool
  public var summary: String
  public var seconds: Double
  public var port: Int
  public var protocols: [TransportProtocol]
  public var timeoutSeconds: Double
  public var peakInFlight: Int
  public var endpoints: [String]?
  public var pairs: [PairResult]
}
