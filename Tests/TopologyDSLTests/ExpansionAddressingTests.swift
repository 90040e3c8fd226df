import TopologyDSL
import TopologyModel
import XCTest

final class ExpansionAddressingTests: XCTestCase {
  func testRangesExpandNamesAndSubstituteIndex() {
    let t = model("""
      subnet lan[2..3] 10.10.$i.0/24
      bridge s[2..3] lan$i
      node h[2..3]
        link s$i
      """)
    XCTAssertEqual(t.subnets.map(\.prefix.description), ["10.10.2.0/24", "10.10.3.0/24"])
    XCTAssertEqual(t.bridges.map(\.subnets), [["lan2"], ["lan3"]])
    XCTAssertEqual(t.nodes.map(\.name), ["h2", "h3"])
    XCTAssertEqual(t.links.map(\.bridge), ["s2", "s3"])
    XCTAssertEqual(address(t, "h3", "eth0"), "10.10.3.1/24")
  }

  func testTwoDimensionalRangesAndLineRanges() {
    let t = model("""
      subnet rack[1..2] 10.1.$i.0/24
      bridge tor[1..2] rack$i
      node h[1..2]-[1..3]
        link tor$i
      node r
        link tor[1..2]
      """)
    XCTAssertEqual(t.nodes.map(\.name), ["h1-1", "h1-2", "h1-3", "h2-1", "h2-2", "h2-3", "r"])
    XCTAssertEqual(address(t, "h2-3", "eth0"), "10.1.2.3/24")
    XCTAssertEqual(interfaces(t, "r"), ["eth0", "eth1"])
    XCTAssertEqual(address(t, "r", "eth1"), "10.1.2.4/24")
  }

  func testZeroPaddedRange() {
    let t = model("node h[08..10]\n")
    XCTAssertEqual(t.nodes.map(\.name), ["h08", "h09", "h10"])
  }

  func testAutoAddressingSkipsExplicitNetworkAndBroadcast() {
    let t = model("""
      subnet lan 10.0.0.0/29
      bridge s lan
      node a
        link s
      node b
        link s 10.0.0.2
      node c[1..4]
        link s
      """)
    // Usable: .1-.6; .2 is explicit even though declared later.
    XCTAssertEqual(address(t, "a", "eth0"), "10.0.0.1/29")
    XCTAssertEqual(address(t, "b", "eth0"), "10.0.0.2/29")
    XCTAssertEqual((1...4).map { address(t, "c\($0)", "eth0") }, ["10.0.0.3/29", "10.0.0.4/29", "10.0.0.5/29", "10.0.0.6/29"])
  }

  func testExhaustedSubnet() {
    XCTAssertEqual(rendered("""
      subnet lan 10.0.0.0/30
      bridge s lan
      node h[1..3]
        link s
      """), """
      test.topo:4:8: error: subnet 'lan' (10.0.0.0/30) has no free address left for h3:eth0
       4 |   link s
         |        ^
         = note: in node 'h3' from 'h[1..3]'
         = hint: use a larger prefix for 'lan'
      test.topo: 1 error

      """)
  }

  func testPointToPointPoolsCarveBlocks() {
    let t = model("""
      subnet p2p 10.20.0.0/29
      subnet p31 10.30.0.0/30 /31
      node a
        link b p2p
        link b p31
        link c p2p
      node b
      node c
      """)
    XCTAssertEqual(address(t, "a", "eth0"), "10.20.0.1/30")
    XCTAssertEqual(address(t, "b", "eth0"), "10.20.0.2/30")
    XCTAssertEqual(address(t, "a", "eth1"), "10.30.0.0/31")
    XCTAssertEqual(address(t, "b", "eth1"), "10.30.0.1/31")
    XCTAssertEqual(address(t, "a", "eth2"), "10.20.0.5/30")
    XCTAssertEqual(address(t, "c", "eth0"), "10.20.0.6/30")
  }

  func testDirectLinkWithoutPoolIsUnnumbered() {
    let t = model("node a\n  link b\nnode b\n")
    XCTAssertNil(address(t, "a", "eth0"))
    XCTAssertNil(address(t, "b", "eth0"))
  }

  func testViaResolvesToTheSharedSubnetAddress() {
    let t = model("""
      subnet l1 10.0.1.0/24
      subnet l2 10.0.2.0/24
      bridge s1 l1
      bridge s2 l2
      node r
        link s1 eth0 10.0.1.254
        link s2 eth1 10.0.2.254
      node a
        link s2
        route 10.0.1.0/24 via r
        route 10.9.0.0/16 via 10.0.2.254
        route 10.8.0.0/16 blackhole
      """)
    let a = t.node(named: "a")!
    XCTAssertEqual(a.routes[0].nextHop, .gateway(IPAddress("10.0.2.254")!, node: "r"))
    XCTAssertEqual(a.routes[1].nextHop, .gateway(IPAddress("10.0.2.254")!, node: nil))
    XCTAssertEqual(a.routes[2].nextHop, .blackhole)
  }

  func testExpectationsOverrideAndExpand() {
    let t = model("""
      node a
        link b
      node b
      node c
      expect * -> * reach
      expect a -> c udp 53 blocked
      expect a -> c blocked
      """)
    let pairs = t.expectedPairs()
    XCTAssertEqual(pairs.count, 7)
    XCTAssertEqual(pairs.filter { $0.outcome == .blocked }.map { "\($0.source)>\($0.target) \($0.proto) \($0.port ?? 0)" },
      ["a>c tcp 0", "a>c udp 53"])
  }

  func testChrootIsResolvedAgainstTheFileFolder() {
    let r = TopologyLoader.load(text: "node a\n  chroot ../rootfs\n", fileName: "x.topo", options: LoadOptions(directory: "/srv/topo"))
    XCTAssertEqual(r.topology?.nodes[0].chroot, "/srv/rootfs")
  }

  /// 10,000 nodes, on ten bridges (a bridge takes at most 1,023 ports).
  func testStar10000ParsesWithinTheNodeLimit() {
    let r = load("subnet lan[1..10] 10.$i.0.0/16\nbridge sw[1..10] lan$i\nnode h[1..10]x[1..1000]\n  link sw$i\n")
    XCTAssertEqual(r.topology?.nodes.count, 10000, r.rendered)
    guard let t = r.topology else { return }
    XCTAssertEqual(address(t, "h10x1000", "eth0"), "10.10.3.232/16")
  }
}
