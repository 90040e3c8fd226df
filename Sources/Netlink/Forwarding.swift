import Glibc

/// IPv4 forwarding of one namespace, through /proc/sys/net, which follows the calling
/// thread's namespace. nstopo never calls this for the root namespace.
public enum Forwarding {
  static let path = "/proc/sys/net/ipv4/ip_forward"

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv4.ip_forward=1`.
  public static func set(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) {
      let f = try valueOrErrno("open", "\(path) in \(name)") { open(path, O_WRONLY | O_CLOEXEC) }
      defer { close(f) }
      let text = enabled ? "1\n" : "0\n"
      try valueOrErrno("write", "\(path) in \(name)") { write(f, text, 2) }
    }
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.ipv6.conf.{all,default}.disable_ipv6=1` (or 0).
  public static func setIPv6(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) {
      for path in ["/proc/sys/net/ipv6/conf/all/disable_ipv6", "/proc/sys/net/ipv6/conf/default/disable_ipv6"] {
        let f = open(path, O_WRONLY | O_CLOEXEC)
        // A kernel built without IPv6 has no such file: nothing to disable.
        if f < 0 && errno == ENOENT { return }
        guard f >= 0 else { throw SystemError("open", "\(path) in \(name)", errno: errno) }
        defer { close(f) }
        try valueOrErrno("write", "\(path) in \(name)") { write(f, enabled ? "0\n" : "1\n", 2) }
      }
    }
  }

  /// Equivalent to `ip netns exec NS sysctl -w net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}=0|1`.
  /// Without br_netfilter loaded the files do not exist, and there is nothing to switch.
  public static func setBridgeNetfilter(_ enabled: Bool, namespaceFD fd: Int32, name: String) throws {
    try NetworkNamespace.run(in: fd) {
      for key in ["iptables", "ip6tables", "arptables"] {
        let path = "/proc/sys/net/bridge/bridge-nf-call-\(key)"
        let f = open(path, O_WRONLY | O_CLOEXEC)
        if f < 0 && errno == ENOENT { return }
        guard f >= 0 else { throw SystemError("open", "\(path) in \(name)", errno: errno) }
        defer { close(f) }
        try valueOrErrno("write", "\(path) in \(name)") { write(f, enabled ? "1\n" : "0\n", 2) }
      }
    }
  }

  /// Equivalent to `ip netns exec NS sysctl net.ipv4.ip_forward`.
  public static func get(namespaceFD fd: Int32, name: String) throws -> Bool {
    try NetworkNamespace.run(in: fd) {
      let f = try valueOrErrno("open", "\(path) in \(name)") { open(path, O_RDONLY | O_CLOEXEC) }
      defer { close(f) }
      var c: UInt8 = 0
      try valueOrErrno("read", "\(path) in \(name)") { read(f, &c, 1) }
      return c == UInt8(ascii: "1")
    }
  }
}
