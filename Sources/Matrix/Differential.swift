import TopologyModel

/// The pairs whose outcome differs between two matrices of one topology (the base and a
/// scenario, or an earlier run and this one), as Batfish's differential reachability reports
/// the flows whose fate changed, not two full tables.
public struct Differential: Sendable {
  public struct Change: Sendable, CustomStringConvertible {
    public var source: String
    public var target: String
    public var address: IPAddress?
    public var proto: TransportProtocol
    public var port: Int
    public var before: Outcome
    public var after: Outcome

    public var description: String {
      "\(source) -> \(target) \(proto.label(Int(port)))\(address.map { " (\($0))" } ?? ""): \(before.rawValue), now \(after.rawValue)"
    }
  }

  /// Reached before, not now.
  public var lost: [Change] = []
  /// Not reached before, reached now.
  public var gained: [Change] = []
  /// Not reached either time, for another reason now (no-route became timed-out).
  public var changed: [Change] = []
  /// Pairs of one side only (a family or an address that the other has not).
  public var unmatched = 0

  public init(before: [PairResult], after: [PairResult]) {
    struct Key: Hashable {
      var source: String
      var target: String
      var address: IPAddress?
      var proto: TransportProtocol
      var port: Int
    }
    func key(_ p: PairResult) -> Key { Key(source: p.source, target: p.target, address: p.address, proto: p.proto, port: p.port) }
    var old: [Key: Outcome] = [:]
    old.reserveCapacity(before.count)
    for p in before { old[key(p)] = p.outcome }
    for p in after {
      guard let was = old.removeValue(forKey: key(p)) else {
        unmatched += 1
        continue
      }
      guard was != p.outcome else { continue }
      let c = Change(source: p.source, target: p.target, address: p.address, proto: p.proto, port: p.port, before: was, after: p.outcome)
      if was == .reached {
        lost.append(c)
      } else if p.outcome == .reached {
        gained.append(c)
      } else {
        changed.append(c)
      }
    }
    unmatched += old.count
  }

  public var isEmpty: Bool { lost.isEmpty && gained.isEmpty && changed.isEmpty }

  /// `12 pairs lost, 0 gained, 3 changed otherwise`.
  public var summary: String {
    "\(lost.count) pair\(lost.count == 1 ? "" : "s") lost, \(gained.count) gained" + (changed.isEmpty ? "" : ", \(changed.count) changed otherwise")
  }

  /// The summary, then up to `limit` pairs of each kind.
  public func text(limit: Int = 10) -> String {
    var out = summary + "\n"
    for (word, list) in [("lost", lost), ("gained", gained), ("changed", changed)] where !list.isEmpty {
      for c in list.prefix(limit) { out += "  \(word): \(c)\n" }
      if list.count > limit { out += "  … and \(list.count - limit) more \(word)\n" }
    }
    return out
  }
}

/// A scenario's report beside the base one: what it changed, its own matrix, and the pairs
/// whose outcome differs from the base matrix.
public struct ScenarioReport: Sendable {
  public var name: String
  public var line: Int
  public var changes: [String]
  public var report: TestReport
  public var differential: Differential

  public init(name: String, line: Int, changes: [String], report: TestReport, base: TestReport) {
    self.name = name
    self.line = line
    self.changes = changes
    self.report = report
    differential = Differential(before: base.pairs, after: report.pairs)
  }
}
