import TopologyModel

/// One probed pair with what was expected of it.
public struct PairResult: Codable, Sendable {
  public var source: String
  public var target: String
  public var address: String?
  public var proto: TransportProtocol
  public var port: Int
  public var outcome: Outcome
  /// Connect time in milliseconds, when reached.
  public var latencyMs: Double?
  /// What an `expect` line says, if one covers the pair.
  public var expected: Expectation.Outcome?
  public var line: Int?

  /// nil when nothing is expected of the pair.
  public var holds: Bool? {
    expected.map { $0 == .reach ? outcome.reached : !outcome.reached }
  }
}

/// The result of a `nstopo test` run: every pair, compared with the file's expectations.
public struct TestReport: Codable, Sendable {
  public var topology: String
  public var port: Int
  public var protocols: [TransportProtocol]
  public var timeoutSeconds: Double
  public var seconds: Double
  public var endpoints: [String]
  public var pairs: [PairResult]
  /// Most sockets open at once during the run.
  public var peakInFlight: Int

  public var mismatches: [PairResult] { pairs.filter { $0.holds == false } }
  public var expectationCount: Int { pairs.filter { $0.expected != nil }.count }
  public var passed: Bool { mismatches.isEmpty }

  public init(
    topology: Topology, set: ProbeSet, results: [(Outcome, Double?)], seconds: Double, timeout: Double,
    protocols: [TransportProtocol], peakInFlight: Int
  ) {
    self.topology = topology.name
    self.port = Int(set.defaultPort)
    self.protocols = protocols
    self.timeoutSeconds = timeout
    self.seconds = seconds
    self.endpoints = set.endpoints.map(\.name)
    self.peakInFlight = peakInFlight
    struct Key: Hashable {
      var s: String
      var t: String
      var proto: TransportProtocol
      var port: Int
    }
    var expected: [Key: ExpectedPair] = [:]
    for e in topology.expectedPairs() {
      expected[Key(s: e.source, t: e.target, proto: e.proto, port: e.port ?? Int(set.defaultPort))] = e
    }
    var pairs: [PairResult] = []
    pairs.reserveCapacity(set.probes.count + set.unaddressed.count)
    for (i, p) in set.probes.enumerated() {
      let s = set.endpoints[Int(p.source)].name
      let t = set.endpoints[Int(p.target)].name
      let e = expected[Key(s: s, t: t, proto: p.proto, port: Int(p.port))]
      pairs.append(
        PairResult(
          source: s, target: t, address: p.address.description, proto: p.proto, port: Int(p.port), outcome: results[i].0,
          latencyMs: results[i].1.map { ($0 * 1e6).rounded() / 1e3 }, expected: e?.outcome, line: e?.line))
    }
    for u in set.unaddressed {
      let s = set.endpoints[Int(u.source)].name
      let t = set.endpoints[Int(u.target)].name
      let e = expected[Key(s: s, t: t, proto: u.proto, port: Int(u.port))]
      pairs.append(
        PairResult(source: s, target: t, address: nil, proto: u.proto, port: Int(u.port), outcome: .notProbed, latencyMs: nil,
          expected: e?.outcome, line: e?.line))
    }
    self.pairs = pairs
  }

  /// `9900 pairs: 9900 reached, 0 mismatches (0.41 s)`, with the other outcomes counted.
  public var summary: String {
    var counts: [Outcome: Int] = [:]
    for p in pairs { counts[p.outcome, default: 0] += 1 }
    var parts = ["\(counts[.reached] ?? 0) reached"]
    for o in Outcome.allCases where o != .reached {
      if let c = counts[o] { parts.append("\(c) \(o.rawValue)") }
    }
    let m = mismatches.count
    return "\(pairs.count) pairs: \(parts.joined(separator: ", ")), \(m) mismatch\(m == 1 ? "" : "es") of \(expectationCount) expectation\(expectationCount == 1 ? "" : "s") (\(fixed(seconds, 2)) s)"
  }
}

/// `x` with `digits` decimals, without Foundation.
func fixed(_ x: Double, _ digits: Int) -> String {
  var scale = 1
  for _ in 0..<digits { scale *= 10 }
  let scaled = Int((x * Double(scale)).rounded())
  let sign = scaled < 0 ? "-" : ""
  let v = abs(scaled)
  guard digits > 0 else { return sign + String(v) }
  let frac = String(v % scale)
  return sign + String(v / scale) + "." + String(repeating: "0", count: digits - frac.count) + frac
}
