import Foundation
import Planner
import Predict
import Probe
import TopologyModel

/// `nstopo perf NAME A B`: throughput each way, measured (`Throughput`), beside the narrowest
/// `rate` the model finds on the way.
public enum Perf {
  public struct Direction: Sendable {
    public var source: String
    public var target: String
    public var address: IPAddress
    public var measured: Throughput.Result
    /// The lowest `rate` on the predicted path, in bits a second, and the link that has it;
    /// nil when no link on the way is shaped.
    public var bottleneck: (bits: UInt64, link: String)?
  }

  /// Both directions, one after the other, for `seconds` each.
  public static func run(_ t: Topology, _ a: String, _ b: String, udp: Bool, seconds: Double, family: IPAddress.Family? = nil) throws -> [Direction] {
    let names = KernelNames(topology: t.name)
    let predictor = Predictor(t)
    var out: [Direction] = []
    for (s, d) in [(a, b), (b, a)] {
      let mine = Set(predictor.addresses(of: s).map(\.family))
      guard let address = predictor.addresses(of: d).first(where: { mine.contains($0.family) && (family == nil || $0.family == family) }) else {
        throw Throughput.Failure(description: "\(d) has no address \(s) can reach\(family.map { " in \($0.name)" } ?? "")")
      }
      let prediction = predictor.predict(Flow(from: s, to: d, address: address, proto: udp ? .udp : .tcp))
      // A pair the model says does not connect has no throughput to measure: say why.
      guard prediction.verdict == .reached else {
        throw Throughput.Failure(description: "\(s) does not reach \(d) (\(address)): the model predicts \(prediction.verdict.rawValue)\(prediction.reason.map { ": \($0)" } ?? "") (see `nstopo why`)")
      }
      let path = prediction.path
      let measured = try Throughput.measure(from: names.namespace(node: s), to: names.namespace(node: d), address: address, udp: udp, seconds: seconds)
      out.append(Direction(source: s, target: d, address: address, measured: measured, bottleneck: bottleneck(t, path)))
    }
    return out
  }

  /// For `test --perf`: a pair of nodes across each link with a `rate` that is up, in link
  /// order: its two nodes, or, for a port of a LAN, its node and the LAN's first other node.
  public static func shapedPairs(_ t: Topology) -> [(String, String)] {
    var out: [(String, String)] = []
    for l in t.links where l.isUp && l.properties.rate != nil {
      switch (l.a.owner, l.b.owner) {
      case (.node(let a), .node(let b)):
        out.append((a, b))
      case (.node(let a), .bridge(let br)), (.bridge(let br), .node(let a)):
        let other = t.links.first { $0.isUp && $0.bridge == br && $0 != l && ($0.a.owner.isNode || $0.b.owner.isNode) }
        if let o = other, case .node(let b) = (o.a.owner.isNode ? o.a.owner : o.b.owner) { out.append((a, b)) }
      default:
        continue
      }
    }
    var seen = Set<String>()
    return out.filter { seen.insert("\($0.0)>\($0.1)").inserted }
  }

  /// The lowest `rate` of the links a path crosses: each hop's outgoing link, and, across a
  /// bridge, the next node's link to it (its port shapes what goes into that node).
  public static func bottleneck(_ t: Topology, _ path: [Hop]) -> (bits: UInt64, link: String)? {
    var best: (bits: UInt64, link: String)?
    func consider(_ l: Link) {
      guard let r = l.properties.rate, best == nil || r < best!.bits else { return }
      best = (r, "\(l.text), rate \(LinkProperties.rateText(r))")
    }
    for (k, hop) in path.enumerated() {
      guard let out = hop.interface, let link = t.links.first(where: { end($0, hop.node, out) }) else { continue }
      consider(link)
      guard k + 1 < path.count, let bridge = link.bridge else { continue }
      let next = path[k + 1].node
      if let port = t.links.first(where: { $0.bridge == bridge && ($0.a.owner == .node(next) || $0.b.owner == .node(next)) }) { consider(port) }
    }
    return best
  }

  /// Whether a direction's measurement is within `tolerance` percent of its bottleneck (true
  /// without one).
  public static func holds(_ d: Direction, tolerance: Double) -> Bool {
    guard let b = d.bottleneck else { return true }
    return abs(d.measured.megabitsPerSecond * 1_000_000 / Double(b.bits) - 1) * 100 <= tolerance
  }

  private static func end(_ l: Link, _ node: String, _ interface: String) -> Bool {
    (l.a.owner == .node(node) && l.a.interface == interface) || (l.b.owner == .node(node) && l.b.interface == interface)
  }
}
