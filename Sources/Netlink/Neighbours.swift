import CNetlink
import Glibc
import TopologyModel

/// A neighbour entry as read back from the kernel.
public struct NeighbourInfo: Hashable, Sendable {
  public var ifindex: Int32
  public var address: IPAddress
  public var mac: [UInt8]
  public var permanent: Bool
}

extension NetlinkSocket {
  /// Equivalent to `ip neigh add ADDR lladdr MAC dev IFINDEX nud permanent`. Permanent entries
  /// do not count against the global ARP table limit (gc_thresh3).
  public func addNeighbour(ifindex: Int32, address: IPAddress, mac: [UInt8], label: String) throws(NetlinkError) {
    let n = rtnl_neigh_alloc()!
    defer { rtnl_neigh_put(n) }
    rtnl_neigh_set_family(n, NLAddress.family(address.family))
    rtnl_neigh_set_ifindex(n, ifindex)
    let dst = NLAddress.build(address)
    defer { nl_addr_put(dst) }
    _ = rtnl_neigh_set_dst(n, dst)
    let ll = NLAddress.mac(mac)
    defer { nl_addr_put(ll) }
    rtnl_neigh_set_lladdr(n, ll)
    rtnl_neigh_set_state(n, Int32(NUD_PERMANENT))
    try check("add neighbour", "\(label) in \(namespaceName)") { rtnl_neigh_add(sock, n, Int32(NLM_F_CREATE | NLM_F_REPLACE)) }
  }

  /// Equivalent to `ip -4 neigh show` (or `-6`, or both with nil).
  public func neighbours(family: IPAddress.Family? = .ipv4) throws(NetlinkError) -> [NeighbourInfo] {
    try list("neighbours", { rtnl_neigh_alloc_cache(sock, &$0) }) { o in
      guard let v = NLAddress.value(rtnl_neigh_get_dst(o)), family == nil || v.family == family else { return nil }
      return NeighbourInfo(
        ifindex: rtnl_neigh_get_ifindex(o), address: v, mac: NLAddress.bytes(rtnl_neigh_get_lladdr(o)),
        permanent: rtnl_neigh_get_state(o) & Int32(NUD_PERMANENT) != 0)
    }
  }
}
