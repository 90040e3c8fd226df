import Matrix
import TestSupport
import TopologyDSL
import TopologyModel
import XCTest

private func topo(_ text: String) -> Topology {
  let r = TopologyLoader.load(text: text, fileName: "t.topo")
  XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
  return r.topology!
}

private let twoLans = Fixtures.twoLANs() + """
  expect a -> b reach
  expect a -> b tcp 8080 reach
  expect b -> a udp blocked
  """

final class ProbeSetTests: XCTestCase {
  func testEveryOrderedPairOncePerProtocolPlusExpectedPorts() {
    let set = ProbeSet(topology: topo(twoLans), namespace: { "t-\($0)" }, options: .init(protocols: [.tcp], port: 4444))
    XCTAssertEqual(set.endpoints.map(\.name), ["r", "a", "b"])
    XCTAssertEqual(set.endpoints.map(\.namespace), ["t-r", "t-a", "t-b"])
    let base = set.probes.filter { $0.port == 4444 && $0.proto == .tcp }
    XCTAssertEqual(base.count, 6)
    // Ordered by source; each source starts just after itself.
    XCTAssertEqual(base.map { "\($0.source)>\($0.target)" }, ["0>1", "0>2", "1>2", "1>0", "2>0", "2>1"])
    // Primary address: r's first interface.
    XCTAssertEqual(base.first { $0.target == 0 }.map { set.address(of: $0).description }, "10.1.1.1")
    let extra = set.probes.filter { !($0.port == 4444 && $0.proto == .tcp) }.map { "\($0.source)>\($0.target) \($0.proto)/\($0.port)" }
    XCTAssertEqual(extra, ["1>2 tcp/8080", "2>1 udp/4444"])
  }

  func testAllAddressesAndUnaddressedTargets() {
    let t = topo("topology u\nsubnet l 10.0.0.0/24\nbridge s l\nnode a\n  link s\n  link s\nnode b\n  link c\nnode c\n")
    let set = ProbeSet(topology: t, namespace: { $0 }, options: .init(protocols: [.tcp, .udp], port: 9, allAddresses: true))
    XCTAssertEqual(set.probes.filter { $0.target == 0 && $0.proto == .tcp && $0.source == 1 }.count, 2)
    // b and c have no address: pairs to them are reported, not probed.
    XCTAssertEqual(set.unaddressed.count, 2 * 4)
  }

  func testHostIsAnEndpointWithItsDevices() {
    let t = topo("topology s\nnode m\nlink host:v1 192.168.1.1/24 -- m:v0 192.168.1.2/24\n")
    let set = ProbeSet(topology: t, namespace: { "s-\($0)" }, options: .init())
    XCTAssertEqual(set.endpoints.map(\.name), ["m", "host"])
    XCTAssertNil(set.endpoints[1].namespace)
    XCTAssertEqual(set.hostDevices.map(\.name), ["v1"])
    XCTAssertEqual(set.probes.count, 2)
  }

  func testOutcomeFromErrno() {
    XCTAssertEqual(Outcome.from(errno: 111), .refused)
    XCTAssertEqual(Outcome.from(errno: 101), .noRoute)
    XCTAssertEqual(Outcome.from(errno: 113), .hostUnreachable)
    XCTAssertEqual(Outcome.from(errno: 13), .prohibited)
    XCTAssertEqual(Outcome.from(errno: 5), .error)
  }

  func testReportMatchesExpectationsAndRendersMatrix() {
    let t = topo(twoLans)
    let set = ProbeSet(topology: t, namespace: { "t-\($0)" }, options: .init(protocols: [.tcp], port: 4444))
    // Everything reached, except a -> b on 8080 (refused) and b -> a over UDP (reached: a mismatch).
    let results: [(Outcome, Double?)] = set.probes.map { p in
      if p.port == 8080 { return (.refused, nil) }
      return (.reached, 0.000123)
    }
    let report = TestReport(topology: t, set: set, results: results, seconds: 0.5, timeout: 1, protocols: [.tcp], peakInFlight: 3)
    XCTAssertEqual(report.expectationCount, 3)
    XCTAssertEqual(report.mismatches.map { "\($0.source)>\($0.target) \($0.proto)/\($0.port)" }, ["a>b tcp/8080", "b>a udp/4444"])
    XCTAssertFalse(report.passed)
    XCTAssertEqual(report.summary, "8 pairs: 7 reached, 1 refused, 2 mismatches of 3 expectations (0.50 s)")
    XCTAssertEqual(MatrixText.render(report, topology: t, color: false), """
           1 2 3
      1 r    + +
      2 a  +   ✗
      3 b  + ✗  
      ✓ reached as expected  + reached  · blocked as expected  - not reached  ✗ mismatch

      mismatches (2):
        ✗ a -> b tcp/8080 (10.1.2.2): expected reach, got refused (line 15)
        ✗ b -> a udp/4444 (10.1.1.2): expected blocked, got reached (line 16)

      8 pairs: 7 reached, 1 refused, 2 mismatches of 3 expectations (0.50 s)

      """)
    let junit = JUnitReport.render(report)
    XCTAssertTrue(junit.contains("<testsuite name=\"t\" tests=\"3\" failures=\"2\""), junit)
    XCTAssertTrue(junit.contains("<testcase classname=\"nstopo.t\" name=\"a -&gt; b ipv4 tcp/4444 reach\" time=\"0.000123\"/>"), junit)
    XCTAssertTrue(junit.contains("<failure message=\"expected reach, got refused\">line 15: a -&gt; b (10.1.2.2) tcp/8080: expected reach, got refused</failure>"), junit)
    XCTAssertFalse(junit.contains("line 0"), junit)
    // A pair held to the model (no expect line) says so, and the reason is in the message.
    var predicted = report
    predicted.pairs[0].expected = .reach
    predicted.pairs[0].reason = "r has no route to 10.1.2.0/24"
    predicted.pairs[0].outcome = .noRoute
    let p = predicted.pairs[0]
    XCTAssertNil(p.line)
    let j2 = JUnitReport.render(predicted)
    XCTAssertTrue(
      j2.contains(
        "<failure message=\"expected reach, got no-route: r has no route to 10.1.2.0/24\">predicted by the model (no expect line): \(p.source) -&gt; \(p.target)"),
      j2)
    // The summary gives the probing time and, where known, the whole command's.
    predicted.wallSeconds = 2.25
    XCTAssertTrue(predicted.summary.hasSuffix(" in 2.25 s (probing 0.50 s)"), predicted.summary)
  }

  func testLargeTopologiesGetASubnetTable() {
    let t = topo("topology big\nsubnet lan 10.9.0.0/16\nbridge sw lan\nnode h[1..50]\n  link sw\n")
    let set = ProbeSet(topology: t, namespace: { $0 }, options: .init())
    let results: [(Outcome, Double?)] = set.probes.map { _ in (.reached, 0.001) }
    let report = TestReport(topology: t, set: set, results: results, seconds: 1, timeout: 1, protocols: [.tcp], peakInFlight: 1)
    let text = MatrixText.render(report, topology: t, color: false)
    XCTAssertTrue(text.hasPrefix("50 endpoints: reached/probed pairs by subnet"), text)
    XCTAssertTrue(text.contains("\nlan        2450/2450\n"), text)
  }
}
