import ArgumentParser
import Foundation
import Planner
import TopologyModel

struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the resolved topology and the ordered kernel steps.",
    discussion: "Deterministic: the same file gives byte-identical output. --json is documented in the README.")

  @Argument(help: "A topology file (.topo).", completion: .file(extensions: ["topo"]))
  var file: String

  /// Most expected pairs a plan lists (about 100 MB of JSON).
  static let maxListedPairs = 1_000_000

  @Flag(help: "Print the plan as JSON (stable format, see README).")
  var json = false

  @OptionGroup var display: DisplayOptions

  @OptionGroup var quietOption: QuietOption

  @Flag(help: "Print only the steps, as a POSIX shell script of their iproute2, sysctl, nft and cgroup equivalents.")
  var script = false

  func validate() throws {
    if json && script { throw ValidationError("--json and --script are two outputs: choose one") }
  }

  func run() throws {
    try NSTopoCLI.run {
      let topology = try TopologyFile.require(file)
      // The plan lists every expected pair; a few `expect` lines can cover billions.
      let bound = ExpectationIndex(topology.expectations).pairBound
      if bound > Self.maxListedPairs, let widest = topology.expectations.max(by: { $0.sources.count * $0.targets.count < $1.sources.count * $1.targets.count }) {
        throw Failure(
          "\(file):\(widest.line):1: the expect lines cover up to \(bound) pairs, and plan lists at most \(Self.maxListedPairs); `nstopo validate` and `nstopo predict` take them pair by pair",
          code: Exit.invalidTopology)
      }
      let plan = Planner.plan(topology)
      if json {
        print(try encodeJSON(PlanDocument(plan)))
      } else if script {
        print(PlanText.script(plan), terminator: "")
      } else {
        print(PlanText.render(plan), terminator: "")
      }
      return Exit.ok
    }
  }
}
