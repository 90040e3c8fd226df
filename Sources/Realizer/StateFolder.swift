import CShim
import Glibc

/// A folder of nstopo's state, opened without following links and checked before anything in
/// it is read, written or deleted: a real directory, owned by root, writable by
/// nobody else. Files in it are opened relative to its descriptor (`openat`, `O_NOFOLLOW`), so
/// a link planted at /run/nstopo/NAME or inside it cannot redirect a read, a write or a
/// delete, and removing it never recurses through a link.
final class StateFolder {
  let fd: Int32
  let path: String

  private init(fd: Int32, path: String) {
    self.fd = fd
    self.path = path
  }

  deinit { close(fd) }

  /// Opens the folder at an absolute `path`; nil when it does not exist.
  static func open(path: String) throws(StateError) -> StateFolder? {
    try open(Glibc.open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), path: path)
  }

  /// Opens the entry `name` of `parent`; nil when it does not exist.
  static func open(_ name: String, in parent: StateFolder) throws(StateError) -> StateFolder? {
    try open(openat(parent.fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), path: "\(parent.path)/\(name)")
  }

  private static func open(_ fd: Int32, path: String) throws(StateError) -> StateFolder? {
    if fd < 0 {
      let e = errno
      if e == ENOENT { return nil }
      if e == ELOOP || e == ENOTDIR {
        // With O_DIRECTORY, a link gives ENOTDIR: ask what the entry is.
        var st = stat()
        let link = lstat(path, &st) == 0 && st.st_mode & S_IFMT == S_IFLNK
        throw .unsafe("\(path) is \(link || e == ELOOP ? "a symbolic link" : "not a folder"), not state that nstopo made; nstopo leaves it alone (remove it by hand if it is stray)")
      }
      throw .io("cannot open \(path): \(String(cString: strerror(e)))")
    }
    let folder = StateFolder(fd: fd, path: path)
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .io("cannot stat \(path): \(String(cString: strerror(errno)))") }
    if st.st_uid != 0 {
      throw .unsafe("\(path) belongs to uid \(st.st_uid), not to root; nstopo leaves it alone")
    }
    if st.st_mode & 0o022 != 0 {
      throw .unsafe("\(path) is writable by others (mode \(String(st.st_mode & 0o777, radix: 8))); nstopo trusts no state that others can change, and leaves it alone")
    }
    return folder
  }

  /// Whether an entry `name` exists (a link counts as one; it is not followed).
  func exists(_ name: String) -> Bool {
    var st = stat()
    return fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0
  }

  /// `openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC)`; -1 with errno set on failure.
  func openFile(_ name: String, _ flags: Int32, mode: mode_t = 0o600) -> Int32 {
    openat(fd, name, flags | O_NOFOLLOW | O_CLOEXEC, mode)
  }

  /// The whole of a plain file, or nil.
  func read(_ name: String) -> [UInt8]? {
    let f = openFile(name, O_RDONLY)
    guard f >= 0 else { return nil }
    defer { close(f) }
    var st = stat()
    guard fstat(f, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    while true {
      let n = buffer.withUnsafeMutableBytes { Glibc.read(f, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { return n == 0 ? out : nil }
      out += buffer[0..<n]
    }
  }

  /// Writes a plain file, replacing its contents.
  func write(_ name: String, _ bytes: [UInt8]) throws(StateError) {
    let f = openFile(name, O_WRONLY | O_CREAT | O_TRUNC)
    guard f >= 0 else { throw .io("cannot write \(path)/\(name): \(String(cString: strerror(errno)))") }
    defer { close(f) }
    var off = 0
    while off < bytes.count {
      let n = bytes[off...].withUnsafeBytes { Glibc.write(f, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw .io("cannot write \(path)/\(name): \(String(cString: strerror(errno)))") }
      off += n
    }
  }

  /// Writes `name` whole or not at all: a temporary file, then a rename over it.
  func replace(_ name: String, _ bytes: [UInt8]) throws(StateError) {
    let tmp = ".\(name).new"
    try write(tmp, bytes)
    guard renameat(fd, tmp, fd, name) == 0 else {
      throw .io("cannot replace \(path)/\(name): \(String(cString: strerror(errno)))")
    }
  }

  /// Removes the plain file (or link) `name`; nothing when it does not exist.
  func removeFile(_ name: String) {
    unlinkat(fd, name, 0)
  }

  /// Entry names, without `.` and `..`.
  func entries() -> [String] {
    let dup = dup(fd)
    guard dup >= 0, let dir = fdopendir(dup) else { return [] }
    defer { closedir(dir) }
    var names: [String] = []
    while let entry = readdir(dir) {
      let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
      if name != "." && name != ".." { names.append(name) }
    }
    return names
  }

  /// Removes the entry `name` of this folder, which must be a folder nstopo made with only
  /// files in it (and one level of such folders, as logs/). Links are removed, never followed.
  /// Returns what could not be removed.
  @discardableResult
  func removeFolder(_ name: String, depth: Int = 1) -> [String] {
    let child: StateFolder?
    do { child = try StateFolder.open(name, in: self) } catch { return ["\(error)"] }
    guard let child else { return [] }
    var problems: [String] = []
    for entry in child.entries() {
      var st = stat()
      guard fstatat(child.fd, entry, &st, AT_SYMLINK_NOFOLLOW) == 0 else { continue }
      if st.st_mode & S_IFMT == S_IFDIR {
        if depth > 0 {
          problems += child.removeFolder(entry, depth: depth - 1)
        } else {
          problems.append("left \(child.path)/\(entry) alone: nstopo makes no folder there")
        }
      } else if unlinkat(child.fd, entry, 0) != 0 && errno != ENOENT {
        problems.append("cannot remove \(child.path)/\(entry): \(String(cString: strerror(errno)))")
      }
    }
    if problems.isEmpty && unlinkat(fd, name, AT_REMOVEDIR) != 0 && errno != ENOENT {
      problems.append("cannot remove \(child.path): \(String(cString: strerror(errno)))")
    }
    return problems
  }
}
