import TopologyModel

// Who is on a segment: owners of addresses, interfaces that are down, neighbour discovery.
extension Predictor {
  /// "; r1's link to r2 (eth2) is down" when a link of `node` that is down is why it has no
  /// route to `dst`: the link's prefix holds `dst`, or a route of the node's that the kernel
  /// dropped with it covers `dst`. Empty otherwise.
  func downNote(_ node: Int, _ dst: IPAddress) -> String {
    let mine = states[node].interfaces.filter { interfaces[$0].down }
    guard !mine.isEmpty else { return "" }
    for i in mine where interfaces[i].addresses.contains(where: { $0.prefix.contains(dst) }) {
      return interfaces[i].downNote.map { "; \($0)" } ?? ""
    }
    guard let model = topology.node(named: states[node].name) else { return "" }
    for r in model.routes where r.destination.contains(dst) {
      guard case .gateway(let gw, _) = r.nextHop else { continue }
      for i in mine where interfaces[i].addresses.contains(where: { $0.prefix.contains(gw) }) {
        return interfaces[i].downNote.map { "; \($0) (its route \(r.text) is gone with it)" } ?? ""
      }
    }
    return ""
  }

  /// The interface with `address` on a link that is down, if any: who would have answered.
  func downInterface(owning address: IPAddress) -> Interface? {
    downOwners.isEmpty ? nil : downOwners[address].map { interfaces[$0] }
  }

  /// An interface on `segment` of a node that has `address` on another interface: Linux
  /// answers ARP for any local address on every interface (`arp_ignore=0`). Not IPv6:
  /// neighbour discovery is strict, a node answers a solicitation only for an address of the
  /// interface it arrives on.
  func weakHostOwner(_ segment: Int, _ address: IPAddress) -> Int? {
    guard address.family == .ipv4 else { return nil }
    for i in segmentMembers[segment] where interfaces[i].endpoint >= 0 && states[interfaces[i].endpoint].local.contains(address) {
      return i
    }
    return nil
  }

  /// The interface of `node` whose subnet contains `address`.
  func connected(_ node: String, _ address: IPAddress) -> Int? {
    (byOwner[node] ?? []).first { interfaces[$0].addresses.contains { $0.prefix.contains(address) } }
  }
}
