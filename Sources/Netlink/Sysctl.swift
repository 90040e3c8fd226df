import CShim
import Glibc
import TopologyModel

/// Per-namespace sysctls, through /proc/sys/net, which follows the calling thread's
/// namespace. nstopo only ever writes them inside namespaces it created, never in the root.
///
/// Every namespace has its own `net`, `ipv4`, `ipv6`, … entries under /proc/sys, and the
/// kernel keeps each name's entries of all namespaces in one dentry hash chain: the first
/// lookup of a name in a namespace compares against every namespace's, under one global lock
/// (at star-1000 with rules, six files a namespace were 29 % of `up`'s CPU). So nstopo writes
/// only the files it must, and sets what it can through netlink instead.
public enum Sysctl {
  /// Equivalent to `ip netns exec NS sysctl -w net.ipv4.ip_forward=1|0`.
  /// Also `net.ipv6.conf.all.forwarding`: `forward` routes both families.
  public static func setForwarding(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) {
      let net = NetSysctls(here: name)
      try net.write("ipv4/ip_forward", enabled ? "1\n" : "0\n", optional: false)
      try net.write("ipv6/conf/all/forwarding", enabled ? "1\n" : "0\n", optional: true)
    }
  }

  /// Equivalent to `ip netns exec NS sysctl net.ipv4.ip_forward`.
  /// IPv6's is `net.ipv6.conf.all.forwarding`.
  public static func forwarding(namespaceFD fd: Int32, name: String, family: IPAddress.Family = .ipv4) throws -> Bool {
    let path = family == .ipv4 ? "/proc/sys/net/ipv4/ip_forward" : "/proc/sys/net/ipv6/conf/all/forwarding"
    return try NetworkNamespace.run(in: fd) {
      let f = try valueOrErrno("open", "\(path) in \(name)") { open(path, O_RDONLY | O_CLOEXEC) }
      defer { close(f) }
      var c: UInt8 = 0
      try valueOrErrno("read", "\(path) in \(name)") { read(f, &c, 1) }
      return c == UInt8(ascii: "1")
    }
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv6.conf.{all,default}.disable_ipv6=0|1`,
  /// in one write: the kernel applies `all` to `default` and to every existing device. A
  /// kernel without IPv6 has no such file: nothing to switch. Switched on, also
  /// `net.ipv6.conf.default.addr_gen_mode=1`: interfaces made afterwards get no link-local
  /// address, so no duplicate address detection floods the bridges (measured at a
  /// dual-stack star-1000: `up` 1.8–2.3 s instead of 4.5–4.8 s, `test` 112–114 s instead of
  /// 123–140 s).
  public static func setIPv6(_ enabled: Bool, linkLocal: Bool = false, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) { try setIPv6(enabled, linkLocal: linkLocal, in: NetSysctls(here: name)) }
  }

  /// `setIPv6` in `net`'s namespace (one being created: no setns).
  public static func setIPv6(_ enabled: Bool, linkLocal: Bool = false, in net: NetSysctls) throws {
    try net.write("ipv6/conf/all/disable_ipv6", enabled ? "0\n" : "1\n", optional: true)
    guard enabled else { return }
    // No router advertisements or autoconfiguration: the topology's addresses are the file's.
    // Link-local addresses only where asked (see Step.setIPv6), then without duplicate
    // address detection: usable at once, and no multicast probe on the segment.
    if linkLocal {
      try net.write("ipv6/conf/default/accept_dad", "0\n", optional: true)
    } else {
      try net.write("ipv6/conf/default/addr_gen_mode", "1\n", optional: true)
    }
    try net.write("ipv6/conf/default/accept_ra", "0\n", optional: true)
    try net.write("ipv6/conf/default/autoconf", "0\n", optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv4.icmp_ratemask=0` (off) or `=6168` (the
  /// kernel's default: destination unreachable, source quench, time exceeded, parameter
  /// problem). With no type in the mask the kernel limits no ICMP error, neither per
  /// destination (`icmp_ratelimit`) nor by the namespace's token bucket (`icmp_msgs_per_sec`):
  /// a concurrent matrix then sees every error a slow probe would. Per namespace.
  public static func setICMPRateLimit(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) { try setICMPRateLimit(enabled, in: NetSysctls(here: name)) }
  }

  /// `setICMPRateLimit` in `net`'s namespace.
  public static func setICMPRateLimit(_ enabled: Bool, in net: NetSysctls) throws {
    try net.write("ipv4/icmp_ratemask", enabled ? "6168\n" : "0\n", optional: false)
    // ICMPv6: no error type in the mask (the default is 0-1,3-127), no per-destination interval.
    try net.write("ipv6/icmp/ratemask", enabled ? "0-1,3-127\n" : "\n", optional: true)
    try net.write("ipv6/icmp/ratelimit", enabled ? "1000\n" : "0\n", optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=1`,
  /// in `net`'s namespace: a connection closed by a reset (every probe's) leaves conntrack
  /// after 1 s instead of 10. The kernel's one conntrack hash holds every namespace's
  /// entries; at star-1000 with rules, 10 s of probes kept ~400,000 of them and `test` ran
  /// 9 % slower.
  ///
  /// Set through nfnetlink (`nfct default-set`): the sysctl's file costs a lookup of `netfilter`
  /// in the shared /proc/sys chain (0.17 s of `up` at star-1000). The file only where the
  /// kernel lacks that interface.
  public static func setConntrackCloseTimeout(in net: NetSysctls) throws {
    var message = [CChar](repeating: 0, count: 256)
    let rc = nstopo_ct_tcp_close_timeout(1, &message, message.count)
    if rc == 0 { return }
    guard [EOPNOTSUPP, ENOENT, EPROTONOSUPPORT, EAFNOSUPPORT].contains(-rc) else {
      let text = cString(message)
      throw SystemError("set conntrack's tcp close timeout\(text.isEmpty ? "" : " (\(text))")", "in \(net.name)", errno: -rc)
    }
    try net.write("netfilter/nf_conntrack_tcp_timeout_close", "1\n", optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv6.conf.LINK.keep_addr_on_down=1`.
  public static func keepAddressesOnDown(_ link: String, namespaceFD fd: Int32, name: String) throws {
    guard !link.contains("/"), link != "..", link != "." else { throw SystemError("refuse interface name", link, errno: EINVAL) }
    try NetworkNamespace.run(in: fd) { try NetSysctls(here: name).write("ipv6/conf/\(link)/keep_addr_on_down", "1\n", optional: false) }
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}=0|1`.
  /// Without br_netfilter loaded the files do not exist, and there is nothing to switch.
  public static func setBridgeNetfilter(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) {
      let net = NetSysctls(here: name)
      for table in ["iptables", "ip6tables", "arptables"] {
        try net.write("bridge/bridge-nf-call-\(table)", enabled ? "1\n" : "0\n", optional: true)
      }
    }
  }
}

/// The calling thread's namespace's `/proc/sys/net`: the sysctls written in one visit to a
/// namespace, for messages that name it. Each file is opened by its whole path: opening the
/// directories once and the files relative to them was measured no faster (a dual-stack
/// star-1000 `up` 4 % slower), since the lookups that cost are the first of each name in a
/// namespace, and an open /proc/sys directory takes the global sysctl lock too.
public struct NetSysctls {
  /// The namespace, for messages.
  public let name: String

  public init(here name: String) { self.name = name }

  /// Writes `text` to `/proc/sys/net/PATH`. `optional`: a missing file means the feature is
  /// absent (no IPv6, conntrack or br_netfilter), which is fine.
  public func write(_ path: String, _ text: String, optional: Bool) throws {
    let f = open("/proc/sys/net/\(path)", O_WRONLY | O_CLOEXEC)
    if f < 0 && errno == ENOENT && optional { return }
    guard f >= 0 else { throw SystemError("open", "/proc/sys/net/\(path) in \(name)", errno: errno) }
    defer { close(f) }
    try valueOrErrno("write", "/proc/sys/net/\(path) in \(name)") { Glibc.write(f, text, text.utf8.count) }
  }
}
