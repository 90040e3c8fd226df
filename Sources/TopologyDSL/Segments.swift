import TopologyModel

/// Who is on which L2 segment (`L2Segments`), indexed for the question `route ... via NODE`
/// asks: "which address does node X have on a segment it shares with me?"
struct Segments {
  /// Per owner: the segments it is on, with its end there.
  var ends: [Owner: [(segment: Int, end: LinkEnd)]] = [:]
  var hasHost = false
  /// The first address an owner has on a segment: `shared` costs the source's segments, not
  /// every member of them (26,000 hosts routing via one router on their LAN was quadratic).
  private var firstAddress: [Place: IPAddress] = [:]

  private struct Place: Hashable {
    var segment: Int
    var owner: Owner
    var family: IPAddress.Family
  }

  init(links: [Link]) {
    let l2 = L2Segments(links)
    // In link order, so that an owner's segments come in the order of its links.
    for (i, link) in links.enumerated() {
      let segment = l2.ofLink[i]
      for end in [link.a, link.b] {
        if case .bridge = end.owner { continue }
        if end.owner == .host { hasHost = true }
        self.ends[end.owner, default: []].append((segment, end))
        for a in end.addresses {
          let place = Place(segment: segment, owner: end.owner, family: a.family)
          if firstAddress[place] == nil { firstAddress[place] = a.address }
        }
      }
    }
  }

  /// Addresses of `family` of `target` on segments that `source` is also on, one entry per segment.
  func shared(_ source: Owner, _ target: Owner, family: IPAddress.Family) -> [(segment: Int, address: IPAddress)] {
    var result: [(Int, IPAddress)] = []
    var seen = Set<Int>()
    for (segment, _) in ends[source] ?? [] where seen.insert(segment).inserted {
      if let address = firstAddress[Place(segment: segment, owner: target, family: family)] { result.append((segment, address)) }
    }
    return result
  }
}
