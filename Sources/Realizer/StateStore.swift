import CShim
import Foundation
import Glibc
import Netlink
import TopologyModel

/// The state of every topology that is up, in /run/nstopo. Every name is checked with the
/// language's rules (`NameRules`) before it becomes part of a path, every folder is opened
/// through `StateFolder`, and nothing outside /run/nstopo/<topology>/ is ever written or removed.
public enum StateStore {
  /// Overridable for tests; the README documents /run/nstopo.
  nonisolated(unsafe) public static var root = "/run/nstopo"

  /// For messages and tests; call `validate` first wherever the path is used.
  public static func directory(_ name: String) -> String { "\(root)/\(name)" }

  /// Refuses a name that is not a topology name by the language's rules (`..`, `.`, ``,
  /// anything with `/`).
  public static func validate(_ name: String) throws(StateError) {
    if let problem = NameRules.topologyProblem(name) { throw .badName(name, problem: problem) }
  }

  /// /run/nstopo, checked; created when `create` (as root's private folder).
  static func rootFolder(create: Bool) throws(StateError) -> StateFolder? {
    if create && mkdir(root, 0o755) != 0 && errno != EEXIST {
      throw .io("cannot create \(root): \(String(cString: strerror(errno)))")
    }
    return try StateFolder.open(path: root)
  }

  /// The topology's folder, checked; nil when it does not exist.
  static func folder(_ name: String) throws(StateError) -> StateFolder? {
    try validate(name)
    guard let r = try rootFolder(create: false) else { return nil }
    return try StateFolder.open(name, in: r)
  }

  /// Claims the topology name: creates its state folder atomically, with the journal already
  /// locked, so two concurrent `up` of one name cannot both win.
  public static func begin(_ doc: StateDocument) throws -> StateHandle {
    let name = doc.topology.name
    try validate(name)
    guard let r = try rootFolder(create: true) else { throw StateError.io("cannot open \(root)") }
    sweepTemporary(name, in: r)
    try refuseExisting(name, in: r)
    let tmp = ".\(name).\(getpid())"
    r.removeFolder(tmp)
    guard mkdirat(r.fd, tmp, 0o700) == 0 else {
      throw StateError.io("cannot create \(root)/\(tmp): \(String(cString: strerror(errno)))")
    }
    guard let folder = try StateFolder.open(tmp, in: r) else { throw StateError.io("cannot open \(root)/\(tmp)") }
    let fd = folder.openFile("journal", O_RDWR | O_CREAT | O_EXCL | O_APPEND)
    guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      if fd >= 0 { close(fd) }
      r.removeFolder(tmp)
      throw StateError.io("cannot lock \(root)/\(tmp)/journal")
    }
    let handle = StateHandle(name: name, folder: folder, fd: fd)
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.dateEncodingStrategy = .iso8601
      try folder.write("state.json", Array(try encoder.encode(doc)))
      try folder.write("pid", Array("\(getpid())\n".utf8))
      try handle.record([.format(JournalEntry.currentFormat)])
    } catch {
      r.removeFolder(tmp)
      throw StateError.io("cannot write state in \(root)/\(tmp): \(error)")
    }
    if nstopo_rename_noreplace(r.fd, tmp, r.fd, name) != 0 {
      r.removeFolder(tmp)
      try refuseExisting(name, in: r)
      throw StateError.busy(name, pid: nil)
    }
    return handle
  }

  private static func refuseExisting(_ name: String, in r: StateFolder) throws(StateError) {
    guard r.exists(name) else { return }
    guard let folder = try StateFolder.open(name, in: r) else { return }
    let fd = folder.openFile("journal", O_RDONLY)
    if fd >= 0 {
      defer { close(fd) }
      if flock(fd, LOCK_EX | LOCK_NB) != 0 { throw .busy(name, pid: lockHolder(fd)) }
    }
    if folder.exists("complete") { throw .alreadyUp(name) }
    throw .interrupted(name)
  }

  /// Removes `.<name>.<pid>` folders whose `up` died (SIGKILL) before claiming the name. They
  /// hold no journal entries yet: nothing is created before the rename.
  public static func sweepTemporary(_ name: String) {
    guard NameRules.topologyProblem(name) == nil, let r = try? rootFolder(create: false) else { return }
    sweepTemporary(name, in: r)
  }

  private static func sweepTemporary(_ name: String, in r: StateFolder) {
    let prefix = ".\(name)."
    for entry in r.entries() where entry.hasPrefix(prefix) {
      guard let pid = pid_t(entry.dropFirst(prefix.count)) else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { r.removeFolder(entry) }
    }
  }

  /// The process holding the flock on `fd`'s file, from /proc/locks (`1: FLOCK ADVISORY
  /// WRITE PID MAJ:MIN:INODE 0 EOF`): the nstopo that is changing the topology now, not the
  /// `up` that wrote the state.
  static func lockHolder(_ fd: Int32) -> String? {
    var st = stat()
    guard fstat(fd, &st) == 0 else { return nil }
    let dev = UInt64(st.st_dev)
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~0xfff)
    let minor = (dev & 0xff) | ((dev >> 12) & ~0xff)
    let key = "\(hex2(major)):\(hex2(minor)):\(st.st_ino)"
    let text = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
    for line in text.split(separator: "\n") {
      let f = line.split(separator: " ")
      // Skip blocked waiters ("1: -> FLOCK ...").
      guard f.count >= 6, f[1] == "FLOCK", f[5] == key else { continue }
      return String(f[4])
    }
    return nil
  }

  private static func hex2(_ v: UInt64) -> String {
    let h = String(v, radix: 16)
    return h.count < 2 ? "0" + h : h
  }

  /// Locks an existing state for `down` or a change; nil when the topology is not up. With
  /// `wait`, waits up to that many seconds for another nstopo (a refused `link`, a `status`)
  /// to let go of the lock before saying busy.
  public static func open(_ name: String, wait: Double = 0) throws(StateError) -> StateHandle? {
    guard let folder = try folder(name) else { return nil }
    var fd = folder.openFile("journal", O_RDWR | O_APPEND)
    if fd < 0 {
      if errno == ELOOP { throw .unsafe("\(folder.path)/journal is a symbolic link, not a journal nstopo wrote; nstopo leaves the topology alone") }
      guard errno == ENOENT else { throw .io("cannot open \(folder.path)/journal: \(String(cString: strerror(errno)))") }
      // A folder without a journal: an `up` died before its first write. Claim it anyway.
      fd = folder.openFile("journal", O_RDWR | O_CREAT | O_APPEND)
      guard fd >= 0 else { throw .io("cannot create \(folder.path)/journal: \(String(cString: strerror(errno)))") }
    }
    let deadline = monotonicSeconds() + wait
    while flock(fd, LOCK_EX | LOCK_NB) != 0 {
      if monotonicSeconds() < deadline {
        usleep(10_000)
        continue
      }
      let holder = lockHolder(fd)
      close(fd)
      throw .busy(name, pid: holder)
    }
    return StateHandle(name: name, folder: folder, fd: fd)
  }

  /// The stored document; nil when the topology has no state. Throws for a bad name or state
  /// that is not nstopo's.
  public static func load(_ name: String) throws(StateError) -> StateDocument? {
    guard let folder = try folder(name), let data = folder.read("state.json") else { return nil }
    var doc = try StateDocument.decode(data, path: "\(folder.path)/state.json")
    if let changed = folder.read("links.json") {
      do {
        try JSONDecoder().decode(LinkStates.self, from: Data(changed)).apply(to: &doc.topology)
      } catch {
        throw .unreadable("\(folder.path)/links.json cannot be read (\(error)); nstopo down removes the topology as it is")
      }
    }
    return doc
  }

  /// The topology as `up` built it from its file, before any change at run time (state.json
  /// without links.json): what `node … up`, `diff` and `reset` return to.
  public static func declared(_ name: String) throws(StateError) -> Topology? {
    guard let folder = try folder(name), let data = folder.read("state.json") else { return nil }
    return try StateDocument.decode(data, path: "\(folder.path)/state.json").topology
  }

  /// A change at run time that began and neither finished nor was undone (its process was
  /// killed): the kernel may be part way, and `status` says so above its drift.
  public static func unfinishedChange(_ name: String) -> String? { journalSummary(name)?.unfinishedChange }

  /// A scenario that a test put in force and never reverted (the test was killed).
  public static func scenarioInForce(_ name: String) -> String? { journalSummary(name)?.scenarioInForce }

  /// The links as they were before the scenario in force (scenario-base.json), to revert it.
  public static func scenarioBase(_ name: String) -> LinkStates? {
    guard let folder = try? folder(name), let data = folder.read("scenario-base.json") else { return nil }
    return try? JSONDecoder().decode(LinkStates.self, from: Data(data))
  }

  /// The journal, read without its lock (for `status`).
  static func journalSummary(_ name: String) -> JournalSummary? {
    guard let folder = try? folder(name), let data = folder.read("journal") else { return nil }
    return JournalSummary(String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap { JournalEntry(line: String($0)) })
  }

  /// `load`, with every problem read as "no state".
  public static func document(_ name: String) -> StateDocument? {
    (try? load(name)) ?? nil
  }

  /// The document of a topology that is up and not being changed: what `test`, `exec` and
  /// `shell` need. Throws `.notUp`, `.busy` (an `up` or `down` holds it) or `.interrupted`.
  public static func requireUp(_ name: String) throws(StateError) -> StateDocument {
    guard let doc = try load(name) else {
      if try folder(name) != nil, phase(name) == .busy { throw .busy(name, pid: nil) }
      throw .notUp(name)
    }
    switch phase(name) {
    case .up: return doc
    case .busy: throw .busy(name, pid: nil)
    case .interrupted: throw .interrupted(name)
    case .refused: throw .unsafe("\(directory(name)) is not state that nstopo made; nstopo leaves it alone")
    }
  }

  public enum Phase: String, Sendable, Codable {
    case up
    case busy
    case interrupted
    /// Not a state folder nstopo made (a link, not root's, writable by others): left alone.
    case refused
  }

  /// Names of every topology with state, sorted (only names that the language allows).
  public static func names() -> [String] {
    guard let r = try? rootFolder(create: false) else { return [] }
    return r.entries().filter { NameRules.topologyProblem($0) == nil }.sorted()
  }

  public static func phase(_ name: String) -> Phase {
    let folder: StateFolder?
    do { folder = try self.folder(name) } catch { return .refused }
    guard let folder else { return .interrupted }
    let fd = folder.openFile("journal", O_RDONLY)
    if fd >= 0 {
      defer { close(fd) }
      if flock(fd, LOCK_SH | LOCK_NB) != 0 { return .busy }
    }
    return folder.exists("complete") ? .up : .interrupted
  }

  /// Takes the topology's test lock, or throws `.testing` when another test holds it. The
  /// lock goes with the returned descriptor.
  public static func lockForTest(_ name: String) throws(StateError) -> Int32 {
    guard let folder = try folder(name) else { throw .notUp(name) }
    let fd = folder.openFile("test.lock", O_RDWR | O_CREAT)
    guard fd >= 0 else { throw .io("cannot open \(folder.path)/test.lock: \(String(cString: strerror(errno)))") }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      close(fd)
      throw .testing(name)
    }
    return fd
  }
}
