import TopologyModel

// A node's routes as the walk looks them up (longest prefix first), and one route.
extension Predictor {
  struct RouteEntry: Sendable {
    var prefix: IPPrefix
    var interface: Int?
    var gateway: IPAddress?
    var kind: Kind

    enum Kind: Sendable {
      case connected, gateway, blackhole, unreachable, prohibit

      var step: HopStep.RouteKind {
        switch self {
        case .connected: return .connected
        case .gateway: return .gateway
        case .blackhole: return .blackhole
        case .unreachable: return .unreachable
        case .prohibit: return .prohibit
        }
      }
    }
  }

  /// A node's routes, longest prefix first (connected before static for equal prefixes). A
  /// large table is also indexed by prefix, so a lookup costs one probe per prefix length it
  /// uses: a router with 20,000 connected routes made every walk through it scan them all.
  struct RouteTable: Sendable {
    var entries: [RouteEntry]
    /// (family, length) in order of first appearance: longest first within a family.
    var lengths: [(IPAddress.Family, Int)] = []
    var first: [IPPrefix: Int] = [:]

    init(_ sorted: [RouteEntry]) {
      entries = sorted
      guard sorted.count > 16 else { return }
      for (i, r) in sorted.enumerated() {
        if first[r.prefix] == nil { first[r.prefix] = i }
        if !lengths.contains(where: { $0 == (r.prefix.family, r.prefix.length) }) { lengths.append((r.prefix.family, r.prefix.length)) }
      }
    }

    /// The first entry whose prefix contains `dst`.
    func route(to dst: IPAddress) -> RouteEntry? {
      guard !first.isEmpty else { return entries.first { $0.prefix.contains(dst) } }
      let family = dst.family
      for (f, length) in lengths where f == family {
        if let i = first[IPPrefix(address: dst, length: length)] { return entries[i] }
      }
      return nil
    }
  }
}
