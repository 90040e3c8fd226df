import Glibc

/// A failed system call, named, with its errno.
public struct SystemError: Error, CustomStringConvertible, Sendable {
  public var call: String
  public var object: String
  public var errno: Int32

  public init(_ call: String, _ object: String, errno: Int32) {
    self.call = call
    self.object = object
    self.errno = errno
  }

  public var description: String { "\(call) \(object): \(String(cString: strerror(errno)))" }
}

/// Runs a call that returns -1 with errno on failure, retrying EINTR: the one place for both.
@discardableResult
func valueOrErrno<T: BinaryInteger>(_ call: String, _ object: String, _ body: () -> T) throws(SystemError) -> T {
  while true {
    let r = body()
    if r != -1 { return r }
    let e = Glibc.errno
    if e == EINTR { continue }
    throw SystemError(call, object, errno: e)
  }
}
