import Foundation
import Glibc
import Matrix
import Planner
import Probe
import Realizer
import TopologyModel
import XCTest

final class ProbeIntegrationTests: KernelTestCase {
  func probe(_ t: Topology, _ protocols: [TransportProtocol] = [.tcp], port: UInt16 = 4444, timeout: Double = 1) throws -> TestReport {
    let set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init(protocols: protocols, port: port))
    let engine = ProbeEngine(set, options: .init(timeout: timeout))
    let results = try Lifecycle.withTestNetwork(t) { try engine.run() }
    return TestReport(topology: t, set: set, results: results, seconds: 0, timeout: timeout, protocols: protocols, peakInFlight: engine.peakInFlight)
  }

  func outcome(_ r: TestReport, _ s: String, _ t: String, _ proto: TransportProtocol = .tcp, port: Int = 4444) -> Outcome? {
    r.pairs.first { $0.source == s && $0.target == t && $0.proto == proto && $0.port == port }?.outcome
  }

  var twoLans: String {
    (try? String(contentsOf: repo.appendingPathComponent("topologies/two-lans.topo"), encoding: .utf8))!
      .replacingOccurrences(of: "topology two-lans\n", with: "")
  }

  func testTwoLansEveryNodeReachesEveryNodeOverTCPAndUDP() throws {
    let t = topology(twoLans)
    try Lifecycle.up(t, file: "test")
    let r = try probe(t, [.tcp, .udp])
    XCTAssertEqual(r.pairs.count, 2 * 5 * 4)
    XCTAssertEqual(r.pairs.filter { !$0.outcome.reached }.map { "\($0.source)>\($0.target) \($0.proto) \($0.outcome)" }, [])
    XCTAssertTrue(r.passed)
    XCTAssertEqual(r.expectationCount, 12)
    XCTAssertTrue(r.pairs.allSatisfy { ($0.latencyMs ?? -1) >= 0 })
  }

  func testWithoutForwardingCrossLanPairsAreBlockedAsDeclared() throws {
    let text = twoLans.replacingOccurrences(of: "  forward\n", with: "")
      .replacingOccurrences(of: "expect a[1..2],b[1..2] -> a[1..2],b[1..2] reach", with: """
        expect a[1..2] -> a[1..2] reach
        expect b[1..2] -> b[1..2] reach
        expect a[1..2] -> b[1..2] blocked
        expect b[1..2] -> a[1..2] blocked
        """)
    let t = topology(text)
    try Lifecycle.up(t, file: "test")
    let r = try probe(t, [.tcp, .udp], timeout: 0.5)
    XCTAssertTrue(r.passed, "\(r.mismatches)")
    XCTAssertEqual(r.expectationCount, 12)
    XCTAssertEqual(outcome(r, "a1", "a2"), .reached)
    // r1 drops what it may not forward, silently.
    XCTAssertEqual(outcome(r, "a1", "b1"), .timedOut)
    XCTAssertEqual(outcome(r, "b2", "a1", .udp), .timedOut)
  }

  func testIsolatedNamespaceIsUnreachableAndTheHostOnlyUsesItsOwnVeth() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let t = topology("""
      subnet lan 10.50.0.0/24
      bridge sw lan
      node h1
        link sw
      node h2
        link sw
      node myns
      link host:\(host) \(net).1/24 -- myns:veth0 \(net).2/24
      expect h1 -> myns blocked
      expect host -> myns reach
      expect myns -> host reach
      """)
    try Lifecycle.up(t, file: "test")
    let r = try probe(t)
    XCTAssertTrue(r.passed, "\(r.mismatches)")
    XCTAssertEqual(outcome(r, "h1", "myns"), .noRoute)
    XCTAssertEqual(outcome(r, "myns", "h1"), .noRoute)
    XCTAssertEqual(outcome(r, "host", "myns"), .reached)
    XCTAssertEqual(outcome(r, "myns", "host"), .reached)
    // Bound to its veth, the host's probe to h1 finds no route instead of leaving the machine.
    XCTAssertEqual(outcome(r, "host", "h1"), .noRoute)
    XCTAssertEqual(outcome(r, "h1", "h2"), .reached)
  }

  func testBlackholeRouteAndFirewallFailExactlyTheirPairs() throws {
    let text = twoLans.replacingOccurrences(of: "node a[1..2]\n  link sw1\n  route default via r1\n", with: """
      node a[1..2]
        link sw1
        route default via r1
      node c
        link sw1
        route default via r1
        route 10.1.2.0/24 blackhole

      """)
    let t = topology(text)
    try Lifecycle.up(t, file: "test")
    let names = KernelNames(topology: t.name)
    let a1 = t.ends(of: .node("a1"))[0].addresses[0].address.description
    let iptables = ["/usr/sbin/iptables", "/sbin/iptables"].first { FileManager.default.isExecutableFile(atPath: $0) }
    if let ipt = iptables {
      let (code, _, err) = try runNstopo("/usr/sbin/ip", ["netns", "exec", names.namespace(node: "b1"), ipt, "-A", "INPUT", "-p", "tcp", "--dport", "4444", "-s", a1, "-j", "DROP"])
      XCTAssertEqual(code, 0, err)
    }
    let r = try probe(t, timeout: 0.5)
    let failed = r.pairs.filter { !$0.outcome.reached }.map { "\($0.source)>\($0.target) \($0.outcome.rawValue)" }.sorted()
    // c's blackhole: no route out to lan2, and no route back, so lan2 cannot reach c either.
    var expected = ["c>b1 no-route", "c>b2 no-route", "b1>c timed-out", "b2>c timed-out"]
    if iptables != nil { expected.append("a1>b1 timed-out") }
    XCTAssertEqual(failed, expected.sorted())
  }

  func testARunServiceOnThePortIsProbedByConnecting() throws {
    let t = topology(twoLans + "expect a1 -> b1 tcp 8080 reach\n")
    try Lifecycle.up(t, file: "test")
    let names = KernelNames(topology: t.name)
    do {
      let r = try probe(t)
      XCTAssertEqual(outcome(r, "a1", "b1", port: 8080), .reached, "nstopo's own listener answers when nothing else does")
    }
    // A service (not nstopo's echo) holds 8080 in b1: a completed connect counts as reached.
    let service = try listen(in: names.namespace(node: "b1"), port: 8080)
    defer { close(service) }
    let r = try probe(t)
    XCTAssertEqual(outcome(r, "a1", "b1", port: 8080), .reached)
    XCTAssertTrue(r.passed)
  }

  func testCLIExitCodeJSONAndJUnitNameTheMismatch() throws {
    let name = uniqueName()
    let text = "topology \(name)\n" + twoLans + "expect a1 -> b1 blocked\n"
    let path = try tempFile(name, text)
    let json = NSTemporaryDirectory() + "\(name).json"
    let junit = NSTemporaryDirectory() + "\(name).xml"
    defer {
      try? FileManager.default.removeItem(atPath: json)
      try? FileManager.default.removeItem(atPath: junit)
    }
    let (code, out, err) = try runNstopo(binary, ["test", path, "--up", "--json", json, "--junit", junit])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("✗ a1 -> b1 tcp/4444 (10.1.2.2): declared blocked, predicted reach, measured reached (line 21)"), out)
    XCTAssertTrue(out.contains("20 pairs: 20 reached, 1 mismatch of 20 expectations (12 declared, the rest predicted)"), out)
    let doc = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
    XCTAssertEqual(doc["passed"] as? Bool, false)
    XCTAssertEqual((doc["pairs"] as? [Any])?.count, 20)
    let xml = try String(contentsOfFile: junit, encoding: .utf8)
    XCTAssertTrue(xml.contains("failures=\"1\""), xml)
    XCTAssertEqual(leftovers(name), [], "--up takes the topology down again")
  }
}
