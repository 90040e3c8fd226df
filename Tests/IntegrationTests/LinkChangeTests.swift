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

/// Changes at run time on the real kernel: a link down and up again, a node down and up,
/// properties set and cleared, each read back and with the prediction of the topology as it
/// is now equal to the measurement on every pair; a change that fails part way is undone;
/// the command line's errors and exit codes.
final class LinkChangeTests: KernelTestCase {
  /// Probes every pair of the topology `name` as it is up now (TCP and UDP, both families)
  /// and returns the pairs whose measured class the model of its current state does not
  /// predict.
  private func differencesNow(_ name: String) throws -> (pairs: Int, differ: [String]) {
    let t = try XCTUnwrap(StateStore.document(name)?.topology)
    let set = ProbeSet(topology: t, namespace: KernelNames(topology: name).namespace(node:), options: .init(protocols: [.tcp, .udp]))
    let model = Predictor(t)
    let verdicts = set.probes.map { p in
      ModelVerdict(model.verdict(Flow(from: set.endpoints[Int(p.source)].name, to: set.endpoints[Int(p.target)].name, address: set.address(of: p), proto: p.proto)).0)
    }
    let measured = try Lifecycle.withTestNetwork(t) { () -> [Outcome] in
      try ProbeEngine.measure(set, model: verdicts, options: .init(timeout: 1)).outcomes
    }
    return (set.probes.count, differences(t, set, measured).map(\.description))
  }

  func testLinkAndNodeDownAndUpPredictedAndMeasuredAlike() throws {
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/leaf-spine.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology leaf-spine", with: "topology \(name)")
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    let before = try snapshot(name)
    var figures: [String] = []
    // One uplink of leaf1 down: its default route via spine1 goes with it.
    var (code, out, err) = try runNstopo(binary, ["link", name, "leaf1", "spine1", "down"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.hasPrefix("link \(name): leaf1:"), out)
    XCTAssertEqual(try runNstopo(binary, ["status", name]).1.contains("no drift"), true)
    XCTAssertEqual(StateStore.document(name)?.topology.links.filter { !$0.isUp }.count, 1)
    // predict NAME is the topology as it is now.
    (code, out, err) = try runNstopo(binary, ["predict", name, "--no-color"])
    XCTAssertTrue(out.contains("predicted from the model of \(name)"), out + err)
    XCTAssertEqual(try runNstopo(binary, ["link", name, "leaf1", "spine1", "up"]).0, 0)
    // A whole spine down, then back.
    XCTAssertEqual(try runNstopo(binary, ["node", name, "spine1", "down"]).0, 0)
    var (pairs, differ) = try differencesNow(name)
    XCTAssertEqual(differ, [], "spine1 down")
    figures.append("node down: \(pairs) probes")
    (code, out, err) = try runNstopo(binary, ["why", name, "h1-1", "h4-1"])
    XCTAssertFalse(out.contains("the kernel differs"), out)
    XCTAssertEqual(try runNstopo(binary, ["node", name, "spine1", "up"]).0, 0)
    (pairs, differ) = try differencesNow(name)
    XCTAssertEqual(differ, [], "all up again")
    // Back where it started, read back from the kernel: routes, states, everything.
    XCTAssertEqual(try snapshot(name), before)
    print("changes at run time, leaf-spine: " + figures.joined(separator: "; "))
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  func testPropertiesSetAndClearedAtRunTime() throws {
    let t = topology("""
      node a
      node b
      link a:eth0 10.77.3.1/30 -- b:eth0 10.77.3.2/30
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    let before = try snapshot(t.name)
    var (code, out, err) = try runNstopo(binary, ["link", t.name, "a", "b", "set", "rate", "10mbit", "mtu", "1400"])
    XCTAssertEqual(code, 0, out + err)
    let s = try NetlinkBackend().socket(names.namespace(node: "b"))
    let eth0 = try XCTUnwrap(s.links().first { $0.name == "eth0" })
    XCTAssertEqual(eth0.mtu, 1400)
    XCTAssertEqual(try s.qdiscs()[eth0.index]?.first?.rate, 10_000_000)
    XCTAssertEqual(StateStore.document(t.name)?.topology.links[0].properties, LinkProperties(rate: 10_000_000, mtu: 1400))
    let bits = try bulkTransfer(from: names.namespace(node: "a"), to: names.namespace(node: "b"), address: "10.77.3.2", bytes: 2_000_000)
    XCTAssertEqual(bits / 10_000_000, 1, accuracy: 0.2)
    (code, out, err) = try runNstopo(binary, ["status", t.name])
    XCTAssertTrue(out.contains("eth0 10.77.3.2/30 mtu 1400 10mbit"), out)
    XCTAssertTrue(out.contains("no drift"), out)
    XCTAssertEqual(try runNstopo(binary, ["link", t.name, "b", "a", "clear"]).0, 0)
    XCTAssertEqual(try snapshot(t.name), before)
    XCTAssertEqual(StateStore.document(t.name)?.topology, t)
  }

  /// A change whose second end fails (its interface renamed by hand) undoes its first end and
  /// records nothing; `down` still removes the rest.
  func testAChangeThatFailsPartWayIsUndone() throws {
    let t = topology("""
      node a
      node b
      link a:eth0 10.77.4.1/30 -- b:eth0 10.77.4.2/30
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    for args in [["link", "set", "eth0", "down"], ["link", "set", "eth0", "name", "eth9"]] {
      XCTAssertEqual(try runProcess("/usr/sbin/ip", ["-n", names.namespace(node: "b")] + args).0, 0)
    }
    let (code, out, err) = try runNstopo(binary, ["link", t.name, "a", "b", "set", "rate", "1mbit"])
    XCTAssertEqual(code, 71, out + err)
    XCTAssertTrue(err.contains("link a b set rate 1mbit:"), err)
    XCTAssertTrue(err.contains("undone: the kernel is as it was"), err)
    let s = try NetlinkBackend().socket(names.namespace(node: "a"))
    let eth0 = try XCTUnwrap(s.links().first { $0.name == "eth0" })
    XCTAssertNil(try s.qdiscs()[eth0.index])
    XCTAssertEqual(StateStore.document(t.name)?.topology, t)
    XCTAssertNil(StateStore.unfinishedChange(t.name))
  }

  /// A change killed part way (here: one end already down, the journal's `change` line
  /// unfinished): the next change first puts the kernel back as the state says, so retrying
  /// it works, and the opposite change restores the kernel instead of clearing `status`'s
  /// notice over a half-down link.
  func testAChangeKilledPartWayIsUndoneFirst() throws {
    for retry in ["down", "up"] {
      let t = topology("node a\nnode b\nlink a:eth0 10.77.8.1/30 -- b:eth0 10.77.8.2/30\n")
      try Lifecycle.up(t, file: "test")
      defer { _ = try? Lifecycle.down(t.name) }
      let names = KernelNames(topology: t.name)
      do {
        let state = try XCTUnwrap(try StateStore.open(t.name))
        try state.saveChangeTarget(t.applying(.down, to: [0]))
        try state.record([.change("link a b down")])
      }
      XCTAssertEqual(try runProcess("/usr/sbin/ip", ["-n", names.namespace(node: "a"), "link", "set", "eth0", "down"]).0, 0)
      var (code, out, err) = try runNstopo(binary, ["status", t.name])
      XCTAssertTrue(out.contains("a change did not finish (its nstopo was killed): link a b down"), out + err)
      (code, out, err) = try runNstopo(binary, ["link", t.name, "a", "b", retry])
      XCTAssertEqual(code, 0, "\(retry): " + out + err)
      XCTAssertNil(StateStore.unfinishedChange(t.name))
      (code, out, err) = try runNstopo(binary, ["status", t.name])
      XCTAssertFalse(out.contains("did not finish"), out)
      XCTAssertTrue(out.contains("no drift"), "\(retry): " + out)
      let up = try NetlinkBackend().socket(names.namespace(node: "a")).links().first { $0.name == "eth0" }?.isUp
      XCTAssertEqual(up, retry == "up", retry)
    }
  }

  func testCommandLineErrorsAndExitCodes() throws {
    let t = topology("""
      node a
      node b
      link a:eth0 10.77.5.1/30 -- b:eth0 10.77.5.2/30
      link a:eth1 10.77.6.1/30 fd00:77:6::1/64 -- b:eth1 10.77.6.2/30 fd00:77:6::2/64
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    func run(_ args: [String]) throws -> (Int32, String) {
      let (c, o, e) = try runNstopo(binary, args)
      return (c, o + e)
    }
    var r = try run(["link", t.name, "a", "b", "down"])
    XCTAssertEqual(r.0, 64)
    XCTAssertTrue(r.1.contains("a and b share 2 links (name one end: a:eth0 or a:eth1)"), r.1)
    r = try run(["link", t.name, "a", "c", "down"])
    XCTAssertEqual(r.0, 64)
    XCTAssertTrue(r.1.contains("no node, bridge or host 'c'"), r.1)
    r = try run(["link", t.name, "a:eth0", "b", "dwn"])
    XCTAssertEqual(r.0, 64)
    XCTAssertTrue(r.1.contains("unknown action 'dwn' (did you mean 'down'?)"), r.1)
    r = try run(["link", t.name, "a:eth0", "b", "set", "rate", "10"])
    XCTAssertEqual(r.0, 64)
    XCTAssertTrue(r.1.contains("rate '10' needs a unit"), r.1)
    // Below 1280 the kernel takes IPv6 off the interface: refused, nothing changed.
    r = try run(["link", t.name, "a:eth1", "b", "set", "mtu", "1000"])
    XCTAssertEqual(r.0, 64, r.1)
    XCTAssertTrue(r.1.contains("MTU 1000 is below IPv6's minimum of 1280, and a:eth1 -- b:eth1 has IPv6 addresses"), r.1)
    XCTAssertNil(StateStore.document(t.name)?.topology.links[1].properties.mtu)
    r = try run(["node", t.name, "x", "down"])
    XCTAssertEqual(r.0, 64)
    r = try run(["link", "nsttnotup", "a", "b", "down"])
    XCTAssertEqual(r.0, 66)
    if !Netem.isAvailable() {
      r = try run(["link", t.name, "a:eth0", "b", "set", "delay", "5ms"])
      XCTAssertEqual(r.0, 69)
      XCTAssertTrue(r.1.contains("this kernel has no netem") && r.1.contains("nothing was changed"), r.1)
    }
    r = try run(["link", t.name, "a:eth0", "b", "down"])
    XCTAssertEqual(r.0, 0, r.1)
    XCTAssertEqual(StateStore.document(t.name)?.topology.links.map(\.isUp), [false, true])
  }

  /// `node X down` then `node X up` leaves the link the file declares down down (it raised
  /// it, and the file's own expectation failed); `status` and `diff` tell the changes in force
  /// (against the file) from hand edits (against them); `reset` returns to the file.
  func testNodeUpKeepsDeclaredDownLinksAndDiffAndResetAgainstTheFile() throws {
    let name = uniqueName()
    let path = try tempFile(name, try String(contentsOf: repo.appendingPathComponent("topologies/links.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology links", with: "topology \(name)"))
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    XCTAssertEqual(try runNstopo(binary, ["node", name, "core2", "down"]).0, 0)
    XCTAssertEqual(try runNstopo(binary, ["node", name, "core2", "up"]).0, 0)
    var (code, out, err) = try runNstopo(binary, ["status", name])
    XCTAssertTrue(out.contains("no change in force: the links are as the file declares them"), out + err)
    XCTAssertTrue(try runProcess("/usr/sbin/ip", ["-n", "\(name)-core2", "-br", "link", "show", "eth1"]).1.contains("DOWN"), "the backup stays down")
    (code, out, err) = try runNstopo(binary, ["test", name])
    XCTAssertEqual(code, 0, out + err)
    // A change, and a hand edit.
    XCTAssertEqual(try runNstopo(binary, ["link", name, "core", "edge", "set", "rate", "1mbit"]).0, 0)
    _ = try runProcess("/usr/sbin/ip", ["-n", "\(name)-pc1", "addr", "add", "10.50.1.99/24", "dev", "eth0"])
    (code, out, err) = try runNstopo(binary, ["diff", name])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("changes (1):\n  core:eth1 -- edge:eth1: rate 1mbit mtu 1400 (the file: rate 20mbit mtu 1400)\n"), out)
    XCTAssertTrue(out.contains("hand edits (1):") && out.contains("pc1: ") && out.contains("10.50.1.99/24"), out)
    (code, out, err) = try runNstopo(binary, ["status", name])
    XCTAssertTrue(out.contains("changes in force (1, against the file"), out)
    // Against the file as it is now: the same links compare.
    (code, out, err) = try runNstopo(binary, ["diff", name, path])
    XCTAssertTrue(out.contains("changes (1):"), out + err)
    (code, out, err) = try runNstopo(binary, ["reset", name])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("1 link as the file declares them"), out)
    (code, out, err) = try runNstopo(binary, ["diff", name])
    XCTAssertTrue(out.contains("changes: none"), out)
    XCTAssertEqual(code, 1, "the hand edit is still there: \(out)")
    _ = try runProcess("/usr/sbin/ip", ["-n", "\(name)-pc1", "addr", "del", "10.50.1.99/24", "dev", "eth0"])
    XCTAssertEqual(try runNstopo(binary, ["diff", name]).0, 0)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }
}

extension KernelTestCase {
  /// The kernel's addresses, routes, link states, MTUs and qdiscs of every node, as text.
  func snapshot(_ name: String) throws -> [String] {
    let t = try XCTUnwrap(StateStore.document(name)?.topology)
    let plan = Planner.plan(t)
    let backend = try NetlinkBackend()
    var out: [String] = []
    for ns in plan.namespaces {
      let s = try backend.socket(ns)
      let q = try s.qdiscs()
      for l in try s.links() {
        out.append("\(ns) \(l.name) up=\(l.isUp) mtu=\(l.mtu) \((q[l.index] ?? []).map { "\($0.kind) \($0.rate ?? 0)" })")
      }
      out += try s.addresses().map { "\(ns) addr \($0.address) if\($0.ifindex)" }
      out += try s.routes().filter { $0.table == 254 }.map { "\(ns) route \($0.destination) \($0.gateway?.description ?? "-") \($0.kind)" }
    }
    return out.sorted()
  }
}
