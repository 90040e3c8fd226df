import TopologyModel

/// L2 segments of a topology: one per bridge, one per direct veth. Answers "which address
/// does node X have on a segment it shares with me?", which `route ... via NODE` needs.
struct Segments {
  /// Per owner: the segments it is on, with its end there.
  var ends: [Owner: [(segment: Int, end: LinkEnd)]] = [:]
  /// Per segment: every end on it that a neighbour could use (bridge ports excluded).
  var members: [[LinkEnd]] = []
  var names: [String] = []
  var hasHost = false
  /// The first address an owner has on a segment: `shared` costs the source's segments, not
  /// every member of them (26,000 hosts routing via one router on their LAN was quadratic).
  private var firstAddress: [Place: IPv4Address] = [:]

  private struct Place: Hashable {
    var segment: Int
    var owner: Owner
  }

  init(links: [Link]) {
    var bridgeSegment: [String: Int] = [:]
    for link in links {
      let segment: Int
      if let b = link.bridge {
        if let s = bridgeSegment[b] {
          segment = s
        } else {
          segment = members.count
          bridgeSegment[b] = segment
          members.append([])
          names.append("bridge \(b)")
        }
      } else {
        segment = members.count
        members.append([])
        names.append("link \(link.a.owner):\(link.a.interface)-\(link.b.owner):\(link.b.interface)")
      }
      for end in [link.a, link.b] {
        if case .bridge = end.owner { continue }
        if end.owner == .host { hasHost = true }
        members[segment].append(end)
        ends[end.owner, default: []].append((segment, end))
        let place = Place(segment: segment, owner: end.owner)
        if let a = end.address, firstAddress[place] == nil { firstAddress[place] = a.address }
      }
    }
  }

  /// Addresses of `target` on segments that `source` is also on, one entry per segment.
  func shared(_ source: Owner, _ target: Owner) -> [(segment: Int, address: IPv4Address)] {
    var result: [(Int, IPv4Address)] = []
    var seen = Set<Int>()
    for (segment, _) in ends[source] ?? [] where seen.insert(segment).inserted {
      if let address = firstAddress[Place(segment: segment, owner: target)] { result.append((segment, address)) }
    }
    return result
  }
}
