import Foundation
import Planner
import TopologyDSL
import TopologyModel
import XCTest

/// How a link's tail becomes kernel steps: the MTU at creation (both ends), a qdisc per end,
/// ends left down, and routes behind a down link held back.
final class LinkPropertiesPlanTests: XCTestCase {
  private func plan(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Plan {
    let r = TopologyLoader.load(text: "topology lp\n" + text, fileName: "lp.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered, file: file, line: line)
    return Planner.plan(r.topology!)
  }

  func testShapingMTUAndDownAsSteps() {
    let p = plan("""
      subnet lan 10.9.1.0/24
      subnet p2p 10.9.9.0/24
      bridge sw lan
      node r1
        forward
        link sw rate 10mbit mtu 1400
        link r2 p2p delay 20ms jitter 5ms loss 1% rate 1mbit
      node r2
        link sw down
        route 10.9.40.0/24 via 10.9.9.1
        route 10.9.50.0/24 via 10.9.1.1
      """)
    let shell = p.steps.map(\.step.shellEquivalent)
    let relevant = shell.filter { $0.contains("link add") || $0.hasPrefix("tc ") || $0.contains("route add") || $0.contains(" link set eth") || $0.contains(" link set r2-") }
    XCTAssertEqual(relevant, [
      "ip -n lp link add sw address 02:e4:a1:00:00:01 up type bridge mcast_snooping 0",
      "ip -n lp link add r1-eth0 address 02:e4:a1:00:00:03 master sw mtu 1400 up type veth peer name eth0 address 02:e4:a1:00:00:02 mtu 1400 netns lp-r1",
      "ip -n lp-r1 link set eth0 up",
      "tc -n lp qdisc replace dev r1-eth0 root handle 1: tbf rate 10mbit burst 12500 limit 75000",
      "tc -n lp-r1 qdisc replace dev eth0 root handle 1: tbf rate 10mbit burst 12500 limit 75000",
      "ip -n lp-r1 link add eth1 address 02:e4:a1:00:00:04 up type veth peer name eth1 address 02:e4:a1:00:00:05 netns lp-r2",
      "ip -n lp-r2 link set eth1 up",
      "tc -n lp-r1 qdisc replace dev eth1 root handle 1: tbf rate 1mbit burst 3028 limit 35796 && tc -n lp-r1 qdisc replace dev eth1 parent 1:1 handle 10: netem delay 20ms 5ms loss 1%",
      "tc -n lp-r2 qdisc replace dev eth1 root handle 1: tbf rate 1mbit burst 3028 limit 35796 && tc -n lp-r2 qdisc replace dev eth1 parent 1:1 handle 10: netem delay 20ms 5ms loss 1%",
      // r2's port on sw: created like any other, then both ends go down once addressed.
      "ip -n lp link add r2-eth0 address 02:e4:a1:00:00:07 master sw up type veth peer name eth0 address 02:e4:a1:00:00:06 netns lp-r2",
      "ip -n lp-r2 link set eth0 up",
      "ip -n lp-r2 link set eth0 down",
      "ip -n lp link set r2-eth0 down",
      // The route via the up link is added; the one via the down link is held back.
      "ip -n lp-r2 route add 10.9.40.0/24 via 10.9.9.1",
    ])
    // The inverse of shaping is the device's default qdisc.
    let shaping = p.steps.first { $0.step.op == "set-shaping" }!
    XCTAssertEqual(shaping.inverse?.shellEquivalent, "tc -n lp qdisc del dev r1-eth0 root")
  }

  func testHeldRoutesComeFromTheUpInterfacesOnly() {
    let t = TopologyLoader.load(text: """
      topology held
      subnet a 10.9.1.0/24
      subnet b 10.9.2.0/24
      bridge s1 a
      bridge s2 b
      node g
        link s1
        link s2
      node n
        link s1 down
        link s2
        route 10.9.50.0/24 via 10.9.1.1
        route 10.9.60.0/24 via 10.9.2.1
        route 10.9.70.0/24 blackhole
      """, fileName: "held.topo").topology!
    let connected = t.upPrefixes()[.node("n")] ?? []
    XCTAssertEqual(connected.map(\.description), ["10.9.2.0/24"])
    XCTAssertEqual(t.node(named: "n")!.routes.filter { $0.isLive(connected: connected) }.map(\.text), ["10.9.60.0/24 via 10.9.2.1", "blackhole 10.9.70.0/24"])
    let routes = Planner.plan(t).steps.map(\.step.shellEquivalent).filter { $0.contains("route add") }
    XCTAssertEqual(routes, ["ip -n held-n route add 10.9.60.0/24 via 10.9.2.1", "ip -n held-n route add blackhole 10.9.70.0/24"])
  }

  /// `plan` shows each end's properties and state, and the scenarios (which `up` does not apply).
  func testPlanShowsPropertiesStatesAndScenarios() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("topologies/links.topo"), encoding: .utf8)
    let plan = Planner.plan(try XCTUnwrap(TopologyLoader.load(text: text, fileName: "links.topo").topology))
    let out = PlanText.render(plan)
    XCTAssertTrue(out.contains("    eth1   10.50.255.1/30     02:9a:ee:00:00:05  -> edge:eth1  (rate 20mbit mtu 1400)\n"), out)
    XCTAssertTrue(out.contains("    eth1   10.50.255.5/30     02:9a:ee:00:00:09  -> edge:eth2  (down)\n"), out)
    XCTAssertTrue(out.contains("  uplink-down (line 38): link core edge down, 2 expect lines\n"), out)
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    let json = String(decoding: try e.encode(PlanDocument(plan)), as: UTF8.self)
    XCTAssertTrue(json.contains(#""down":["a","b"]"#), json)
    XCTAssertTrue(json.contains(#""properties":{"mtu":1400,"rate":20000000}"#), json)
  }

  /// The state document keeps the tail and each end's state; an old document reads as all up.
  func testLinkPropertiesRoundTripAndOldDocumentsReadUp() throws {
    let link = Link(
      a: LinkEnd(owner: .node("a"), interface: "eth0", addresses: [], down: true), b: LinkEnd(owner: .bridge("sw"), interface: "a-eth0", down: true),
      properties: LinkProperties(rate: 10_000_000, delay: 20_000, jitter: 5_000, loss: 0.5, mtu: 1400))
    let data = try JSONEncoder().encode(link)
    XCTAssertEqual(try JSONDecoder().decode(Link.self, from: data), link)
    let old = #"{"a":{"owner":{"node":{"_0":"a"}},"interface":"eth0"},"b":{"owner":{"bridge":{"_0":"sw"}},"interface":"a-eth0"}}"#
    let decoded = try JSONDecoder().decode(Link.self, from: Data(old.utf8))
    XCTAssertTrue(decoded.isUp)
    XCTAssertTrue(decoded.properties.isEmpty)
    // Nothing new is written for a plain link.
    let plain = String(decoding: try JSONEncoder().encode(decoded), as: UTF8.self)
    XCTAssertFalse(plain.contains("properties") || plain.contains("down"), plain)
  }
}
