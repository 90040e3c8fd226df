import Foundation
import Matrix
import Predict
import Probe
import TopologyModel

/// `test` probes with permanent neighbour entries in place (a full mesh would overflow the
/// kernel's one neighbour table otherwise), so its packets never ask the kernel to resolve a
/// neighbour. That must not change a verdict: a user's own traffic has no such entries. Once
/// they are removed, a sample of the reached pairs is probed again, the kernel resolving every
/// next hop itself: every pair whose path crosses a router or a firewalled node, and two
/// pairs per segment and family among the rest, within a budget of neighbour entries that
/// keeps the kernel's table (1,024 dynamic entries for the whole machine) far from full. A
/// pair reached only with the entries becomes the kernel's own outcome, with the reason.
public enum NeighbourCheck {
  public struct Result: Sendable {
    /// Pairs probed again without the entries.
    public var probed = 0
    /// Those whose outcome differed.
    public var differ = 0
    /// Reached pairs left out because of the entry budget.
    public var skipped = 0
  }

  /// Next-hop resolutions (a node and the node it sends to) the sample may need, per family.
  public static let entryBudget = 400
  /// Pairs on one segment (of one family) that neither cross a router nor touch a firewall.
  public static let plainPairsPerSegment = 2

  /// Which probes of `set` to look at again, by index: reached ones, TCP (resolution does not
  /// depend on the protocol; UDP where a pair has no TCP probe), routed or firewalled first.
  static func sample(_ topology: Topology, _ set: ProbeSet, _ report: TestReport, timeout: Double) -> (indices: [Int], skipped: Int) {
    let model = Predictor(topology, probeTimeout: timeout)
    let firewalled = Set(topology.nodes.filter { $0.firewall.map { !Firewall.Chain.allCases.allSatisfy($0.isTrivial) } ?? false }.map(\.name))
    var segmentOf: [IPAddress: IPPrefix] = [:]
    for l in topology.links {
      for e in [l.a, l.b] { for a in e.addresses { segmentOf[a.address] = a.prefix } }
    }
    // Each endpoint's on-link prefixes: a pair on one of them needs no router.
    var onLink: [Int32: [IPPrefix]] = [:]
    for (k, e) in set.endpoints.enumerated() {
      let owner: Owner = e.name == "host" ? .host : .node(e.name)
      onLink[Int32(k)] = topology.ends(of: owner).filter { !$0.down }.flatMap { $0.addresses.map(\.prefix) }
    }
    let hasTCP = set.probes.contains { $0.proto == .tcp }
    var routed: [(Int, Set<String>)] = []
    var plain: [String: [(Int, Set<String>)]] = [:]
    for (i, p) in set.probes.enumerated() where i < report.pairs.count && report.pairs[i].outcome == .reached {
      if hasTCP && p.proto != .tcp { continue }
      let address = set.address(of: p)
      let source = set.endpoints[Int(p.source)].name
      let target = set.endpoints[Int(p.target)].name
      let direct = (onLink[p.source] ?? []).contains { $0.contains(address) }
      if direct && !firewalled.contains(source) && !firewalled.contains(target) {
        let segment = segmentOf[address].map { "\($0)" } ?? "\(address)"
        // Enough of this segment already: no need to look further.
        guard (plain[segment]?.count ?? 0) < plainPairsPerSegment else { continue }
        plain[segment, default: []].append((i, ["\(address.family) \(source)>\(target)", "\(address.family) \(target)>\(source)"]))
        continue
      }
      let w = model.predict(Predictor.flow(set, i))
      // Each resolution: a node and the next one on the way, there and back.
      var steps = Set<String>()
      for path in [w.path, w.returnPath] where path.count > 1 {
        for k in 1..<path.count { steps.insert("\(address.family) \(path[k - 1].node)>\(path[k].node)") }
      }
      routed.append((i, steps))
    }
    var entries = Set<String>()
    var chosen: [Int] = []
    var skipped = 0
    func take(_ c: (Int, Set<String>)) {
      let new = c.1.subtracting(entries)
      let family = set.address(of: set.probes[c.0]).family
      let used = entries.filter { $0.hasPrefix("\(family) ") }.count
      guard used + new.count <= entryBudget else {
        skipped += 1
        return
      }
      entries.formUnion(new)
      chosen.append(c.0)
    }
    routed.forEach(take)
    for key in plain.keys.sorted() { plain[key]!.forEach(take) }
    return (chosen.sorted(), skipped)
  }

  /// Probes the sample again (call with the permanent entries removed) and writes into
  /// `report` every pair whose outcome differs, with its reason.
  public static func run(_ topology: Topology, _ set: ProbeSet, report: inout TestReport, timeout: Double, shouldStop: () -> Bool = { false }) throws -> Result {
    let (indices, skipped) = sample(topology, set, report, timeout: timeout)
    var result = Result(skipped: skipped)
    guard !indices.isEmpty else { return result }
    let subset = set.subset(indices)
    let predictor = Predictor(topology, probeTimeout: timeout)
    let model = indices.map { predictor.modelVerdict(set, $0) }
    let m = try ProbeEngine.measure(subset, model: model, options: ProbeEngine.Options(timeout: timeout, maxInFlight: 64), shouldStop: shouldStop)
    result.probed = indices.count
    for (k, i) in indices.enumerated() where m.results[k].0 != report.pairs[i].outcome {
      result.differ += 1
      report.pairs[i].outcome = m.results[k].0
      report.pairs[i].reason =
        "reached only with test's permanent neighbour entries: without them the kernel's own neighbour resolution gives \(m.results[k].0.rawValue)"
    }
    return result
  }
}
