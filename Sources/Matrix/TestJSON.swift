import TopologyModel

/// `nstopo test --json`, written pair by pair so that a million pairs never sit in memory as
/// one document. Keys are sorted, as JSONEncoder's `.sortedKeys` would; `TestDocument` below
/// is what it writes, for a reader to decode.
public enum TestJSON {
  /// `scenarios`: one section each (name, line, changes, differential, its own pairs),
  /// under `scenarios`, after the base matrix's fields.
  /// `kind`: `test` (measured) or `predict` (the model alone).
  public static func write(
    _ r: TestReport, passed: Bool, scenarios: [ScenarioReport] = [], kind: String = "test", throughput: [ThroughputCheck] = [],
    _ emit: (String) -> Void
  ) {
    emit("{\n")
    emit("  \"endpoints\" : [\(r.endpoints.map(string).joined(separator: ", "))],\n")
    emit("  \"format\" : 2,\n")
    emit("  \"kind\" : \(string(kind)),\n")
    emit("  \"pairs\" : [\n")
    writePairs(r, indent: "    ", emit)
    emit("  ],\n")
    emit("  \"passed\" : \(passed),\n")
    emit("  \"peakInFlight\" : \(r.peakInFlight),\n")
    // `test --perf`: each direction across each shaped link.
    if !throughput.isEmpty {
      let items = throughput.map { c in
        "{\"address\":\"\(c.address)\",\"held\":\(c.held),\"megabitsPerSecond\":\((c.megabitsPerSecond * 10).rounded() / 10),\"rate\":\(c.rate.map(String.init) ?? "null"),\"source\":\(string(c.source)),\"target\":\(string(c.target))}"
      }
      emit("  \"perf\" : [\(items.joined(separator: ", "))],\n")
    }
    emit("  \"port\" : \(r.port),\n")
    emit("  \"protocols\" : [\(r.protocols.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))],\n")
    if !scenarios.isEmpty {
      emit("  \"scenarios\" : [\n")
      for (k, s) in scenarios.enumerated() {
        emit("    {\n")
        emit("      \"changes\" : [\(s.changes.map(string).joined(separator: ", "))],\n")
        let d = s.differential
        func list(_ l: [Differential.Change]) -> String {
          l.map { c in
            "{\"after\":\"\(c.after.rawValue)\",\"before\":\"\(c.before.rawValue)\",\"port\":\(c.port),\"proto\":\"\(c.proto.rawValue)\",\"source\":\(string(c.source)),\"target\":\(string(c.target))}"
          }.joined(separator: ",")
        }
        emit("      \"differential\" : {\"changed\":[\(list(d.changed))],\"gained\":[\(list(d.gained))],\"lost\":[\(list(d.lost))],\"summary\":\(string(d.summary))},\n")
        emit("      \"line\" : \(s.line),\n")
        emit("      \"name\" : \(string(s.name)),\n")
        emit("      \"pairs\" : [\n")
        writePairs(s.report, indent: "        ", emit)
        emit("      ],\n")
        emit("      \"passed\" : \(s.report.passed),\n")
        emit("      \"summary\" : \(string(s.report.summary))\n")
        emit(k + 1 < scenarios.count ? "    },\n" : "    }\n")
      }
      emit("  ],\n")
    }
    emit("  \"seconds\" : \(r.seconds),\n")
    emit("  \"summary\" : \(string(r.summary)),\n")
    emit("  \"timeoutSeconds\" : \(r.timeoutSeconds),\n")
    emit("  \"topology\" : \(string(r.topology))\(r.wallSeconds == nil ? "" : ",")\n")
    if let w = r.wallSeconds { emit("  \"wallSeconds\" : \(w)\n") }
    emit("}\n")
  }

  /// One line per pair, keys sorted.
  static func writePairs(_ r: TestReport, indent: String, _ emit: (String) -> Void) {
    for (i, p) in r.pairs.enumerated() {
      var f: [String] = []
      if let a = p.address { f.append("\"address\":\"\(a)\"") }
      if let d = p.declared { f.append("\"declared\":\"\(d.json)\"") }
      if let x = p.exactly { f.append("\"exactly\":\"\(x.rawValue)\"") }
      if let e = p.expected { f.append("\"expected\":\"\(e.json)\"") }
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
      emit(indent + "{" + f.joined(separator: ",") + (i + 1 < r.pairs.count ? "},\n" : "}\n"))
    }
  }

  /// A JSON string literal.
  static func string(_ s: String) -> String { Escaping.jsonString(s) }
}

/// The documented JSON of `nstopo test --json` and `predict --json` (format 2), as `TestJSON`
/// writes it, for a reader to decode (`nstopo graph --results`).
public struct TestDocument: Codable, Sendable {
  /// 2 since `expected` and `declared` say `reached` (format 1 said `reach`; both are read).
  public var format = 2
  /// `test` or `predict` (absent before 0.6: `test`).
  public var kind: String?
  /// `test`: the whole command's wall time; `seconds` is the probing alone.
  public var wallSeconds: Double?
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
  /// `--scenario`/`--all-scenarios`: one section each.
  public var scenarios: [ScenarioSection]?

  public init(
    kind: String? = nil, topology: String, passed: Bool, summary: String, seconds: Double, port: Int, protocols: [TransportProtocol],
    timeoutSeconds: Double, peakInFlight: Int, endpoints: [String]?, pairs: [PairResult], scenarios: [ScenarioSection]? = nil
  ) {
    self.kind = kind
    self.topology = topology
    self.passed = passed
    self.summary = summary
    self.seconds = seconds
    self.port = port
    self.protocols = protocols
    self.timeoutSeconds = timeoutSeconds
    self.peakInFlight = peakInFlight
    self.endpoints = endpoints
    self.pairs = pairs
    self.scenarios = scenarios
  }

  public struct ScenarioSection: Codable, Sendable {
    public var name: String
    public var line: Int
    public var changes: [String]
    public var passed: Bool
    public var summary: String
    public var pairs: [PairResult]

    public init(name: String, line: Int, changes: [String], passed: Bool, summary: String, pairs: [PairResult]) {
      self.name = name
      self.line = line
      self.changes = changes
      self.passed = passed
      self.summary = summary
      self.pairs = pairs
    }
  }
}
