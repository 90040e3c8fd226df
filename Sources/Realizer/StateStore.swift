import CShim
import Foundation
import Glibc
import Netlink
import TopologyModel

/// What `up` leaves in /run/nstopo/<topology>/ (documented in the README):
///
///     state.json   the resolved topology and the file it came from, as `up` built it
///     links.json   every link's state since a change at run time (ends down, properties),
///                  replaced atomically by each change; it overrides state.json's
///     journal      what was created (see JournalEntry), appended as it happens
///     pid          the process that ran `up`
///     complete     present once `up` finished
///     test.lock    flock'ed by the `nstopo test` running on the topology, if any
///
/// The journal is flock'ed by whichever nstopo is bringing the topology up or down.
public struct StateDocument: Codable, Sendable {
  /// 1: written before the field existed (read as it is); 2: this version.
  public var format: Int
  public var file: String
  public var created: Date
  public var topology: Topology
  /// `up --static-neighbours`: the permanent neighbour entries stay for as long as the
  /// topology is up, and `test` leaves them alone (nil in documents from before the option).
  public var staticNeighbours: Bool?

  /// The format this version writes, and the newest it reads. 1: no format field; 2: the
  /// field; 3: a link end's `addresses` list in place of its one `address`; 4: a bridge's and
  /// a link's `subnets` list in place of one `subnet`; 5: an owner as one string (`node:h1`),
  /// link ends that are down and link properties (every older form is still read).
  public static let currentFormat = 5

  public init(file: String, created: Date, topology: Topology, staticNeighbours: Bool = false) {
    self.format = Self.currentFormat
    self.file = file
    self.created = created
    self.topology = topology
    self.staticNeighbours = staticNeighbours
  }

  enum CodingKeys: String, CodingKey {
    case format, file, created, topology, staticNeighbours
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    format = try c.decodeIfPresent(Int.self, forKey: .format) ?? 1
    file = try c.decode(String.self, forKey: .file)
    created = try c.decode(Date.self, forKey: .created)
    topology = try c.decode(Topology.self, forKey: .topology)
    staticNeighbours = try c.decodeIfPresent(Bool.self, forKey: .staticNeighbours)
  }

  /// Reads a document of any format this version knows; a newer or damaged one is an error
  /// that says so, not "not up".
  public static func decode(_ data: [UInt8], path: String) throws(StateError) -> StateDocument {
    struct Format: Decodable { var format: Int? }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    let format = (try? decoder.decode(Format.self, from: Data(data)))?.format ?? 1
    if format > currentFormat {
      throw .unreadable("\(path) was written by a newer nstopo (format \(format); this one reads up to \(currentFormat)); use that version to test or take it down")
    }
    do {
      return try decoder.decode(StateDocument.self, from: Data(data))
    } catch {
      throw .unreadable("\(path) cannot be read (\(error)); `nstopo down` still removes what the journal lists")
    }
  }
}

public enum StateError: Error, CustomStringConvertible {
  case alreadyUp(String)
  case busy(String, pid: String?)
  case interrupted(String)
  case notUp(String)
  case testing(String)
  case io(String)
  /// A name that the language's rules refuse: it never becomes part of a path.
  case badName(String, problem: String)
  /// State that nstopo did not make, or that others could have changed: left alone.
  case unsafe(String)
  /// A state.json this version cannot read (newer, or damaged).
  case unreadable(String)

  public var description: String {
    switch self {
    case .alreadyUp(let n): return "topology '\(n)' is already up (run `nstopo down \(n)` first, or use `up --replace`)"
    case .busy(let n, let pid):
      return "topology '\(n)' is being changed by another nstopo\(pid.map { " (pid \($0))" } ?? ""); try again when it is done"
    case .interrupted(let n):
      return "a previous `up` of '\(n)' did not finish (it was interrupted); run `nstopo down \(n)` to clean it up"
    case .notUp(let n): return "topology '\(n)' is not up"
    case .testing(let n): return "topology '\(n)' is being tested by another `nstopo test`; try again when it is done"
    case .io(let m): return m
    case .badName(let n, let problem): return "'\(n.debugDescription.dropFirst().dropLast())' is not a topology name: it \(problem)"
    case .unsafe(let m), .unreadable(let m): return m
    }
  }
}

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

/// A locked topology state. Appends journal lines as objects are created.
public final class StateHandle: JournalSink {
  public let name: String
  let folder: StateFolder
  let fd: Int32

  init(name: String, folder: StateFolder, fd: Int32) {
    self.name = name
    self.folder = folder
    self.fd = fd
  }

  deinit { if fd >= 0 { close(fd) } }

  public var directory: String { StateStore.directory(name) }

  public func record(_ entries: [JournalEntry]) throws {
    let text = entries.map { $0.line + "\n" }.joined()
    let bytes = Array(text.utf8)
    var off = 0
    while off < bytes.count {
      let n = bytes[off...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
      if n < 0 {
        if errno == EINTR { continue }
        throw StateError.io("cannot write \(directory)/journal: \(String(cString: strerror(errno)))")
      }
      off += n
    }
  }

  /// The journal's lines, read through the locked descriptor (never by path).
  public func entries() -> [JournalEntry] {
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65536)
    var offset: off_t = 0
    while true {
      let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      bytes += buffer[0..<n]
      offset += off_t(n)
    }
    return String(decoding: bytes, as: UTF8.self).split(separator: "\n").compactMap { JournalEntry(line: String($0)) }
  }

  /// Records every link's state after a change at run time, atomically (links.json): a few
  /// kilobytes where rewriting state.json took 15 ms at star-1000.
  public func replaceLinks(of topology: Topology) throws {
    try folder.replace("links.json", Array(try JSONEncoder().encode(LinkStates(topology))))
  }

  /// Keeps `topology`'s links as they are before a scenario goes in force: a test killed
  /// during the scenario leaves what the next one reverts to (`Change.revertScenarioLeftInForce`).
  public func saveScenarioBase(_ topology: Topology) throws {
    try folder.replace("scenario-base.json", Array(try JSONEncoder().encode(LinkStates(topology))))
  }

  public func removeScenarioBase() { folder.removeFile("scenario-base.json") }

  /// The links as a change is about to make them (`change-target.json`), kept until it is
  /// journaled finished or undone: a change killed part way can then be undone from what it
  /// was making (`Change.undoInterrupted`).
  public func saveChangeTarget(_ topology: Topology) throws {
    try folder.replace("change-target.json", Array(try JSONEncoder().encode(LinkStates(topology))))
  }

  public func changeTarget() -> LinkStates? {
    guard let data = folder.read("change-target.json") else { return nil }
    return try? JSONDecoder().decode(LinkStates.self, from: Data(data))
  }

  public func removeChangeTarget() { folder.removeFile("change-target.json") }

  public func markComplete() throws {
    try folder.write("complete", [])
  }

  /// Removes the state folder, never following a link; the lock goes with the descriptor
  /// when this handle dies. Returns what could not be removed.
  @discardableResult
  public func remove() -> [String] {
    guard let r = try? StateStore.rootFolder(create: false) else { return [] }
    return r.removeFolder(name)
  }
}

/// links.json: each link's ends that are down (bit 0 its a end, bit 1 its b end), in link
/// order, and the properties of those that have any, by index.
public struct LinkStates: Codable, Sendable {
  var format = 1
  var down: [UInt8]
  var properties: [String: LinkProperties]

  public init(_ t: Topology) {
    down = t.links.map { ($0.a.down ? 1 : 0) | ($0.b.down ? 2 : 0) }
    properties = [:]
    for (k, l) in t.links.enumerated() where !l.properties.isEmpty { properties[String(k)] = l.properties }
  }

  public func apply(to t: inout Topology) throws {
    guard format == 1, down.count == t.links.count else {
      throw StateError.unreadable("links.json does not match the topology (format \(format), \(down.count) links for \(t.links.count))")
    }
    for k in t.links.indices {
      t.links[k].a.down = down[k] & 1 != 0
      t.links[k].b.down = down[k] & 2 != 0
      t.links[k].properties = properties[String(k)] ?? LinkProperties()
    }
  }
}
