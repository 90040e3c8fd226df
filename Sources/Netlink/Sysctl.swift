import Glibc
import TopologyModel

/// Per-namespace sysctls, through /proc/sys/net, which follows the calling thread's
/// namespace. nstopo only ever writes them inside namespaces it created, never in the root.
public enum Sysctl {
  /// Equivalent to `ip netns exec NS sysctl -w net.ipv4.ip_forward=1|0`.
  /// Also `net.ipv6.conf.all.forwarding`: `forward` routes both families.
  public static func setForwarding(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try write(enabled, ["/proc/sys/net/ipv4/ip_forward"], namespaceFD: fd, name: name, optional: false)
    try write(enabled, ["/proc/sys/net/ipv6/conf/all/forwarding"], namespaceFD: fd, name: name, optional: true)
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
  public static func setIPv6(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) { try setIPv6(enabled, here: name) }
  }

  /// `setIPv6` in the calling thread's namespace (one being created: no setns).
  public static func setIPv6(_ enabled: Bool, here name: String) throws {
    try writeHere("/proc/sys/net/ipv6/conf/all/disable_ipv6", enabled ? "0\n" : "1\n", name: name, optional: true)
    guard enabled else { return }
    // No link-local addresses, router advertisements or autoconfiguration: the topology's
    // addresses are the file's.
    try writeHere("/proc/sys/net/ipv6/conf/default/addr_gen_mode", "1\n", name: name, optional: true)
    try writeHere("/proc/sys/net/ipv6/conf/default/accept_ra", "0\n", name: name, optional: true)
    try writeHere("/proc/sys/net/ipv6/conf/default/autoconf", "0\n", name: name, optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv4.icmp_ratemask=0` (off) or `=6168` (the
  /// kernel's default: destination unreachable, source quench, time exceeded, parameter
  /// problem). With no type in the mask the kernel limits no ICMP error, neither per
  /// destination (`icmp_ratelimit`) nor by the namespace's token bucket (`icmp_msgs_per_sec`):
  /// a concurrent matrix then sees every error a slow probe would. Per namespace.
  public static func setICMPRateLimit(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) { try setICMPRateLimit(enabled, here: name) }
  }

  /// `setICMPRateLimit` in the calling thread's namespace.
  public static func setICMPRateLimit(_ enabled: Bool, here name: String) throws {
    try writeHere("/proc/sys/net/ipv4/icmp_ratemask", enabled ? "6168\n" : "0\n", name: name, optional: false)
    // ICMPv6: no error type in the mask (the default is 0-1,3-127), no per-destination interval.
    try writeHere("/proc/sys/net/ipv6/icmp/ratemask", enabled ? "0-1,3-127\n" : "\n", name: name, optional: true)
    try writeHere("/proc/sys/net/ipv6/icmp/ratelimit", enabled ? "1000\n" : "0\n", name: name, optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=1`,
  /// in the calling thread's namespace: a connection closed by a reset (every probe's) leaves
  /// conntrack after 1 s instead of 10. The kernel's one conntrack hash holds every
  /// namespace's entries; at star-1000 with rules, 10 s of probes kept ~400,000 of them and
  /// `test` ran 9 % slower.
  public static func setConntrackCloseTimeout(here name: String) throws {
    try writeHere("/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close", "1\n", name: name, optional: true)
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv6.conf.LINK.keep_addr_on_down=1`.
  public static func keepAddressesOnDown(_ link: String, namespaceFD fd: Int32, name: String) throws {
    guard !link.contains("/"), link != "..", link != "." else { throw SystemError("refuse interface name", link, errno: EINVAL) }
    try NetworkNamespace.run(in: fd) { try writeHere("/proc/sys/net/ipv6/conf/\(link)/keep_addr_on_down", "1\n", name: name, optional: false) }
  }

  /// Writes `text` to `path` in the calling thread's namespace. `optional`: a missing file
  /// means the feature is absent, which is fine.
  private static func writeHere(_ path: String, _ text: String, name: String, optional: Bool) throws {
    let f = open(path, O_WRONLY | O_CLOEXEC)
    if f < 0 && errno == ENOENT && optional { return }
    guard f >= 0 else { throw SystemError("open", "\(path) in \(name)", errno: errno) }
    defer { close(f) }
    try valueOrErrno("write", "\(path) in \(name)") { Glibc.write(f, text, text.utf8.count) }
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}=0|1`.
  /// Without br_netfilter loaded the files do not exist, and there is nothing to switch.
  public static func setBridgeNetfilter(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    let paths = ["iptables", "ip6tables", "arptables"].map { "/proc/sys/net/bridge/bridge-nf-call-\($0)" }
    try write(enabled, paths, namespaceFD: fd, name: name, optional: true)
  }

  /// Writes "1" or "0" to each path inside the namespace. `optional`: a missing file means the
  /// feature is absent, which is fine.
  private static func write(_ value: Bool, _ paths: [String], namespaceFD fd: Int32, name: String, optional: Bool) throws {
    try NetworkNamespace.run(in: fd) {
      for path in paths {
        let f = open(path, O_WRONLY | O_CLOEXEC)
        if f < 0 && errno == ENOENT && optional { return }
        guard f >= 0 else { throw SystemError("open", "\(path) in \(name)", errno: errno) }
        defer { close(f) }
        try valueOrErrno("write", "\(path) in \(name)") { Glibc.write(f, value ? "1\n" : "0\n", 2) }
      }
    }
  }
}
