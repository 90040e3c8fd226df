import Glibc
import TopologyModel

/// A socket address of either family in a `sockaddr_storage`: a `sockaddr_in` for IPv4, a
/// `sockaddr_in6` for IPv6. The one place the probe engine, its shards and the echo server
/// turn an address into what `bind`, `connect`, `sendto` and `getsockname` take.
struct SocketAddress {
  fileprivate(set) var storage = sockaddr_storage()
  /// The length the kernel reads (or wrote, after `withMutableSockaddr`).
  private(set) var length: socklen_t

  /// Room for an address of any family, for `recvfrom` and `getsockname` to fill.
  init() { length = socklen_t(MemoryLayout<sockaddr_storage>.size) }

  /// `address:port`; nil `address` is the wildcard of `family` (`0.0.0.0` or `::`).
  init(_ address: IPAddress?, family: IPAddress.Family? = nil, port: UInt16) {
    let f = address?.family ?? family ?? .ipv4
    length = 0
    withUnsafeMutableBytes(of: &storage) { raw in
      switch f {
      case .ipv4:
        var sa = sockaddr_in()
        sa.sin_family = sa_family_t(AF_INET)
        sa.sin_port = port.bigEndian
        sa.sin_addr.s_addr = (address?.v4?.value ?? 0).bigEndian
        withUnsafeBytes(of: &sa) { raw.copyMemory(from: $0) }
      case .ipv6:
        var sa = sockaddr_in6()
        sa.sin6_family = sa_family_t(AF_INET6)
        sa.sin6_port = port.bigEndian
        if let bytes = address?.bytes {
          withUnsafeMutableBytes(of: &sa.sin6_addr) { a in for (i, b) in bytes.enumerated() { a[i] = b } }
        }
        withUnsafeBytes(of: &sa) { raw.copyMemory(from: $0) }
      }
    }
    length = socklen_t(f == .ipv4 ? MemoryLayout<sockaddr_in>.size : MemoryLayout<sockaddr_in6>.size)
  }

  /// `AF_INET` or `AF_INET6`, for `socket()`.
  static func domain(_ family: IPAddress.Family) -> Int32 { family == .ipv4 ? AF_INET : AF_INET6 }

  /// The address it holds, if it is of either family.
  var address: IPAddress? {
    withUnsafeBytes(of: storage) { raw in
      switch Int32(raw.load(as: sa_family_t.self)) {
      case AF_INET:
        let sa = raw.load(as: sockaddr_in.self)
        return .v4(IPv4Address(UInt32(bigEndian: sa.sin_addr.s_addr)))
      case AF_INET6:
        let offset = MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
        return IPAddress(bytes: UnsafeRawBufferPointer(rebasing: raw[offset..<offset + 16]))
      default:
        return nil
      }
    }
  }

  func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
    withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
  }

  /// For calls that write an address back, with the length in and out.
  mutating func withMutableSockaddr<R>(_ body: (UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> R) -> R {
    var len = socklen_t(MemoryLayout<sockaddr_storage>.size)
    let r = withUnsafeMutableBytes(of: &storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), &len) }
    length = len
    return r
  }

  /// The port a bound socket got (`getsockname`), 0 if it cannot be read.
  static func localPort(_ fd: Int32) -> UInt16 {
    var a = SocketAddress()
    guard a.withMutableSockaddr({ getsockname(fd, $0, $1) }) == 0 else { return 0 }
    return withUnsafeBytes(of: a.storage) { raw in
      // sin_port and sin6_port are both at offset 2, in network order.
      UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
    }
  }
}
