import Planner

/// A step that failed, what it was doing, and how the rollback went.
public struct RealizeError: Error, CustomStringConvertible {
  /// 0-based index into the plan's steps.
  public var index: Int
  public var count: Int
  public var step: Step
  public var underlying: Error
  /// Inverse steps that failed during rollback (each already described).
  public var rollbackFailures: [String]

  public var description: String {
    var s = "step \(index + 1) of \(count) failed: \(step.shellEquivalent)\n  \(underlying)"
    if rollbackFailures.isEmpty {
      s += "\n  rolled back: everything this run created was removed"
    } else {
      s += "\n  rollback incomplete:\n" + rollbackFailures.map { "    \($0)" }.joined(separator: "\n")
    }
    return s
  }
}

/// `up` was interrupted (Ctrl-C); everything it had created was rolled back.
public struct Interrupted: Error, CustomStringConvertible {
  public init() {}
  public var description: String { "interrupted" }
}

/// Applies a plan through a backend, journaling what outlives the process, and rolls back
/// everything in reverse order when any step fails or `shouldStop` turns true between steps.
public enum Realizer {
  /// `progress` gets (steps done, steps) after each step or group of steps.
  public static func up(
    _ plan: Plan, backend: KernelBackend, journal: JournalSink?, shouldStop: () -> Bool = { false },
    progress: ((Int, Int) -> Void)? = nil
  ) throws(RealizeError) {
    var done: [Step] = []
    if let j = journal, !plan.topology.bridges.isEmpty {
      do { try j.record([.bridgeNamespace(plan.names.bridgeNamespace)]) } catch {
        throw RealizeError(index: 0, count: plan.steps.count, step: plan.steps[0].step, underlying: error, rollbackFailures: [])
      }
    }
    var i = 0
    while i < plan.steps.count {
      let groups = namespaceGroups(plan, from: i)
      if groups.count > 1 {
        try applyGroups(groups, at: i, plan: plan, backend: backend, journal: journal, done: &done, shouldStop: shouldStop)
        i += groups.reduce(0) { $0 + $1.count }
        progress?(i, plan.steps.count)
        continue
      }
      let step = plan.steps[i].step
      let tracked = trackedObject(step)
      do {
        if shouldStop() { throw Interrupted() }
        if let t = tracked { try journal?.record([.intent(t.0, t.1)]) }
        do {
          try backend.apply(step)
        } catch {
          if let t = tracked { try? journal?.record([.failed(t.0, t.1)]) }
          throw error
        }
        if let t = tracked { try journal?.record([.created(t.0, t.1, proof: backend.proof(t.0, t.1))]) }
        done.append(step)
      } catch {
        let failures = rollback(done, backend: backend)
        throw RealizeError(index: i, count: plan.steps.count, step: step, underlying: error, rollbackFailures: failures)
      }
      i += 1
      progress?(i, plan.steps.count)
    }
    // Interrupted during the last step (the `run` wave's watch): still a rollback, not an up.
    if shouldStop(), let last = plan.steps.last {
      let failures = rollback(done, backend: backend)
      throw RealizeError(index: plan.steps.count - 1, count: plan.steps.count, step: last.step, underlying: Interrupted(), rollbackFailures: failures)
    }
  }

  /// From `start`, the run of steps that each set up a new namespace of its own (create it,
  /// then settings inside it): independent of each other, so a backend may apply them at once.
  static func namespaceGroups(_ plan: Plan, from start: Int) -> [[Step]] {
    var groups: [[Step]] = []
    var i = start
    while i < plan.steps.count, case .network(.createNamespace(let ns)) = plan.steps[i].step {
      var group = [plan.steps[i].step]
      i += 1
      while i < plan.steps.count, insideOnly(plan.steps[i].step, ns) {
        group.append(plan.steps[i].step)
        i += 1
      }
      groups.append(group)
    }
    return groups
  }

  /// Settings that act only inside `ns`.
  static func insideOnly(_ step: Step, _ ns: String) -> Bool {
    switch step {
    case .network(.setIPv6(let n, _, _)), .network(.setICMPRateLimit(let n, _)), .network(.setLinkUp(.some(let n), _)),
      .network(.loadFirewall(let n, _)): return n == ns
    default: return false
    }
  }

  /// Applies namespace groups through `applyConcurrently`, journaling every intent before and
  /// every outcome after; on any failure rolls back everything done, as for a single step.
  private static func applyGroups(
    _ groups: [[Step]], at start: Int, plan: Plan, backend: KernelBackend, journal: JournalSink?, done: inout [Step],
    shouldStop: () -> Bool
  ) throws(RealizeError) {
    let tracked = groups.map { trackedObject($0[0]) }
    var outcomes: [GroupOutcome] = []
    do {
      if shouldStop() { throw Interrupted() }
      try journal?.record(tracked.compactMap { $0.map { .intent($0.0, $0.1) } })
      outcomes = backend.applyConcurrently(groups)
      var lines: [JournalEntry] = []
      for (t, o) in zip(tracked, outcomes) {
        guard let t else { continue }
        lines.append(o.applied > 0 ? .created(t.0, t.1, proof: backend.proof(t.0, t.1)) : .failed(t.0, t.1))
      }
      try journal?.record(lines)
    } catch {
      // The journal or an interrupt: what was applied is still undone.
      for (g, o) in zip(groups, outcomes) { done += g.prefix(o.applied) }
      let failures = rollback(done, backend: backend)
      throw RealizeError(index: start, count: plan.steps.count, step: groups[0][0], underlying: error, rollbackFailures: failures)
    }
    var index = start
    var failure: (Int, Step, Error)?
    for (g, o) in zip(groups, outcomes) {
      done += g.prefix(o.applied)
      if failure == nil, let e = o.error { failure = (index + o.applied, g[o.applied], e) }
      index += g.count
    }
    if let (i, step, error) = failure {
      let failures = rollback(done, backend: backend)
      throw RealizeError(index: i, count: plan.steps.count, step: step, underlying: error, rollbackFailures: failures)
    }
  }

  /// The object a step creates that would outlive the process, if any.
  static func trackedObject(_ step: Step) -> (JournalEntry.Kind, String)? {
    switch step {
    case .network(.createNamespace(let n)): return (.netns, n)
    case .network(.createVeth(let v)) where v.ns == nil: return (.link, v.name)
    case .node(.createCgroup(let path, _)): return (.cgroup, path)
    default: return nil
    }
  }

  /// Undoes `done` in reverse. Inverses that act only inside namespaces this run created are
  /// skipped: deleting the namespace removes them anyway. Returns what could not be undone.
  public static func rollback(_ done: [Step], backend: KernelBackend) -> [String] {
    var created = Set<String>()
    for s in done { if case .network(.createNamespace(let n)) = s { created.insert(n) } }
    var failures: [String] = []
    for s in done.reversed() {
      guard let inverse = s.inverse else { continue }
      if case .network(.deleteNamespace) = inverse {
        // Always run: this is what removes everything inside.
      } else if inverse.namespaces.allSatisfy({ $0.map { created.contains($0) } ?? false }) {
        continue
      }
      do {
        try backend.apply(inverse)
      } catch {
        failures.append("\(inverse.shellEquivalent): \(error)")
      }
    }
    return failures
  }
}
