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
    for n in ["a", "b"] { listeners.append(try listen(in: names.namespace(node: n), port: 4444, bothFamilies: true)) }
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: address("b"), port: 4444, timeout: 5), 0, "a -> b over IPv6")
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "c"), to: address("a"), port: 4444, timeout: 5), 0, "c -> a over IPv6")
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: address4("b"), port: 4444, timeout: 5), 0, "a -> b over IPv4")
  }

  /// `test`'s permanent entries cannot hide broken neighbour resolution: with neighbour
  /// discovery dropped in b by a table of someone else's, the pairs still reach under the entries, and
  /// the look without them turns them into mismatches with the reason.
  func testTheNeighbourEntriesCannotChangeAVerdict() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet lan6 fd00:73::/64
      bridge sw lan6
      node a
        link sw
      node b
        link sw
      """)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    var (code, out, err) = try runNstopo(binary, ["test", name, "--no-color"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("neighbour resolution: 2 reached pairs probed again without test's permanent neighbour entries"), out)
    XCTAssertTrue(out.contains("the kernel resolves every next hop itself"), out)
    let ns = KernelNames(topology: name).namespace(node: "b")
    let (nftCode, _, nftErr) = try runProcess(
      "/usr/sbin/ip", ["netns", "exec", ns, "nft", "add table ip6 foreign; add chain ip6 foreign in { type filter hook input priority -10; policy accept; }; add chain ip6 foreign out { type filter hook output priority -10; policy accept; }; add rule ip6 foreign in icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop; add rule ip6 foreign out icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop"])
    XCTAssertEqual(nftCode, 0, nftErr)
    (code, out, err) = try runNstopo(binary, ["test", name, "--no-color", "--json", "-"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("reached only with test's permanent neighbour entries: without them the kernel's own neighbour resolution gives timed-out"), out)
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
    let listener = try listen(in: names.namespace(node: "b"), port: 4444, bothFamilies: true)
    defer { close(listener) }
    let b = t.ends(of: .node("b"))[0].address(.ipv6)!.address.description
    XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: b, port: 4444, timeout: 5), 0, "a -> b through r over IPv6")
  }
}
