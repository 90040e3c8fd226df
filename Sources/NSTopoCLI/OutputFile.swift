import Foundation
import Glibc

/// A file option (`--json`, `--junit`, `-o`): `-` is stdout. Checked before the work
/// starts, so that a path that cannot be written fails at once (exit 73), not after a
/// long run.
struct OutputFile {
  let path: String

  var isStdout: Bool { path == "-" }

  /// `path` if it can be written: its directory exists and is writable, and it is not a
  /// directory (nor a file that cannot be written). Creates nothing.
  static func checked(_ path: String?, option: String) throws -> OutputFile? {
    guard let path else { return nil }
    if path == "-" { return OutputFile(path: path) }
    if path.isEmpty { throw Failure("\(option): an empty path (use - for stdout)", code: Exit.cannotCreate) }
    let url = URL(fileURLWithPath: path)
    let directory = url.deletingLastPathComponent().path
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
      if isDirectory.boolValue { throw Failure("cannot write \(path) (\(option)): it is a directory", code: Exit.cannotCreate) }
      if access(path, W_OK) != 0 { throw Failure("cannot write \(path) (\(option)): \(String(cString: strerror(errno)))", code: Exit.cannotCreate) }
      return OutputFile(path: path)
    }
    guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
      throw Failure("cannot write \(path) (\(option)): no directory \(directory)", code: Exit.cannotCreate)
    }
    if access(directory, W_OK) != 0 {
      throw Failure("cannot write \(path) (\(option)): \(directory): \(String(cString: strerror(errno)))", code: Exit.cannotCreate)
    }
    return OutputFile(path: path)
  }

  /// Writes `text` whole (atomically, to a file), or to stdout.
  func write(_ text: String) throws {
    if isStdout {
      FileHandle.standardOutput.write(text.data(using: .utf8)!)
      return
    }
    do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
      throw Failure("cannot write \(path): \(error.localizedDescription)", code: Exit.cannotCreate)
    }
  }

  /// Writes what `produce` hands out in chunks, buffered, without holding it all (a million
  /// pairs of JSON).
  func stream(_ produce: ((String) -> Void) -> Void) throws {
    let handle: FileHandle
    if isStdout {
      handle = FileHandle.standardOutput
    } else {
      guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
        throw Failure("cannot write \(path): \(String(cString: strerror(errno)))", code: Exit.cannotCreate)
      }
      handle = h
    }
    defer { if !isStdout { try? handle.close() } }
    var buffer = ""
    produce { chunk in
      buffer += chunk
      if buffer.utf8.count > 1 << 16 {
        handle.write(buffer.data(using: .utf8)!)
        buffer = ""
      }
    }
    handle.write(buffer.data(using: .utf8)!)
  }
}
