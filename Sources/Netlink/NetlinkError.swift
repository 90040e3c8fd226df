import CNetlink
import Glibc

/// A netlink operation the kernel refused. Carries the operation, the object, libnl's NLE_*
/// code, the kernel's errno and, when the kernel gave one, its extended-ack message.
public struct NetlinkError: Error, CustomStringConvertible, Sendable {
  public var operation: String
  public var object: String
  /// libnl's code (positive NLE_*).
  public var code: Int32
  /// The kernel's errno, 0 when the failure happened before the kernel answered.
  public var errno: Int32
  public var kernelMessage: String?

  public init(operation: String, object: String, code: Int32, errno: Int32, kernelMessage: String? = nil) {
    self.operation = operation
    self.object = object
    self.code = code
    self.errno = errno
    self.kernelMessage = kernelMessage
  }

  /// What the kernel said, in its own words.
  public var reason: String {
    var text = errno != 0 ? String(cString: strerror(errno)) : String(cString: nl_geterror(code))
    if let m = kernelMessage, !m.isEmpty { text += " (\(m))" }
    return text
  }

  public var description: String { "\(operation) \(object): \(reason)" }

  /// True when the object already exists (EEXIST).
  public var exists: Bool { errno == EEXIST || code == NLE_EXIST }
  /// True when the object does not exist (ENODEV, ESRCH, ENOENT).
  public var notFound: Bool {
    errno == ENODEV || errno == ESRCH || errno == ENOENT || code == NLE_OBJ_NOTFOUND || code == NLE_NODEV
  }
}
