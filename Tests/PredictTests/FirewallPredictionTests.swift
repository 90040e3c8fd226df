import Foundation
import Predict
import TopologyDSL
import TopologyModel
import XCTest

/// The predictor through firewalls: output at the source, forward at every router, input at
/// the target, first match then the policy, replies always pass; the reason names the rule.
final class FirewallPredictionTests: XCTestCase {
  let t: Topology = {
    let r = TopologyLoader.load(text: """
      topology fw
      subnet office 10.30.1.0/24
      subnet servers 10.30.2.0/24
      bridge sw1 office
      bridge sw2 servers
      node gw
        forward
        link sw1
        link sw2
        deny forward from office to db
        reject forward tcp 7000 to web
      node pc[1..2]
        link sw1
        route default via gw
      node web
        link sw2 10.30.2.10
        route default via gw
        firewall input drop
        allow input tcp 80
        allow input tcp 4444 from office
      node db
        link sw2 10.30.2.20
        route default via gw
        firewall input drop
        allow input tcp 5432 from web
        reject input udp
      node out
        link sw1
        firewall output drop
        reject output tcp 9 to web
      """, fileName: "fw.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
    return r.topology!
  }()

  func verdict(_ s: String, _ d: String, _ proto: TransportProtocol = .tcp, _ port: Int = 4444) -> (Outcome, String?) {
    Predictor(t).verdict(Flow(from: s, to: d, proto: proto, port: port))
  }

  func testChainsRulesAndPolicies() {
    XCTAssertEqual(verdict("pc1", "web").0, .reached)
    XCTAssertEqual(verdict("pc1", "web", .tcp, 80).0, .reached)
    XCTAssertEqual(verdict("pc1", "db").0, .timedOut)
    XCTAssertEqual(verdict("pc1", "db").1, "dropped by gw's rule at line 10 (`deny forward from office to db`)")
    XCTAssertEqual(verdict("web", "db").0, .timedOut)
    XCTAssertEqual(verdict("web", "db").1, "db's input policy drops tcp/4444 from 10.30.2.10 (line 24)")
    XCTAssertEqual(verdict("web", "db", .tcp, 5432).0, .reached)
    XCTAssertEqual(verdict("web", "db", .udp).0, .refused)
    XCTAssertEqual(verdict("web", "db", .udp).1, "rejected by db's rule at line 26 (`reject input udp`)")
    XCTAssertEqual(verdict("db", "web").0, .timedOut)
    XCTAssertEqual(verdict("gw", "web").0, .timedOut)
    // Replies pass: db and web reach the pcs, whose way back crosses gw's forward rule.
    XCTAssertEqual(verdict("db", "pc1").0, .reached)
    XCTAssertEqual(verdict("web", "pc1").0, .reached)
    // A reject at a router: the reset comes back from gw.
    XCTAssertEqual(verdict("pc1", "web", .tcp, 7000).0, .refused)
    // The output chain: a TCP SYN retried to the deadline, a UDP send refused at once.
    XCTAssertEqual(verdict("out", "pc1").0, .timedOut)
    XCTAssertEqual(verdict("out", "pc1", .udp).0, .prohibited)
    XCTAssertEqual(verdict("out", "pc1").1, "out's output policy drops tcp/4444 from 10.30.1.4 (line 29)")
  }

  /// Masquerade: the source becomes the router's, the reply is translated back there.
  func testMasquerade() {
    let r = TopologyLoader.load(text: """
      topology nat
      subnet wan 100.64.30.0/24
      subnet office 10.30.1.0/24
      bridge sw0 wan
      bridge sw1 office
      node gw
        forward
        link sw0 100.64.30.1
        link sw1
        masquerade eth0
        masquerade eth9
      node pc
        link sw1
        route default via gw
      node isp
        link sw0 100.64.30.2
        firewall input drop
        allow input from 100.64.30.1
      """, fileName: "nat.topo")
    XCTAssertEqual(r.diagnostics.map(\.message), ["'gw' has no interface 'eth9'"])
    var t = r.topology ?? Topology(name: "x")
    if t.nodes.isEmpty {
      let ok = TopologyLoader.load(text: r.renderer.lines.filter { !$0.contains("eth9") }.joined(separator: "\n"), fileName: "nat.topo")
      t = ok.topology!
    }
    let p = Predictor(t)
    // isp only accepts gw's address: the pc reaches it as gw.
    XCTAssertEqual(p.verdict(Flow(from: "pc", to: "isp")).0, .reached)
    XCTAssertEqual(p.predict(Flow(from: "pc", to: "isp")).path.map(\.description), ["pc (eth0 via 10.30.1.1)", "gw (eth0, masquerade as 100.64.30.1)", "isp"])
    XCTAssertEqual(p.verdict(Flow(from: "isp", to: "pc")).0, .noRoute)
  }
}

/// `topologies/firewall.topo`, the reference of issue 16: the verdicts and reasons it states.
final class ReferenceFirewallTests: XCTestCase {
  func testReferenceVerdicts() throws {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("topologies/firewall.topo").path
    let r = TopologyLoader.load(text: try String(contentsOfFile: path, encoding: .utf8), fileName: "firewall.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
    let p = Predictor(r.topology!)
    func v(_ s: String, _ d: String, _ proto: TransportProtocol = .tcp, _ port: Int = 4444) -> Outcome { p.verdict(Flow(from: s, to: d, proto: proto, port: port)).0 }
    for pc in ["pc1", "pc2", "pc3"] { XCTAssertEqual(v(pc, "isp"), .reached, pc) }
    XCTAssertNotEqual(v("isp", "pc1"), .reached)
    XCTAssertEqual(v("isp", "gw", .tcp, 8080), .reached)
    XCTAssertEqual(p.landing(Flow(from: "isp", to: "gw", proto: .tcp, port: 8080))?.node, "web")
    XCTAssertEqual(p.landing(Flow(from: "isp", to: "gw", proto: .tcp, port: 8080))?.port, 80)
    XCTAssertEqual(v("pc1", "db"), .timedOut)
    XCTAssertEqual(p.verdict(Flow(from: "pc1", to: "db")).1, "dropped by gw's rule at line 15 (`deny forward from office to db`)")
    XCTAssertEqual(v("web", "db", .tcp, 5432), .reached)
    XCTAssertEqual(v("pc1", "web", .tcp, 80), .reached)
    XCTAssertEqual(v("db", "web"), .timedOut)
    // On 4444/tcp, besides the expectations.
    XCTAssertEqual(v("db", "pc1"), .reached)
    XCTAssertEqual(v("web", "pc1"), .reached)
    XCTAssertEqual(v("gw", "web"), .timedOut)
    XCTAssertEqual(v("gw", "db"), .timedOut)
    XCTAssertEqual(v("web", "db"), .timedOut)
    XCTAssertEqual(p.verdict(Flow(from: "web", to: "db")).1, "db's input policy drops tcp/4444 from 10.30.2.10 (line 28)")
    for n in ["pc1", "pc2", "pc3", "web", "db", "isp"] { XCTAssertEqual(v(n, "gw"), .reached, n) }
    for n in ["db", "web", "pc1", "pc2", "pc3"] { XCTAssertEqual(v(n, "isp"), .reached, n) }
    // UDP: db rejects, gw drops the office's before db.
    XCTAssertEqual(v("web", "db", .udp), .refused)
    XCTAssertEqual(v("pc1", "db", .udp), .timedOut)
  }

  /// The README's own IPv6 form `dnat tcp 8080 to [fd00:1::10]:80` was refused as a
  /// "malformed range".
  func testADnatToABracketedIPv6AddressWithAPort() throws {
    let r = TopologyLoader.load(text: """
      subnet lan6 fd00:1::/64
      subnet wan6 fd00:2::/64
      bridge sw lan6
      bridge w wan6
      node gw
        forward
        link sw
        link w
        dnat tcp 8080 to [fd00:1::10]:80
      node web
        link sw fd00:1::10/64
        route default via gw
      node isp
        link w
        route default via gw
      """, fileName: "d6.topo")
    let t = try XCTUnwrap(r.topology, r.rendered)
    XCTAssertEqual(r.rendered, "")
    let p = Predictor(t)
    let gw6 = try XCTUnwrap(p.primaryAddress(of: "gw", family: .ipv6))
    let landing = try XCTUnwrap(p.landing(Flow(from: "isp", to: "gw", address: gw6, proto: .tcp, port: 8080)))
    XCTAssertEqual(landing.node, "web")
    XCTAssertEqual(landing.port, 80)
  }

  func reference() throws -> Predictor {
    let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("topologies/firewall.topo").path
    return Predictor(TopologyLoader.load(text: try String(contentsOfFile: path, encoding: .utf8), fileName: "firewall.topo").topology!)
  }

  /// `why`'s typed steps, hop by hop: routes, filters by rule and policy, NAT both ways,
  /// the session a reply passes as, the delivery.
  func testTypedSteps() throws {
    let p = try reference()
    func steps(_ f: Flow) -> [[String]] {
      let w = p.predict(f)
      return (w.path + [Hop(node: "|")] + w.returnPath).map { [$0.node] + $0.steps.map { "\($0.type) \($0)" } }
    }
    XCTAssertEqual(steps(Flow(from: "isp", to: "gw", proto: .tcp, port: 8080)), [
      ["isp", "route 100.64.30.0/24 dev eth0 (connected)"],
      ["gw", "nat dnat 100.64.30.1:8080 -> 10.30.2.10:80 (line 14)", "route 10.30.2.0/24 dev eth2 (connected)", "filter forward: policy accept"],
      ["web", "filter input: line 23 accepts (`allow input tcp 80`)", "deliver to 10.30.2.10:80"],
      ["|"],
      ["web", "route default via 10.30.2.1 dev eth0"],
      ["gw", "route 100.64.30.0/24 dev eth0 (connected)", "session forward: part of the probe's connection, passes",
        "nat reply source 10.30.2.10 -> 100.64.30.1 (translated back)"],
      ["isp", "deliver to 100.64.30.2"],
    ])
    XCTAssertEqual(steps(Flow(from: "pc1", to: "isp")), [
      ["pc1", "route default via 10.30.1.1 dev eth0"],
      ["gw", "route 100.64.30.0/24 dev eth0 (connected)", "filter forward: policy accept", "nat masquerade out eth0: source 10.30.1.2 -> 100.64.30.1"],
      ["isp", "deliver to 100.64.30.2:4444"],
      ["|"],
      ["isp", "route 100.64.30.0/24 dev eth0 (connected)"],
      ["gw", "nat reply destination 100.64.30.1 -> 10.30.1.2 (translated back)", "session forward: part of the probe's connection, passes",
        "route 10.30.1.0/24 dev eth1 (connected)"],
      ["pc1", "deliver to 10.30.1.2"],
    ])
    XCTAssertEqual(steps(Flow(from: "pc1", to: "db")), [
      ["pc1", "route default via 10.30.1.1 dev eth0"],
      ["gw", "route 10.30.2.0/24 dev eth2 (connected)", "filter forward: line 15 drops (`deny forward from office to db`)"],
      ["|"],
    ])
    XCTAssertEqual(steps(Flow(from: "web", to: "db")).dropLast().last, ["db", "filter input: policy drop (line 28)"])
    // A verdict alone records nothing (a million pairs allocate no steps).
    XCTAssertEqual(p.verdict(Flow(from: "pc1", to: "db")).1, "dropped by gw's rule at line 15 (`deny forward from office to db`)")
  }
}
