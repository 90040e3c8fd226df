import TopologyModel

/// One probed pair with what was expected of it.
public struct PairResult: Sendable {
  // Wide fields first, small ones packed last: two million pairs (a dual-stack star-1000),
  // 88 bytes each instead of 112. The public properties keep their types.
  public var source: String
  public var target: String
  /// Why the pair is not reached, in one sentence, when known.
  public var reason: String?
  public var address: IPAddress?
  /// Connect time in microseconds; `UInt32.max` when none.
  private var latencyMicros: UInt32 = .max
  /// `Int32.min` when no line covers the pair.
  private var lineNumber: Int32 = .min
  private var portNumber: UInt16
  public var proto: TransportProtocol
  public var outcome: Outcome
  /// What the pair is held to: the `expect` line covering it, else (in `test`) the model's
  /// prediction. nil: nothing is expected of the pair.
  public var expected: Expectation.Outcome?
  /// What an `expect` line declares (nil: none covers the pair).
  public var declared: Expectation.Outcome?
  /// What the model predicts (`test` and `predict`).
  public var predicted: Outcome?
  /// `test --exact`: the outcome the model predicts, which the measured one must equal, not
  /// only on reach or blocked.
  public var exactly: Outcome?

  public var port: Int {
    get { Int(portNumber) }
    set { portNumber = UInt16(clamping: newValue) }
  }

  /// Connect time in milliseconds, when reached (to the microsecond).
  public var latencyMs: Double? {
    get { latencyMicros == .max ? nil : Double(latencyMicros) / 1e3 }
    set { latencyMicros = newValue.map { UInt32(clamping: Int(($0 * 1e3).rounded())) } ?? .max }
  }

  /// The `expect` line covering the pair, if any.
  public var line: Int? {
    get { lineNumber == .min ? nil : Int(lineNumber) }
    set { lineNumber = newValue.map { Int32(clamping: $0) } ?? .min }
  }

  public init(
    source: String, target: String, address: IPAddress?, proto: TransportProtocol, port: Int, outcome: Outcome,
    latencyMs: Double? = nil, expected: Expectation.Outcome? = nil, line: Int? = nil, declared: Expectation.Outcome? = nil,
    predicted: Outcome? = nil, reason: String? = nil
  ) {
    self.source = source
    self.target = target
    self.address = address
    self.proto = proto
    self.portNumber = UInt16(clamping: port)
    self.outcome = outcome
    self.expected = expected
    self.declared = declared
    self.predicted = predicted
    self.reason = reason
    self.latencyMs = latencyMs
    self.line = line
  }

  /// The family probed: its address's (nil: not probed, no address).
  public var family: IPAddress.Family? { address?.family }

  /// nil when nothing is expected of the pair.
  public var holds: Bool? {
    let reach = expected.map { $0 == .reach ? outcome.reached : !outcome.reached }
    guard let x = exactly, reach != false else { return reach }
    return x == outcome
  }
}

/// The keys of format 1, as before the fields were packed.
extension PairResult: Codable {
  private enum Keys: String, CodingKey {
    case source, target, reason, port, latencyMs, line, address, proto, outcome, expected, declared, predicted, exactly
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    self.init(
      source: try c.decode(String.self, forKey: .source), target: try c.decode(String.self, forKey: .target),
      address: try c.decodeIfPresent(IPAddress.self, forKey: .address), proto: try c.decode(TransportProtocol.self, forKey: .proto),
      port: try c.decode(Int.self, forKey: .port), outcome: try c.decode(Outcome.self, forKey: .outcome),
      latencyMs: try c.decodeIfPresent(Double.self, forKey: .latencyMs), expected: try c.decodeIfPresent(Expectation.Outcome.self, forKey: .expected),
      line: try c.decodeIfPresent(Int.self, forKey: .line), declared: try c.decodeIfPresent(Expectation.Outcome.self, forKey: .declared),
      predicted: try c.decodeIfPresent(Outcome.self, forKey: .predicted), reason: try c.decodeIfPresent(String.self, forKey: .reason))
    exactly = try c.decodeIfPresent(Outcome.self, forKey: .exactly)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(source, forKey: .source)
    try c.encode(target, forKey: .target)
    try c.encodeIfPresent(reason, forKey: .reason)
    try c.encode(port, forKey: .port)
    try c.encodeIfPresent(latencyMs, forKey: .latencyMs)
    try c.encodeIfPresent(line, forKey: .line)
    try c.encodeIfPresent(address, forKey: .address)
    try c.encode(proto, forKey: .proto)
    try c.encode(outcome, forKey: .outcome)
    try c.encodeIfPresent(expected, forKey: .expected)
    try c.encodeIfPresent(declared, forKey: .declared)
    try c.encodeIfPresent(predicted, forKey: .predicted)
    try c.encodeIfPresent(exactly, forKey: .exactly)
  }
}

/// The result of a `nstopo test` run: every pair, compared with the file's expectations.
public struct TestReport: Codable, Sendable {
  public var topology: String
  public var port: Int
  public var protocols: [TransportProtocol]
  public var timeoutSeconds: Double
  public var seconds: Double
  /// The whole command's wall time (up, neighbours, scenarios, re-probes included); nil for
  /// a prediction, and where only the probing was timed.
  public var wallSeconds: Double?
  public var endpoints: [String]
  public var pairs: [PairResult]
  /// Most sockets open at once during the run.
  public var peakInFlight: Int
  /// Pairs (by index) whose probe a `dnat` sent elsewhere: where it landed, `web:80`.
  public var landed: [Int: String] = [:]

  /// Lazy, like the counts below: a million pairs must not be copied to be counted.
  public var mismatches: LazyFilterSequence<[PairResult]> { pairs.lazy.filter { $0.holds == false } }
  /// Pairs whose `expect` holds but where the measurement contradicts the model (a `run`
  /// firewall, or a kernel surprise).
  public var surprises: LazyFilterSequence<[PairResult]> {
    pairs.lazy.filter { $0.declared != nil && $0.holds == true && $0.predicted != nil && $0.predicted!.reached != $0.outcome.reached }
  }
  public var expectationCount: Int { pairs.lazy.filter { $0.expected != nil }.count }
  public var passed: Bool { !pairs.contains { $0.holds == false } }

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
    let rules = ExpectationIndex(topology.expectations, defaultPort: Int(set.defaultPort))
    var pairs: [PairResult] = []
    pairs.reserveCapacity(set.probes.count + set.unaddressed.count)
    for (i, p) in set.probes.enumerated() {
      let s = set.endpoints[Int(p.source)].name
      let t = set.endpoints[Int(p.target)].name
      let address = set.address(of: p)
      let e = rules.lookup(source: s, target: t, proto: p.proto, port: Int(p.port), family: address.family)
      pairs.append(
        PairResult(
          source: s, target: t, address: address, proto: p.proto, port: Int(p.port), outcome: results[i].0,
          latencyMs: results[i].1.map { $0 * 1e3 }, expected: e?.outcome, line: e?.line, declared: e?.outcome))
    }
    for u in set.unaddressed {
      let s = set.endpoints[Int(u.source)].name
      let t = set.endpoints[Int(u.target)].name
      let e = rules.lookup(source: s, target: t, proto: u.proto, port: Int(u.port), family: nil)
      pairs.append(
        PairResult(source: s, target: t, address: nil, proto: u.proto, port: Int(u.port), outcome: .notProbed, latencyMs: nil,
          expected: e?.outcome, line: e?.line, declared: e?.outcome,
          reason: set.endpoints[Int(u.target)].addresses.isEmpty
            ? "\(t) has no address" : "\(t) has no address of a family \(s) has"))
    }
    self.pairs = pairs
    for (i, l) in set.landings { landed[i] = "\(set.endpoints[Int(l.target)].name):\(l.port)" }
  }

  /// The families probed, IPv4 first.
  public var families: [IPAddress.Family] {
    var seen: Set<IPAddress.Family> = []
    for p in pairs {
      if let f = p.family { seen.insert(f) }
      if seen.count == 2 { break }
    }
    return IPAddress.Family.allCases.filter(seen.contains)
  }

  /// `9900 pairs: 9900 reached, 0 mismatches (0.41 s)`, with the other outcomes counted; with
  /// both families, how many of each: `42 pairs (12 IPv4, 30 IPv6): …`.
  public var summary: String {
    var counts: [Outcome: Int] = [:]
    var byFamily: [IPAddress.Family: Int] = [:]
    for p in pairs {
      counts[p.outcome, default: 0] += 1
      if let f = p.family { byFamily[f, default: 0] += 1 }
    }
    let split = byFamily.count == 2 ? " (\(byFamily[.ipv4]!) IPv4, \(byFamily[.ipv6]!) IPv6)" : ""
    var parts = ["\(counts[.reached] ?? 0) reached"]
    for o in Outcome.allCases where o != .reached {
      if let c = counts[o] { parts.append("\(c) \(o.rawValue)") }
    }
    let m = mismatches.count
    let declared = pairs.lazy.filter { $0.declared != nil }.count
    let of = declared == expectationCount ? "\(expectationCount) expectation\(expectationCount == 1 ? "" : "s")" : "\(expectationCount) expectations (\(declared) declared, the rest predicted)"
    let time: String
    if let w = wallSeconds {
      time = " in \(fixed(w, 2)) s (probing \(fixed(seconds, 2)) s)"
    } else {
      time = seconds > 0 ? " (\(fixed(seconds, 2)) s)" : ""
    }
    return "\(pairs.count) pairs\(split): \(parts.joined(separator: ", ")), \(m) mismatch\(m == 1 ? "" : "es") of \(of)\(time)"
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
