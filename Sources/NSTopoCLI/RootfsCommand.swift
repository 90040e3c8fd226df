import ArgumentParser
import Foundation
import NodeRuntime

struct RootfsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rootfs",
    abstract: "Build a minimal busybox root filesystem for `chroot` nodes (needs busybox-static).")

  @Argument(help: "The folder to create (or refresh).")
  var path: String

  func run() throws {
    try NSTopoCLI.run {
      do {
        let n = try Rootfs.build(at: path)
        print("rootfs: \(path): busybox with \(n) applets")
        return Exit.ok
      } catch {
        throw Failure("rootfs \(path): \(error)", code: Exit.unavailable)
      }
    }
  }
}
