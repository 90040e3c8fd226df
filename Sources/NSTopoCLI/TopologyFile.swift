import ArgumentParser
import Foundation
import Glibc
import Netlink
import Predict
import Realizer
import TopologyDSL
import TopologyModel

/// Reads and validates a `.topo` file from disk.
enum TopologyFile {
  /// Whether a file's warnings are shown (`-q` turns them off; errors always are).
  nonisolated(unsafe) static var warnings = true

  static func load(_ path: String, quiet: Bool = false) throws -> (Topology?, LoadResult) {
    guard let data = FileManager.default.contents(atPath: path) else {
      var isDir: ObjCBool = false
      if FileManager.default.fileExists(atPath: path, isDirectory: &isDir) {
        throw Failure(isDir.boolValue ? "\(path): is a directory" : "\(path): cannot read (permission?)", code: Exit.noInput)
      }
      throw Failure("\(path): no such file", code: Exit.noInput)
    }
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
    // Finding out about netem needs a scratch namespace, so root; without it, no check.
    var netem: (@Sendable () -> Bool)?
    if Capabilities.admin { netem = { @Sendable in Netem.isAvailable() } }
    let options = LoadOptions(
      cpuCount: ProcessInfo.processInfo.activeProcessorCount,
      pathExists: { FileManager.default.fileExists(atPath: $0) },
      directory: absolute, netemAvailable: netem)
    let result = Validation.load(bytes: [UInt8](data), fileName: path, options: options)
    // `-q`: errors only.
    let shown = warnings ? result.diagnostics : result.diagnostics.filter { $0.severity == .error }
    if !quiet && !shown.isEmpty {
      var renderer = result.renderer
      renderer.color = Terminal.color(STDERR_FILENO)
      printError(renderer.render(shown))
    }
    return (result.topology, result)
  }

  /// A file, or else the name of a topology that is up (its stored model).
  static func resolve(_ argument: String) throws -> Topology {
    if FileManager.default.fileExists(atPath: argument) { return try require(argument) }
    if let doc = StateStore.document(try topologyName(argument)) { return doc.topology }
    // A topology's state is root's alone (it names what nstopo may delete).
    let folder = StateStore.directory(try topologyName(argument))
    if geteuid() != 0, FileManager.default.fileExists(atPath: folder), access(folder, R_OK | X_OK) != 0 {
      throw Failure(
        "\(argument): topology \(argument) is up, but its state (\(folder)) is readable by root only: give its .topo file, or run as root",
        code: Exit.noInput)
    }
    throw Failure("\(argument): no such file, and no topology of that name is up", code: Exit.noInput)
  }

  /// Loads or fails with exit 65 after printing diagnostics.
  static func require(_ path: String) throws -> Topology {
    let (topology, _) = try load(path)
    guard let topology else { throw ExitCode(Exit.invalidTopology) }
    return topology
  }
}
