import ArgumentParser
import Foundation
import NSTopoKit
import Predict
import Matrix
import TopologyModel

struct Predict: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict the connectivity matrix from the model alone (no root, no kernel).",
    discussion: """
      The same pairs and format as `nstopo test`, computed from links, subnets, routes (longest prefix match), forwarding and the way back. Exit 1 when an `expect` line contradicts the model. Firewalls in `run` lines are not modelled.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up (as it is now).", completion: .custom(topologyNamesOrFiles))
  var file: String

  @OptionGroup var probeOptions: ProbeOptions

  @OptionGroup var scenarioOptions: ScenarioOptions

  @Option(help: "Write every pair as JSON to this file (- for stdout, instead of the matrix).")
  var json: String?

  @OptionGroup var display: DisplayOptions

  @OptionGroup var quietOption: QuietOption

  func run() throws {
    try NSTopoCLI.run {
      let jsonFile = try OutputFile.checked(json, option: "--json")
      let t = try TopologyFile.resolve(file)
      let scenarios = try scenarioOptions.chosen(t)
      let protocols = probeOptions.protocols
      func predicted(_ t: Topology) -> TestReport {
        MatrixRun.predict(t, options: TestOptions(protocols: protocols, port: probeOptions.port, families: probeOptions.families))
      }
      let report = predicted(t)
      let reports = scenarios.map { s in
        ScenarioReport(name: s.name, line: s.line, changes: s.changes.map(\.text), report: predicted(t.applying(s)), base: report)
      }
      let passed = report.passed && reports.allSatisfy(\.report.passed)
      // A report on stdout (`--json -`) is all that goes there.
      if !(jsonFile?.isStdout ?? false) {
        let tty = Terminal.color()
        print("predicted from the model of \(t.name) (nothing was probed)")
        print(MatrixText.render(report, topology: t, color: tty, width: Terminal.width()), terminator: "")
        for s in reports { printScenario(s, topology: t, color: tty) }
      }
      try jsonFile?.stream { TestJSON.write(report, passed: passed, scenarios: reports, kind: "predict", $0) }
      return passed ? Exit.ok : Exit.mismatch
    }
  }
}
