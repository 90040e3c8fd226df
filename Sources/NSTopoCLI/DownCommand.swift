import ArgumentParser
import Foundation
import Realizer

struct Down: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Remove everything a topology's state says nstopo created, and the state.",
    discussion: """
      Works from /run/nstopo/<topology>/, so the .topo file may be gone or changed. Deletes only what it can prove is the topology's own (derived names, the namespace inode or mark it recorded, the host ends' alias) and leaves anything else alone with a warning. Anything with the topology's names that it leaves in place (unproven) keeps the state and exits 78 (--forget drops the state and leaves them). A topology that is not up exits 66 and names the closest one that is (a typo must not look like success); --missing-ok makes that exit 0, for clean-up scripts. Waits until the kernel has released the veths. Ctrl-C finishes the step at hand and keeps the state (exit 130): run down again to finish.
      """)

  @Argument(help: "A topology file or name.", completion: .custom(upTopologyNames))
  var topology: String

  @Flag(help: "A topology that is not up is not an error (exit 0), as `rm -f` treats a missing file.")
  var missingOk = false

  @Flag(help: "Remove the state even where down left objects with the topology's names in place, unproven as nstopo's (they stay; exit 0).")
  var forget = false

  @Flag(name: .shortAndLong, help: "No progress line on stderr (there is none unless stderr is a terminal).")
  var quiet = false

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("down")
      let name = try topologyName(topology)
      installInterruptHandler()
      let start = Date()
      let progress = ProgressLine(quiet: quiet)
      defer { progress.finish() }
      let down = try mapKernelErrors {
        try Lifecycle.down(name, forget: forget, shouldStop: { interrupted != 0 }, progress: { progress.update("taking down", $0, $1, unit: "namespaces") })
      }
      progress.finish()
      guard let report = down else {
        if missingOk {
          print("down: topology \(name) is not up")
          return Exit.ok
        }
        throw Failure(notUpMessage(name), code: Exit.noInput)
      }
      for w in report.warnings { printError("nstopo: warning: \(w)") }
      if report.interrupted {
        throw Failure(
          "down: interrupted after removing \(report.namespacesDeleted) namespace\(report.namespacesDeleted == 1 ? "" : "s"); \(report.namespacesLeft) namespace\(report.namespacesLeft == 1 ? " is" : "s are") left, with the state: run `nstopo down \(name)` again to finish",
          code: Exit.interrupted)
      }
      if !report.failures.isEmpty {
        throw Failure(
          "down: could not remove everything of \(name) (the state is kept; run down again):\n"
            + report.failures.map { "  - \($0)" }.joined(separator: "\n"), code: Exit.kernel)
      }
      if !report.leftInPlace.isEmpty && !forget {
        throw Failure(
          "down: \(count(report.leftInPlace.count, "object")) with topology \(name)'s names left in place (\(report.leftInPlace.prefix(3).joined(separator: ", "))\(report.leftInPlace.count > 3 ? ", …" : "")): nstopo cannot prove \(report.leftInPlace.count == 1 ? "it" : "them") its own. The state is kept. Remove what is yours and run down again, or `nstopo down \(name) --forget` to drop the state and leave \(report.leftInPlace.count == 1 ? "it" : "them")",
          code: Exit.refused)
      }
      print(
        "down: topology \(name): \(count(report.namespacesDeleted, "namespace")), \(count(report.linksDeleted, "host link")) removed in \(String(format: "%.3f", Date().timeIntervalSince(start))) s"
      )
      return Exit.ok
    }
  }
}
