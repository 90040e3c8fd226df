import CNetlink
import Glibc
import TopologyModel

/// An address as read back from the kernel.
public struct AddressInfo: Hashable, Sendable {
  public var ifindex: Int32
  public var address: InterfaceAddress
  /// IPv6 `tentative`: added, but not yet usable (the kernel finishes even a `nodad`
  /// address in a work item, after the netlink call returns).
  public var tentative = false
}

extension NetlinkSocket {
  /// Equivalent to `ip addr add ADDR/LEN dev IFINDEX` (the family is the address's).
  public func addAddress(ifindex: Int32, _ address: InterfaceAddress, label: String) throws(NetlinkError) {
    let a = buildAddress(ifindex, address)
    defer { rtnl_addr_put(a) }
    try check("add address", "\(label) in \(namespaceName)") { rtnl_addr_add(sock, a, Int32(NLM_F_CREATE | NLM_F_EXCL)) }
  }

  /// Equivalent to `ip addr del ADDR/LEN dev IFINDEX`.
  public func deleteAddress(ifindex: Int32, _ address: InterfaceAddress, label: String) throws(NetlinkError) {
    let a = buildAddress(ifindex, address)
    defer { rtnl_addr_put(a) }
    try check("delete address", "\(label) in \(namespaceName)") { rtnl_addr_delete(sock, a, 0) }
  }

  /// An rtnl_addr for ADDR/LEN on IFINDEX; the caller puts it.
  private func buildAddress(_ ifindex: Int32, _ address: InterfaceAddress) -> OpaquePointer {
    let a = rtnl_addr_alloc()!
    rtnl_addr_set_family(a, NLAddress.family(address.family))
    rtnl_addr_set_ifindex(a, ifindex)
    let local = NLAddress.build(address.address, prefix: address.length)
    _ = rtnl_addr_set_local(a, local)
    nl_addr_put(local)
    rtnl_addr_set_prefixlen(a, Int32(address.length))
    // IPv6: usable at once, without duplicate address detection (a topology's addresses are
    // unique by construction).
    if address.family == .ipv6 { rtnl_addr_set_flags(a, UInt32(IFA_F_NODAD)) }
    return a
  }

  /// Equivalent to `ip -4 addr show` (or `-6`, or both with nil).
  public func addresses(family: IPAddress.Family? = .ipv4) throws(NetlinkError) -> [AddressInfo] {
    try list("addresses", { rtnl_addr_alloc_cache(sock, &$0) }) { o in
      guard let v = NLAddress.value(rtnl_addr_get_local(o)), family == nil || v.family == family else { return nil }
      return AddressInfo(
        ifindex: rtnl_addr_get_ifindex(o), address: InterfaceAddress(address: v, length: Int(rtnl_addr_get_prefixlen(o))),
        tentative: rtnl_addr_get_flags(o) & UInt32(IFA_F_TENTATIVE) != 0)
    }
  }
}
