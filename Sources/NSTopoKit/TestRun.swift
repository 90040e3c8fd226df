import Foundation
import Matrix
import Planner
import Probe
import Realizer
import TopologyModel

/// The whole of `nstopo test` on a topology that is up: the base matrix, then each scenario
/// put in force, probed and reverted (under the test's lock, the permanent neighbour entries
/// back after each), then the look at neighbour resolution without those entries. The
/// command line and `Lab` share it; what they show of it comes through `Events`.
public enum TestRun {
  public struct Result: Sendable {
    public var base: TestReport
    public var scenarios: [ScenarioReport]
    /// nil when `up --static-neighbours` installed the entries (the user's traffic has them).
    public var neighbourCheck: NeighbourCheck.Result?
  }

  /// What the edge hears of a run: all optional.
  public struct Events {
    public var shouldStop: () -> Bool = { false }
    public var lap: (String) -> Void = { _ in }
    /// A phase's progress: the scenario (nil: the base), the phase, done and total.
    public var progress: ((String?, String, Int, Int) -> Void)?
    /// One matrix measured (nil: the base), with its second looks, before the next starts.
    public var measured: ((String?, MatrixMeasurement) -> Void)?

    public init() {}
  }

  public static func run(_ topology: Topology, scenarios: [Scenario], options: TestOptions, events: Events = Events()) throws -> Result {
    var check: NeighbourCheck.Result?
    func matrix(_ t: Topology, _ scenario: String?) throws -> TestReport {
      let (report, measurement) = try MatrixRun.measure(
        t, options: options, shouldStop: events.shouldStop, lap: events.lap,
        progress: events.progress.map { p in { p(scenario, $0, $1, $2) } })
      events.measured?(scenario, measurement)
      return report
    }
    let (base, reports) = try Lifecycle.withTestNetwork(
      topology, lap: events.lap, phase: { events.progress?(nil, $0, 0, 0) },
      withoutEntries: { (result: inout (TestReport, [ScenarioReport])) in
        events.progress?(nil, "probing again without test's neighbour entries", 0, 0)
        check = try MatrixRun.checkNeighbourResolution(topology, report: &result.0, options: options, shouldStop: events.shouldStop)
        events.lap("neighbour check")
      }
    ) { () -> (TestReport, [ScenarioReport]) in
      let base = try matrix(topology, nil)
      let neighbours = scenarios.isEmpty ? [] : Planner.plan(topology).neighbourSets
      var out: [ScenarioReport] = []
      for s in scenarios {
        let r = try Change.during(topology.name, s, neighbours: neighbours, shouldStop: events.shouldStop) { t in try matrix(t, s.name) }
        out.append(ScenarioReport(name: s.name, line: s.line, changes: s.changes.map(\.text), report: r, base: base))
        events.lap("scenario \(s.name)")
      }
      return (base, out)
    }
    return Result(base: base, scenarios: reports, neighbourCheck: check)
  }
}
