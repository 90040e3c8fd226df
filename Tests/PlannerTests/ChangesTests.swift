import Planner
import TopologyDSL
import TopologyModel
import XCTest

/// Changes at run time, without a kernel: which links a change names (and the errors when it
/// names none, or more than one), the topology it leaves, and its steps with their inverses.
final class ChangesTests: XCTestCase {
  private let text = """
    topology ch
    subnet lan 10.9.1.0/24
    subnet lan6 fd00:9:1::/64
    subnet p2p 10.9.9.0/24
    bridge sw lan lan6
    node r1
      forward
      link sw
      link r2 p2p
      link r2 p2p rate 1mbit
    node r2
      route 10.9.1.0/24 via 10.9.9.1
      route 10.9.70.0/24 via 10.9.9.5
    node h
      link sw
      route default via r1
    """

  private var t: Topology { TopologyLoader.load(text: text, fileName: "ch.topo").topology! }

  func testSelectingLinks() throws {
    let t = self.t
    XCTAssertEqual(try t.selectLinks(EndName("h"), EndName("sw")).map { t.links[$0].text }, ["h:eth0 -- sw:h-eth0"])
    XCTAssertEqual(try t.selectLinks(EndName("sw"), EndName("h")).count, 1)
    XCTAssertEqual(try t.selectLinks(EndName("r1:eth2"), EndName("r2")).map { t.links[$0].text }, ["r1:eth2 -- r2:eth1"])
    XCTAssertThrowsError(try t.selectLinks(EndName("r1"), EndName("r2"))) { e in
      XCTAssertEqual("\(e)", "r1 and r2 share 2 links (name one end: r1:eth1 or r1:eth2)")
    }
    XCTAssertThrowsError(try t.selectLinks(EndName("r3"), EndName("r2"))) { e in
      XCTAssertEqual("\(e)", "no node, bridge or host 'r3' in topology ch (did you mean 'r1'?)")
    }
    XCTAssertThrowsError(try t.selectLinks(EndName("h"), EndName("r2"))) { e in
      XCTAssertEqual("\(e)", "there is no link between h and r2 (h links to sw)")
    }
    XCTAssertThrowsError(try t.selectLinks(EndName("r1:eth9"), EndName("r2"))) { e in
      XCTAssertEqual("\(e)", "no link between r1:eth9 and r2 (the links between them: r1:eth1 -- r2:eth0, r1:eth2 -- r2:eth1)")
    }
    XCTAssertEqual(try t.links(of: "r1").count, 3)
    XCTAssertThrowsError(try t.links(of: "r9")) { XCTAssertEqual("\($0)", "no node 'r9' in topology ch (did you mean 'r1'?)") }
  }

  func testSetMergesAndClearEmpties() throws {
    let t = self.t
    let k = try t.selectLinks(EndName("r1:eth2"), EndName("r2"))
    let set = t.applying(.set(LinkProperties(delay: 5_000, mtu: 1400)), to: k)
    XCTAssertEqual(set.links[k[0]].properties, LinkProperties(rate: 1_000_000, delay: 5_000, mtu: 1400))
    XCTAssertEqual(set.applying(.clear, to: k).links[k[0]].properties, LinkProperties())
    let down = t.applying(.down, to: k)
    XCTAssertEqual([down.links[k[0]].a.down, down.links[k[0]].b.down], [true, true])
    XCTAssertEqual(down.applying(.up, to: k), t)
  }

  /// Down: the routes that go with the link deleted first (so that the inverse re-adds them),
  /// IPv6 told to keep its addresses, then both ends down. Up: the reverse.
  func testStepsAndTheirInverses() throws {
    let t = self.t
    let names = KernelNames(topology: "ch")
    let k = try t.selectLinks(EndName("r1:eth1"), EndName("r2"))
    let down = t.applying(.down, to: k)
    let steps = Changes.steps(from: t, to: down, names: names)
    XCTAssertEqual(steps.map(\.step.shellEquivalent), [
      "ip -n ch-r2 route del 10.9.1.0/24 via 10.9.9.1",
      "ip -n ch-r1 link set eth1 down",
      "ip -n ch-r2 link set eth0 down",
    ])
    XCTAssertEqual(steps.map { $0.inverse?.shellEquivalent }, [
      "ip -n ch-r2 route add 10.9.1.0/24 via 10.9.9.1",
      "ip -n ch-r1 link set eth1 up",
      "ip -n ch-r2 link set eth0 up",
    ])
    XCTAssertEqual(Changes.steps(from: down, to: t, names: names).map(\.step.shellEquivalent), [
      "ip -n ch-r1 link set eth1 up",
      "ip -n ch-r2 link set eth0 up",
      "ip -n ch-r2 route add 10.9.1.0/24 via 10.9.9.1",
    ])
    // A dual-stack end keeps its IPv6 addresses when it goes down; its default routes of
    // both families go first.
    let lan = try t.selectLinks(EndName("h"), EndName("sw"))
    XCTAssertEqual(Changes.steps(from: t, to: t.applying(.down, to: lan), names: names).map(\.step.shellEquivalent), [
      "ip -n ch-h route del default via 10.9.1.1",
      "ip -n ch-h route del ::/0 via fd00:9:1::1",
      "ip netns exec ch-h sysctl -w net.ipv6.conf.eth0.keep_addr_on_down=1",
      "ip -n ch-h link set eth0 down",
      "ip -n ch link set h-eth0 down",
    ])
    // Shaping replaced, and restored by the inverse; an MTU set and set back.
    let slow = try t.selectLinks(EndName("r1:eth2"), EndName("r2"))
    let changed = t.applying(.set(LinkProperties(rate: 2_000_000, mtu: 1400)), to: slow)
    let s = Changes.steps(from: t, to: changed, names: names)
    XCTAssertEqual(s.map(\.step.shellEquivalent), [
      "ip -n ch-r1 link set eth2 mtu 1400",
      "tc -n ch-r1 qdisc replace dev eth2 root handle 1: tbf rate 2mbit burst 2828 limit 35596",
      "ip -n ch-r2 link set eth1 mtu 1400",
      "tc -n ch-r2 qdisc replace dev eth1 root handle 1: tbf rate 2mbit burst 2828 limit 35596",
    ])
    XCTAssertEqual(s.map { $0.inverse?.shellEquivalent }, [
      "ip -n ch-r1 link set eth2 mtu 1500",
      "tc -n ch-r1 qdisc replace dev eth2 root handle 1: tbf rate 1mbit burst 3028 limit 35796",
      "ip -n ch-r2 link set eth1 mtu 1500",
      "tc -n ch-r2 qdisc replace dev eth1 root handle 1: tbf rate 1mbit burst 3028 limit 35796",
    ])
    XCTAssertEqual(Changes.steps(from: t, to: t.applying(.clear, to: slow), names: names).map(\.step.shellEquivalent), [
      "tc -n ch-r1 qdisc del dev eth2 root",
      "tc -n ch-r2 qdisc del dev eth1 root",
    ])
    XCTAssertEqual(Changes.steps(from: t, to: t, names: names), [])
  }

  func testPropertiesOnTheCommandLine() {
    let ok = LinkTailReader.read(["rate", "10mbit", "loss", "0.5%"], command: "nstopo link lab r1 r2 set")
    XCTAssertEqual(ok.properties, LinkProperties(rate: 10_000_000, loss: 0.5))
    let bad = LinkTailReader.read(["rate", "10mbps", "dealy", "5ms"], command: "nstopo link lab r1 r2 set")
    XCTAssertNil(bad.properties)
    XCTAssertEqual(bad.problems, """
      nstopo link lab r1 r2 set:1:6: error: tc reads 'mbps' as bytes per second
       1 | rate 10mbps dealy 5ms
         |      ^~~~~~
         = hint: write 80mbit for 10mbps, or use a bit unit: kbit, mbit, gbit
      nstopo link lab r1 r2 set:1:13: error: unexpected 'dealy' in the link's properties
       1 | rate 10mbps dealy 5ms
         |             ^~~~~
         = hint: did you mean 'delay'?
      nstopo link lab r1 r2 set:1:19: error: unexpected '5ms' in the link's properties
       1 | rate 10mbps dealy 5ms
         |                   ^~~
         = hint: a link's properties are: rate RATE, delay TIME, jitter TIME, loss PERCENT%, mtu BYTES, down
      nstopo link lab r1 r2 set: 3 errors

      """)
  }
}
