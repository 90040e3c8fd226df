import CNetlink
import CShim
import Glibc
import TopologyModel

/// A libnl route socket bound to one network namespace: it is opened inside the namespace and
/// keeps acting there from any thread. Not thread-safe (libnl sockets are not); confine each
/// one to a single thread. Misuse traps; the kernel's refusals throw `NetlinkError`.
public final class NetlinkSocket {
  let sock: OpaquePointer
  /// Filled by the error callback: the kernel's errno and extended-ack text of the last failure.
  let lastError: UnsafeMutablePointer<KernelError>
  public let namespaceName: String

  struct KernelError {
    var errno: Int32 = 0
    var message: [CChar] = []
  }

  /// Opens a socket in the namespace behind `namespaceFD`, or in the caller's namespace when nil.
  public init(namespaceFD: Int32?, name: String) throws {
    // Every failure throws before a stored property is set, so `deinit` never runs on a
    // half-made socket: freeing here and again in `deinit` was a double free (an abort inside
    // libnl when descriptors ran out).
    guard let s = nl_socket_alloc() else { fatalError("nl_socket_alloc: out of memory") }
    let connect = { () -> (Int32, Int32) in
      let rc = nl_connect(s, NETLINK_ROUTE)
      return (rc, rc < 0 ? errno : 0)
    }
    let rc: Int32
    let failure: Int32
    do {
      (rc, failure) = try namespaceFD.map { fd in try NetworkNamespace.run(in: fd, connect) } ?? connect()
    } catch {
      nl_socket_free(s)
      throw error
    }
    if rc < 0 {
      nl_socket_free(s)
      if failure == EMFILE || failure == ENFILE {
        throw NetlinkError(
          operation: "open a netlink socket in", object: name, code: -rc, errno: failure,
          kernelMessage: "out of file descriptors (limit \(Descriptors.softLimit)); raise it with `ulimit -n`")
      }
      throw NetlinkError(operation: "connect netlink socket in", object: name, code: -rc, errno: 0)
    }
    namespaceName = name
    sock = s
    lastError = .allocate(capacity: 1)
    lastError.initialize(to: KernelError())
    _ = nstopo_enable_ext_ack(nl_socket_get_fd(s))
    _ = nl_socket_set_buffer_size(s, 1 << 20, 1 << 20)
    let callback: nl_recvmsg_err_cb_t = { _, err, arg in
      let box = arg!.assumingMemoryBound(to: KernelError.self)
      let raw = UnsafeRawPointer(err!)
      box.pointee.errno = nstopo_nlmsgerr_errno(raw)
      if let m = nstopo_extack_message(raw) {
        box.pointee.message = Array(UnsafeBufferPointer(start: m, count: strlen(m) + 1))
      } else {
        box.pointee.message = []
      }
      return Int32(NL_STOP.rawValue)
    }
    nl_socket_modify_err_cb(s, NL_CB_CUSTOM, callback, lastError)
  }

  deinit {
    nl_socket_free(sock)
    lastError.deinitialize(count: 1)
    lastError.deallocate()
  }

  /// Runs a libnl call that returns a negative NLE_* on failure, and turns that into an error
  /// that names the operation, the object and the kernel's own words.
  @discardableResult
  /// Every object of a libnl cache that `fill` allocates (`rtnl_link_alloc_cache` …), mapped
  /// by `body` (nil leaves one out), the cache freed after: the shape of each `ip … show`.
  func list<T>(_ what: String, _ fill: (inout OpaquePointer?) -> Int32, _ body: (OpaquePointer) -> T?) throws(NetlinkError) -> [T] {
    var cache: OpaquePointer?
    try check("list \(what) in", namespaceName) { fill(&cache) }
    defer { nl_cache_free(cache) }
    var result: [T] = []
    var obj = nl_cache_get_first(cache)
    while let o = obj {
      if let v = body(o) { result.append(v) }
      obj = nl_cache_get_next(o)
    }
    return result
  }

  func check(_ operation: String, _ object: String, _ body: () -> Int32) throws(NetlinkError) -> Int32 {
    lastError.pointee = KernelError()
    let rc = body()
    if rc >= 0 { return rc }
    let k = lastError.pointee
    throw NetlinkError(
      operation: operation, object: object, code: -rc, errno: k.errno,
      kernelMessage: k.message.isEmpty ? nil : cString(k.message))
  }
}

/// Builds libnl addresses from our value types. Every nl_addr returned is owned by the caller.
enum NLAddress {
  /// The address family constant of a value (`AF_INET` or `AF_INET6`).
  static func family(_ f: IPAddress.Family) -> Int32 { f == .ipv4 ? AF_INET : AF_INET6 }

  /// An nl_addr of the value's family and bytes, with a prefix length (default: a host).
  static func build(_ address: IPAddress, prefix: Int? = nil) -> OpaquePointer {
    let bytes = address.bytes
    let a = bytes.withUnsafeBytes { nl_addr_build(family(address.family), $0.baseAddress, $0.count) }!
    nl_addr_set_prefixlen(a, Int32(prefix ?? address.family.width))
    return a
  }

  static func mac(_ bytes: [UInt8]) -> OpaquePointer {
    bytes.withUnsafeBytes { nl_addr_build(AF_LLC, $0.baseAddress, 6) }!
  }

  /// Reads an IPv4 or IPv6 nl_addr back as a value; nil for any other family.
  static func value(_ a: OpaquePointer?) -> IPAddress? {
    guard let a, let p = nl_addr_get_binary_addr(a) else { return nil }
    let len = Int(nl_addr_get_len(a))
    switch (nl_addr_get_family(a), len) {
    case (AF_INET, 4), (AF_INET6, 16): return IPAddress(bytes: UnsafeRawBufferPointer(start: p, count: len))
    default: return nil
    }
  }

  static func bytes(_ a: OpaquePointer?) -> [UInt8] {
    guard let a, let p = nl_addr_get_binary_addr(a) else { return [] }
    return Array(UnsafeRawBufferPointer(start: p, count: Int(nl_addr_get_len(a))))
  }
}
