import Foundation
import Matrix
import TopologyModel
import XCTest

/// The pairs whose outcome changed between two matrices, and the scenario sections of the
/// JSON and JUnit reports.
final class DifferentialTests: XCTestCase {
  private func pair(_ s: String, _ t: String, _ o: Outcome, proto: TransportProtocol = .tcp) -> PairResult {
    PairResult(source: s, target: t, address: IPAddress("10.0.0.1"), proto: proto, port: 4444, outcome: o)
  }

  func testLostGainedChangedAndUnmatched() {
    let before = [pair("a", "b", .reached), pair("a", "c", .noRoute), pair("b", "c", .noRoute), pair("c", "a", .reached), pair("x", "y", .reached)]
    let after = [pair("a", "b", .timedOut), pair("a", "c", .reached), pair("b", "c", .timedOut), pair("c", "a", .reached), pair("y", "x", .reached)]
    let d = Differential(before: before, after: after)
    XCTAssertEqual(d.lost.map(\.description), ["a -> b tcp/4444 (10.0.0.1): reached, now timed-out"])
    XCTAssertEqual(d.gained.map(\.description), ["a -> c tcp/4444 (10.0.0.1): no-route, now reached"])
    XCTAssertEqual(d.changed.map(\.description), ["b -> c tcp/4444 (10.0.0.1): no-route, now timed-out"])
    XCTAssertEqual(d.unmatched, 2)
    XCTAssertEqual(d.summary, "1 pair lost, 1 gained, 1 changed otherwise")
    XCTAssertTrue(Differential(before: before, after: before).isEmpty)
  }

  func testScenarioSectionsInJSONAndJUnit() throws {
    let t = Topology(
      name: "t", nodes: [Node(name: "a"), Node(name: "b")],
      links: [Link(a: LinkEnd(owner: .node("a"), interface: "e0", address: InterfaceAddress("10.0.0.1/30")), b: LinkEnd(owner: .node("b"), interface: "e0", address: InterfaceAddress("10.0.0.2/30")))],
      expectations: [Expectation(sources: ["a"], targets: ["b"], outcome: .reach, line: 4)])
    var set = ProbeSet(topology: t, namespace: { $0 }, options: .init(protocols: [.tcp]))
    set.probes = set.probes.filter { set.endpoints[Int($0.source)].name == "a" }
    let base = TestReport(topology: t, set: set, results: [(.reached, 0.001)], seconds: 0.5, timeout: 1, protocols: [.tcp], peakInFlight: 1)
    let under = TestReport(topology: t, set: set, results: [(.noRoute, nil)], seconds: 0.5, timeout: 1, protocols: [.tcp], peakInFlight: 1)
    let s = ScenarioReport(name: "b-fails", line: 9, changes: ["node b down"], report: under, base: base)
    var text = ""
    TestJSON.write(base, passed: false, scenarios: [s]) { text += $0 }
    let doc = try JSONDecoder().decode(TestDocument.self, from: Data(text.utf8))
    XCTAssertEqual(doc.scenarios?.map(\.name), ["b-fails"])
    XCTAssertEqual(doc.scenarios?.first?.changes, ["node b down"])
    XCTAssertEqual(doc.scenarios?.first?.passed, false)
    XCTAssertEqual(doc.scenarios?.first?.pairs.map(\.outcome), [.noRoute])
    let raw = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    let section = (raw["scenarios"] as! [[String: Any]])[0]
    XCTAssertEqual((section["differential"] as! [String: Any])["summary"] as? String, "1 pair lost, 0 gained")
    let junit = JUnitReport.render(base, scenarios: [s])
    XCTAssertTrue(junit.contains(#"<testsuites name="nstopo" tests="2" failures="1""#), junit)
    XCTAssertTrue(junit.contains(#"<testsuite name="t: b-fails" tests="1" failures="1""#), junit)
    XCTAssertTrue(junit.contains(#"<testcase classname="nstopo.t: b-fails" name="a -&gt; b ipv4 tcp/4444 reach""#), junit)
  }

  /// `test --perf`'s checks in the JSON (`perf`, keys sorted, still a TestDocument) and as a
  /// JUnit suite of their own, a failure for a direction off its rate.
  func testThroughputChecksInJSONAndJUnit() throws {
    let t = Topology(
      name: "t", nodes: [Node(name: "a"), Node(name: "b")],
      links: [Link(a: LinkEnd(owner: .node("a"), interface: "e0", address: InterfaceAddress("10.0.0.1/30")), b: LinkEnd(owner: .node("b"), interface: "e0", address: InterfaceAddress("10.0.0.2/30")))])
    let set = ProbeSet(topology: t, namespace: { $0 }, options: .init(protocols: [.tcp]))
    let base = TestReport(topology: t, set: set, results: [(.reached, 0.001), (.reached, 0.001)], seconds: 0.5, timeout: 1, protocols: [.tcp], peakInFlight: 1)
    let checks = [
      ThroughputCheck(source: "a", target: "b", address: IPAddress("10.0.0.2")!, megabitsPerSecond: 19.24, rate: 20_000_000, held: true),
      ThroughputCheck(source: "b", target: "a", address: IPAddress("10.0.0.1")!, megabitsPerSecond: 12.0, rate: 20_000_000, held: false),
    ]
    var text = ""
    TestJSON.write(base, passed: false, throughput: checks) { text += $0 }
    XCTAssertNoThrow(try JSONDecoder().decode(TestDocument.self, from: Data(text.utf8)))
    XCTAssertTrue(text.contains("\"perf\" : [{\"address\":\"10.0.0.2\",\"held\":true,\"megabitsPerSecond\":19.2,\"rate\":20000000,\"source\":\"a\",\"target\":\"b\"}"), text)
    let junit = JUnitReport.render(base, throughput: checks)
    XCTAssertTrue(junit.contains("<testsuite name=\"t: perf\" tests=\"2\" failures=\"1\">"), junit)
    XCTAssertTrue(junit.contains("b -&gt; a: 12.0 Mbit/s of 20mbit (60 %), more than 10 % from the rate"), junit)
    XCTAssertEqual(checks[0].text, "a -> b: 19.2 Mbit/s of 20mbit (96 %)")
  }
}
