import Foundation
import Glibc
import Netlink
import Planner
import Realizer
import TopologyModel
import XCTest

/// What a user's own IPv6 traffic gets right after `up`, without the permanent neighbour
/// entries that `test` installs: the kernel must resolve every next hop itself. `test` used
/// to report these pairs reached while an `exec curl` over IPv6 failed.
final class NeighbourDiscoveryTests: KernelTestCase {
  /// A node behind `firewall input drop` (and one behind `firewall output drop`) still
  /// answers and sends neighbour solicitations: before, IPv6 failed with EHOSTUNREACH after
  /// 3 s while IPv4 reached.
  func testFirewalledNodesResolveOverIPv6() throws {
    let t = topology("""
      subnet lan 10.71.0.0/24
      subnet lan6 fd00:71::/64
      bridge sw lan lan6
      node a
        link sw
      node b
        link sw
        firewall input drop
        allow input tcp 4444
      node c
        link sw
        firewall output drop
        allow output tcp 4444
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    let address = { (n: String) in t.ends(of: .node(n))[0].address(.ipv6)!.address.description }
    let address4 = { (n: String) in t.ends(of: .node(n))[0].address(.ipv4)!.address.description }
    var listeners: [Int32] = []
    defer { listeners.forEach { close($0) } }
    for n in ["a", "b"] { listeners.append(try listen(in: names.namespace(node: n), port: 4444)) }
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: address("b"), port: 4444, timeout: 5), 0, "a -> b over IPv6")
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "c"), to: address("a"), port: 4444, timeout: 5), 0, "c -> a over IPv6")
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: address4("b"), port: 4444, timeout: 5), 0, "a -> b over IPv4")
  }

  /// A routed IPv6 pair right after `up`: the router forwards a packet whose source is not
  /// its own, so it needs a link-local address to solicit the next hop from.
  func testRoutedIPv6WorksWithoutTheTestsNeighbourEntries() throws {
    let t = topology("""
      subnet l1 fd00:72:1::/64
      subnet l2 fd00:72:2::/64
      bridge s1 l1
      bridge s2 l2
      node r
        forward
        link s1
        link s2
      node a
        link s1
        route default via r
      node b
        link s2
        route default via r
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    let listener = try listen(in: names.namespace(node: "b"), port: 4444)
    defer { close(listener) }
    let b = t.ends(of: .node("b"))[0].address(.ipv6)!.address.description
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: b, port: 4444, timeout: 5), 0, "a -> b through r over IPv6")
  }
}
