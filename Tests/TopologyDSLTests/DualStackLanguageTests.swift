import Foundation
import TopologyDSL
import TopologyModel
import XCTest

/// Every address of `owner:interface`, IPv4 first, space-separated.
private func addresses(_ t: Topology, _ owner: String, _ interface: String) -> String? {
  let o: Owner = owner == "host" ? .host : .node(owner)
  return t.ends(of: o).first { $0.interface == interface }.map { $0.addresses.map(\.description).joined(separator: " ") }
}

/// Dual-stack in the language: two subnets on a bridge, two pools on a direct link, explicit
/// addresses of both families, `route default via NODE` per family, `expect … ipv4|ipv6`.
final class DualStackLanguageTests: XCTestCase {
  /// The reference file of issue 15, resolved in full: every interface, address, route and
  /// expectation.
  func testReferenceDualStackResolvesExactly() throws {
    let text = try String(contentsOfFile: repoFile("topologies/dual-stack.topo"), encoding: .utf8)
    let t = model(text)
    XCTAssertEqual(t.name, "ds")
    XCTAssertEqual(t.bridges.map { "\($0.name):\($0.subnets.joined(separator: ","))" }, ["sw1:office,office6", "sw2:srv,srv6", "sw3:lab6"])
    XCTAssertEqual(t.nodes.map(\.name), ["r1", "r2", "h1", "h2", "web", "v6only"])
    XCTAssertEqual(interfaces(t, "r1"), ["eth0", "eth1", "eth2"])
    XCTAssertEqual(interfaces(t, "r2"), ["eth1", "eth0"])
    XCTAssertEqual(addresses(t, "r1", "eth0"), "10.20.1.1/24 fd00:20:1::1/64")
    XCTAssertEqual(addresses(t, "r1", "eth1"), "10.20.2.1/24 fd00:20:2::1/64")
    XCTAssertEqual(addresses(t, "r1", "eth2"), "fd00:20:ff00::1/64")
    XCTAssertEqual(addresses(t, "r2", "eth1"), "fd00:20:ff00::2/64")
    XCTAssertEqual(addresses(t, "r2", "eth0"), "fd00:20:3::1/64")
    XCTAssertEqual(addresses(t, "h1", "eth0"), "10.20.1.2/24 fd00:20:1::2/64")
    XCTAssertEqual(addresses(t, "h2", "eth0"), "10.20.1.3/24 fd00:20:1::3/64")
    XCTAssertEqual(addresses(t, "web", "eth0"), "10.20.2.10/24 fd00:20:2::10/64")
    XCTAssertEqual(addresses(t, "v6only", "eth0"), "fd00:20:3::2/64")
    // Bridge ports and the links' subnets.
    XCTAssertEqual(t.links.map(\.b.interface), ["r1-eth0", "r1-eth1", "eth1", "r2-eth0", "h1-eth0", "h2-eth0", "web-eth0", "v6only-eth0"])
    XCTAssertEqual(t.links.map { $0.subnets.joined(separator: ",") },
      ["office,office6", "srv,srv6", "core6", "lab6", "office,office6", "office,office6", "srv,srv6", "lab6"])
    func routes(_ n: String) -> [String] { t.node(named: n)!.routes.map(\.text) }
    XCTAssertEqual(routes("r1"), ["fd00:20:3::/64 via fd00:20:ff00::2"])
    XCTAssertEqual(routes("r2"), ["fd00:20:1::/64 via fd00:20:ff00::1", "fd00:20:2::/64 via fd00:20:ff00::1"])
    XCTAssertEqual(routes("h1"), ["default via 10.20.1.1", "::/0 via fd00:20:1::1"])
    XCTAssertEqual(routes("h2"), ["default via 10.20.1.1", "::/0 via fd00:20:1::1"])
    XCTAssertEqual(routes("web"), ["default via 10.20.2.1", "::/0 via fd00:20:2::1"])
    XCTAssertEqual(routes("v6only"), ["::/0 via fd00:20:3::1"])
    XCTAssertEqual(t.nodes.filter(\.forward).map(\.name), ["r1", "r2"])
    XCTAssertEqual(t.expectations, [
      Expectation(sources: ["h1", "h2"], targets: ["web"], outcome: .reach, line: 31),
      Expectation(sources: ["h1"], targets: ["v6only"], outcome: .reach, line: 32),
    ])
  }

  func testDualStackPointToPointAndHostEnds() {
    let t = model("""
      subnet core4 10.30.0.0/24 /31
      subnet core6 fd00:30::/56 /127
      node r1
        link r2 core4 core6
        link r2 eth7 core6
      node r2
      link host:ds0 10.20.9.1/30 fd00:20:9::1/64 -- r1:eth9 10.20.9.2/30 fd00:20:9::2/64
      """)
    XCTAssertEqual(addresses(t, "r1", "eth0"), "10.30.0.0/31 fd00:30::/127")
    XCTAssertEqual(addresses(t, "r2", "eth0"), "10.30.0.1/31 fd00:30::1/127")
    XCTAssertEqual(addresses(t, "r1", "eth7"), "fd00:30::2/127")
    XCTAssertEqual(addresses(t, "r2", "eth1"), "fd00:30::3/127")
    XCTAssertEqual(addresses(t, "host", "ds0"), "10.20.9.1/30 fd00:20:9::1/64")
    XCTAssertEqual(addresses(t, "r1", "eth9"), "10.20.9.2/30 fd00:20:9::2/64")
  }

  /// An explicit address of one family leaves the other automatic; an interface name, then both.
  func testExplicitAddressOfOneFamily() {
    let t = model("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      bridge sw lan lan6
      node a
        link sw fd00:1::a
      node b
        link sw 10.0.1.9
      node c
        link sw eth5 10.0.1.7 fd00:1::7
      node d
        link sw eth2
      """)
    XCTAssertEqual(addresses(t, "a", "eth0"), "10.0.1.1/24 fd00:1::a/64")
    XCTAssertEqual(addresses(t, "b", "eth0"), "10.0.1.9/24 fd00:1::1/64")
    XCTAssertEqual(addresses(t, "c", "eth5"), "10.0.1.7/24 fd00:1::7/64")
    XCTAssertEqual(addresses(t, "d", "eth2"), "10.0.1.2/24 fd00:1::2/64")
  }

  /// `default` per family: via an address, its family; blackhole, the families the node has.
  func testDefaultRoutesPerFamily() {
    let t = model("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      subnet only6 fd00:2::/64
      bridge sw lan lan6
      bridge sw6 only6
      node r
        link sw
        link sw6
      node a
        link sw
        route default via fd00:1::1
      node b
        link sw6
        route default via r
      node c
        link sw
        route default blackhole
      node d
        route default unreachable
      """)
    XCTAssertEqual(t.node(named: "a")!.routes.map(\.text), ["::/0 via fd00:1::1"])
    XCTAssertEqual(t.node(named: "b")!.routes.map(\.text), ["::/0 via fd00:2::1"])
    XCTAssertEqual(t.node(named: "c")!.routes.map(\.text), ["blackhole default", "blackhole ::/0"])
    XCTAssertEqual(t.node(named: "d")!.routes.map(\.text), ["unreachable default"])
  }

  func testExpectFamilies() {
    let t = model("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      bridge sw lan lan6
      node a
        link sw
      node b
        link sw
      expect a -> b ipv6 reach
      expect a -> b ipv4 udp 53 blocked
      expect b -> a tcp 80 reach
      """)
    XCTAssertEqual(t.expectations.map(\.family), [.ipv6, .ipv4, nil])
    XCTAssertEqual(t.expectations.map(\.proto), [.tcp, .udp, .tcp])
    XCTAssertEqual(t.expectations.map(\.port), [nil, 53, 80])
  }

  /// A line without a family, overridden for one family by a later line, decides the other.
  func testExpectationIndexPerFamily() {
    let t = model("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      bridge sw lan lan6
      node a
        link sw
      node b
        link sw
      expect a -> b reach
      expect a -> b ipv6 blocked
      """)
    let rules = ExpectationIndex(t.expectations, defaultPort: 4444)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 4444, family: .ipv4)?.outcome, .reach)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 4444, family: .ipv6)?.outcome, .blocked)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 4444, family: nil)?.line, 8)
    XCTAssertEqual(t.expectedPairs().map { "\($0.family?.rawValue ?? "all") \($0.outcome) \($0.line)" }, ["ipv4 reach 8", "ipv6 blocked 9"])
  }

  /// Every IPv4 check for IPv6 too, and the dual-stack ones, all at once.
  func testDualStackDiagnostics() {
    let text = """
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      subnet lanb 10.0.2.0/24
      subnet other6 fd00:2::/64
      subnet p2p6 fd00:9::/56
      subnet p2p6b fd00:a::/56
      subnet tiny6 fd00:b::/126
      bridge sw lan lan6
      bridge sw2 lanb lan
      bridge sw3 other6 lan6
      bridge sw4 tiny6
      node a
        link sw 10.0.1.5 10.0.1.6
        link b p2p6 p2p6b
        route fd00:7::/64 via 10.0.1.1
        route default via fd00:5::1
      node b
        link sw fd00:1::
        link sw lanb
      node c
        link sw fd00:3::1
        link sw 10.0.1.77 fd00:1::77/48
      node v4
        link sw2
      node t[1..4]
        link sw4
      expect a -> v4 ipv6 reach
      expect a -> b ip6 reach
      expect a -> b ip6 tcp 80 reach
      expect v4 -> a ipv4 reach

      """
    XCTAssertEqual(rendered(text), #"""
      test.topo:6:8: warning: subnet 'p2p6b' is never used
       6 | subnet p2p6b fd00:a::/56
         |        ^~~~~
      test.topo:9:17: error: bridge 'sw2' already has an IPv4 subnet, 'lanb' (10.0.2.0/24)
       9 | bridge sw2 lanb lan
         |                 ^~~
         = hint: a bridge takes at most one subnet per family: one IPv4 and one IPv6 for a dual-stack LAN
      test.topo:10:8: warning: bridge 'sw3' has no ports
       10 | bridge sw3 other6 lan6
          |        ^~~
          = hint: link a node to it: `link sw3` in a node body
      test.topo:10:19: error: bridge 'sw3' already has an IPv6 subnet, 'other6' (fd00:2::/64)
       10 | bridge sw3 other6 lan6
          |                   ^~~~
          = hint: a bridge takes at most one subnet per family: one IPv4 and one IPv6 for a dual-stack LAN
      test.topo:13:20: error: a second IPv4 address for one interface
       13 |   link sw 10.0.1.5 10.0.1.6
          |                    ^~~~~~~~
          = hint: an interface takes at most one address per family: one IPv4 and one IPv6 (first: '10.0.1.5')
      test.topo:14:15: error: a second IPv6 subnet for one interface
       14 |   link b p2p6 p2p6b
          |               ^~~~~
          = hint: an interface takes at most one address per family: one IPv4 and one IPv6 (first: 'p2p6')
      test.topo:15:25: error: next hop 10.0.1.1 is IPv4, but fd00:7::/64 is IPv6
       15 |   route fd00:7::/64 via 10.0.1.1
          |                         ^~~~~~~~
          = hint: a route's gateway is of its destination's family
      test.topo:16:21: error: next hop fd00:5::1 is not on any subnet of 'a'
       16 |   route default via fd00:5::1
          |                     ^~~~~~~~~
          = hint: 'a' has no address
      test.topo:18:11: error: fd00:1:: is the subnet-router anycast address of fd00:1::/64
       18 |   link sw fd00:1::
          |           ^~~~~~~~
          = hint: choose a host address between fd00:1::1 and fd00:1::ffff:ffff:ffff:ffff
      test.topo:19:11: error: bridge 'sw' takes its addresses from 'lan' and 'lan6', not 'lanb'
       19 |   link sw lanb
          |           ^~~~
          = hint: give an address, or nothing for the next free one
      test.topo:21:11: error: address fd00:3::1 is outside subnet 'lan6' (fd00:1::/64)
       21 |   link sw fd00:3::1
          |           ^~~~~~~~~
          = hint: bridge 'sw' takes addresses from fd00:1::/64
      test.topo:22:21: error: prefix length /48 differs from subnet 'lan6' (fd00:1::/64)
       22 |   link sw 10.0.1.77 fd00:1::77/48
          |                     ^~~~~~~~~~~~~
          = hint: write fd00:1::77 alone: the length comes from the subnet
      test.topo:26:8: error: subnet 'tiny6' (fd00:b::/126) has no free address left for t4:eth0
       26 |   link sw4
          |        ^~~
          = note: in node 't4' from 't[1..4]'
          = hint: use a larger prefix for 'tiny6'
      test.topo:27:16: error: expect ipv6: source 'a' has no IPv6 address
       27 | expect a -> v4 ipv6 reach
          |                ^~~~
          = hint: give 'a' an IPv6 address, or drop 'ipv6' to check the families both ends have
      test.topo:28:15: error: unknown protocol 'ip6'
       28 | expect a -> b ip6 reach
          |               ^~~
          = hint: did you mean 'ipv6'?
      test.topo:29:15: error: unknown address family 'ip6'
       29 | expect a -> b ip6 tcp 80 reach
          |               ^~~
          = hint: did you mean 'ipv6'?
      test.topo:30:16: error: expect ipv4: target 'a' has no IPv4 address
       30 | expect v4 -> a ipv4 reach
          |                ^~~~
          = hint: give 'a' an IPv4 address, or drop 'ipv4' to check the families both ends have
      test.topo: 15 errors, 2 warnings

      """#)
  }

  /// A pool as wide as the family: the cursors never pass 2^128 (found by the fuzzer).
  func testWholeFamilyPools() {
    let t = model("""
      subnet all ::/0
      bridge s all
      node a
        link s
      node b
        link s
      """)
    XCTAssertEqual(address(t, "a", "eth0"), "::1/0")
    XCTAssertEqual(address(t, "b", "eth0"), "::2/0")
    XCTAssertTrue(load("subnet office ::/0 10.20.1.0/24\nsubnet p ::/0 /127\nnode a\n  link b p\nnode b\n").diagnostics.hasErrors)
  }
}
