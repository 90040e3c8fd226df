import Foundation
import Glibc
import Netlink
import Planner
import Realizer
import TopologyModel
import XCTest

final class UpDownTests: KernelTestCase {
  func testSeedIsTheTutorialNetwork() throws {
    let host = hostLinkName()
    let net = hostSubnet()
    let t = topology("node myns\nlink host:\(host) \(net.dropLast(2)).1/24 -- myns:veth0 \(net.dropLast(2)).2/24\n")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    try assertKernelMatchesPlan(plan)
    let ns = plan.names.namespace(node: "myns")
    let (code, out, _) = try runProcess("/usr/sbin/ip", ["netns", "list"])
    XCTAssertEqual(code, 0)
    XCTAssertTrue(out.contains(ns), "ip netns list shows \(ns): \(out)")
    // The tutorial's check: a listener in the namespace answers on its address, not on 127.0.0.1.
    let l = try listen(in: ns, port: 4444)
    defer { close(l) }
    XCTAssertEqual(try connectErrno(from: nil, to: "\(net.dropLast(2)).2", port: 4444), 0)
    XCTAssertEqual(try connectErrno(from: nil, to: "127.0.0.1", port: 4444), ECONNREFUSED)
    XCTAssertNotNil(try Lifecycle.down(t.name))
    XCTAssertEqual(leftovers(t.name), [])
    XCTAssertNil(try Lifecycle.down(t.name), "down is idempotent")
  }

  func testTwoLansMatchesPlanAndRoutes() throws {
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/two-lans.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology two-lans\n", with: "")
    let t = topology(text)
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    try assertKernelMatchesPlan(plan)
    let b2 = plan.names.namespace(node: "b2")
    let l = try listen(in: b2, port: 7000)
    defer { close(l) }
    let b2addr = t.ends(of: .node("b2"))[0].addresses[0].address.description
    XCTAssertEqual(try connectErrno(from: plan.names.namespace(node: "a1"), to: b2addr, port: 7000), 0, "a1 reaches b2 through r1")
  }

  func testLabWithoutNodeFeaturesMatchesPlan() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/lab.topo"), encoding: .utf8)
      .split(separator: "\n", omittingEmptySubsequences: false)
      .filter { l in !["topology ", "  cpu ", "  chroot ", "  run "].contains { l.hasPrefix($0) } }
      .joined(separator: "\n")
      .replacingOccurrences(of: "host:veth1 192.168.1.1/24 -- myns:veth0 192.168.1.2/24", with: "host:\(host) \(net).1/24 -- myns:veth0 \(net).2/24")
    let t = topology(text)
    let plan = Planner.plan(t)
    let report = try Lifecycle.up(t, file: "test")
    XCTAssertEqual(report.namespaces, 11)
    try assertKernelMatchesPlan(plan)
    // Three LANs, two routers: h1 reaches h7 across r1 and r2.
    let l = try listen(in: plan.names.namespace(node: "h7"), port: 8080)
    defer { close(l) }
    XCTAssertEqual(try connectErrno(from: plan.names.namespace(node: "h1"), to: "10.10.3.2", port: 8080), 0)
    // myns is isolated from h1.
    XCTAssertNotEqual(try connectErrno(from: plan.names.namespace(node: "h1"), to: "\(net).2", port: 8080), 0)
  }

  /// up leaves ARP to the kernel; a test installs one permanent entry per pair of the
  /// segment for its duration and removes them afterwards; `up --static-neighbours` installs
  /// them for good, and then a test leaves them alone. Only one test at a time.
  func testStar100PermanentNeighboursDuringTestsOrWhenAsked() throws {
    let t = topology("subnet lan 10.100.0.0/16\nbridge sw lan\nnode h[1..100]\n  link sw\n")
    let plan = Planner.plan(t)
    func permanent(_ node: String) throws -> Int {
      // Scoped: an open socket would keep the namespace (and its veth) alive after down.
      let fd = try NetworkNamespace.open(plan.names.namespace(node: node))
      defer { close(fd) }
      return try NetlinkSocket(namespaceFD: fd, name: node).neighbours().filter(\.permanent).count
    }
    try Lifecycle.up(t, file: "test")
    try assertKernelMatchesPlan(plan)
    // One queue each way on both ends of a veth; no multicast snooping on the bridge.
    let (_, port, _) = try runProcess("/usr/sbin/ip", ["-n", plan.names.namespace(node: "h1"), "-d", "link", "show", "eth0"])
    XCTAssertTrue(port.contains("numtxqueues 1 numrxqueues 1"), port)
    let (_, bridge, _) = try runProcess("/usr/sbin/ip", ["-n", plan.names.bridgeNamespace, "-d", "link", "show", "sw"])
    XCTAssertTrue(bridge.contains("mcast_snooping 0"), bridge)
    XCTAssertEqual(try permanent("h1"), 0)
    try Lifecycle.withTestNetwork(t) {
      XCTAssertEqual(try permanent("h1"), 99)
      XCTAssertEqual(try permanent("h100"), 99)
      XCTAssertThrowsError(try Lifecycle.withTestNetwork(t) {}) { error in
        XCTAssertEqual("\(error)", StateError.testing(t.name).description)
      }
      XCTAssertThrowsError(try Lifecycle.down(t.name), "no down under a running test") { error in
        XCTAssertEqual("\(error)", StateError.testing(t.name).description)
      }
    }
    XCTAssertEqual(try permanent("h1"), 0, "removed after the test")
    XCTAssertEqual(try permanent("h100"), 0)
    XCTAssertNotNil(try Lifecycle.down(t.name))
    try Lifecycle.up(t, file: "test", staticNeighbours: true)
    XCTAssertEqual(try permanent("h42"), 99)
    try Lifecycle.withTestNetwork(t) {}
    XCTAssertEqual(try permanent("h42"), 99, "what up installed stays")
    let down = try XCTUnwrap(try Lifecycle.down(t.name))
    XCTAssertEqual(down.namespacesDeleted, 101)
    XCTAssertEqual(down.warnings, [])
    XCTAssertEqual(leftovers(t.name), [])
  }

  /// down takes the bridge namespace first when it knows the topology (state.json), and falls
  /// back to node namespaces first from the journal alone: both leave nothing.
  func testDownWithAndWithoutTheStateDocument() throws {
    for keep in [true, false] {
      let t = topology("subnet lan 10.77.0.0/24\nbridge sw lan\nnode h[1..20]\n  link sw\nsubnet p2p 10.78.0.0/24\nnode r\n  link h1 p2p\n")
      try Lifecycle.up(t, file: "test")
      if !keep { XCTAssertEqual(unlink(StateStore.directory(t.name) + "/state.json"), 0) }
      let down = try XCTUnwrap(try Lifecycle.down(t.name))
      XCTAssertEqual(down.namespacesDeleted, 22, "state.json kept: \(keep)")
      XCTAssertEqual(down.warnings, [])
      XCTAssertEqual(down.failures, [])
      XCTAssertEqual(leftovers(t.name), [])
    }
  }

  func testDownWorksWithoutTheFileAndReportsDrift() throws {
    let t = topology("subnet lan 10.7.0.0/24\nbridge sw lan\nnode a\n  link sw\n  route 10.8.0.0/16 via 10.7.0.2\nnode b\n  link sw\n")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "/nonexistent/gone.topo")
    XCTAssertEqual(Readback.status(plan).flatMap(\.drift), [])
    // Someone deletes a route by hand.
    do {
      let backend = try NetlinkBackend()
      try backend.socket(plan.names.namespace(node: "a")).deleteRoute(
        destination: IPPrefix("10.8.0.0/16")!, gateway: IPAddress("10.7.0.2")!, kind: .unicast, label: "test")
    }
    // The sentence `why` uses too (one differences for status, why and test).
    XCTAssertEqual(Readback.status(plan).flatMap(\.drift), ["a lacks the route 10.8.0.0/16 via 10.7.0.2 that the model has"])
    let down = try XCTUnwrap(try Lifecycle.down(t.name))
    XCTAssertEqual(down.warnings, [])
  }

  /// The real backend undoes a link set down and an installed neighbour set, on the kernel.
  func testLinkDownAndNeighbourStepsAreUndoneOnTheKernel() throws {
    let t = topology("subnet lan 10.95.0.0/24\nbridge sw lan\nnode h[1..4]\n  link sw\n")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    let ns = plan.names.namespace(node: "h1")
    func state() throws -> (up: Bool, permanent: Int) {
      let fd = try NetworkNamespace.open(ns)
      defer { close(fd) }
      let s = try NetlinkSocket(namespaceFD: fd, name: ns)
      return (try s.link(named: "eth0")?.isUp ?? false, try s.neighbours().filter(\.permanent).count)
    }
    let down = Step.setLinkDown(ns: ns, name: "eth0")
    let set = try XCTUnwrap(plan.neighbourSets.first)
    do {
      let backend = try NetlinkBackend()
      try backend.apply(down)
      XCTAssertFalse(try state().up)
      try backend.apply(try XCTUnwrap(down.inverse))
      XCTAssertTrue(try state().up)
      try backend.apply(Step.addNeighbours(set))
      XCTAssertEqual(try state().permanent, 3)
      try backend.apply(try XCTUnwrap(Step.addNeighbours(set).inverse))
      XCTAssertEqual(try state().permanent, 0)
    }
    XCTAssertNotNil(try Lifecycle.down(t.name))
  }

  /// `up FILE --name NAME`: two instances of one file coexist (namespaces, MACs and state
  /// from NAME), each tested and taken down by its name; `status` says who brought each up.
  func testOneFileUpTwiceUnderTwoNames() throws {
    let file = repo.appendingPathComponent("topologies/two-lans.topo").path
    let (a, b) = (uniqueName(), uniqueName())
    for n in [a, b] {
      let (code, out, err) = try runNstopo(binary, ["up", file, "--name", n])
      XCTAssertEqual(code, 0, out + err)
      XCTAssertTrue(out.contains("up: topology \(n): "), out)
    }
    XCTAssertTrue(FileManager.default.fileExists(atPath: "/run/netns/\(a)-r1") && FileManager.default.fileExists(atPath: "/run/netns/\(b)-r1"))
    let macs = try [a, b].map { n in try runProcess("/usr/sbin/ip", ["-n", "\(n)-a1", "-br", "link", "show", "eth0"]).1.split(separator: " ", omittingEmptySubsequences: true)[2] }
    XCTAssertNotEqual(macs[0], macs[1], "each instance's MACs come from its name")
    let (_, status, _) = try runNstopo(binary, ["status"])
    for n in [a, b] {
      XCTAssertTrue(status.split(separator: "\n").contains { $0.hasPrefix(n + " ") && $0.contains("pid ") && $0.contains(file) }, status)
    }
    for n in [a, b] {
      let (code, out, err) = try runNstopo(binary, ["test", n])
      XCTAssertEqual(code, 0, out + err)
    }
    XCTAssertEqual(try runNstopo(binary, ["down", a]).0, 0)
    XCTAssertEqual(try runNstopo(binary, ["test", b]).0, 0, "the other instance is untouched")
    XCTAssertEqual(try runNstopo(binary, ["down", b]).0, 0)
    XCTAssertEqual(try runNstopo(binary, ["up", file, "--name", "a b"]).0, 64)
    XCTAssertEqual(try runNstopo(binary, ["test", b, "--name", "x"]).0, 64, "--name goes with --up")
  }
}

/// The netlink layer takes either family from the value: addresses, routes and the batched
/// neighbour entries (the C batch carries a family and 16 bytes), on the kernel.
final class AddressFamilyNetlinkTests: KernelTestCase {
  func testIPv6AddressesRoutesAndNeighboursGoThroughTheSameCalls() throws {
    let t = topology("subnet lan 10.96.0.0/24\nbridge sw lan\nnode h[1..2]\n  link sw\n")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let ns = plan.names.namespace(node: "h1")
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    // nstopo turns IPv6 off in its nodes; this node's own sysctl turns it back on.
    try Sysctl.setIPv6(true, namespaceFD: fd, name: ns)
    let s = try NetlinkSocket(namespaceFD: fd, name: ns)
    let eth0 = try XCTUnwrap(try s.link(named: "eth0")).index
    let mine = try XCTUnwrap(InterfaceAddress("fd00:96::1/64"))
    try s.addAddress(ifindex: eth0, mine, label: "test")
    XCTAssertEqual(try s.addresses(family: .ipv6).filter { $0.ifindex == eth0 && $0.address == mine }.count, 1)
    XCTAssertEqual(Set(try s.addresses().map(\.address.family)), [.ipv4], "the default reads IPv4 only")
    let dest = try XCTUnwrap(IPPrefix("fd00:97::/48"))
    try s.addRoute(destination: dest, gateway: IPAddress("fd00:96::2"), kind: .unicast, label: "test")
    let r = try XCTUnwrap(try s.routes(family: .ipv6).first { $0.destination == dest })
    XCTAssertEqual(r.gateway, IPAddress("fd00:96::2"))
    // Both families in one batch, read back per family.
    let socket = try RawRouteSocket(namespaceFD: fd, name: ns)
    let mac: [UInt8] = [0x02, 0, 0, 0, 0x96, 0x02]
    let entries = [
      RawRouteSocket.NeighbourEntry(ifindex: eth0, address: IPAddress("fd00:96::2")!, mac: mac),
      RawRouteSocket.NeighbourEntry(ifindex: eth0, address: IPAddress("10.96.0.99")!, mac: mac),
    ]
    try socket.addPermanentNeighbours(entries)
    XCTAssertEqual(try s.neighbours(family: .ipv6).filter { $0.permanent && $0.address == IPAddress("fd00:96::2") }.map(\.mac), [mac])
    XCTAssertEqual(try s.neighbours(family: .ipv4).filter { $0.permanent && $0.address == IPAddress("10.96.0.99") }.map(\.mac), [mac])
    try socket.deleteNeighbours(entries)
    XCTAssertEqual(try s.neighbours(family: nil).filter(\.permanent).count, 0)
    try s.deleteRoute(destination: dest, gateway: IPAddress("fd00:96::2"), kind: .unicast, label: "test")
    try s.deleteAddress(ifindex: eth0, mine, label: "test")
    XCTAssertEqual(try s.addresses(family: .ipv6).filter { $0.address == mine }.count, 0)
  }
}
