import Matrix
import TopologyModel

/// A matrix measured the way `nstopo test` measures it: one concurrent pass, then the two
/// second looks the kernel makes necessary (see `ProbeEngine.measure`).
public struct MatrixMeasurement: Sendable {
  /// Outcome and round-trip time per probe of the set, after the second looks.
  public var results: [(Outcome, Double?)]
  /// Probes that timed out where the model expects an ICMP error, probed again, paced.
  public var reprobedPaced = 0
  /// Probes not reached where the model expects them reached, probed again quietly, and how
  /// many of them were reached then.
  public var reprobedLost = 0
  public var reachedOnSecondLook = 0
  /// The largest number of probes in flight at once during the concurrent pass.
  public var peakInFlight = 0
  /// Probes whose echo came from another endpoint's listener than expected, by probe index:
  /// the endpoint that answered.
  public var wrongResponders: [Int: Int32] = [:]

  public var outcomes: [Outcome] { results.map(\.0) }
}

extension ProbeEngine {
  /// Probes every probe of `set` concurrently, then looks again where the kernel, not the
  /// network, can make the first look wrong:
  /// - a timeout where `model` expects an ICMP error: the router's error budget ran out
  ///   (`reprobePaced`);
  /// - a timeout or a stray reset where `model` expects the probe reached: the run's own load
  ///   dropped a packet (`reprobeQuietly`). One lost SYN is enough, since TCP retransmits
  ///   only after 1 s, the default timeout.
  /// A real difference survives both looks: they only ever probe again, never assume.
  /// `model` holds one verdict per probe (no second looks when it is empty).
  /// `progress` gets the phase (`probing`, `re-probing`), done and total, a few times a second.
  public static func measure(
    _ set: ProbeSet, model: [ModelVerdict], options: Options, shouldStop: () -> Bool = { false },
    lap: (String) -> Void = { _ in }, progress: ((String, Int, Int) -> Void)? = nil
  ) throws -> MatrixMeasurement {
    let engine = ProbeEngine(set, options: options)
    var m = MatrixMeasurement(results: try engine.run(shouldStop: shouldStop, progress: progress.map { p in { p("probing", $0, $1) } }))
    m.peakInFlight = engine.peakInFlight
    m.wrongResponders = engine.wrongResponders
    lap("probe")
    let silenced = silencedErrors(m.outcomes, model: model)
    if !silenced.isEmpty {
      let paced = try reprobePaced(
        set, silenced, timeout: options.timeout, shouldStop: shouldStop,
        progress: progress.map { p in { p("re-probing, one per source a second", $0, $1) } })
      for (i, o) in paced { m.results[i].0 = o }
      m.reprobedPaced = silenced.count
      lap("re-probe \(silenced.count) paced")
    }
    // An echo marked by another listener is proof of where the probe went, not a loss
    // under load: not probed again (a second look listens only where it is expected).
    let lost = lostUnderLoad(m.outcomes, model: model).filter { m.wrongResponders[$0] == nil }
    if !lost.isEmpty {
      progress?("re-probing what was lost under load", 0, lost.count)
      for (i, o) in try reprobeQuietly(set, lost, timeout: options.timeout, shouldStop: shouldStop) {
        m.reprobedLost += 1
        if o == .reached { m.reachedOnSecondLook += 1 }
        m.results[i].0 = o
      }
      lap("re-probe \(lost.count) lost")
    }
    return m
  }
}
