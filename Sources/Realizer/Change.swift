import Foundation
import Glibc
import Netlink
import Planner
import TopologyModel

/// A change to a topology that is up did not apply; everything it did was undone.
public struct ChangeFailed: Error, CustomStringConvertible {
  public var change: String
  public var step: String
  public var underlying: Error
  /// Inverses that failed while undoing (each already described).
  public var undoFailures: [String]

  public var description: String {
    var s = "\(change): \(step) failed: \(underlying)"
    s += undoFailures.isEmpty
      ? "\n  undone: the kernel is as it was"
      : "\n  undo incomplete (see `nstopo status`):\n" + undoFailures.map { "    \($0)" }.joined(separator: "\n")
    return s
  }
}

/// Changes at run time (`nstopo link …`, `nstopo node …`, a scenario): under the topology's
/// lock, journaled before and after, applied step by step and undone in reverse on failure
/// or Ctrl-C; the links' state (links.json) is replaced atomically once the kernel has it. `down` removes the
/// result like everything else (it deletes namespaces and the journal's host links).
public enum Change {
  public struct Report: Sendable {
    public var steps: Int
    public var seconds: Double
    /// The topology as it is now.
    public var topology: Topology
  }

  /// Applies `transform` to the stored model of `name` and the kernel alike. `describe` is the
  /// change as the journal and the messages say it (`link r1 r2 down`). `lockWait`: seconds to
  /// wait for another nstopo holding the topology's lock (a test's scenarios must not give up
  /// because a `link` command is being refused). `scenarioBase`: keep the links as they were,
  /// for reverting a scenario whose test is killed (see `saveScenarioBase`).
  @discardableResult
  public static func apply(
    _ name: String, describe: String, underTest: Bool = false, lockWait: Double = 0, scenarioBase: Bool = false,
    shouldStop: () -> Bool = { false }, _ transform: (Topology) throws -> Topology
  ) throws -> Report {
    let start = monotonicSeconds()
    // Up and not being changed (requireUp says why not), then locked, then read: a change
    // that waited for another applies to what the other left.
    let deadline = start + lockWait
    while StateStore.phase(name) == .busy && monotonicSeconds() < deadline { usleep(10_000) }
    if StateStore.phase(name) != .up { _ = try StateStore.requireUp(name) }
    guard let state = try StateStore.open(name, wait: max(0, deadline - monotonicSeconds())) else { throw StateError.notUp(name) }
    // Not under a running test: it would measure half a change (a test's own scenarios hold
    // the lock already).
    let testLock = underTest ? -1 : try StateStore.lockForTest(name)
    defer { if testLock >= 0 { close(testLock) } }
    guard let doc = try StateStore.load(name) else { throw StateError.notUp(name) }
    var laps: [(String, Double)] = [("load", monotonicSeconds())]
    // A change killed part way left the kernel between two states: put it back first.
    try undoInterrupted(name, state: state, topology: doc.topology)
    let old = doc.topology
    let new = try transform(old)
    let changed = zip(old.links, new.links).filter { $0.0 != $0.1 }.map(\.1)
    if var missing = Preflight.missingNetem(Topology(name: new.name, links: changed)) {
      missing.nothing = "changed"
      throw missing
    }
    let steps = Changes.steps(from: old, to: new, names: KernelNames(topology: name))
    laps.append(("plan", monotonicSeconds()))
    let net = try NetlinkBackend()
    if scenarioBase { try state.saveScenarioBase(old) }
    try state.saveChangeTarget(new)
    try state.record([.change(describe)])
    var done: [PlannedStep] = []
    for s in steps {
      do {
        if shouldStop() { throw Interrupted() }
        guard case .network(let n) = s.step else { continue }
        try net.apply(n)
        done.append(s)
      } catch {
        var failures: [String] = []
        for d in done.reversed() {
          guard let inverse = d.inverse?.networkStep else { continue }
          do { try net.apply(inverse) } catch { failures.append("\(inverse.shellEquivalent): \(error)") }
        }
        try? state.record([.unchanged(describe)])
        state.removeChangeTarget()
        throw ChangeFailed(change: describe, step: s.step.shellEquivalent, underlying: error, undoFailures: failures)
      }
    }
    laps.append(("apply", monotonicSeconds()))
    // Ends brought up carry traffic only once the kernel has activated them.
    var namespaces = Set<String?>()
    var rootLinks = Set<String>()
    var ipv6 = Set<String?>()
    for (o, n) in zip(old.links, new.links) {
      for (oe, ne) in [(o.a, n.a), (o.b, n.b)] where oe.down && !ne.down {
        let ns = KernelNames(topology: name).namespace(of: ne.owner)
        namespaces.insert(ns)
        if ns == nil { rootLinks.insert(ne.interface) }
        if ne.address(.ipv6) != nil { ipv6.insert(ns) }
      }
    }
    if !namespaces.isEmpty { _ = net.waitUntilReady(Array(namespaces), rootLinks: rootLinks, ipv6: ipv6, shouldStop: shouldStop) }
    laps.append(("ready", monotonicSeconds()))
    try state.replaceLinks(of: new)
    try state.record([.changed(describe)])
    state.removeChangeTarget()
    laps.append(("state", monotonicSeconds()))
    if getenv("NSTOPO_PROFILE") != nil {
      var last = start
      let text = laps.map { lap in
        defer { last = lap.1 }
        return "\(lap.0) \(String(format: "%.3f", lap.1 - last)) s"
      }
      let total = String(format: "%.4f", monotonicSeconds() - start)
      FileHandle.standardError.write(("change: \(describe): total \(total) s: " + text.joined(separator: ", ") + "\n").data(using: .utf8)!)
    }
    return Report(steps: steps.count, seconds: monotonicSeconds() - start, topology: new)
  }
}

extension Change {
  /// Undoes a change whose nstopo was killed part way (journaled `change X`, neither
  /// `changed` nor `unchanged`): the kernel is somewhere between the stored links and the
  /// ones the change was making (`change-target.json`). The steps from the target back to the
  /// stored links are applied, each one's "already so" taken as done (a route already gone,
  /// an address already there), then the change is journaled undone. Without a target (a
  /// state from an older nstopo) nothing says what to undo: refused with what to do.
  static func undoInterrupted(_ name: String, state: StateHandle, topology: Topology) throws {
    guard let unfinished = StateStore.unfinishedChange(name) else { return }
    guard let target = state.changeTarget() else { throw InterruptedChange(name: name, change: unfinished) }
    var from = topology
    try target.apply(to: &from)
    let net = try NetlinkBackend()
    for s in Changes.steps(from: from, to: topology, names: KernelNames(topology: name)) {
      guard case .network(let n) = s.step else { continue }
      do {
        try net.apply(n)
      } catch let e as NetlinkError where e.exists || e.notFound {
        continue
      }
    }
    try state.record([.unchanged(unfinished)])
    state.removeChangeTarget()
  }

  /// Runs `body` with `scenario` in force on the topology `name` (which a test holds), then
  /// puts every link back as it was, also when `body` throws or is interrupted, and puts back
  /// the test's permanent neighbour entries (the kernel drops an interface's when it goes
  /// down). `body` gets the topology under the scenario.
  public static func during<T>(
    _ name: String, _ scenario: Scenario, neighbours: [Step.NeighbourSet], shouldStop: () -> Bool = { false },
    _ body: (Topology) throws -> T
  ) throws -> T {
    var before: [Link] = []
    let applied = try apply(
      name, describe: "scenario \(scenario.name)", underTest: true, lockWait: scenarioLockWait, scenarioBase: true, shouldStop: shouldStop
    ) { t in
      before = t.links
      return t.applying(scenario)
    }
    let result = Result { try body(applied.topology) }
    try revert(name, scenario.name, to: before)
    if !neighbours.isEmpty { _ = try StaticNeighbours.install(neighbours) }
    return try result.get()
  }

  /// How long a scenario's apply or revert waits for another nstopo to let go of the lock.
  static let scenarioLockWait = 10.0

  /// Puts `links` back, whatever else is going on: waits for the lock, and tries again (at
  /// most three times) when the revert itself fails, so that a scenario is not left in force.
  static func revert(_ name: String, _ scenario: String, to links: [Link]) throws {
    var attempt = 0
    while true {
      do {
        try apply(name, describe: "scenario \(scenario) reverted", underTest: true, lockWait: scenarioLockWait) { t in
          var back = t
          back.links = links
          return back
        }
        (try? StateStore.open(name, wait: scenarioLockWait) ?? nil)?.removeScenarioBase()
        return
      } catch {
        attempt += 1
        if attempt >= 3 { throw error }
        usleep(200_000)
      }
    }
  }

  /// Reverts the scenario that a killed `test` left in force on `name`, to the links saved
  /// when it went in force; returns its name, or nil when none is in force. A test runs this
  /// first, so that it never takes a scenario for the topology.
  public static func revertScenarioLeftInForce(_ name: String) throws -> String? {
    guard let scenario = StateStore.scenarioInForce(name) else { return nil }
    guard let base = StateStore.scenarioBase(name) else {
      throw ScenarioInForce(name: name, scenario: scenario)
    }
    try apply(name, describe: "scenario \(scenario) reverted", lockWait: scenarioLockWait) { t in
      var back = t
      try base.apply(to: &back)
      return back
    }
    (try? StateStore.open(name, wait: scenarioLockWait) ?? nil)?.removeScenarioBase()
    return scenario
  }
}

/// A change was killed part way, and nothing says what it was making (a state from an older
/// nstopo).
public struct InterruptedChange: Error, CustomStringConvertible {
  public var name: String
  public var change: String
  public var description: String {
    "the change `\(change)` on \(name) was interrupted part way and what it was making was not kept: `nstopo up FILE --replace` rebuilds the topology as its file says"
  }
}

/// A scenario is in force and nothing says what the links were before it (a state from an
/// older nstopo): a test would take the scenario for the topology.
public struct ScenarioInForce: Error, CustomStringConvertible {
  public var name: String
  public var scenario: String
  public var description: String {
    "scenario \(scenario) is still in force on \(name) (the test that applied it was killed) and its links before it were not kept: `nstopo up FILE --replace` rebuilds the topology as its file says"
  }
}
