/// The `expect` lines as rules, evaluated pair by pair: the last line that covers a pair, for
/// its protocol and port, decides it. Nothing is expanded into pairs up front, so
/// `expect * -> *` over 50,000 nodes costs what the line itself costs (its two name lists),
/// not 2.5 billion pairs.
public struct ExpectationIndex: Sendable {
  public let rules: [Expectation]
  /// A rule's port when it names none: the probe port of a `test` run, or nil to keep "no
  /// port" apart from every number (as `plan` lists them).
  public let defaultPort: Int?
  private let targets: [Set<String>]
  /// Source → the rules that list it, in file order.
  private let bySource: [String: [Int]]

  public init(_ expectations: [Expectation], defaultPort: Int? = nil) {
    rules = expectations
    self.defaultPort = defaultPort
    targets = expectations.map { Set($0.targets) }
    var index: [String: [Int]] = [:]
    for (r, e) in expectations.enumerated() {
      for s in e.sources { index[s, default: []].append(r) }
    }
    bySource = index
  }

  /// Sum over the lines of sources × targets: at least the number of pairs covered.
  public var pairBound: Int {
    rules.reduce(0) { $0.addingReportingOverflow($1.sources.count.multipliedReportingOverflow(by: $1.targets.count).partialValue).partialValue }
  }

  /// ICMP's probes carry port 0 (it has none), or nil where the default is nil.
  private func port(_ rule: Expectation) -> Int? { rule.proto.hasPorts ? rule.port ?? defaultPort : defaultPort.map { _ in 0 } }

  /// Whether `rule` speaks of probes of `family` (nil: a pair with no address to probe, of which
  /// only a line without a family speaks).
  private static func covers(_ rule: Expectation, _ family: IPAddress.Family?) -> Bool {
    rule.family == nil || rule.family == family
  }

  /// The index of the line that decides `source -> target` for `proto`, `port` and `family`, or nil.
  public func decidingRule(source: String, target: String, proto: TransportProtocol, port: Int?, family: IPAddress.Family?) -> Int? {
    guard source != target, let candidates = bySource[source] else { return nil }
    for r in candidates.reversed() {
      let rule = rules[r]
      if rule.proto == proto && self.port(rule) == port && Self.covers(rule, family) && targets[r].contains(target) { return r }
    }
    return nil
  }

  /// The expectation of one probe, or nil when no line covers it.
  public func lookup(source: String, target: String, proto: TransportProtocol, port: Int?, family: IPAddress.Family?) -> ExpectedPair? {
    decidingRule(source: source, target: target, proto: proto, port: port, family: family).map { r in
      ExpectedPair(
        source: source, target: target, family: rules[r].family, proto: proto, port: rules[r].port, outcome: rules[r].outcome,
        line: rules[r].line)
    }
  }

  /// Every covered pair once per line that decides it, with that line, line by line in file
  /// order, as long as `body` returns true. A line without a family that a later line
  /// overrides for one family yields its pair for the other family only. `matching` skips
  /// whole lines.
  public func forEachPair(matching: (Expectation) -> Bool = { _ in true }, _ body: (ExpectedPair) -> Bool) {
    for (r, rule) in rules.enumerated() where matching(rule) {
      for s in rule.sources {
        // No later line for this source with the same protocol, port and a family in common:
        // this line decides all its pairs, and the per-pair lookup is skipped (the common case).
        let overridden = bySource[s]!.contains {
          $0 > r && rules[$0].proto == rule.proto && port(rules[$0]) == port(rule)
            && (rules[$0].family == nil || rule.family == nil || rules[$0].family == rule.family)
        }
        for t in rule.targets where s != t {
          var family = rule.family
          if overridden {
            let decides = (rule.family.map { [$0] } ?? IPAddress.Family.allCases).filter {
              decidingRule(source: s, target: t, proto: rule.proto, port: port(rule), family: $0) == r
            }
            if decides.isEmpty { continue }
            if decides.count == 1 { family = decides[0] }
          }
          let pair = ExpectedPair(source: s, target: t, family: family, proto: rule.proto, port: rule.port, outcome: rule.outcome, line: rule.line)
          if !body(pair) { return }
        }
      }
    }
  }
}
