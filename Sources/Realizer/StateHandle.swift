import CShim
import Foundation
import Glibc
import Netlink
import TopologyModel

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
