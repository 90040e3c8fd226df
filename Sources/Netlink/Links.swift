import CNetlink
import Glibc

/// A link as read back from the kernel.
public struct LinkInfo: Hashable, Sendable {
  public var index: Int32
  public var name: String
  public var kind: String?
  public var isUp: Bool
  public var master: Int32
  public var mac: [UInt8]
  public var alias: String?
  /// RFC 2863 operational state (IF_OPER_UP is 6), set by the kernel's linkwatch.
  public var operstate: UInt8
  /// The device's root qdisc ("noop" until linkwatch activates the device).
  public var qdisc: String?
  public var mtu: Int

  /// Carries traffic: operationally up, with its real qdisc in place.
  public var isReady: Bool { operstate == 6 && qdisc != "noop" }
}

extension NetlinkSocket {
  static let createFlags = NLM_F_CREATE | NLM_F_EXCL

  /// The ifindex of `name` in this namespace, nil when there is none.
  public func linkIndex(_ name: String) throws(NetlinkError) -> Int32? {
    guard let link = try link(named: name) else { return nil }
    return link.index
  }

  /// Equivalent to `ip link show NAME`.
  public func link(named name: String) throws(NetlinkError) -> LinkInfo? {
    var result: OpaquePointer?
    do {
      try check("look up link", "\(name) in \(namespaceName)") { rtnl_link_get_kernel(sock, 0, name, &result) }
    } catch where error.notFound {
      return nil
    }
    defer { rtnl_link_put(result) }
    return LinkInfo(result!)
  }

  /// Equivalent to `ip link add NAME address MAC [master M] up [alias A] type veth peer name
  /// PEER address PMAC netns PEERNS`: the peer is born in its namespace, never moved.
  public func addVeth(
    name: String, mac: [UInt8], master: Int32?, peerName: String, peerMAC: [UInt8],
    peerNamespaceFD: Int32?, mtu: Int? = nil
  ) throws(NetlinkError) {
    let link = rtnl_link_veth_alloc()!
    defer { rtnl_link_put(link) }
    let peer = rtnl_link_veth_get_peer(link)!
    defer { rtnl_link_put(peer) }
    rtnl_link_set_name(link, name)
    let a = NLAddress.mac(mac)
    defer { nl_addr_put(a) }
    rtnl_link_set_addr(link, a)
    if let m = master { rtnl_link_set_master(link, m) }
    rtnl_link_set_flags(link, UInt32(IFF_UP.rawValue))
    if let mtu {
      rtnl_link_set_mtu(link, UInt32(mtu))
      rtnl_link_set_mtu(peer, UInt32(mtu))
    }
    rtnl_link_set_name(peer, peerName)
    let p = NLAddress.mac(peerMAC)
    defer { nl_addr_put(p) }
    rtnl_link_set_addr(peer, p)
    if let fd = peerNamespaceFD { rtnl_link_set_ns_fd(peer, fd) }
    // One queue each way per end instead of one per CPU: a probe never needs more, and each
    // queue is a kobject in sysfs to create and destroy.
    for l in [link, peer] {
      rtnl_link_set_num_tx_queues(l, 1)
      rtnl_link_set_num_rx_queues(l, 1)
    }
    try check("create veth", "\(name) in \(namespaceName) (peer \(peerName))") {
      rtnl_link_add(sock, link, Int32(NetlinkSocket.createFlags))
    }
  }

  /// Equivalent to `ip link set NAME alias ALIAS`. The kernel ignores IFLA_IFALIAS when a
  /// link is created, so this is a separate change.
  public func setAlias(_ name: String, _ alias: String) throws(NetlinkError) {
    let change = rtnl_link_alloc()!
    defer { rtnl_link_put(change) }
    rtnl_link_set_name(change, name)
    rtnl_link_set_ifalias(change, alias)
    try check("set alias", "\(name) in \(namespaceName)") { rtnl_link_change(sock, change, change, 0) }
  }

  /// Equivalent to `ip link set NAME up|down`.
  public func setLink(_ name: String, up: Bool) throws(NetlinkError) {
    let change = rtnl_link_alloc()!
    defer { rtnl_link_put(change) }
    rtnl_link_set_name(change, name)
    if up {
      rtnl_link_set_flags(change, UInt32(IFF_UP.rawValue))
    } else {
      rtnl_link_unset_flags(change, UInt32(IFF_UP.rawValue))
    }
    try check("set link \(up ? "up" : "down")", "\(name) in \(namespaceName)") {
      rtnl_link_change(sock, change, change, 0)
    }
  }

  /// Equivalent to `ip link del NAME`.
  public func deleteLink(_ name: String) throws(NetlinkError) {
    let link = rtnl_link_alloc()!
    defer { rtnl_link_put(link) }
    rtnl_link_set_name(link, name)
    try check("delete link", "\(name) in \(namespaceName)") { rtnl_link_delete(sock, link) }
  }

  /// Equivalent to `ip link show`.
  public func links() throws(NetlinkError) -> [LinkInfo] {
    try list("links", { rtnl_link_alloc_cache(sock, AF_UNSPEC, &$0) }) { LinkInfo($0) }.sorted { $0.index < $1.index }
  }
}

extension LinkInfo {
  init(_ link: OpaquePointer) {
    index = rtnl_link_get_ifindex(link)
    name = String(cString: rtnl_link_get_name(link))
    kind = rtnl_link_get_type(link).map { String(cString: $0) }
    isUp = rtnl_link_get_flags(link) & UInt32(IFF_UP.rawValue) != 0
    master = rtnl_link_get_master(link)
    mac = NLAddress.bytes(rtnl_link_get_addr(link))
    alias = rtnl_link_get_ifalias(link).map { String(cString: $0) }
    operstate = rtnl_link_get_operstate(link)
    qdisc = rtnl_link_get_qdisc(link).map { String(cString: $0) }
    mtu = Int(rtnl_link_get_mtu(link))
  }
}
