import TopologyModel

/// A node's own addresses, for "is this packet for me?", asked at every hop of every walk.
/// Most nodes have one to four: comparing them in turn costs less than hashing (a hash was a
/// tenth of `predict`'s time); a router with many keeps a set.
struct LocalAddresses: Sendable {
  private var list: [IPAddress] = []
  private var set: Set<IPAddress> = []
  static let scanLimit = 8

  mutating func insert(_ a: IPAddress) {
    if set.isEmpty {
      if list.contains(a) { return }
      list.append(a)
      if list.count > Self.scanLimit {
        set = Set(list)
        list = []
      }
    } else {
      set.insert(a)
    }
  }

  func contains(_ a: IPAddress) -> Bool {
    set.isEmpty ? list.contains(a) : set.contains(a)
  }
}
