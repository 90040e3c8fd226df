import ArgumentParser
import Foundation
import Predict
import Matrix
import TopologyModel

/// The model's verdict (and reason when not reached) for each probe.
func predictedOutcomes(_ t: Topology, _ set: ProbeSet, timeout: Double = 1.0) -> [ModelVerdict] {
  let p = Predictor(t, probeTimeout: timeout)
  return set.probes.indices.map { p.modelVerdict(set, $0) }
}

extension Predictor {
  /// What this model says of probe `i` of `set`, as the report takes it.
  func modelVerdict(_ set: ProbeSet, _ i: Int) -> ModelVerdict {
    let (v, reason) = verdict(Self.flow(set, i))
    return ModelVerdict(v, reason)
  }

  /// Where a `dnat` makes each probe of `set` land, when the topology has any (`test` listens
  /// there; the report says "via dnat to web:80").
  func placeLandings(_ set: inout ProbeSet) {
    guard hasDnat else { return }
    let index = Dictionary(uniqueKeysWithValues: set.endpoints.enumerated().map { ($1.name, Int32($0)) })
    for i in set.probes.indices {
      if let l = landing(Self.flow(set, i)), let t = index[l.node] { set.landings[i] = (t, UInt16(l.port)) }
    }
  }

  /// Probe `i` of `set` as a question to the predictor.
  static func flow(_ set: ProbeSet, _ i: Int) -> Flow {
    let probe = set.probes[i]
    return Flow(
      from: set.endpoints[Int(probe.source)].name, to: set.endpoints[Int(probe.target)].name, address: set.address(of: probe),
      proto: probe.proto, port: Int(probe.port))
  }
}

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

  func run() throws {
    try NSTopoCLI.run {
      let jsonFile = try OutputFile.checked(json, option: "--json")
      let t = try TopologyFile.resolve(file)
      let scenarios = try scenarioOptions.chosen(t)
      let protocols = probeOptions.protocols
      func predicted(_ t: Topology) -> TestReport {
        var set = ProbeSet(topology: t, namespace: { $0 }, options: .init(protocols: protocols, port: probeOptions.port, families: probeOptions.families))
        Predictor(t).placeLandings(&set)
        return TestReport(topology: t, set: set, predicted: predictedOutcomes(t, set), protocols: protocols)
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
