import ArgumentParser
import Foundation
import Glibc
import NodeRuntime

struct RootfsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rootfs",
    abstract: "Build a minimal busybox root filesystem for `chroot` nodes (needs busybox-static).")

  @Argument(help: "The folder to create (or refresh).", completion: .directory)
  var path: String

  func run() throws {
    try NSTopoCLI.run {
      do {
        let n = try Rootfs.build(at: path)
        print("rootfs: \(path): busybox with \(n) applets")
        return Exit.ok
      } catch let e as SpawnError where e.description.contains("busybox is not installed") {
        throw Failure("rootfs: \(e.description)", code: Exit.unavailable)
      } catch {
        // Anything else is the folder: not writable, not a folder, a full disk.
        throw Failure("rootfs: cannot build \(path): \(posixReason(error))", code: Exit.cannotCreate)
      }
    }
  }
}

/// `No such file or directory (/proc/x)` rather than a Foundation error's dump.
func posixReason(_ error: Error) -> String {
  if let c = error as? CocoaError {
    let path = c.filePath.map { " (\($0))" } ?? ""
    if let p = c.underlying as? POSIXError { return String(cString: strerror(p.code.rawValue)) + path }
    let e = c.underlying as NSError?
    if let e, e.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(e.code))) + path }
  }
  if let p = error as? POSIXError { return String(cString: strerror(p.code.rawValue)) }
  return "\(error)"
}
