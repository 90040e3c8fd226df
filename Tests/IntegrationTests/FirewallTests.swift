import Foundation
import Matrix
import Netlink
import Planner
import Predict
import Probe
import Realizer
import TopologyModel
import XCTest

/// Firewalls on the real kernel: every rule form, built as nftables tables, measured equal to
/// the model on every pair, TCP and UDP, at the ports the rules name, and ICMP echo.
final class FirewallTests: KernelTestCase {
  /// Brings `t` up once and probes every pair at each port, both protocols; returns the
  /// pairs whose outcome is not the predicted one, and the outcomes seen.
  func measurePorts(_ t: Topology, ports: [UInt16]) throws -> ([String], [Outcome: Int]) {
    try Lifecycle.up(t, file: "test")
    defer { XCTAssertNotNil(try? Lifecycle.down(t.name)) }
    var differ: [String] = []
    var seen: [Outcome: Int] = [:]
    let model = Predictor(t)
    try Lifecycle.withTestNetwork(t) {
      for port in ports {
        // ICMP echo once (it has no port), with the first port's probes.
        let protocols: [TransportProtocol] = port == ports.first ? [.tcp, .udp, .icmp] : [.tcp, .udp]
        var set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init(protocols: protocols, port: port))
        // As `nstopo test` does: listeners where a dnat lands.
        let index = Dictionary(uniqueKeysWithValues: set.endpoints.enumerated().map { ($1.name, Int32($0)) })
        for (i, p) in set.probes.enumerated() {
          let f = Flow(from: set.endpoints[Int(p.source)].name, to: set.endpoints[Int(p.target)].name, address: set.address(of: p), proto: p.proto, port: Int(p.port))
          if let l = model.landing(f), let t = index[l.node] { set.landings[i] = (t, UInt16(l.port)) }
        }
        let verdicts = set.probes.map { p in
          model.verdict(Flow(from: set.endpoints[Int(p.source)].name, to: set.endpoints[Int(p.target)].name, address: set.address(of: p), proto: p.proto, port: Int(p.port)))
        }
        let measured = try ProbeEngine.measure(set, model: verdicts.map { ModelVerdict($0.0) }, options: .init(timeout: 1)).outcomes
        for (i, p) in set.probes.enumerated() {
          seen[measured[i], default: 0] += 1
          if measured[i] != verdicts[i].0 {
            differ.append("\(set.endpoints[Int(p.source)].name) -> \(set.endpoints[Int(p.target)].name) (\(set.address(of: p))) \(p.proto.rawValue)/\(port): predicted \(verdicts[i].0.rawValue) (\(verdicts[i].1 ?? "")), measured \(measured[i].rawValue)")
          }
        }
      }
    }
    return (differ, seen)
  }

  func testEveryRuleFormExactlyBothFamilies() throws {
    let t = topology("""
      subnet office 10.71.1.0/24
      subnet office6 fd00:71:1::/64
      subnet servers 10.71.2.0/24
      subnet servers6 fd00:71:2::/64
      bridge sw1 office office6
      bridge sw2 servers servers6
      node gw
        forward
        link sw1
        link sw2
        deny forward from office to db
        reject forward tcp 7000 to web
        reject forward udp 7000-7001 in eth0 out eth1
      node pc[1..2]
        link sw1
        route default via gw
      node web
        link sw2 10.71.2.10 fd00:71:2::10
        route default via gw
        firewall input drop
        allow input tcp 80
        allow input tcp 4444 from office,office6
        allow input udp 7000-7001
      node db
        link sw2 10.71.2.20 fd00:71:2::20
        route default via gw
        firewall input drop
        allow input tcp 5432 from web
        reject input udp
      node out
        link sw1
        route default via gw
        firewall output drop
        reject output tcp 9 to web
        allow output tcp 80 out eth0
        firewall forward drop
      """)
    let (differ, seen) = try measurePorts(t, ports: [4444, 80, 5432, 7000, 9])
    XCTAssertEqual(differ, [])
    for o in [Outcome.reached, .refused, .prohibited, .timedOut] { XCTAssertGreaterThan(seen[o] ?? 0, 0, "\(o) never measured: \(seen)") }
  }

  /// The table is nstopo's own: others' tables (iptables-nft from a `run` line) stay, and
  /// the model says what it cannot see.
  func testOwnTableBesideOthers() throws {
    let t = topology("""
      subnet lan 10.72.1.0/24
      bridge sw lan
      node a
        link sw
        firewall input drop
        allow input tcp 4444
      node b
        link sw
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let ns = KernelNames(topology: t.name).namespace(node: "a")
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    let listing = try NetworkNamespace.run(in: fd) { () throws in try Nftables.run("list ruleset", namespace: ns) }
    XCTAssertTrue(listing.contains("table inet nstopo {"), listing)
    XCTAssertTrue(listing.contains("tcp dport 4444 accept comment \"line 7\""), listing)
    XCTAssertTrue(listing.contains("policy drop;"), listing)
  }

  /// The rules are in place before the node has any link, and conntrack's close timeout (set
  /// through nfnetlink) is 1 s in the node with rules only: not in a node without, not in the
  /// root namespace.
  func testConntrackCloseTimeoutOnlyWhereRulesAre() throws {
    func closeTimeout(_ ns: String?) throws -> String {
      let read = { () throws -> String in
        (try? String(contentsOfFile: "/proc/sys/net/netfilter/nf_conntrack_tcp_timeout_close", encoding: .utf8))?
          .trimmingCharacters(in: .whitespacesAndNewlines) ?? "absent"
      }
      guard let ns else { return try read() }
      let fd = try NetworkNamespace.open(ns)
      defer { close(fd) }
      return try NetworkNamespace.run(in: fd, read)
    }
    let root = try closeTimeout(nil)
    let t = topology("""
      subnet lan 10.72.2.0/24
      bridge sw lan
      node a
        link sw
        firewall input drop
        allow input tcp 4444
      node b
        link sw
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    XCTAssertEqual(try closeTimeout(names.namespace(node: "a")), "1")
    XCTAssertNotEqual(try closeTimeout(names.namespace(node: "b")), "1")
    XCTAssertEqual(try closeTimeout(nil), root)
    // And the stateful rules still let a's own connection's replies in, and b's in at 4444.
    let set = ProbeSet(topology: t, namespace: names.namespace(node:), options: .init())
    let measured = try Lifecycle.withTestNetwork(t) { () -> [Outcome] in
      try ProbeEngine.measure(set, model: set.probes.map { _ in ModelVerdict(.reached) }, options: .init(timeout: 2)).outcomes
    }
    XCTAssertEqual(measured, Array(repeating: .reached, count: set.probes.count))
    XCTAssertEqual(set.probes.count, 2)
  }

  /// Masquerade: the office reaches an ISP that has no route back to it, because gw rewrites
  /// the source; the ISP cannot start a connection inward. Exact, TCP and UDP.
  func testMasqueradeExactly() throws {
    let t = topology("""
      subnet wan 100.64.73.0/24
      subnet office 10.73.1.0/24
      subnet servers 10.73.2.0/24
      bridge sw0 wan
      bridge sw1 office
      bridge sw2 servers
      node gw
        forward
        link sw0 100.64.73.1
        link sw1
        link sw2
        masquerade eth0
        deny forward from office to db
      node pc[1..2]
        link sw1
        route default via gw
      node db
        link sw2
        route default via gw
        firewall input drop
        reject input udp
      node isp
        link sw0 100.64.73.2
      """)
    let (differ, _) = try measurePorts(t, ports: [4444])
    XCTAssertEqual(differ, [])
    let p = Predictor(t)
    XCTAssertEqual(p.verdict(Flow(from: "pc1", to: "isp")).0, .reached)
    XCTAssertEqual(p.verdict(Flow(from: "isp", to: "pc1")).0, .noRoute)
    XCTAssertTrue(p.predict(Flow(from: "pc1", to: "isp")).path.description.contains("masquerade as 100.64.73.1"))
  }

  /// A rule added and a policy changed by hand are drift; others' tables are not.
  func testHandEditsAreDrift() throws {
    let t = topology("""
      subnet lan 10.74.1.0/24
      bridge sw lan
      node a
        link sw
        firewall input drop
        allow input tcp 4444
      node b
        link sw
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let plan = Planner.plan(t)
    XCTAssertEqual(KernelView.read(plan).differences(from: t, for: .node("a")), [])
    let ns = KernelNames(topology: t.name).namespace(node: "a")
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    try NetworkNamespace.run(in: fd) { () throws in
      try Nftables.run("add rule inet nstopo input tcp dport 22 accept", namespace: ns)
      try Nftables.run("add table ip other\nadd chain ip other c { type filter hook input priority 10; policy accept; }", namespace: ns)
    }
    XCTAssertEqual(KernelView.read(plan).differences(from: t, for: .node("a")), ["a's input chain has a rule the model does not: tcp dport 22 accept"])
    _ = try NetworkNamespace.run(in: fd) { () throws in
      try Nftables.run("flush table inet nstopo\nadd chain inet nstopo input { policy accept; }", namespace: ns)
    }
    XCTAssertEqual(KernelView.read(plan).differences(from: t, for: .node("a")), [
      "a's input policy is accept (the model says drop)", "a lacks the rule of line 7 (`allow input tcp 4444`) that the model has",
    ])
  }

  /// The reference file of issue 16: every pair, TCP and UDP, at the probe port and the
  /// ports its rules name, exactly as the model predicts; the verdicts the issue states.
  func testReferenceFirewallExactly() throws {
    let t = try example("firewall", rootfs: "/")
    let (differ, _) = try measurePorts(t, ports: [4444, 80, 5432, 8080])
    XCTAssertEqual(differ, [])
  }

  /// Seeded random small topologies with random rules, policies, masquerade and dnat:
  /// prediction = measurement on every pair, TCP and UDP (NSTOPO_SEED replays another seed).
  func testSeededRandomFirewallsExactly() throws {
    var rng = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["NSTOPO_SEED"].flatMap { UInt64($0) } ?? 16))
    var failures: [String] = []
    var pairs = 0
    var seen: [Outcome: Int] = [:]
    for k in 0..<40 {
      let text = RandomFirewall.text(&rng, index: k)
      guard let t = validTopology(text) else {
        XCTFail("topology \(k) is invalid:\n\(text)")
        continue
      }
      let (differ, classes) = try measurePorts(t, ports: [4444, 8080])
      pairs += classes.values.reduce(0, +)
      for (o, n) in classes { seen[o, default: 0] += n }
      failures += differ.map { "topology \(k): \($0)" }
      if !differ.isEmpty, let dir = ProcessInfo.processInfo.environment["NSTOPO_DUMP_RANDOM"] {
        try? "topology fw\(k)\n\(text)".write(toFile: "\(dir)/fw\(k).topo", atomically: true, encoding: .utf8)
      }
    }
    XCTAssertEqual(failures, [], "\(pairs) probes")
    for o in [Outcome.reached, .refused, .timedOut] { XCTAssertGreaterThan(seen[o] ?? 0, 0, "\(o) never measured") }
    print("exact truth, random firewalls: 40 topologies, \(pairs) probes (\(seen.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))), \(failures.count) differ")
  }

  /// `why` walks the kernel's tables too: nstopo's rules read back. A rule deleted by hand is
  /// drift, and the kernel's walk stops where the kernel does; `--json -` has the typed steps.
  /// `why --probe` across a dnat listens where the dnat lands, as `test` does: it said
  /// `refused` and blamed "a firewall in a `run` line".
  func testWhyProbesAcrossADnatWhereItLands() throws {
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/firewall.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology fw", with: "topology \(name)")
    let path = try tempFile(name, text)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    (code, out, err) = try runNstopo(binary, ["why", name, "isp", "gw", "--port", "8080", "--probe"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("probe:  reached"), out)
    XCTAssertFalse(out.contains("differs"), out)
  }

  /// Another program's `table inet nstopo` is not nstopo's: nstopo's own carries the mark
  /// `comment "nstopo:<topology>"`. Without it the table is one of the others: `status` and
  /// `why` name it, in the node where it is (it was invisible, and `why` blamed another node).
  func testAForeignTableOfTheSameNameIsNamed() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet lan 10.76.1.0/24
      bridge sw lan
      node a
        link sw
        firewall input drop
        allow input tcp 4444
      node b
        link sw
      """)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    let names = KernelNames(topology: name)
    let listing = try runProcess("/usr/sbin/ip", ["netns", "exec", names.namespace(node: "a"), "nft", "list", "table", "inet", "nstopo"]).1
    XCTAssertTrue(listing.contains("comment \"nstopo:\(name)\""), listing)
    (code, out, err) = try runNstopo(binary, ["status", name])
    XCTAssertTrue(out.contains("no drift"), out + err)
    let foreign = "add table inet nstopo; add chain inet nstopo input { type filter hook input priority filter; policy drop; }"
    XCTAssertEqual(try runProcess("/usr/sbin/ip", ["netns", "exec", names.namespace(node: "b"), "nft", foreign]).0, 0)
    (code, out, err) = try runNstopo(binary, ["status", name])
    XCTAssertTrue(out.contains("b has a table inet nstopo, which lacks nstopo's mark (comment \"nstopo:\(name)\"): not nstopo's"), out + err)
    (code, out, err) = try runNstopo(binary, ["why", name, "a", "b", "--probe"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("probe:  timed-out"), out)
    XCTAssertTrue(out.contains("b (table inet nstopo, which lacks nstopo's mark"), out)
  }

  /// Two dnats in a row: the kernel delivers to the second's target, and so does the model
  /// now (it landed on the first: `landed g2:2202`); test listens there and agrees.
  func testTwoDnatsInARowLandWhereTheSecondSends() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet wan 100.64.41.0/24
      subnet mid 10.41.1.0/24
      subnet srv 10.41.2.0/24
      bridge sw0 wan
      bridge sw1 mid
      bridge sw2 srv
      node g1
        forward
        link sw0 100.64.41.1
        link sw1 10.41.1.1
        dnat tcp 2202 to g2:2202
      node g2
        forward
        link sw1 10.41.1.2
        link sw2 10.41.2.1
        route default via g1
        dnat tcp 2202 to web:22
      node web
        link sw2 10.41.2.10
        route default via g2
      node isp
        link sw0 100.64.41.2
      expect isp -> g1 tcp 2202 reach
      """)
    let (predictCode, predicted, _) = try runNstopo(binary, ["predict", path, "--port", "2202"])
    XCTAssertEqual(predictCode, 0, predicted)
    XCTAssertTrue(predicted.contains("isp -> g1 tcp/2202: reached via dnat to web:22"), predicted)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    (code, out, err) = try runNstopo(binary, ["test", name, "--port", "2202", "--exact"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("isp -> g1 tcp/2202: reached via dnat to web:22"), out)
  }

  /// The echo says who answered: a dnat the model does not know of (added by hand) sends
  /// a's probe of b to c, whose listener answers; that is `wrong-responder`, named, where a
  /// plain echo passed for reached.
  func testTheEchoNamesWhoAnswered() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet l1 10.42.1.0/24
      subnet l2 10.42.2.0/24
      bridge s1 l1
      bridge s2 l2
      node b
        forward
        link s1 10.42.1.1
        link s2 10.42.2.1
      node a
        link s1
        route default via b
      node c
        link s2 10.42.2.10
        route default via b
      """)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    let ns = KernelNames(topology: name).namespace(node: "b")
    let rule = "add table ip foreign; add chain ip foreign pre { type nat hook prerouting priority dstnat; }; add rule ip foreign pre ip daddr 10.42.1.1 tcp dport 4444 dnat to 10.42.2.10"
    XCTAssertEqual(try runProcess("/usr/sbin/ip", ["netns", "exec", ns, "nft", rule]).0, 0)
    (code, out, err) = try runNstopo(binary, ["test", name, "--json", "-"])
    XCTAssertEqual(code, 1, out + err)
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
    let pair = try XCTUnwrap((doc["pairs"] as? [[String: Any]])?.first { $0["source"] as? String == "a" && $0["target"] as? String == "b" })
    XCTAssertEqual(pair["outcome"] as? String, "wrong-responder", "\(pair)")
    XCTAssertEqual(pair["reason"] as? String, "answered by c's listener, not b's", "\(pair)")
  }

  func testWhyWalksTheRulesReadBack() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet lan 10.75.1.0/24
      bridge sw lan
      node a
        link sw
      node b
        link sw
        firewall input drop
        allow input tcp 4444 from a
      """)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    (code, out, err) = try runNstopo(binary, ["why", name, "a", "b", "--json", "-"])
    XCTAssertEqual(code, 0, err)
    var doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
    XCTAssertEqual(doc["format"] as? Int, 1)
    XCTAssertEqual(doc["kind"] as? String, "why")
    XCTAssertEqual(doc["family"] as? String, "ipv4")
    var kernel = try XCTUnwrap(doc["kernel"] as? [String: Any], out)
    XCTAssertEqual(kernel["verdict"] as? String, "reached")
    let steps = try XCTUnwrap((kernel["path"] as? [[String: Any]])?.last?["steps"] as? [[String: Any]], out)
    XCTAssertEqual(steps.map { $0["type"] as? String }, ["filter", "deliver"])
    XCTAssertEqual(steps.first?["line"] as? Int, 9)
    XCTAssertEqual(steps.first?["action"] as? String, "accept")
    XCTAssertEqual(steps.first?["chain"] as? String, "input")
    // The allow rule deleted by hand: the kernel's walk meets the policy.
    let ns = KernelNames(topology: name).namespace(node: "b")
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    _ = try NetworkNamespace.run(in: fd) { () throws in
      try Nftables.run("flush chain inet nstopo input\nadd rule inet nstopo input ct state established,related accept", namespace: ns)
    }
    (code, out, err) = try runNstopo(binary, ["why", name, "a", "b", "--probe"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("model:  a (eth0) -> b; back: b -> a; reached"), out)
    XCTAssertTrue(out.contains("stops: b's input policy drops tcp/4444 from 10.75.1.1 (line 8) (timed-out)"), out)
    XCTAssertTrue(out.contains("b lacks the rule of line 9 (`allow input tcp 4444 from a`) that the model has"), out)
    XCTAssertTrue(out.contains("probe:  timed-out"), out)
    (code, out, err) = try runNstopo(binary, ["why", name, "a", "b", "--json", "-"])
    doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
    kernel = try XCTUnwrap(doc["kernel"] as? [String: Any], out)
    XCTAssertEqual(kernel["verdict"] as? String, "timed-out")
    XCTAssertEqual((doc["differences"] as? [String])?.count, 1, out)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// Rules outside nstopo's table (iptables from a `run` line) are invisible to the model:
  /// `test` and `why` say where they are.
  func testRulesOutsideTheModelAreNamed() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet lan 10.77.1.0/24
      bridge sw lan
      node a
        link sw
      node c
        link sw
        run iptables -I INPUT -p tcp --dport 4444 -j DROP
      """)
    var (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    (code, out, err) = try runNstopo(binary, ["test", name])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("a -> c tcp/4444 (10.77.1.2): predicted reach (no expect line), measured timed-out"), out)
    XCTAssertTrue(out.contains("the routes and nstopo's rules allow it: rules outside nstopo's table in c (table ip filter): a `run` line?"), out)
    (code, out, err) = try runNstopo(binary, ["why", name, "a", "c", "--probe"])
    XCTAssertTrue(out.contains("note: rules outside nstopo's table in c (table ip filter): a `run` line? (the model cannot see them)"), out)
    XCTAssertTrue(out.contains("the probe differs from the walk of the kernel's tables (reached): rules outside nstopo's table in c"), out)
  }

  /// A `dnat` to a `run` service in a chrooted node with its own rules: the service answers
  /// (nstopo does not listen where a service holds the port) and `test` says where the probe
  /// landed. Masquerade: the peer the ISP sees is the router.
  func testDnatToAServiceInAChrootedNodeAndTheMasqueradedPeer() throws {
    let root = try rootfs()
    let t = topology("""
      subnet wan 100.64.78.0/24
      subnet servers 10.78.2.0/24
      bridge sw0 wan
      bridge sw2 servers
      node gw
        forward
        link sw0 100.64.78.1
        link sw2
        masquerade eth0
        dnat tcp 8080 to web:80
      node web
        chroot \(root)
        link sw2 10.78.2.10
        route default via gw
        firewall input drop
        allow input tcp 80
        allow input tcp 4444 from gw
        run nc -lk -p 80
      node isp
        link sw0 100.64.78.2
      expect isp -> gw tcp 8080 reach
      expect isp -> web blocked
      expect web -> isp reach
      """)
    let name = t.name
    // In-process: a `run` service must not hold the test's pipe to a child `nstopo up`.
    try Lifecycle.up(t, file: "test")
    var (code, out, err) = (Int32(0), "", "")
    usleep(200_000)
    for port in ["4444", "8080", "80"] {
      (code, out, err) = try runNstopo(binary, ["test", name, "--port", port, "--exact"])
      XCTAssertEqual(code, 0, "port \(port): " + out + err)
    }
    (code, out, err) = try runNstopo(binary, ["test", name, "--port", "8080"])
    XCTAssertTrue(out.contains("isp -> gw tcp/8080: reached via dnat to web:80"), out)
    // The service is the chrooted nc (busybox, from the rootfs), not nstopo's echo.
    (code, out, err) = try runNstopo(binary, ["exec", name, "web", "--", "ls", "/bin/busybox"])
    XCTAssertEqual(code, 0, err)
    // The ISP sees the router's address as the peer: gw masquerades web.
    let listener = try listen(in: KernelNames(topology: name).namespace(node: "isp"), port: 5000)
    defer { close(listener) }
    XCTAssertEqual(try connectErrno(from: KernelNames(topology: name).namespace(node: "web"), to: "100.64.78.2", port: 5000), 0)
    var peer = sockaddr_in()
    var size = socklen_t(MemoryLayout<sockaddr_in>.size)
    // Bounded: the connection is queued if the connect succeeded, else give up after 2 s.
    var pfd = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
    XCTAssertEqual(poll(&pfd, 1, 2000), 1, "no connection arrived at the ISP")
    guard pfd.revents & Int16(POLLIN) != 0 else { return }
    let conn = withUnsafeMutablePointer(to: &peer) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { accept(listener, $0, &size) } }
    XCTAssertGreaterThanOrEqual(conn, 0)
    if conn >= 0 { close(conn) }
    XCTAssertEqual(IPv4Address(UInt32(bigEndian: peer.sin_addr.s_addr)).description, "100.64.78.1")
  }
}

/// A router between an office LAN, a server LAN and a WAN, two office hosts, a server and an
/// ISP, each with a random mix of policies and rules (every action, tcp/udp/any, the probe
/// ports or others, sides as nodes, subnets and CIDRs, interfaces), masquerade and dnat on the
/// router.
enum RandomFirewall {
  static func text(_ rng: inout SplitMix, index k: Int) -> String {
    let b = 100 + k % 100
    var lines = [
      "subnet wan 100.64.\(b).0/24", "subnet office 10.\(b).1.0/24", "subnet servers 10.\(b).2.0/24",
      "bridge sw0 wan", "bridge sw1 office", "bridge sw2 servers",
    ]
    let sides = ["office", "servers", "wan", "pc1", "pc2", "srv", "gw", "isp", "10.\(b).1.0/25", "10.\(b).2.0/24"]
    func pick<T>(_ a: [T]) -> T { a[rng.below(a.count)] }
    func rule(_ chains: [String], interfaces: [String]) -> String {
      var w = [pick(["allow", "deny", "reject"]), pick(chains)]
      let proto = pick(["tcp", "udp", "", ""])
      if !proto.isEmpty {
        w.append(proto)
        if rng.chance(60) { w.append(pick(["4444", "8080", "80", "4000-5000"])) }
      }
      if rng.chance(50) { w += ["from", pick(sides)] }
      if rng.chance(40) { w += ["to", pick(sides)] }
      if w[1] != "output" && rng.chance(20) { w += ["in", pick(interfaces)] }
      if w[1] != "input" && rng.chance(20) { w += ["out", pick(interfaces)] }
      return "  " + w.joined(separator: " ")
    }
    func firewall(_ chains: [String], interfaces: [String]) -> [String] {
      var out: [String] = []
      for c in chains where rng.chance(30) { out.append("  firewall \(c) \(pick(["drop", "reject", "accept"]))") }
      for _ in 0..<rng.below(4) { out.append(rule(chains, interfaces: interfaces)) }
      return out
    }
    lines += ["node gw", "  forward", "  link sw0 100.64.\(b).1", "  link sw1", "  link sw2"]
    lines += firewall(["input", "forward", "output"], interfaces: ["eth0", "eth1", "eth2"])
    if rng.chance(60) { lines.append("  masquerade eth0") }
    if rng.chance(50) { lines.append("  dnat \(pick(["tcp", "udp"])) 8080 to srv\(rng.chance(50) ? ":4444" : "")") }
    for h in ["pc1", "pc2"] {
      lines += ["node \(h)", "  link sw1", "  route default via gw"]
      lines += firewall(["input", "output"], interfaces: ["eth0"])
    }
    lines += ["node srv", "  link sw2", "  route default via gw"]
    lines += firewall(["input", "output"], interfaces: ["eth0"])
    lines += ["node isp", "  link sw0 100.64.\(b).2"]
    if rng.chance(40) { lines.append("  route 10.\(b).0.0/16 via gw") }
    lines += firewall(["input", "output"], interfaces: ["eth0"])
    return lines.joined(separator: "\n") + "\n"
  }
}
