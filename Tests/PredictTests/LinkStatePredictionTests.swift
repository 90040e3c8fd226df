import Predict
import TopologyDSL
import TopologyModel
import XCTest

/// A link that is down, as the kernel has it (measured on 6.18): both ends keep their
/// addresses, local to their nodes, but lose their connected routes and every route through
/// them; nothing crosses the link. An end whose peer is down keeps its routes (`linkdown`)
/// and sends into silence.
final class LinkStatePredictionTests: XCTestCase {
  private func topo(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Topology {
    let r = TopologyLoader.load(text: "topology t\n" + text, fileName: "t.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered, file: file, line: line)
    return r.topology!
  }

  private let triangle = """
    subnet p2p 10.8.9.0/24
    subnet lan 10.8.1.0/24
    bridge sw lan
    node a
      forward
      link sw eth0 10.8.1.1
      link b p2p DOWN
      link c p2p
      route 10.8.2.0/24 via b
    node b
      forward
      link c p2p
      route default via c
    node c
      forward
      route 10.8.1.0/24 via a
    node h
      link sw
      route default via a
    node x
      route default via 10.8.2.1
    link b:eth9 10.8.2.1/24 -- x:eth0 10.8.2.2/24
    """

  func testUpLinkCarriesAndDownLinkDoesNot() {
    let up = Predictor(topo(triangle.replacingOccurrences(of: " DOWN", with: "")))
    XCTAssertEqual(up.predict(from: "h", to: "b").verdict, .reached)
    let down = Predictor(topo(triangle.replacingOccurrences(of: " DOWN", with: " down")))
    // a's route to 10.8.2.0/24 went with the link: no route there.
    let p = down.predict(from: "h", to: "x")
    XCTAssertEqual(p.verdict, .noRoute)
    XCTAssertEqual(p.reason, "a has no route to 10.8.2.0/24; a's link to b (eth1) is down (its route 10.8.2.0/24 via 10.8.9.2 is gone with it)")
    // b's address on the down link is still b's: x, behind b, reaches it.
    XCTAssertEqual(down.predict(from: "x", to: "b", address: IPAddress("10.8.9.2")).verdict, .reached)
    XCTAssertEqual(up.predict(from: "x", to: "b", address: IPAddress("10.8.9.2")).verdict, .reached)
  }

  func testABridgePortDownSilencesItsNode() {
    let t = topo("""
      subnet lan 10.8.1.0/24
      bridge sw lan
      node h[1..2]
        link sw
      node h3
        link sw down
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "h1", to: "h2").verdict, .reached)
    let x = p.predict(from: "h1", to: "h3")
    XCTAssertEqual(x.verdict, .timedOut)
    XCTAssertEqual(x.reason, "nobody on h1's eth0 segment has 10.8.1.3 (ARP fails): h3's link to sw (eth0) is down; the kernel gives up after 3 s, after the probe's deadline")
    // h3 itself has no connected route left.
    XCTAssertEqual(p.predict(from: "h3", to: "h1").verdict, .noRoute)
  }

  /// One end down by hand (the kernel view): the other end keeps its route and sends into a
  /// link that carries nothing.
  func testOneEndDownLeavesThePeerSendingIntoSilence() {
    var t = topo("""
      node a
      node b
      link a:eth0 10.8.5.1/30 -- b:eth0 10.8.5.2/30
      """)
    t.links[0].b.down = true
    let p = Predictor(t)
    let x = p.predict(from: "a", to: "b")
    XCTAssertEqual(x.verdict, .timedOut)
    XCTAssertEqual(x.reason, "nobody on a's eth0 segment has 10.8.5.2 (ARP fails): b's link to a (eth0) is down; the kernel gives up after 3 s, after the probe's deadline")
    XCTAssertEqual(p.predict(from: "b", to: "a").verdict, .noRoute)
  }

  /// Shaping and MTU change nothing a probe can see.
  func testShapingAndMTUDoNotChangeReachability() {
    let plain = topo(triangle.replacingOccurrences(of: " DOWN", with: ""))
    let shaped = topo(triangle.replacingOccurrences(of: " DOWN", with: " rate 1mbit mtu 1280"))
    let a = Predictor(plain)
    let b = Predictor(shaped)
    for s in ["a", "b", "c", "h", "x"] {
      for d in ["a", "b", "c", "h", "x"] where d != s {
        XCTAssertEqual(a.predict(from: s, to: d).verdict, b.predict(from: s, to: d).verdict, "\(s) -> \(d)")
      }
    }
  }
}
