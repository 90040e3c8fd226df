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
