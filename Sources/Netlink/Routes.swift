import CNetlink
import Glibc
import TopologyModel

/// A route as read back from the kernel.
public struct RouteInfo: Hashable, Sendable {
  public enum Kind: String, Sendable { case unicast, local, broadcast, blackhole, unreachable, prohibit, other }
  public var table: UInt32
  /// The destination (length 0 is the default route).
  public var destination: IPPrefix
  public var gateway: IPAddress?
  public var ifindex: Int32?
  public var kind: Kind
}

extension NetlinkSocket {
  /// Equivalent to `ip route add DEST via GW` or `ip route add blackhole|unreachable|prohibit DEST`.
  /// The family is the destination's; a gateway must be of the same family.
  public func addRoute(destination: IPPrefix, gateway: IPAddress?, kind: RouteInfo.Kind, label: String) throws(NetlinkError) {
    let r = buildRoute(destination: destination, gateway: gateway, kind: kind)
    defer { rtnl_route_put(r) }
    try check("add route", "\(label) in \(namespaceName)") { rtnl_route_add(sock, r, Int32(NLM_F_CREATE | NLM_F_EXCL)) }
  }

  /// Equivalent to `ip route del DEST ...`.
  public func deleteRoute(destination: IPPrefix, gateway: IPAddress?, kind: RouteInfo.Kind, label: String) throws(NetlinkError) {
    let r = buildRoute(destination: destination, gateway: gateway, kind: kind)
    defer { rtnl_route_put(r) }
    try check("delete route", "\(label) in \(namespaceName)") { rtnl_route_delete(sock, r, 0) }
  }

  private func buildRoute(destination: IPPrefix, gateway: IPAddress?, kind: RouteInfo.Kind) -> OpaquePointer {
    precondition(gateway == nil || gateway?.family == destination.family, "gateway \(gateway!) for \(destination)")
    let r = rtnl_route_alloc()!
    _ = rtnl_route_set_family(r, UInt8(NLAddress.family(destination.family)))
    rtnl_route_set_table(r, UInt32(RT_TABLE_MAIN.rawValue))
    rtnl_route_set_protocol(r, UInt8(RTPROT_STATIC))
    let dst = NLAddress.build(destination.network, prefix: destination.length)
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
        let g = NLAddress.build(gw)
        rtnl_route_nh_set_gateway(nh, g)
        nl_addr_put(g)
        rtnl_route_add_nexthop(r, nh)
      }
    }
    return r
  }

  /// Equivalent to `ip -4 route show table all` (or `-6`).
  public func routes(family: IPAddress.Family = .ipv4) throws(NetlinkError) -> [RouteInfo] {
    try list("routes", { rtnl_route_alloc_cache(sock, NLAddress.family(family), 0, &$0) }) { o in
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
      var gateway: IPAddress?
      var ifindex: Int32?
      if rtnl_route_get_nnexthops(o) > 0, let nh = rtnl_route_nexthop_n(o, 0) {
        gateway = NLAddress.value(rtnl_route_nh_get_gateway(nh))
        ifindex = rtnl_route_nh_get_ifindex(nh)
      }
      // A default route's destination may be an empty address.
      let network = NLAddress.value(dst) ?? IPAddress(family, integer: 0)
      let length = dst.map { Int(nl_addr_get_prefixlen($0)) } ?? 0
      return RouteInfo(
        table: rtnl_route_get_table(o), destination: IPPrefix(address: network, length: min(length, family.width)),
        gateway: gateway, ifindex: ifindex, kind: kind)
    }
  }
}
