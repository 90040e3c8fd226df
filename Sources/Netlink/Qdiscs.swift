import CNetlink
import Glibc
import TopologyModel

/// What `tc qdisc show dev X` says of nstopo's qdiscs on one interface.
public struct QdiscInfo: Hashable, Sendable {
  public var kind: String
  public var handle: UInt32
  public var parent: UInt32
  /// tbf: bits per second.
  public var rate: UInt64?
  /// netem: microseconds and percent.
  public var delay: UInt64?
  public var jitter: UInt64?
  public var loss: Double?
}

extension NetlinkSocket {
  static let rootHandle: UInt32 = 0x0001_0000
  static let netemHandle: UInt32 = 0x000A_0000
  /// tbf's one class, `1:1`, which the netem child hangs from.
  static let bucketClass: UInt32 = 0x0001_0001

  /// Equivalent to `tc qdisc replace dev NAME root handle 1: tbf rate R burst B limit L`, then
  /// `tc qdisc replace dev NAME parent 1:1 handle 10: netem delay D J loss P%` (netem alone at
  /// the root when there is no rate).
  public func setShaping(ifindex: Int32, _ s: Shaping, label: String) throws(NetlinkError) {
    var netemParent = UInt32(0xFFFF_FFFF)
    if let rate = s.rate {
      let q = rtnl_qdisc_alloc()!
      defer { rtnl_qdisc_put(q) }
      rtnl_tc_set_ifindex(q, ifindex)
      rtnl_tc_set_parent(q, 0xFFFF_FFFF)
      rtnl_tc_set_handle(q, Self.rootHandle)
      _ = rtnl_tc_set_kind(q, "tbf")
      rtnl_qdisc_tbf_set_rate(q, Int32(clamping: rate / 8), Int32(s.burst), 0)
      rtnl_qdisc_tbf_set_limit(q, Int32(clamping: s.limit))
      try check("add tbf qdisc", label) { rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_REPLACE) }
      netemParent = Self.bucketClass
    }
    guard s.needsNetem else { return }
    let q = rtnl_qdisc_alloc()!
    defer { rtnl_qdisc_put(q) }
    rtnl_tc_set_ifindex(q, ifindex)
    rtnl_tc_set_parent(q, netemParent)
    rtnl_tc_set_handle(q, s.rate == nil ? Self.rootHandle : Self.netemHandle)
    _ = rtnl_tc_set_kind(q, "netem")
    if let d = s.delay { rtnl_netem_set_delay(q, Int32(clamping: d)) }
    if let j = s.jitter { rtnl_netem_set_jitter(q, Int32(clamping: j)) }
    if let l = s.loss { rtnl_netem_set_loss(q, Int32(bitPattern: UInt32((l / 100 * Double(UInt32.max)).rounded()))) }
    try check("add netem qdisc", label) { rtnl_qdisc_add(sock, q, NLM_F_CREATE | NLM_F_REPLACE) }
  }

  /// Equivalent to `tc qdisc del dev NAME root`: the interface's default qdisc comes back.
  /// Nothing to delete is fine.
  public func clearShaping(ifindex: Int32, label: String) throws(NetlinkError) {
    let q = rtnl_qdisc_alloc()!
    defer { rtnl_qdisc_put(q) }
    rtnl_tc_set_ifindex(q, ifindex)
    rtnl_tc_set_parent(q, 0xFFFF_FFFF)
    do {
      try check("delete qdisc", label) { rtnl_qdisc_delete(sock, q) }
    } catch where error.errno == ENOENT || error.errno == EINVAL || error.code == NLE_OBJ_NOTFOUND {
      return
    }
  }

  /// Equivalent to `tc qdisc show`: the tbf and netem qdiscs, by ifindex.
  public func qdiscs() throws(NetlinkError) -> [Int32: [QdiscInfo]] {
    let listed = try list("qdiscs", { rtnl_qdisc_alloc_cache(sock, &$0) }) { o -> (Int32, QdiscInfo)? in
      guard let k = rtnl_tc_get_kind(o).map({ String(cString: $0) }), k == "tbf" || k == "netem" else { return nil }
      var info = QdiscInfo(kind: k, handle: rtnl_tc_get_handle(o), parent: rtnl_tc_get_parent(o))
      if k == "tbf" {
        info.rate = UInt64(max(0, rtnl_qdisc_tbf_get_rate(o))) * 8
      } else {
        let d = rtnl_netem_get_delay(o)
        let j = rtnl_netem_get_jitter(o)
        let l = UInt32(bitPattern: rtnl_netem_get_loss(o))
        if d > 0 { info.delay = UInt64(d) }
        if j > 0 { info.jitter = UInt64(j) }
        if l > 0 { info.loss = (Double(l) / Double(UInt32.max) * 100 * 1000).rounded() / 1000 }
      }
      return (rtnl_tc_get_ifindex(o), info)
    }
    var result: [Int32: [QdiscInfo]] = [:]
    for (index, info) in listed { result[index, default: []].append(info) }
    return result
  }

  /// Equivalent to `ip link set NAME mtu N`.
  public func setMTU(_ name: String, _ mtu: Int) throws(NetlinkError) {
    let change = rtnl_link_alloc()!
    defer { rtnl_link_put(change) }
    rtnl_link_set_name(change, name)
    rtnl_link_set_mtu(change, UInt32(mtu))
    try check("set mtu \(mtu)", "\(name) in \(namespaceName)") { rtnl_link_change(sock, change, change, 0) }
  }
}

/// Whether this kernel has netem: a netem qdisc is added on the loopback of a namespace made
/// for the question, which disappears with it (the kernel loads `sch_netem` on demand when it
/// is a module). Equivalent to `unshare -n tc qdisc add dev lo root netem delay 1ms`.
public enum Netem {
  public static func isAvailable() -> Bool {
    let answer = try? NetworkNamespace.scratch { () throws -> Bool in
      let s = try NetlinkSocket(namespaceFD: nil, name: "a scratch namespace")
      do {
        try s.setShaping(ifindex: 1, Shaping(delay: 1000), label: "lo")
        return true
      } catch {
        return false
      }
    }
    return answer ?? false
  }
}
