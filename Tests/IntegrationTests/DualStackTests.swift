import Foundation
import Glibc
import Matrix
import Netlink
import Planner
import Predict
import Probe
import Realizer
import TopologyModel
import XCTest

/// Dual-stack on the real kernel: the reference file built, read back and measured equal to
/// the model in both families; LANs without forwarding, reject routes, a missing way back, a
/// dual-stack host end, and rollback at every step.
final class DualStackTests: KernelTestCase {
  /// Outcomes of the probes of `set` by (source, target, family).
  private func byPair(_ set: ProbeSet, _ measured: [Outcome]) -> [String: Outcome] {
    var out: [String: Outcome] = [:]
    for (i, p) in set.probes.enumerated() where p.proto == .tcp {
      let key = "\(set.endpoints[Int(p.source)].name)>\(set.endpoints[Int(p.target)].name)/\(set.address(of: p).family.rawValue)"
      out[key] = measured[i]
    }
    return out
  }

  func testReferenceDualStackBuiltReadBackAndExact() throws {
    let t = try example("dual-stack", rootfs: "/")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    do {
      defer { _ = try? Lifecycle.down(t.name) }
      // Read back: every address, route and forwarding switch of both families is the plan's.
      let reading = KernelView.read(plan)
      for n in t.nodes {
        XCTAssertEqual(reading.differences(from: t, for: .node(n.name)), [], n.name)
        XCTAssertEqual(Set(reading.topology.node(named: n.name)!.routes.map(\.text)), Set(n.routes.map(\.text)), n.name)
      }
      XCTAssertEqual(reading.topology.links.map { $0.a.addresses + $0.b.addresses }, t.links.map { $0.a.addresses + $0.b.addresses })
      // Forwarding is on for both families in r1 and r2 only.
      for n in t.nodes {
        let r = reading.owners[.node(n.name)]!
        XCTAssertEqual(r.forward, n.forward, n.name)
        XCTAssertEqual(r.forward6, n.forward, n.name)
      }
    }
    let (set, measured) = try measure(t)
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    let got = byPair(set, measured)
    let v4 = ["r1", "h1", "h2", "web"]
    let all = v4 + ["r2", "v6only"]
    for s in all {
      for d in all where d != s {
        XCTAssertEqual(got["\(s)>\(d)/ipv6"], .reached, "\(s) -> \(d) over IPv6")
        XCTAssertEqual(got["\(s)>\(d)/ipv4"], v4.contains(s) && v4.contains(d) ? .reached : nil, "\(s) -> \(d) over IPv4")
      }
    }
    // TCP, UDP and ICMP echo, both families: 12 + 30 pairs each.
    XCTAssertEqual(set.probes.count, 126)
  }

  /// Without `forward`, a dual-stack router joins two LANs in neither family.
  func testTwoDualStackLANsWithoutForwardBlockBothFamilies() throws {
    let t = topology("""
      subnet a 10.61.1.0/24
      subnet a6 fd00:61:1::/64
      subnet b 10.61.2.0/24
      subnet b6 fd00:61:2::/64
      bridge s1 a a6
      bridge s2 b b6
      node r
        link s1
        link s2
      node h[1..2]
        link s1
        route default via r
      node t[1..2]
        link s2
        route default via r
      """)
    let (set, measured) = try measure(t)
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    let got = byPair(set, measured)
    for f in ["ipv4", "ipv6"] {
      XCTAssertEqual(got["h1>h2/\(f)"], .reached)
      XCTAssertEqual(got["h1>r/\(f)"], .reached)
      for (s, d) in [("h1", "t1"), ("h2", "t2"), ("t1", "h2")] {
        XCTAssertEqual(got["\(s)>\(d)/\(f)"], .timedOut, "\(s) -> \(d) over \(f)")
      }
    }
  }

  /// IPv6 reject routes next to IPv4 ones, at a router and at a node without forwarding (an
  /// IPv6 prohibit route answers there too), an IPv6-only node beside IPv4-only ones.
  func testIPv6RejectRoutesAndSingleFamilyNeighbours() throws {
    let t = topology("""
      subnet a 10.62.1.0/24
      subnet a6 fd00:62:1::/64
      subnet b6 fd00:62:2::/64
      subnet c 10.62.3.0/24
      bridge s1 a a6
      bridge s2 b6
      bridge s3 c
      node h
        link s1
        route default via r
      node r
        forward
        link s1
        link s2
        link s3
        route fd00:62:70::/64 prohibit
        route fd00:62:71::/64 blackhole
        route 10.62.70.0/24 prohibit
      node n
        link s1
        route fd00:62:72::/64 prohibit
        route fd00:62:73::/64 unreachable
      node v6only
        link s2
        route ::/0 via r
      node v4only[1..2]
        link s3
        route default via r
      """)
    let extra = [("h", "fd00:62:70::1"), ("h", "fd00:62:71::1"), ("h", "10.62.70.1")]
    let (set, measured) = try measure(t, extra: extra)
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    // h's probes through n: a route of h's own to n for the two prefixes makes n the router.
    let t2 = topology("""
      subnet a 10.63.1.0/24
      subnet a6 fd00:63:1::/64
      bridge s1 a a6
      node h
        link s1
        route fd00:63:72::/64 via n
        route fd00:63:73::/64 via n
      node n
        link s1
        route fd00:63:72::/64 prohibit
        route fd00:63:73::/64 unreachable
      """)
    let (set2, measured2) = try measure(t2, extra: [("h", "fd00:63:72::1"), ("h", "fd00:63:73::1")])
    XCTAssertEqual(differences(t2, set2, measured2).map(\.description), [])
    let udpProhibited = set2.probes.indices.filter {
      set2.probes[$0].proto == .udp && set2.address(of: set2.probes[$0]) == IPAddress("fd00:63:72::1")
    }
    XCTAssertEqual(udpProhibited.map { measured2[$0] }, [.prohibited], "UDP to an IPv6 prohibit route of a node without forwarding")
    let v6only = set.endpoints.firstIndex { $0.name == "v6only" }!
    let v4only = set.endpoints.firstIndex { $0.name == "v4only1" }!
    XCTAssertTrue(set.unaddressed.contains { $0.source == Int32(v6only) && $0.target == Int32(v4only) })
  }

  /// A missing IPv6 return route: the model names it, `why` names it in the kernel, and the
  /// IPv4 way back of the same pair still works.
  func testMissingIPv6ReturnRouteIsNamed() throws {
    let name = uniqueName()
    let text = """
      topology \(name)
      subnet a 10.64.1.0/24
      subnet a6 fd00:64:1::/64
      subnet b 10.64.2.0/24
      subnet b6 fd00:64:2::/64
      bridge s1 a a6
      bridge s2 b b6
      node r
        forward
        link s1
        link s2
      node h
        link s1
        route default via r
      node t
        link s2
        route default via 10.64.2.1

      """
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    var (code, out, err) = try runNstopo(binary, ["why", name, "h", "t", "--address", "fd00:64:2::2"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("stops: t has no route back to fd00:64:1::/64"), out)
    (code, out, err) = try runNstopo(binary, ["why", name, "h", "t"])
    XCTAssertEqual(code, 0, out + err)
    (code, out, err) = try runNstopo(binary, ["test", name, "--exact", "--proto", "tcp,udp", "--no-color"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("IPv4\n") && out.contains("IPv6\n"), out)
    XCTAssertTrue(out.contains("pairs (12 IPv4, 12 IPv6)"), out)
    (code, out, err) = try runNstopo(binary, ["test", name, "--family", "6", "--no-color"])
    XCTAssertTrue(out.contains("6 pairs:"), out)
  }

  /// A host end with an address of each family: both probed, both read back, and an IPv6
  /// address over one of the root namespace's IPv6 routes refused before anything is built.
  func testDualStackHostEnd() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let net6 = "fd00:65:\(KernelTestCase.counter % 1000)"
    let t = topology("""
      subnet a 10.65.1.0/24
      subnet a6 fd00:65:ffff::/64
      bridge s1 a a6
      node r
        forward
        link s1
      node h
        link s1
        route default via r
      link host:\(host) \(net).1/24 \(net6)::1/64 -- r:eth9 \(net).2/24 \(net6)::2/64
      """)
    let (set, measured) = try measure(t)
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    let got = byPair(set, measured)
    // r's primary addresses are on s1, where the host has no route: r reaches the host's
    // two addresses, the host none of r's.
    for f in ["ipv4", "ipv6"] {
      XCTAssertEqual(got["r>host/\(f)"], .reached, f)
      XCTAssertEqual(got["host>r/\(f)"], .noRoute, f)
    }
    // Its own end's addresses, both families, read back from the root namespace.
    try Lifecycle.up(t, file: "test")
    do {
      defer { _ = try? Lifecycle.down(t.name) }
      let reading = KernelView.read(Planner.plan(t))
      XCTAssertEqual(reading.differences(from: t, for: .host), [])
      XCTAssertEqual(reading.topology.ends(of: .host).flatMap(\.addresses).map(\.description), ["\(net).1/24", "\(IPAddress("\(net6)::1")!)/64"])
    }
    XCTAssertNil(try NetlinkSocket(namespaceFD: nil, name: "root").link(named: host), "host link left behind")

    // ::1 is the root namespace's loopback route (local table): an end over it is refused.
    let host2 = host + "b"
    let bad = topology("""
      node r
      link host:\(host2) ::1/128 -- r:eth0 fd00:65:fffe::2/64
      """)
    XCTAssertThrowsError(try Lifecycle.up(bad, file: "test")) { error in
      XCTAssertTrue("\(error)".contains("overlaps the root namespace's route ::1/128"), "\(error)")
    }
    XCTAssertNil(try NetlinkSocket(namespaceFD: nil, name: "root").link(named: host2))
  }

  /// A failure injected at each step of a dual-stack topology rolls back everything.
  func testDualStackRollbackAtEveryStep() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let t = topology("""
      subnet a 10.66.1.0/24
      subnet a6 fd00:66:1::/64
      subnet p6 fd00:66:ff00::/56 /64
      bridge s1 a a6
      node r
        forward
        link s1
        link q p6
        route fd00:66:9::/64 via q
      node q
        route fd00:66:1::/64 via r
        route fd00:66:9::/64 blackhole
      node h
        link s1
        route default via r
      link host:\(host) \(net).1/24 fd00:66:8::1/64 -- h:eth9 \(net).2/24 fd00:66:8::2/64
      """)
    let plan = Planner.plan(t)
    for n in 0..<plan.steps.count {
      let backend = SystemBackend(net: try NetlinkBackend(bridgeNamespace: plan.names.bridgeNamespace), logDirectory: nil)
      do {
        try Realizer.up(plan, backend: FailingBackend(backend, failAt: n), journal: nil)
        XCTFail("step \(n) should fail")
      } catch {
        XCTAssertEqual(error.index, n)
        XCTAssertEqual(error.rollbackFailures, [], "step \(n)")
      }
      XCTAssertEqual(leftovers(t.name), [], "after a failure at step \(n + 1): \(plan.steps[n].step.shellEquivalent)")
      XCTAssertNil(try NetlinkSocket(namespaceFD: nil, name: "root").link(named: host), "host link after step \(n + 1)")
    }
  }
}
