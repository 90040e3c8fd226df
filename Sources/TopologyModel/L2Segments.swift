/// The L2 segments of a topology's links, computed once: one per bridge (its ports share it),
/// one per direct veth, numbered in order of first appearance. The language (for `via NODE`),
/// the planner (neighbour sets) and the predictor (who answers ARP) all read this one.
public struct L2Segments: Sendable {
  public enum Kind: Hashable, Sendable {
    case bridge(String)
    /// A direct veth: the index of its link.
    case link(Int)
  }

  /// Per segment.
  public private(set) var kinds: [Kind] = []
  /// Per segment: the ends on it that a neighbour could talk to (bridge ports excluded), in
  /// link order.
  public private(set) var members: [[LinkEnd]] = []
  /// Per link: its segment.
  public private(set) var ofLink: [Int] = []

  public init(_ links: [Link]) {
    var bridgeSegment: [String: Int] = [:]
    ofLink.reserveCapacity(links.count)
    for (i, link) in links.enumerated() {
      let segment: Int
      if let b = link.bridge, let s = bridgeSegment[b] {
        segment = s
      } else {
        segment = kinds.count
        if let b = link.bridge {
          bridgeSegment[b] = segment
          kinds.append(.bridge(b))
        } else {
          kinds.append(.link(i))
        }
        members.append([])
      }
      ofLink.append(segment)
      for end in [link.a, link.b] {
        if case .bridge = end.owner { continue }
        members[segment].append(end)
      }
    }
  }

  public var count: Int { kinds.count }
}
