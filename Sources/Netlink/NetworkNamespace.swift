import CShim
import Glibc
import Synchronization

/// Named network namespaces, as iproute2 keeps them: a bind mount of the namespace on a file
/// under /run/netns, so `ip netns list`, `ip netns exec` and `ip -n` see them.
public enum NetworkNamespace {
  public static let directory = "/run/netns"

  public static func path(_ name: String) -> String { "\(directory)/\(name)" }

  /// One file directly in /run/netns, never a path: no `/`, not `.`, `..` or empty, not
  /// starting with `.` (nstopo's own anchors do).
  static func checkName(_ name: String) throws(SystemError) {
    if name.isEmpty || name.hasPrefix(".") || name.contains("/") || name.utf8.contains(0) {
      throw SystemError("refuse namespace name", name.debugDescription, errno: EINVAL)
    }
  }

  /// Whether /run/netns/NAME is a namespace (a mount of nsfs), not a plain file.
  public static func isNamespace(_ name: String) -> Bool {
    (try? checkName(name)) != nil && nstopo_statfs_type(path(name)) == 0x6e73_6673
  }

  public static func exists(_ name: String) -> Bool { (try? checkName(name)) != nil && access(path(name), F_OK) == 0 }

  /// Equivalent to `ip netns add NAME`. Returns an open fd of the new namespace; the calling
  /// thread is back in its own namespace when this returns. `inside` runs in the new
  /// namespace before it gets its name, while nothing else can see it: `up` marks it there,
  /// so that the mark proves a namespace is nstopo's even if `up` dies before journaling it.
  public static func create(_ name: String, inside: (() throws -> Void)? = nil) throws -> Int32 {
    try checkName(name)
    try prepareDirectory()
    let file = path(name)
    try claim(file)
    do {
      try withSavedNamespace {
        try valueOrErrno("unshare(CLONE_NEWNET)", name) { nstopo_unshare_net() }
        try inside?()
        try valueOrErrno("mount --bind", file) { nstopo_bind_mount("/proc/thread-self/ns/net", file) }
      }
      return try open(name)
    } catch {
      _ = nstopo_detach_unmount(file)
      unlink(file)
      throw error
    }
  }

  /// Creates the empty file the namespace is mounted on; fails if the name is taken, like
  /// iproute2's `O_CREAT | O_EXCL`. The file is a hard link of one anchor per process: on a
  /// disk-backed /run (ext4 without a journal, as on these machines), allocating an inode
  /// scans every inode deleted in the last ~35 s, so creating 1000 files right after deleting
  /// 1000 was quadratic (20 % of `up` at star-1000, and 1.3 s instead of 0.6 s for the
  /// namespaces). A link allocates no inode.
  private static func claim(_ file: String) throws {
    let linked: Int32? = anchor.withLock { anchor in
      makeAnchor(&anchor)
      guard let a = anchor else { return nil }
      if Glibc.link(a, file) == 0 { return 0 }
      let e = errno
      // EMLINK (65,000 links on ext4) or a filesystem without hard links: plain files.
      if e != EEXIST {
        unlink(a)
        anchor = nil
      }
      return e
    }
    if linked == 0 { return }
    if linked == EEXIST { throw SystemError("create", file, errno: EEXIST) }
    let fd = try valueOrErrno("create", file) { Glibc.open(file, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0) }
    close(fd)
  }

  static let anchorPrefix = ".nstopo-anchor-"
  /// This process's anchor file, if made; guarded, since threads create namespaces at once.
  private static let anchor = Mutex<String?>(nil)

  /// Prepares /run/netns and this process's anchor, so that threads may then call `create`
  /// at once.
  public static func prepare() {
    try? prepareDirectory()
    anchor.withLock { makeAnchor(&$0) }
  }

  private static func makeAnchor(_ anchor: inout String?) {
    if anchor != nil { return }
    let a = "\(directory)/\(anchorPrefix)\(getpid())"
    unlink(a)  // Ours: a previous run with this pid died before removing it.
    let fd = Glibc.open(a, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0)
    if fd >= 0 {
      close(fd)
      anchor = a
    }
  }

  /// Removes this process's anchor file; the namespace files linked to it stay. Call when
  /// done creating namespaces (`up` does, on success and on failure).
  public static func releaseAnchor() {
    anchor.withLock { anchor in
      if let a = anchor { unlink(a) }
      anchor = nil
    }
  }

  /// Removes anchors left by processes that died before releasing them (a killed `up`).
  public static func sweepAnchors() {
    guard let dir = opendir(directory) else { return }
    defer { closedir(dir) }
    var stale: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      guard name.hasPrefix(anchorPrefix), let pid = Int32(name.dropFirst(anchorPrefix.count)) else { continue }
      if pid != getpid() && kill(pid, 0) != 0 && errno == ESRCH { stale.append(name) }
    }
    for name in stale { unlink("\(directory)/\(name)") }
  }

  /// Opens the namespace behind /run/netns/NAME (O_CLOEXEC).
  public static func open(_ name: String) throws(SystemError) -> Int32 {
    try checkName(name)
    let file = path(name)
    return try valueOrErrno("open", file) { Glibc.open(file, O_RDONLY | O_CLOEXEC) }
  }

  /// Equivalent to `ip netns del NAME`: detach the mount, remove the file. The kernel frees
  /// the namespace (and its veths) asynchronously once nothing else holds it.
  public static func delete(_ name: String) throws(SystemError) {
    try checkName(name)
    let file = path(name)
    if nstopo_detach_unmount(file) != 0 && errno != EINVAL && errno != ENOENT {
      throw SystemError("umount", file, errno: errno)
    }
    if unlink(file) != 0 && errno != ENOENT { throw SystemError("unlink", file, errno: errno) }
  }

  /// Runs `body` with the calling thread inside the namespace behind `fd`, then restores the
  /// thread's namespace. Synchronous on purpose: an `await` could resume on another thread.
  /// Traps if the original namespace cannot be restored, since every later call would act in
  /// the wrong namespace.
  /// Runs `body` in a new namespace that has no name and ends with it (nothing refers to it
  /// once the thread is back and `body`'s sockets are closed). Equivalent to `unshare -n`.
  public static func scratch<T>(_ body: () throws -> T) throws -> T {
    try withSavedNamespace {
      try valueOrErrno("unshare(CLONE_NEWNET)", "a scratch namespace") { nstopo_unshare_net() }
      return try body()
    }
  }

  public static func run<T>(in fd: Int32, _ body: () throws -> T) throws -> T {
    try withSavedNamespace {
      try valueOrErrno("setns", "fd \(fd)") { nstopo_setns_net(fd) }
      return try body()
    }
  }

  private static func withSavedNamespace<T>(_ body: () throws -> T) throws -> T {
    let saved = try valueOrErrno("open", "/proc/thread-self/ns/net") {
      Glibc.open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    }
    defer {
      if nstopo_setns_net(saved) != 0 {
        fatalError("nstopo: cannot return to the original network namespace: \(String(cString: strerror(errno)))")
      }
      close(saved)
    }
    return try body()
  }

  nonisolated(unsafe) private static var prepared = false

  /// `mkdir -p /run/netns; mount --make-shared /run/netns` (bind-mounting it onto itself first
  /// when it is not a mount point yet), as iproute2 does so that mounts propagate.
  private static func prepareDirectory() throws(SystemError) {
    if prepared { return }
    if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", directory, errno: errno) }
    if nstopo_make_shared(directory) != 0 {
      guard errno == EINVAL else { throw SystemError("mount --make-shared", directory, errno: errno) }
      try valueOrErrno("mount --bind", directory) { nstopo_bind_mount(directory, directory) }
      try valueOrErrno("mount --make-shared", directory) { nstopo_make_shared(directory) }
    }
    prepared = true
  }

  /// The inode of a namespace file, to compare with /proc/PID/ns/net.
  public static func inode(_ name: String) -> UInt64? {
    guard (try? checkName(name)) != nil else { return nil }
    var st = stat()
    return stat(path(name), &st) == 0 ? UInt64(st.st_ino) : nil
  }
}
