import ArgumentParser
import Foundation
import Planner

struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the resolved topology and the ordered kernel steps.",
    discussion: "Deterministic: the same file gives byte-identical output. --json is documented in the README.")

  @Argument(help: "A topology file (.topo).")
  var file: String

  @Flag(help: "Print the plan as JSON (stable format, see README).")
  var json = false

  func run() throws {
    try nstopo.run {
      let topology = try TopologyFile.require(file)
      let plan = Planner.plan(topology)
      if json {
        print(try encodeJSON(PlanDocument(plan)))
      } else {
        print(PlanText.render(plan), terminator: "")
      }
      return Exit.ok
    }
  }
}
