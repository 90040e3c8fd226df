import ArgumentParser
import Foundation
import Planner
import Realizer
import TopologyModel

/// `nstopo diff NAME [FILE]`: what changes at run time and hand edits have made of a running
/// topology, against its file.
struct Diff: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List what changes and hand edits have changed in a topology that is up, against its file.",
    discussion: """
      Two lists: the changes in force (`nstopo link`, `node`, a scenario left in force), the links as they are against the file; and the hand edits (drift), the kernel read back against them, as `status` shows it. Against the file `up` read, or FILE (the file as it is now: its nodes and links must be the topology's to compare the links). Exit 0 when nothing differs, 1 when something does (as diff(1)).
      """)

  @Argument(help: "The topology's name.", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "A file to compare with (default: the one `up` read, as it was then).", completion: .file(extensions: ["topo"]))
  var file: String?

  @OptionGroup var quietOption: QuietOption

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("diff")
      let name = try topologyName(topology)
      guard let doc = try mapKernelErrors({ try StateStore.load(name) }) else {
        throw Failure("topology '\(name)' is not up (see `nstopo status`)", code: Exit.noInput)
      }
      let against: Topology
      if let file {
        var t = try TopologyFile.require(file)
        t.name = name
        against = t
      } else {
        guard let declared = try mapKernelErrors({ try StateStore.declared(name) }) else { throw Failure("topology '\(name)' is not up", code: Exit.noInput) }
        against = declared
      }
      var differs = false
      if let changes = doc.topology.linkDifferences(from: against) {
        differs = differs || !changes.isEmpty
        print(changes.isEmpty ? "changes: none (the links are as the file declares them)" : "changes (\(changes.count)):")
        for c in changes { print("  \(c)") }
      } else {
        differs = true
        let structure = doc.topology.structuralDifferences(from: against)
        print("the file's nodes and links are not the topology's (`nstopo up \(file ?? doc.file) --replace` rebuilds it):")
        for s in structure { print("  \(s)") }
        if structure.isEmpty { print("  the links are declared in another order") }
      }
      let plan = Planner.plan(doc.topology)
      try requireDescriptors(namespaces: plan.namespaces.count, for: "diff")
      let drift = Readback.status(plan, sample: 0).flatMap { n in n.drift.map { "\(n.node): \($0)" } }
      differs = differs || !drift.isEmpty
      print(drift.isEmpty ? "hand edits: none (the kernel is as nstopo left it)" : "hand edits (\(drift.count)):")
      for d in drift { print("  \(d)") }
      return differs ? Exit.mismatch : Exit.ok
    }
  }
}

/// `nstopo reset NAME`: the links back to what the file declares, without a rebuild.
struct Reset: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Return a topology that is up to its file: every link's state and properties as declared, without a rebuild.",
    discussion: """
      Undoes every change in force (`nstopo link`, `node`, a scenario left in force) as one change: journaled, undone on failure or Ctrl-C. Hand edits (drift that `status` shows) are not nstopo's to undo: `nstopo up FILE --replace` rebuilds.
      """)

  @Argument(help: "The topology's name.", completion: .custom(upTopologyNames))
  var topology: String

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("reset")
      let name = try topologyName(topology)
      installInterruptHandler()
      var changed = 0
      let report = try mapChangeErrors {
        try Change.apply(name, describe: "reset", shouldStop: { interrupted != 0 }) { t in
          guard let declared = try StateStore.declared(name), let changes = t.linkDifferences(from: declared) else { return t }
          changed = changes.count
          return t.withLinkStates(of: declared)
        }
      }
      print("reset \(name): \(changed == 0 ? "nothing to undo, the links are as the file declares them" : "\(changed) link\(changed == 1 ? "" : "s") as the file declares them") (\(report.steps) steps in \(String(format: "%.3f", report.seconds)) s)")
      return Exit.ok
    }
  }
}
