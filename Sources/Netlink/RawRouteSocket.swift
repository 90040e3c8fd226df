import CShim
import Glibc

/// A raw rtnetlink socket, bound to one namespace like `NetlinkSocket`, for what libnl cannot
/// do or does slowly: thousands of neighbour entries per sendmsg (libnl acks each one), and
/// bridge attributes that libnl 3.7 cannot set.
public final class RawRouteSocket {
  let fd: Int32
  public let namespaceName: String

  public init(namespaceFD: Int32?, name: String) throws {
    namespaceName = name
    let open = { () -> Int32 in nstopo_rtnl_open() }
    let fd = try namespaceFD.map { try NetworkNamespace.run(in: $0, open) } ?? open()
    guard fd >= 0 else { throw SystemError("open rtnetlink socket in", name, errno: errno) }
    self.fd = fd
  }

  deinit { close(fd) }
}

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
