import Foundation
import Matrix
import Planner
import Predict
import Probe
import Realizer
import TopologyModel

/// What `test` probes and how: the options of `nstopo test`, as values.
public struct TestOptions: Sendable {
  /// Protocols probed at `port` for every pair (plus each protocol and port an `expect` line
  /// names).
  public var protocols: [TransportProtocol]
  public var port: UInt16
  /// The families probed (each pair once per family both ends have).
  public var families: [IPAddress.Family]
  /// Every address of each target, not only its primary one.
  public var allAddresses: Bool
  /// Seconds each probe may take.
  public var timeout: Double
  /// Most probes in flight at once.
  public var maxInFlight: Int
  /// Hold only pairs with an `expect` line (by default the model's prediction is the
  /// expectation of every other pair).
  public var declaredOnly: Bool
  /// Also hold every pair to the model's exact outcome class.
  public var exact: Bool

  public init(
    protocols: [TransportProtocol] = [.tcp], port: UInt16 = 4444, families: [IPAddress.Family] = IPAddress.Family.allCases, allAddresses: Bool = false,
    timeout: Double = 1, maxInFlight: Int = 512, declaredOnly: Bool = false, exact: Bool = false
  ) {
    self.protocols = protocols
    self.port = port
    self.families = families
    self.allAddresses = allAddresses
    self.timeout = timeout
    self.maxInFlight = maxInFlight
    self.declaredOnly = declaredOnly
    self.exact = exact
  }

  var setOptions: ProbeSet.Options {
    ProbeSet.Options(protocols: protocols, port: port, allAddresses: allAddresses, families: families)
  }
}

/// One matrix of a topology that is up, measured and held to the three verdicts: what
/// `nstopo test` does for the base matrix and for each scenario.
public enum MatrixRun {
  /// The report, and the measurement's second looks (how many were probed again).
  /// Call inside `Lifecycle.withTestNetwork` (the neighbour entries a full mesh needs).
  /// `progress` gets the phase, done and total a few times a second (a terminal's progress
  /// line).
  public static func measure(
    _ topology: Topology, options: TestOptions, shouldStop: () -> Bool = { false }, lap: (String) -> Void = { _ in },
    progress: ((String, Int, Int) -> Void)? = nil
  ) throws -> (TestReport, MatrixMeasurement) {
    let names = KernelNames(topology: topology.name)
    var set = ProbeSet(topology: topology, namespace: names.namespace(node:), options: options.setOptions)
    // Where a `dnat` sends a probe, nstopo listens: the model says where.
    Predictor(topology, probeTimeout: options.timeout).placeLandings(&set)
    let start = Date()
    progress?("predicting", 0, 0)
    let model = predictedOutcomes(topology, set, timeout: options.timeout)
    lap("model")
    let measurement = try ProbeEngine.measure(
      set, model: model, options: ProbeEngine.Options(timeout: options.timeout, maxInFlight: options.maxInFlight),
      shouldStop: shouldStop, lap: lap, progress: progress)
    progress?("comparing with the model", 0, 0)
    var report = TestReport(
      topology: topology, set: set, results: measurement.results, seconds: Date().timeIntervalSince(start), timeout: options.timeout,
      protocols: options.protocols, peakInFlight: measurement.peakInFlight)
    lap("report")
    // Three verdicts per pair: declared (expect), predicted (model), measured (kernel).
    var kernel: (reading: KernelReading, walk: Predictor)?
    report.merge(model: model, declaredOnly: options.declaredOnly, exact: options.exact) { i in
      // The model and the kernel disagree: walk what the kernel has.
      if kernel == nil {
        let reading = KernelView.read(Planner.plan(topology))
        kernel = (reading, Predictor(reading.topology, probeTimeout: options.timeout))
      }
      var v = kernel!.walk.modelVerdict(set, i)
      // Reached in the kernel's tables, blocked in fact: name the rules nstopo does not own.
      if v.reached {
        let p = kernel!.walk.predict(Predictor.flow(set, i))
        v.reason = kernel!.reading.outsideRules(along: (p.path + p.returnPath).map(\.node))
      }
      return v
    }
    // An echo marked by another listener: say whose, and where the probe was to land.
    for (i, e) in measurement.wrongResponders where i < report.pairs.count && report.pairs[i].outcome == .wrongResponder {
      let expected = set.endpoints[Int(set.landings[i]?.target ?? set.probes[i].target)].name
      report.pairs[i].reason = "answered by \(set.endpoints[Int(e)].name)'s listener, not \(expected)'s\(set.landings[i] == nil ? "" : " (where the model lands it)")"
    }
    lap("predict")
    return (report, measurement)
  }

  /// `NeighbourCheck` on a report `measure` made: the same probe set, probed again in part
  /// without the permanent neighbour entries (call once they are removed).
  public static func checkNeighbourResolution(
    _ topology: Topology, report: inout TestReport, options: TestOptions, shouldStop: () -> Bool = { false }
  ) throws -> NeighbourCheck.Result {
    let names = KernelNames(topology: topology.name)
    var set = ProbeSet(topology: topology, namespace: names.namespace(node:), options: options.setOptions)
    Predictor(topology, probeTimeout: options.timeout).placeLandings(&set)
    return try NeighbourCheck.run(topology, set, report: &report, timeout: options.timeout, shouldStop: shouldStop)
  }

  /// The matrix the model predicts, in `test`'s form, with nothing probed.
  public static func predict(_ topology: Topology, options: TestOptions = TestOptions()) -> TestReport {
    var set = ProbeSet(topology: topology, namespace: { $0 }, options: options.setOptions)
    Predictor(topology, probeTimeout: options.timeout).placeLandings(&set)
    return TestReport(topology: topology, set: set, predicted: predictedOutcomes(topology, set, timeout: options.timeout), protocols: options.protocols)
  }
}
