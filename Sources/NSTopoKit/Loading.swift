import Foundation
import Predict
import TopologyDSL
import TopologyModel

/// A topology file or text with errors: every diagnostic, and their compiler-style text.
public struct TopologyLoadError: Error, CustomStringConvertible, Sendable {
  public var diagnostics: [Diagnostic]
  public var rendered: String
  public var description: String { rendered }
}

extension Topology {
  /// Reads and validates a topology in the `.topo` language, as `nstopo validate` does
  /// (paths are relative to the working directory). Throws ``TopologyLoadError`` with every
  /// problem at once; warnings are in ``Topology/warnings(_:name:)``.
  public static func parse(_ text: String, name: String = "lab.topo") throws -> Topology {
    let r = Validation.load(bytes: Array(text.utf8), fileName: name, options: LoadOptions(directory: FileManager.default.currentDirectoryPath))
    guard let t = r.topology else { throw TopologyLoadError(diagnostics: r.diagnostics, rendered: r.rendered) }
    return t
  }

  /// Reads and validates a `.topo` file (a `chroot` path is relative to the file).
  public static func load(contentsOf path: String) throws -> Topology {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw TopologyLoadError(diagnostics: [], rendered: "\(path): no such file")
    }
    let directory = URL(fileURLWithPath: path).standardizedFileURL.deletingLastPathComponent().path
    let r = Validation.load(bytes: [UInt8](data), fileName: path, options: LoadOptions(directory: directory))
    guard let t = r.topology else { throw TopologyLoadError(diagnostics: r.diagnostics, rendered: r.rendered) }
    return t
  }

  /// The warnings `nstopo validate` gives for `text` (unreachable nodes, replies that cannot
  /// come back, expectations the model contradicts).
  public static func warnings(_ text: String, name: String = "lab.topo") -> [Diagnostic] {
    Validation.load(bytes: Array(text.utf8), fileName: name, options: LoadOptions()).diagnostics.filter { $0.severity == .warning }
  }
}
