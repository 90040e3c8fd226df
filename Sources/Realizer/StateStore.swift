import Foundation
import Glibc
import TopologyModel

/// What `up` leaves in /run/nstopo/<topology>/ (documented in the README):
///
///     state.json   the resolved topology and the file it came from
///     journal      what was created (see JournalEntry), appended as it happens
///     pid          the process that ran `up`
///     complete     present once `up` finished
///     test.lock    flock'ed by the `nstopo test` running on the topology, if any
///
/// The journal is flock'ed by whichever nstopo is bringing the topology up or down.
public struct StateDocument: Codable, Sendable {
  public var file: String
  public var created: Date
  public var topology: Topology
  /// `up --static-neighbours`: the permanent neighbour entries stay for as long as the
  /// topology is up, and `test` leaves them alone (nil in documents from before the option).
  public var staticNeighbours: Bool?

  public init(file: String, created: Date, topology: Topology, staticNeighbours: Bool = false) {
    self.file = file
    self.created = created
    self.topology = topology
    self.staticNeighbours = staticNeighbours
  }
}

public enum StateError: Error, CustomStringConvertible {
  case alreadyUp(String)
  case busy(String, pid: String?)
  case interrupted(String)
  case notUp(String)
  case testing(String)
  case io(String)

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
    }
  }
}

public enum StateStore {
  /// Overridable for tests; the README documents /run/nstopo.
  nonisolated(unsafe) public static var root = "/run/nstopo"

  public static func directory(_ name: String) -> String { "\(root)/\(name)" }

  /// Claims the topology name: creates its state folder atomically, with the journal already
  /// locked, so two concurrent `up` of one name cannot both win.
  public static func begin(_ doc: StateDocument) throws -> StateHandle {
    let name = doc.topology.name
    if mkdir(root, 0o755) != 0 && errno != EEXIST { throw StateError.io("cannot create \(root): \(String(cString: strerror(errno)))") }
    sweepTemporary(name)
    try refuseExisting(name)
    let tmp = "\(root)/.\(name).\(getpid())"
    removeTree(tmp)
    guard mkdir(tmp, 0o755) == 0 else { throw StateError.io("cannot create \(tmp): \(String(cString: strerror(errno)))") }
    let fd = Glibc.open("\(tmp)/journal", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard fd >= 0, flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      removeTree(tmp)
      throw StateError.io("cannot lock \(tmp)/journal")
    }
    do {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      encoder.dateEncodingStrategy = .iso8601
      try encoder.encode(doc).write(to: URL(fileURLWithPath: "\(tmp)/state.json"))
      try "\(getpid())\n".write(toFile: "\(tmp)/pid", atomically: false, encoding: .utf8)
    } catch {
      close(fd)
      removeTree(tmp)
      throw StateError.io("cannot write state in \(tmp): \(error)")
    }
    if rename(tmp, directory(name)) != 0 {
      close(fd)
      removeTree(tmp)
      try refuseExisting(name)
      throw StateError.busy(name, pid: nil)
    }
    return StateHandle(name: name, fd: fd)
  }

  private static func refuseExisting(_ name: String) throws {
    let dir = directory(name)
    guard access(dir, F_OK) == 0 else { return }
    let fd = Glibc.open("\(dir)/journal", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
      defer { close(fd) }
      if flock(fd, LOCK_EX | LOCK_NB) != 0 { throw StateError.busy(name, pid: pid(of: name)) }
    }
    if access("\(dir)/complete", F_OK) == 0 { throw StateError.alreadyUp(name) }
    throw StateError.interrupted(name)
  }

  /// Removes `.<name>.<pid>` folders whose `up` died (SIGKILL) before claiming the name. They
  /// hold no journal entries yet: nothing is created before the rename.
  public static func sweepTemporary(_ name: String) {
    let prefix = ".\(name)."
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where entry.hasPrefix(prefix) {
      guard let pid = pid_t(entry.dropFirst(prefix.count)) else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { removeTree("\(root)/\(entry)") }
    }
  }

  static func pid(of name: String) -> String? {
    (try? String(contentsOfFile: "\(directory(name))/pid", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Locks an existing state for `down`; nil when the topology is not up.
  public static func open(_ name: String) throws -> StateHandle? {
    let dir = directory(name)
    let fd = Glibc.open("\(dir)/journal", O_RDWR | O_APPEND | O_CLOEXEC)
    if fd < 0 {
      if access(dir, F_OK) == 0 {
        // A folder without a journal: an `up` died before its first write. Claim it anyway.
        let fd2 = Glibc.open("\(dir)/journal", O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd2 >= 0, flock(fd2, LOCK_EX | LOCK_NB) == 0 else { throw StateError.busy(name, pid: pid(of: name)) }
        return StateHandle(name: name, fd: fd2)
      }
      return nil
    }
    guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
      close(fd)
      throw StateError.busy(name, pid: pid(of: name))
    }
    return StateHandle(name: name, fd: fd)
  }

  public static func document(_ name: String) -> StateDocument? {
    guard let data = FileManager.default.contents(atPath: "\(directory(name))/state.json") else { return nil }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return try? decoder.decode(StateDocument.self, from: data)
  }

  public enum Phase: String, Sendable, Codable {
    case up
    case busy
    case interrupted
  }

  /// Names of every topology with state, sorted.
  public static func names() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
  }

  public static func phase(_ name: String) -> Phase {
    let dir = directory(name)
    let fd = Glibc.open("\(dir)/journal", O_RDONLY | O_CLOEXEC)
    if fd >= 0 {
      defer { close(fd) }
      if flock(fd, LOCK_SH | LOCK_NB) != 0 { return .busy }
    }
    return access("\(dir)/complete", F_OK) == 0 ? .up : .interrupted
  }

  /// Takes the topology's test lock, or throws `.testing` when another test holds it. The
  /// lock goes with the returned descriptor.
  public static func lockForTest(_ name: String) throws -> Int32 {
    let path = "\(directory(name))/test.lock"
    let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw StateError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      close(fd)
      throw StateError.testing(name)
    }
    return fd
  }

  static func removeTree(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }
}

/// A locked topology state. Appends journal lines as objects are created.
public final class StateHandle: JournalSink {
  public let name: String
  let fd: Int32

  init(name: String, fd: Int32) {
    self.name = name
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

  public func entries() -> [JournalEntry] {
    let text = (try? String(contentsOfFile: "\(directory)/journal", encoding: .utf8)) ?? ""
    return text.split(separator: "\n").compactMap { JournalEntry(line: String($0)) }
  }

  public func markComplete() throws {
    guard FileManager.default.createFile(atPath: "\(directory)/complete", contents: Data()) else {
      throw StateError.io("cannot write \(directory)/complete")
    }
  }

  /// Removes the state folder; the lock goes with the descriptor when this handle dies.
  public func remove() {
    StateStore.removeTree(directory)
  }
}
