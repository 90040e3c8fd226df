import Matrix
import TopologyModel
import XCTest

/// The three-verdict merge, case by case: declared × predicted × measured, and when the kernel
/// walk is consulted.
final class MergeTests: XCTestCase {
  private func pair(outcome: Outcome, declared: Expectation.Outcome? = nil) -> PairResult {
    PairResult(
      source: "a", target: "b", address: IPAddress("10.0.0.2"), proto: .tcp, port: 4444, outcome: outcome, latencyMs: nil,
      expected: declared, line: declared == nil ? nil : 7, declared: declared)
  }

  private let reached = ModelVerdict(.reached)
  private let noRoute = ModelVerdict(.noRoute, "a has no route to 10.0.0.0/24")
  private let kernelTimedOut = ModelVerdict(.timedOut, "b has no route back to 10.1.0.0/24")

  /// A kernel walk that must not be taken.
  private func unasked() -> ModelVerdict {
    XCTFail("the kernel walk was consulted")
    return ModelVerdict(.error)
  }

  func testDeclaredHoldsAndTheModelAgrees() {
    let m = pair(outcome: .reached, declared: .reach).merged(model: reached, declaredOnly: false, kernel: unasked)
    XCTAssertEqual(m.holds, true)
    XCTAssertEqual(m.expected, .reach)
    XCTAssertEqual(m.predicted, .reached)
    XCTAssertNil(m.reason)
  }

  func testDeclaredContradictedWhereTheModelAgreesWithTheKernel() {
    // Expected reach, blocked as the model says: the model's reason explains it.
    let m = pair(outcome: .noRoute, declared: .reach).merged(model: noRoute, declaredOnly: false, kernel: unasked)
    XCTAssertEqual(m.holds, false)
    XCTAssertEqual(m.expected, .reach)
    XCTAssertEqual(m.reason, "a has no route to 10.0.0.0/24")
  }

  func testPredictionDiffersFromTheMeasurementOfAnUndeclaredPair() {
    // Held to the prediction (reach), measured blocked, the kernel walk also blocks: changed by hand.
    let m = pair(outcome: .timedOut).merged(model: reached, declaredOnly: false) { self.kernelTimedOut }
    XCTAssertEqual(m.expected, .reach)
    XCTAssertEqual(m.declared, nil)
    XCTAssertEqual(m.holds, false)
    XCTAssertEqual(m.reason, "in the kernel: b has no route back to 10.1.0.0/24 (the model disagrees: changed by hand?)")
  }

  func testSurpriseDeclaredHoldsButTheModelDisagrees() {
    // Declared blocked, measured blocked, the model says reached and the kernel's routes allow it.
    let m = pair(outcome: .timedOut, declared: .blocked).merged(model: reached, declaredOnly: false) { self.reached }
    XCTAssertEqual(m.holds, true)
    XCTAssertEqual(m.predicted, .reached)
    XCTAssertEqual(m.reason, "the routes and nstopo's rules allow it: a firewall in a `run` line or something outside the model drops it")
    var report = TestReport(
      topology: Topology(name: "t"), set: ProbeSet(topology: Topology(name: "t"), namespace: { $0 }, options: .init()),
      results: [], seconds: 0, timeout: 1, protocols: [.tcp], peakInFlight: 0)
    report.pairs = [m]
    XCTAssertEqual(report.surprises.count, 1)
    XCTAssertTrue(report.passed)
  }

  func testTheKernelDeliversWhatTheModelBlocks() {
    let m = pair(outcome: .reached, declared: .blocked).merged(model: noRoute, declaredOnly: false) { self.reached }
    XCTAssertEqual(m.holds, false)
    XCTAssertEqual(m.reason, "the model predicts no-route: a has no route to 10.0.0.0/24, yet the kernel delivers it")
  }

  func testKernelDisagreesWithTheModel() {
    // Declared reach, predicted reach, measured blocked; the kernel walk finds why.
    let m = pair(outcome: .timedOut, declared: .reach).merged(model: reached, declaredOnly: false) { self.kernelTimedOut }
    XCTAssertEqual(m.holds, false)
    XCTAssertEqual(m.reason, "in the kernel: b has no route back to 10.1.0.0/24 (the model disagrees: changed by hand?)")
  }

  func testDeclaredOnlyLeavesUndeclaredPairsUnheld() {
    let m = pair(outcome: .timedOut).merged(model: reached, declaredOnly: true, kernel: unasked)
    XCTAssertNil(m.expected)
    XCTAssertNil(m.holds)
    XCTAssertEqual(m.predicted, .reached)
    XCTAssertNil(m.reason)
  }

  func testUndeclaredPairBlockedAsPredictedKeepsTheModelsReason() {
    let m = pair(outcome: .noRoute).merged(model: noRoute, declaredOnly: false, kernel: unasked)
    XCTAssertEqual(m.expected, .blocked)
    XCTAssertEqual(m.holds, true)
    XCTAssertEqual(m.reason, "a has no route to 10.0.0.0/24")
  }

  func testTheKernelIsWalkedOncePerDisagreementOnly() {
    let t = Topology(name: "t")
    var report = TestReport(
      topology: t, set: ProbeSet(topology: t, namespace: { $0 }, options: .init()), results: [], seconds: 0, timeout: 1,
      protocols: [.tcp], peakInFlight: 0)
    report.pairs = [pair(outcome: .reached), pair(outcome: .timedOut), pair(outcome: .noRoute)]
    var asked: [Int] = []
    report.merge(model: [reached, reached, noRoute], declaredOnly: false) { i in
      asked.append(i)
      return self.kernelTimedOut
    }
    XCTAssertEqual(asked, [1])
    XCTAssertEqual(report.pairs.map(\.holds), [true, false, true])
  }

  func testAPredictionReportCarriesTheModelsOutcomesAndReasons() {
    let t = Topology(
      name: "t", nodes: [Node(name: "a"), Node(name: "b")],
      links: [Link(a: LinkEnd(owner: .node("a"), interface: "eth0", address: InterfaceAddress("10.0.0.1/30")),
                   b: LinkEnd(owner: .node("b"), interface: "eth0", address: InterfaceAddress("10.0.0.2/30")))])
    let set = ProbeSet(topology: t, namespace: { $0 }, options: .init())
    let r = TestReport(topology: t, set: set, predicted: [reached, noRoute], protocols: [.tcp])
    XCTAssertEqual(r.pairs.map(\.outcome), [.reached, .noRoute])
    XCTAssertEqual(r.pairs.map(\.reason), [nil, "a has no route to 10.0.0.0/24"])
    XCTAssertEqual(r.pairs.map(\.address), [IPAddress("10.0.0.2"), IPAddress("10.0.0.1")])
  }
}

/// A star-1000 test holds a million probes and pairs: their size is a figure.
final class LayoutTests: XCTestCase {
  func testProbesAndPairsStayCompact() {
    XCTAssertEqual(MemoryLayout<ProbeSpec>.stride, 16)
    XCTAssertLessThanOrEqual(MemoryLayout<PairResult>.stride, 88)
  }
}
