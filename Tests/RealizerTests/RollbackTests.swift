import Planner
import Realizer
import TopologyModel
import XCTest

final class RollbackTests: XCTestCase {
  /// The error of an `up` that must fail (nil, and a test failure, when it does not).
  func failedUp(_ plan: Plan, _ kernel: FakeKernel, _ journal: RecordingJournal, _ message: String) -> RealizeError? {
    do {
      try Realizer.up(plan, backend: kernel, journal: journal)
      XCTFail(message)
      return nil
    } catch {
      return error
    }
  }

  func testSuccessAppliesEveryStepInOrder() throws {
    let plan = Planner.plan(labWithHost())
    let kernel = FakeKernel()
    let journal = RecordingJournal()
    try Realizer.up(plan, backend: kernel, journal: journal)
    XCTAssertEqual(kernel.trace, plan.steps.map(\.step))
    let summary = JournalSummary(journal.entries)
    XCTAssertEqual(summary.namespaces, plan.namespaces)
    XCTAssertEqual(summary.hostLinks, ["nsttveth"])
    XCTAssertEqual(summary.bridgeNamespace, "t")
  }

  /// Fails each step in turn: whatever had been created is gone afterwards, inverses run in
  /// reverse order, and the error names the failing step.
  func testFailureAtEveryStepLeavesNothing() throws {
    let plan = Planner.plan(labWithHost())
    for n in 0..<plan.steps.count {
      let kernel = FakeKernel()
      kernel.failAt = n
      let journal = RecordingJournal()
      if let error = failedUp(plan, kernel, journal, "step \(n) should have failed") {
        XCTAssertEqual(error.index, n)
        XCTAssertEqual(error.step, plan.steps[n].step)
        XCTAssertTrue(error.rollbackFailures.isEmpty, "\(error.rollbackFailures)")
        XCTAssertTrue(error.description.hasPrefix("step \(n + 1) of \(plan.steps.count) failed: "), error.description)
      }
      XCTAssertEqual(kernel.leftovers, [], "after a failure at step \(n)")
      // The rollback is the reverse of what was applied, restricted to what needs undoing.
      let applied = Array(kernel.trace.prefix(n))
      let undone = Array(kernel.trace.dropFirst(n))
      let expected = applied.reversed().compactMap { s -> Step? in
        guard let inv = s.inverse else { return nil }
        if case .network(.deleteNamespace) = inv { return inv }
        let created = Set(applied.compactMap { if case .network(.createNamespace(let x)) = $0 { return x } else { return nil } })
        return inv.namespaces.allSatisfy { $0.map(created.contains) ?? false } ? nil : inv
      }
      XCTAssertEqual(undone, expected, "rollback order after a failure at step \(n)")
      // Whatever failed is journaled as not ours.
      if case .network(.createNamespace(let ns)) = plan.steps[n].step {
        XCTAssertTrue(journal.entries.contains(.failed(.netns, ns)))
        XCTAssertFalse(JournalSummary(journal.entries).namespaces.contains(ns))
      }
    }
  }

  /// A backend that sets namespaces up at once keeps going after one of them fails: every
  /// group it applied is undone, the error names the failed step, and the journal marks the
  /// failed namespace as not ours.
  func testConcurrentNamespaceGroupsRollBackEveryGroupApplied() throws {
    let plan = Planner.plan(labWithHost())
    let victim = plan.namespaces[1]
    let kernel = FakeKernel()
    kernel.concurrent = true
    kernel.failNamespace = victim
    let journal = RecordingJournal()
    if let error = failedUp(plan, kernel, journal, "creating \(victim) should have failed") {
      XCTAssertEqual(error.step, .createNamespace(victim))
      XCTAssertEqual(error.index, plan.steps.firstIndex { $0.step == .createNamespace(victim) })
      XCTAssertTrue(error.rollbackFailures.isEmpty)
    }
    XCTAssertEqual(kernel.groupsApplied, plan.namespaces.count - 1, "the other groups went on")
    XCTAssertEqual(kernel.leftovers, [])
    XCTAssertEqual(Set(kernel.trace.filter { if case .network(.deleteNamespace) = $0 { true } else { false } }),
      Set(plan.namespaces.filter { $0 != victim }.map { Step.deleteNamespace($0) }))
    XCTAssertTrue(journal.entries.contains(.failed(.netns, victim)))
    XCTAssertEqual(JournalSummary(journal.entries).namespaces, plan.namespaces.filter { $0 != victim })
  }

  func testHostLinkIsDeletedExplicitlyOnRollback() throws {
    let plan = Planner.plan(labWithHost())
    let hostStep = plan.steps.firstIndex { if case .network(.createVeth(let v)) = $0.step { return v.ns == nil } else { return false } }!
    let kernel = FakeKernel()
    kernel.failAt = hostStep + 1
    XCTAssertThrowsError(try Realizer.up(plan, backend: kernel, journal: nil))
    XCTAssertTrue(kernel.trace.contains(.deleteLink(ns: nil, name: "nsttveth")))
  }

  func testJournalLinesRoundTrip() {
    let entries: [JournalEntry] = [.intent(.netns, "a-b"), .created(.netns, "a-b"), .failed(.link, "v1"), .bridgeNamespace("a")]
    XCTAssertEqual(entries.map { JournalEntry(line: $0.line) }, entries)
  }

  func testJournalSummaryKeepsIntentsButNotFailures() {
    let s = JournalSummary([
      .bridgeNamespace("t"), .intent(.netns, "t"), .created(.netns, "t"), .intent(.netns, "t-a"),
      .intent(.netns, "t-b"), .failed(.netns, "t-b"),
    ])
    XCTAssertEqual(s.namespaces, ["t", "t-a"])
  }

  func testJournalProofsAndFormatRoundTripAndSummarize() {
    let entries: [JournalEntry] = [.format(2), .intent(.netns, "t-a"), .created(.netns, "t-a", proof: 4026532913), .intent(.netns, "t-b"), .intent(.cgroup, "nstopo-t/a")]
    XCTAssertEqual(entries.map(\.line), ["format 2", "+netns t-a", "=netns t-a 4026532913", "+netns t-b", "+cgroup nstopo-t/a"])
    XCTAssertEqual(entries.map { JournalEntry(line: $0.line) }, entries)
    XCTAssertNil(JournalEntry(line: "=netns t-a notanumber"))
    XCTAssertNil(JournalEntry(line: "=netns t-a 1 2"))
    let s = JournalSummary(entries)
    XCTAssertEqual(s.format, 2)
    XCTAssertEqual(s.proofs, ["t-a": 4026532913])
    XCTAssertFalse(s.isUnconfirmed(.netns, "t-a"))
    XCTAssertTrue(s.isUnconfirmed(.netns, "t-b"))
    XCTAssertTrue(s.isUnconfirmed(.cgroup, "nstopo-t/a"))
    XCTAssertEqual(JournalSummary([.intent(.netns, "t-a")]).format, 1, "a journal from before the format line")
  }
}

/// The netlink backend performs network steps only; a node step is an error that names it,
/// not a trap.
final class BackendKindTests: XCTestCase {
  func testTheNetlinkBackendRefusesANodeStepByName() throws {
    let backend = try NetlinkBackend()
    XCTAssertThrowsError(try backend.apply(Step.createCgroup(path: "nstopo-never/a", cpuPercent: nil))) {
      XCTAssertEqual("\($0)", "create-cgroup is not a network step: it is applied by the system backend (cgroups and processes)")
    }
  }
}
