import Predict
import TopologyDSL
import TopologyModel
import XCTest

private func topo(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Topology {
  let r = TopologyLoader.load(text: "topology t\n" + text, fileName: "t.topo")
  XCTAssertFalse(r.diagnostics.hasErrors, r.rendered, file: file, line: line)
  return r.topology!
}

private let twoLans = """
  subnet lan[1..2] 10.1.$i.0/24
  bridge sw[1..2] lan$i
  node r
    FORWARD
    link sw1 eth0 10.1.1.1
    link sw2 eth1 10.1.2.1
  node a[1..2]
    link sw1
    route default via r
  node b[1..2]
    link sw2
    route default via r
  """

final class PredictorTests: XCTestCase {
  func testTwoLansWithForwarding() {
    let p = Predictor(topo(twoLans.replacingOccurrences(of: "FORWARD", with: "forward")))
    let x = p.predict(from: "a1", to: "b2")
    XCTAssertEqual(x.verdict, .reached)
    XCTAssertEqual(x.path.map(\.node), ["a1", "r", "b2"])
    XCTAssertEqual(x.returnPath.map(\.node), ["b2", "r", "a1"])
    XCTAssertEqual(x.path[0].description, "a1 (eth0 via 10.1.1.1)")
    XCTAssertEqual(p.predict(from: "a1", to: "a2").path.map(\.node), ["a1", "a2"])
  }

  /// The predictor answers flows (protocol and port included, for the filters to come); for
  /// routing alone they give what the pair gives, on every pair, both ways of asking.
  func testFlowsGiveWhatPairsGive() {
    for forward in ["forward", ""] {
      let t = topo(twoLans.replacingOccurrences(of: "FORWARD", with: forward))
      let p = Predictor(t)
      for s in t.nodes.map(\.name) {
        for d in t.nodes.map(\.name) where d != s {
          for proto in TransportProtocol.allCases {
            let flow = Flow(from: s, to: d, proto: proto, port: 8080)
            // Equal but for the port the delivery step names.
            let (x, y) = (p.predict(flow), p.predict(from: s, to: d))
            XCTAssertEqual(x.verdict, y.verdict, "\(s) -> \(d) \(proto)")
            XCTAssertEqual(x.reason, y.reason, "\(s) -> \(d) \(proto)")
            XCTAssertEqual((x.path + x.returnPath).map(\.description), (y.path + y.returnPath).map(\.description), "\(s) -> \(d) \(proto)")
            XCTAssertEqual(p.verdict(flow).0, p.predict(from: s, to: d).verdict)
          }
        }
      }
    }
  }

  func testTwoLansWithoutForwarding() {
    let p = Predictor(topo(twoLans.replacingOccurrences(of: "FORWARD", with: "")))
    let x = p.predict(from: "a1", to: "b1")
    XCTAssertEqual(x.verdict, .timedOut)
    XCTAssertEqual(x.reason, "forwarding is off in r")
    XCTAssertEqual(p.predict(from: "a1", to: "a2").verdict, .reached)
    // The router's own addresses answer without forwarding (either interface).
    XCTAssertEqual(p.predict(from: "b1", to: "r", address: IPAddress("10.1.1.1")).verdict, .reached)
  }

  /// h1 - r1 - r2 - r3 - r4 - h2 over /30s; the routes back are what breaks TCP.
  func chain(returnRoute: Bool) -> Topology {
    topo("""
      subnet p2p 10.9.0.0/24
      subnet left 10.1.0.0/24
      subnet right 10.2.0.0/24
      bridge sl left
      bridge sr right
      node h1
        link sl
        route default via r1
      node r1
        forward
        link sl eth0 10.1.0.1
        link r2 eth1 p2p
        route 10.2.0.0/24 via r2
      node r2
        forward
        link r3 eth1 p2p
        route 10.2.0.0/24 via r3
        route 10.1.0.0/24 via r1
      node r3
        forward
        link r4 eth1 p2p
        route 10.2.0.0/24 via r4
        \(returnRoute ? "route 10.1.0.0/24 via r2" : "")
      node r4
        forward
        link sr eth1 10.2.0.1
        route 10.1.0.0/24 via r3
      node h2
        link sr
        route default via r4
      """)
  }

  func testChainOfFourRouters() {
    let ok = Predictor(chain(returnRoute: true)).predict(from: "h1", to: "h2")
    XCTAssertEqual(ok.verdict, .reached)
    XCTAssertEqual(ok.path.map(\.node), ["h1", "r1", "r2", "r3", "r4", "h2"])
    XCTAssertEqual(ok.returnPath.map(\.node), ["h2", "r4", "r3", "r2", "r1", "h1"])
    let broken = Predictor(chain(returnRoute: false)).predict(from: "h1", to: "h2")
    XCTAssertEqual(broken.verdict, .timedOut, "the SYN arrives, the reply does not")
    XCTAssertEqual(broken.path.map(\.node), ["h1", "r1", "r2", "r3", "r4", "h2"])
    XCTAssertEqual(broken.reason, "r3 has no route back to 10.1.0.0/24")
  }

  func testBlackholeRoutes() {
    let t = topo(twoLans.replacingOccurrences(of: "FORWARD", with: "forward") + "\nnode c\n  link sw1\n  route default via r\n  route 10.1.2.0/24 blackhole\n")
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "c", to: "b1").verdict, .noRoute, "a local blackhole: EINVAL at connect")
    XCTAssertEqual(p.predict(from: "c", to: "b1").reason, "c blackholes 10.1.2.0/24 (to 10.1.2.2)")
    XCTAssertEqual(p.predict(from: "b1", to: "c").verdict, .timedOut, "the reply is blackholed")
    XCTAssertEqual(p.predict(from: "c", to: "a1").verdict, .reached)
  }

  func testRoutingLoopIsDetected() {
    let t = topo("""
      subnet p2p 10.9.0.0/24
      subnet l 10.1.0.0/24
      bridge s l
      node h
        link s
        route default via r1
      node r1
        forward
        link s eth0 10.1.0.1
        link r2 eth1 p2p
        route 10.7.0.0/16 via r2
      node r2
        forward
        route 10.7.0.0/16 via r1
      """)
    let x = Predictor(t).predict(from: "h", to: "r2", address: IPAddress("10.7.0.1"))
    // The TTL runs out at the 64th router; r2 has no route back to h for the time exceeded.
    XCTAssertEqual(x.verdict, .timedOut)
    XCTAssertEqual(
      x.reason,
      "the TTL runs out at r2 (routing loop: r1 -> r2 -> r1); its ICMP error cannot get back to 10.1.0.2: r2 has no route with the error for 10.1.0.0/24")
    XCTAssertEqual(x.path.map(\.node), ["h", "r1", "r2", "r1"], "the loop is shown once")
  }

  /// When the router where the TTL runs out can reach the source, a TCP connect dies of the
  /// time exceeded (host-unreachable), and UDP, which ignores it, times out.
  func testRoutingLoopWithAWayBackIsHostUnreachableForTCPOnly() {
    let t = topo("""
      subnet l 10.1.0.0/24
      subnet p2p 10.9.0.0/24
      bridge s l
      node h
        link s
        route default via r1
      node r1
        forward
        link s eth0 10.1.0.1
        link r2 eth1 p2p
        route 10.7.0.0/16 via r2
      node r2
        forward
        route 10.7.0.0/16 via r1
        route 10.1.0.0/24 via r1
      """)
    let p = Predictor(t)
    let tcp = p.predict(Flow(from: "h", to: "r2", address: IPAddress("10.7.0.1"), proto: .tcp))
    XCTAssertEqual(tcp.verdict, .hostUnreachable)
    XCTAssertEqual(tcp.reason, "the TTL runs out at r2 (routing loop: r1 -> r2 -> r1)")
    XCTAssertEqual(p.predict(Flow(from: "h", to: "r2", address: IPAddress("10.7.0.1"), proto: .udp)).verdict, .timedOut)
    // A loop through the source itself ends there: a forwarded packet with its own source
    // address is a martian, dropped without an error.
    let u = topo("""
      subnet l 10.1.0.0/24
      subnet p2p 10.9.0.0/24
      bridge s l
      node a
        forward
        link s
        link b p2p
        route 10.7.0.0/16 via 10.9.0.2
      node b
        forward
        link s
        route 10.7.0.0/16 via 10.9.0.1
      """)
    let m = Predictor(u).predict(Flow(from: "a", to: "b", address: IPAddress("10.7.0.1")))
    XCTAssertEqual(m.verdict, .timedOut)
    XCTAssertEqual(m.reason, "a drops it: its source 10.9.0.1 is a's own address (routing loop: a -> b -> a)")
  }

  func testLongestPrefixWins() {
    let t = topo("""
      subnet l 10.1.0.0/24
      subnet p2p 10.9.0.0/24
      bridge s l
      node h
        link s
        route 10.5.0.0/16 via ra
        route 10.5.5.0/24 via rb
      node ra
        forward
        link s eth0 10.1.0.10
      node rb
        forward
        link s eth0 10.1.0.20
        link t p2p
      node t
        route default via rb
      """)
    let p = Predictor(t)
    let x = p.predict(from: "h", to: "t", address: IPAddress("10.5.5.9"))
    XCTAssertEqual(x.path.first?.nextHop?.description, "10.1.0.20")
    let y = p.predict(from: "h", to: "t", address: IPAddress("10.5.6.9"))
    XCTAssertEqual(y.path.first?.nextHop?.description, "10.1.0.10")
    XCTAssertEqual(y.reason, "ra has no route to 10.5.6.9")
  }

  func testIsolatedNamespaceAndHost() {
    let t = topo("""
      subnet l 10.1.0.0/24
      bridge s l
      node h1
        link s
      node myns
      link host:veth1 192.168.1.1/24 -- myns:veth0 192.168.1.2/24
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "h1", to: "myns").verdict, .noRoute)
    XCTAssertEqual(p.predict(from: "h1", to: "myns").reason, "h1 has no route to 192.168.1.0/24")
    XCTAssertEqual(p.predict(from: "myns", to: "host").verdict, .reached)
    XCTAssertEqual(p.predict(from: "host", to: "myns").verdict, .reached)
    XCTAssertEqual(p.predict(from: "host", to: "h1").reason, "the host has no route to 10.1.0.0/24 through the topology")
  }

  func testUnaddressedTargetAndNextHopNobodyOwns() {
    let t = topo("subnet l 10.1.0.0/24\nbridge s l\nnode a\n  link s\n  route 10.8.0.0/16 via 10.1.0.99\nnode b\n  link s\nnode c\n")
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "a", to: "c").reason, "c has no address")
    // The kernel gives up resolving after 3 s: a 1 s probe sees silence, a 5 s one the error.
    let x = p.predict(from: "a", to: "b", address: IPAddress("10.8.0.1"))
    XCTAssertEqual(x.verdict, .timedOut)
    XCTAssertEqual(x.reason, "nobody on a's eth0 segment has 10.1.0.99 (ARP fails); the kernel gives up after 3 s, after the probe's deadline")
    let slow = Predictor(t, probeTimeout: 5).predict(from: "a", to: "b", address: IPAddress("10.8.0.1"))
    XCTAssertEqual(slow.verdict, .hostUnreachable)
    XCTAssertEqual(slow.reason, "nobody on a's eth0 segment has 10.1.0.99 (ARP fails)")
  }

  /// Linux answers ARP for any of its addresses on every interface: a next hop that is the
  /// node's address on its other link is found through the segment the two share.
  func testWeakHostARPReachesAnAddressOfAnotherLink() {
    let t = topo("""
      node a
      node b
      node c
      link a:eth0 10.1.0.1/16 -- b:eth0 10.1.0.2/16
      link b:eth1 10.1.5.1/24 -- c:eth0 10.1.5.2/24
      """)
    let p = Predictor(t)
    let x = p.predict(from: "a", to: "b", address: IPAddress("10.1.5.1"))
    XCTAssertEqual(x.verdict, .reached, x.reason ?? "")
    XCTAssertEqual(x.path.map(\.node), ["a", "b"])
  }

  /// A prohibit route on a router sends ICMP administratively prohibited, which a socket
  /// reports as host unreachable; only a local one is `prohibited`.
  func testProhibitOnARouterIsHostUnreachable() {
    let t = topo("""
      subnet l 10.1.0.0/24
      subnet p2p 10.9.0.0/24
      bridge s l
      node h
        link s
        route default via r
        route 10.66.0.0/16 prohibit
      node r
        forward
        link s eth0 10.1.0.1
        link t p2p
        route 10.7.0.0/16 prohibit
      node t
        route default via r
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "h", to: "t", address: IPAddress("10.7.0.1")).verdict, .hostUnreachable)
    XCTAssertEqual(p.predict(Flow(from: "h", to: "t", address: IPAddress("10.7.0.1"), proto: .udp)).verdict, .hostUnreachable)
    XCTAssertEqual(p.predict(from: "h", to: "t", address: IPAddress("10.66.0.1")).verdict, .prohibited)
  }
}

/// IPv6 as measured on the kernel: a node looks the route up before it checks forwarding, so
/// one without forwarding still answers with ICMPv6 errors; a TCP probe sees every router
/// error (on its error queue), a UDP probe only administratively prohibited.
final class IPv6ErrorModelTests: XCTestCase {
  let t = topo("""
    subnet a6 fd00:5:1::/64
    subnet b6 fd00:5:2::/64
    bridge s1 a6
    bridge s2 b6
    node h
      link s1
      route ::/0 via r
    node r
      link s1
      link s2
      route fd00:5:11::/64 prohibit
      route fd00:5:12::/64 unreachable
      route fd00:5:14::/64 blackhole
    node t
      link s2
      route ::/0 via r
    """)

  func verdict(_ address: String, _ proto: TransportProtocol) -> Outcome {
    Predictor(t).verdict(Flow(from: "h", to: "t", address: IPAddress(address)!, proto: proto)).0
  }

  func testNodeWithoutForwardingAnswersFromItsRoutes() {
    XCTAssertEqual(verdict("fd00:5:11::1", .tcp), .prohibited)
    XCTAssertEqual(verdict("fd00:5:11::1", .udp), .prohibited)
    XCTAssertEqual(verdict("fd00:5:12::1", .tcp), .noRoute)
    XCTAssertEqual(verdict("fd00:5:12::1", .udp), .timedOut)
    XCTAssertEqual(verdict("fd00:5:13::1", .tcp), .noRoute)
    XCTAssertEqual(verdict("fd00:5:14::1", .tcp), .timedOut)
    // A route it would forward by: dropped at the forwarding switch, in silence.
    XCTAssertEqual(verdict("fd00:5:2::2", .tcp), .timedOut)
    XCTAssertEqual(Predictor(t).verdict(Flow(from: "h", to: "t", address: IPAddress("fd00:5:2::2")!)).1, "forwarding is off in r")
  }
}
