import Glibc
import Matrix
import Netlink
import TopologyModel

extension ProbeEngine {
  /// Probes `indices` of `set` again, at most one per source endpoint per second, and returns
  /// their outcomes by index.
  ///
  /// A router limits the ICMP errors it sends about one source address when it has no route,
  /// or an unreachable or prohibit route: a burst of 5, then one a second
  /// (`net.ipv4.route.error_burst` and `error_cost`, which are machine-wide, so nstopo does
  /// not change them). A concurrent matrix therefore measures silence where a slow probe
  /// measures the error. At one probe per source per second the budget never runs out.
  /// Bounded: at most `maxRounds` rounds (the rest keep their first measurement).
  /// `progress` gets (rounds done, rounds) before each round.
  public static func reprobePaced(
    _ set: ProbeSet, _ indices: [Int], timeout: Double, maxRounds: Int = 120, shouldStop: () -> Bool = { false },
    progress: ((Int, Int) -> Void)? = nil
  ) throws -> [Int: Outcome] {
    var bySource: [Int32: [Int]] = [:]
    for i in indices { bySource[set.probes[i].source, default: []].append(i) }
    let rounds = min(maxRounds, bySource.values.map(\.count).max() ?? 0)
    var result: [Int: Outcome] = [:]
    // A budget the concurrent pass just drained earns its next token a second later.
    if rounds > 0 { usleep(1_000_000) }
    for r in 0..<rounds {
      if shouldStop() { throw Cancelled() }
      progress?(r, rounds)
      let start = monotonicSeconds()
      let batch = bySource.values.compactMap { $0.count > r ? $0[r] : nil }.sorted()
      let one = set.subset(batch)
      let outcomes = try ProbeEngine(one, options: Options(timeout: timeout)).run(shouldStop: shouldStop)
      for (k, i) in batch.enumerated() { result[i] = outcomes[k].0 }
      // A second from the start of one round to the next: the routers' budgets refill.
      let left = 1.0 - (monotonicSeconds() - start)
      if left > 0 && r + 1 < rounds { usleep(useconds_t(left * 1e6)) }
    }
    return result
  }

  /// The probes lost under the run's own load: measured timed-out or answered by a reset
  /// before the echo where the model expects them reached. Two cores pushing a million
  /// probes can overflow the kernel's per-CPU receive backlog (`netdev_max_backlog`,
  /// machine-wide), which drops a SYN or an echo: a few in a million.
  public static func lostUnderLoad(_ measured: [Outcome], model: [ModelVerdict]) -> [Int] {
    measured.indices.filter { i in
      i < model.count && (measured[i] == .timedOut || measured[i] == .wrongResponder) && model[i].outcome == .reached
    }
  }

  /// Probes `indices` once more, at low concurrency, and returns their outcomes by index.
  /// Bounded: nothing when there are more than `limit` (that is no load noise).
  public static func reprobeQuietly(
    _ set: ProbeSet, _ indices: [Int], timeout: Double, limit: Int = 10_000, shouldStop: () -> Bool = { false }
  ) throws -> [Int: Outcome] {
    guard !indices.isEmpty, indices.count <= limit else { return [:] }
    let one = set.subset(indices)
    let outcomes = try ProbeEngine(one, options: Options(timeout: timeout, maxInFlight: 64)).run(shouldStop: shouldStop)
    var result: [Int: Outcome] = [:]
    for (k, i) in indices.enumerated() { result[i] = outcomes[k].0 }
    return result
  }

  /// The probes worth probing again: measured timed-out where the model expects an error a
  /// router sends (no-route, host-unreachable or prohibited), which its ICMP budget may have
  /// swallowed.
  public static func silencedErrors(_ measured: [Outcome], model: [ModelVerdict]) -> [Int] {
    measured.indices.filter { i in
      i < model.count && measured[i] == .timedOut && [.noRoute, .hostUnreachable, .prohibited].contains(model[i].outcome)
    }
  }
}
