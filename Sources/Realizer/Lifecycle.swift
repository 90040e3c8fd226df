import Foundation
import Glibc
import Netlink
import Planner
import TopologyModel

/// `up` refused before touching the kernel.
public struct PreflightError: Error, CustomStringConvertible {
  public var problems: [String]
  /// Every problem is in the file (a `chroot` path that does not exist), none in the
  /// machine (a name or address taken): a data error, not a conflict.
  public var onlyInTheFile: Bool {
    problems.allSatisfy { $0.hasPrefix(Preflight.missingChrootPrefix) }
  }
  public var description: String {
    "refusing to bring the topology up; nothing was created:\n" + problems.map { "  - \($0)" }.joined(separator: "\n")
  }
}

/// Not enough of a machine resource (file descriptors) to go ahead; nothing was changed.
public struct ResourceError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// `up` failed part-way; `realize` says which step and how the rollback went.
public struct UpError: Error, CustomStringConvertible {
  public var realize: RealizeError
  public var stateKept: Bool
  public var description: String {
    realize.description + (stateKept ? "\n  the state is kept: run `nstopo down` to finish the cleanup" : "")
  }
}

/// The whole of `up` and `down`: claim the name, check, build or remove, record.
public enum Lifecycle {
  /// The user who runs this nstopo, by name (sudo's caller when run through sudo), or uid.
  static func userName() -> String {
    if getuid() == 0, let caller = ProcessInfo.processInfo.environment["SUDO_USER"], !caller.isEmpty { return "\(caller) (sudo)" }
    if let pw = getpwuid(getuid()), let name = pw.pointee.pw_name { return String(cString: name) }
    return "uid \(getuid())"
  }

  public struct UpReport: Sendable {
    public var steps: Int
    public var namespaces: Int
    public var seconds: Double
    /// `replace`: what was taken down first (nil: nothing was up).
    public var replaced: Teardown.Report?
  }

  /// Builds `topology` in the kernel. Never leaves half a topology: on failure everything
  /// created is rolled back and the state removed.
  @discardableResult
  public static func up(
    _ topology: Topology, file: String, replace: Bool = false, staticNeighbours: Bool = false,
    shouldStop: () -> Bool = { false }, progress: ((Int, Int) -> Void)? = nil
  ) throws -> UpReport {
    let start = monotonicSeconds()
    if let missing = Preflight.missingNetem(topology) { throw missing }
    let plan = Planner.plan(topology, staticNeighbours: staticNeighbours)
    // A socket per namespace stays open while it is built.
    if let message = Descriptors.shortfall(plan.namespaces.count + 64, for: "up of \(plan.namespaces.count) namespaces") {
      throw ResourceError(message: message)
    }
    let replaced = replace ? try down(topology.name) : nil
    NetworkNamespace.sweepAnchors()
    let state = try StateStore.begin(
      StateDocument(file: file, created: Date(), topology: topology, staticNeighbours: staticNeighbours, user: Self.userName(), pid: getpid()))
    let backend: SystemBackend
    do {
      let net = try NetlinkBackend(
        bridgeNamespace: topology.bridges.isEmpty ? nil : plan.names.bridgeNamespace, namespaceMarker: plan.names.hostAlias)
      backend = SystemBackend(net: net, logDirectory: state.directory + "/logs")
      let needsCgroups = plan.steps.contains { if case .node(.createCgroup) = $0.step { return true } else { return false } }
      let problems = Preflight.problems(plan, root: try net.socket(nil), cgroups: needsCgroups ? try backend.cgroups() : nil)
      if !problems.isEmpty { throw PreflightError(problems: problems) }
    } catch {
      state.remove()
      throw error
    }
    let t0 = monotonicSeconds()
    do {
      try Realizer.up(plan, backend: backend, journal: state, shouldStop: shouldStop, progress: progress)
    } catch {
      if error.rollbackFailures.isEmpty { state.remove() }
      throw UpError(realize: error, stateKept: !error.rollbackFailures.isEmpty)
    }
    let t1 = monotonicSeconds()
    // Only return once the network carries traffic (see waitUntilReady).
    let hostLinks = Set(topology.ends(of: .host).map(\.interface))
    var ipv6 = Set<String?>(plan.steps.compactMap { if case .network(.setIPv6(let ns, true, _)) = $0.step { return ns } else { return nil } })
    if topology.ends(of: .host).contains(where: { $0.address(.ipv6) != nil }) { ipv6.insert(nil) }
    let late = backend.net.waitUntilReady(
      plan.namespaces + (hostLinks.isEmpty ? [] : [nil]), rootLinks: hostLinks, ipv6: ipv6, shouldStop: shouldStop)
    if shouldStop() {
      // Everything is built: undo it all from the journal, as `down` would.
      let report = Teardown.run(JournalSummary(state.entries()), names: plan.names, topology: topology, system: backend)
      if report.failures.isEmpty { state.remove() }
      throw UpError(
        realize: RealizeError(
          index: plan.steps.count - 1, count: plan.steps.count, step: plan.steps[plan.steps.count - 1].step,
          underlying: Interrupted(), rollbackFailures: report.failures),
        stateKept: !report.failures.isEmpty)
    }
    if !late.isEmpty {
      FileHandle.standardError.write("nstopo: warning: not up after 3 s: \(late.prefix(5).joined(separator: ", "))\n".data(using: .utf8)!)
    }
    if getenv("NSTOPO_PROFILE") != nil {
      FileHandle.standardError.write(String(format: "up: before steps %.3f s, steps %.3f s, ready wait %.3f s\n", t0 - start, t1 - t0, monotonicSeconds() - t1).data(using: .utf8)!)
    }
    try state.markComplete()
    if getenv("NSTOPO_PROFILE") != nil { FileHandle.standardError.write((backend.net.profileReport + "\n").data(using: .utf8)!) }
    return UpReport(steps: plan.steps.count, namespaces: plan.namespaces.count, seconds: monotonicSeconds() - start, replaced: replaced)
  }

  /// Runs `body` (a connectivity test) on the topology, which is up, with exclusive use of it
  /// and its permanent neighbour entries in place: a full mesh needs them (see
  /// `StaticNeighbours`). Installs them unless `up --static-neighbours` did, and removes what
  /// it installed afterwards, whatever happens, so that a test leaves the kernel as it found it.
  /// `withoutEntries` runs once the entries are removed, still with exclusive use: what a
  /// user's own traffic gets is then measurable (see `NeighbourCheck`). Not run when `up
  /// --static-neighbours` installed the entries: then the user's traffic has them too.
  public static func withTestNetwork<T>(
    _ topology: Topology, lap: (String) -> Void = { _ in }, phase: (String) -> Void = { _ in }, withoutEntries: ((inout T) throws -> Void)? = nil,
    _ body: () throws -> T
  ) throws -> T {
    let lock = try StateStore.lockForTest(topology.name)
    defer { close(lock) }
    if StateStore.document(topology.name)?.staticNeighbours == true { return try body() }
    let sets = Planner.plan(topology).neighbourSets
    phase("adding permanent neighbour entries")
    do {
      try StaticNeighbours.install(sets)
    } catch {
      _ = try? StaticNeighbours.remove(sets)
      throw error
    }
    lap("neighbours")
    var result: T
    do {
      result = try body()
    } catch {
      _ = try? StaticNeighbours.remove(sets)
      throw error
    }
    phase("removing the neighbour entries")
    _ = try? StaticNeighbours.remove(sets)
    lap("neighbours removed")
    try withoutEntries?(&result)
    return result
  }

  /// Removes everything the state of `name` says nstopo created, then the state. Returns nil
  /// when the topology is not up (which is not an error: `down` is idempotent). Refuses
  /// (`StateError.testing`) while a `test` runs on it.
  /// `progress` gets (namespaces removed, namespaces) as they go. The state is kept when
  /// anything is left (`failures`, `leftInPlace`) unless `forget`: then objects left in place
  /// stay, and the state goes.
  public static func down(
    _ name: String, forget: Bool = false, shouldStop: () -> Bool = { false }, progress: ((Int, Int) -> Void)? = nil
  ) throws -> Teardown.Report? {
    StateStore.sweepTemporary(name)
    NetworkNamespace.sweepAnchors()
    guard let state = try StateStore.open(name) else { return nil }
    // Not under a running test: it would report the teardown as failed pairs.
    let testLock = try StateStore.lockForTest(name)
    defer { close(testLock) }
    let summary = JournalSummary(state.entries())
    let backend = SystemBackend(net: try NetlinkBackend(), logDirectory: nil)
    let topology = StateStore.document(name)?.topology
    var report = Teardown.run(
      summary, names: KernelNames(topology: name), topology: topology, system: backend, shouldStop: shouldStop, progress: progress)
    if report.failures.isEmpty && !report.interrupted && (report.leftInPlace.isEmpty || forget) {
      report.failures += state.remove()
    }
    return report
  }
}
