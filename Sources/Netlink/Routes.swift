import CNetlink
import Glibc

/// An IPv4 route as read back from the kernel.
public struct RouteInfo: Hashable, Sendable {
  public enum Kind: String, Sendable { case unicast, local, broadcast, blackhole, unreachable, prohibit, other }
  public var table: UInt32
  /// Host-order destination and prefix length (0/0 is the default route).
  public var destination: UInt32
  public var prefixLength: Int
  public var gateway: UInt32?
  public var ifindex: Int32?
  public var kind: Kind
}

extension NetlinkSocket {
  /// Equivalent to `ip route add DEST via GW` or `ip route add blackhole|unreachable|prohibit DEST`.
  public func addRoute(destination: UInt32, prefixLength: Int, gateway: UInt32?, kind: RouteInfo.Kind, label: String) throws(NetlinkError) {
    let r = buildRoute(destination: destination, prefixLength: prefixLength, gateway: gateway, kind: kind)
    defer { rtnl_route_put(r) }
    try check("add route", "\(label) in \(namespaceName)") { rtnl_route_add(sock, r, Int32(NLM_F_CREATE | NLM_F_EXCL)) }
  }

  /// Equivalent to `ip route del DEST ...`.
  public func deleteRoute(destination: UInt32, prefixLength: Int, gateway: UInt32?, kind: RouteInfo.Kind, label: String) throws(NetlinkError) {
    let r = buildRoute(destination: destination, prefixLength: prefixLength, gateway: gateway, kind: kind)
    defer { rtnl_route_put(r) }
    try check("delete route", "\(label) in \(namespaceName)") { rtnl_route_delete(sock, r, 0) }
  }

  private func buildRoute(destination: UInt32, prefixLength: Int, gateway: UInt32?, kind: RouteInfo.Kind) -> OpaquePointer {
    let r = rtnl_route_alloc()!
    _ = rtnl_route_set_family(r, UInt8(AF_INET))
    rtnl_route_set_table(r, UInt32(RT_TABLE_MAIN.rawValue))
    rtnl_route_set_protocol(r, UInt8(RTPROT_STATIC))
    let dst = NLAddress.ipv4(destination, prefix: prefixLength)
    defer { nl_addr_put(dst) }
    _ = rtnl_route_set_dst(r, dst)
    switch kind {
    case .blackhole: _ = rtnl_route_set_type(r, UInt8(RTN_BLACKHOLE))
    case .unreachable: _ = rtnl_route_set_type(r, UInt8(RTN_UNREACHABLE))
    case .prohibit: _ = rtnl_route_set_type(r, UInt8(RTN_PROHIBIT))
    default:
      _ = rtnl_route_set_type(r, UInt8(RTN_UNICAST))
      rtnl_route_set_scope(r, UInt8(RT_SCOPE_UNIVERSE.rawValue))
      if let gw = gateway {
        let nh = rtnl_route_nh_alloc()!
        let g = NLAddress.ipv4(gw)
        rtnl_route_nh_set_gateway(nh, g)
        nl_addr_put(g)
        rtnl_route_add_nexthop(r, nh)
      }
    }
    return r
  }

  /// Equivalent to `ip -4 route show table all`.
  public func routes() throws(NetlinkError) -> [RouteInfo] {
    var cache: OpaquePointer?
    try check("list routes in", namespaceName) { rtnl_route_alloc_cache(sock, AF_INET, 0, &cache) }
    defer { nl_cache_free(cache) }
    var result: [RouteInfo] = []
    var obj = nl_cache_get_first(cache)
    while let o = obj {
      let dst = rtnl_route_get_dst(o)
      let kind: RouteInfo.Kind
      switch Int(rtnl_route_get_type(o)) {
      case RTN_UNICAST: kind = .unicast
      case RTN_LOCAL: kind = .local
      case RTN_BROADCAST: kind = .broadcast
      case RTN_BLACKHOLE: kind = .blackhole
      case RTN_UNREACHABLE: kind = .unreachable
      case RTN_PROHIBIT: kind = .prohibit
      default: kind = .other
      }
      var gateway: UInt32?
      var ifindex: Int32?
      if rtnl_route_get_nnexthops(o) > 0, let nh = rtnl_route_nexthop_n(o, 0) {
        gateway = NLAddress.ipv4Value(rtnl_route_nh_get_gateway(nh))
        ifindex = rtnl_route_nh_get_ifindex(nh)
      }
      result.append(
        RouteInfo(
          table: rtnl_route_get_table(o), destination: NLAddress.ipv4Value(dst) ?? 0,
          prefixLength: dst.map { Int(nl_addr_get_prefixlen($0)) } ?? 0, gateway: gateway, ifindex: ifindex, kind: kind))
      obj = nl_cache_get_next(o)
    }
    return result
  }
}
