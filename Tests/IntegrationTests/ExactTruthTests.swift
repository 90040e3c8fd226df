import Foundation
import Matrix
import Netlink
import NodeRuntime
import Planner
import Predict
import Probe
import Realizer
import TopologyModel
import XCTest

/// Prediction = measurement on the exact outcome class (reached, no-route, host-unreachable,
/// prohibited, timed-out), pair by pair, TCP and UDP, on the real kernel: each shape where the
/// Measuring a topology against its model, for every kernel test that holds the two equal.
extension KernelTestCase {
  struct Difference: CustomStringConvertible {
    var pair: String
    var predicted: Outcome
    var reason: String?
    var measured: Outcome
    var description: String { "\(pair): predicted \(predicted.rawValue) (\(reason ?? "")), measured \(measured.rawValue)" }
  }

  /// Brings `t` up, probes every pair (every address with `allAddresses`) by `protocols`, and
  /// returns the probes with their measured outcomes; takes it down again.
  /// `extra`: probes from a node to an address (one the routes act on) added for each protocol.
  func measure(
    _ t: Topology, protocols: [TransportProtocol] = [.tcp, .udp, .icmp], timeout: Double = 1, allAddresses: Bool = false,
    extra: [(String, String)] = [], maxInFlight: Int = 512, file: StaticString = #filePath, line: UInt = #line
  ) throws -> (ProbeSet, [Outcome]) {
    try Lifecycle.up(t, file: "test")
    defer { XCTAssertNotNil(try? Lifecycle.down(t.name), file: file, line: line) }
    var set = ProbeSet(
      topology: t, namespace: KernelNames(topology: t.name).namespace(node:),
      options: .init(protocols: protocols, allAddresses: allAddresses))
    for (source, address) in extra {
      let s = Int32(set.endpoints.firstIndex { $0.name == source }!)
      for proto in protocols {
        set.append(source: s, target: (s + 1) % Int32(set.endpoints.count), address: IPAddress(address)!, proto: proto, port: 4444)
      }
    }
    let model = Predictor(t, probeTimeout: timeout)
    let verdicts = set.probes.map { p in
      ModelVerdict(model.verdict(
        Flow(from: set.endpoints[Int(p.source)].name, to: set.endpoints[Int(p.target)].name, address: set.address(of: p), proto: p.proto)).0)
    }
    let measured = try Lifecycle.withTestNetwork(t) { () -> [Outcome] in
      // As `nstopo test` measures: with its second looks.
      try ProbeEngine.measure(set, model: verdicts, options: .init(timeout: timeout, maxInFlight: maxInFlight)).outcomes
    }
    return (set, measured)
  }

  /// The pairs whose measured class is not the predicted one.
  func differences(_ t: Topology, _ set: ProbeSet, _ measured: [Outcome], timeout: Double = 1) -> [Difference] {
    let p = Predictor(t, probeTimeout: timeout)
    var out: [Difference] = []
    for (i, probe) in set.probes.enumerated() {
      let s = set.endpoints[Int(probe.source)].name
      let d = set.endpoints[Int(probe.target)].name
      let (v, reason) = p.verdict(Flow(from: s, to: d, address: set.address(of: probe), proto: probe.proto, port: Int(probe.port)))
      if v != measured[i] {
        out.append(Difference(pair: "\(s) -> \(d) (\(set.address(of: probe))) \(probe.proto.rawValue)", predicted: v, reason: reason, measured: measured[i]))
      }
    }
    return out
  }

  /// Measures `t` and asserts that every pair's class is predicted; returns the classes seen.
  @discardableResult
  func assertExact(
    _ t: Topology, timeout: Double = 1, allAddresses: Bool = false, extra: [(String, String)] = [],
    file: StaticString = #filePath, line: UInt = #line
  ) throws -> [Outcome: Int] {
    let (set, measured) = try measure(t, timeout: timeout, allAddresses: allAddresses, extra: extra, file: file, line: line)
    XCTAssertEqual(differences(t, set, measured, timeout: timeout).map(\.description), [], file: file, line: line)
    return measured.reduce(into: [:]) { $0[$1, default: 0] += 1 }
  }
}

/// Prediction = measurement on the exact outcome class (reached, no-route, host-unreachable,
/// prohibited, timed-out), pair by pair, TCP and UDP, on the real kernel: each shape where the
/// model used to be wrong, the examples, and seeded random topologies.
final class ExactTruthTests: KernelTestCase {
  /// 1. Linux answers ARP for any of its addresses on every interface.
  func testWeakHostARP() throws {
    let t = topology("""
      node a
      node b
      node c
      link a:eth0 10.61.0.1/16 -- b:eth0 10.61.0.2/16
      link b:eth1 10.61.5.1/24 -- c:eth0 10.61.5.2/24
      """)
    let seen = try assertExact(t, allAddresses: true)
    // a reaches b's other address through their shared link.
    XCTAssertEqual(Predictor(t).predict(from: "a", to: "b", address: IPAddress("10.61.5.1")).verdict, .reached)
    XCTAssertGreaterThan(seen[.reached] ?? 0, 0)
  }

  /// 1b. IPv6 neighbour discovery is strict: a node answers a solicitation only for an
  /// address of the receiving interface. With an on-link prefix on a that covers b's other
  /// address, IPv4 reaches it (ARP answers for any local address) and IPv6 does not; the
  /// model used to treat both like ARP.
  func testStrictIPv6NeighbourDiscovery() throws {
    let t = topology("""
      node a
      node b
      node c
      link a:eth0 10.61.0.1/16 fd00:61::1/32 -- b:eth0 10.61.0.2/16 fd00:61::2/32
      link b:eth1 10.61.5.1/24 fd00:61:5::1/64 -- c:eth0 10.61.5.2/24 fd00:61:5::2/64
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "a", to: "b", address: IPAddress("10.61.5.1")).verdict, .reached)
    XCTAssertNotEqual(p.predict(from: "a", to: "b", address: IPAddress("fd00:61:5::1")).verdict, .reached)
    _ = try assertExact(t, allAddresses: true)
  }

  /// 3. Routing loops: the TTL runs out at the 64th router; a TCP connect dies of the time
  /// exceeded when it can get back, UDP ignores it; a loop through the source ends there (a
  /// martian).
  func testRoutingLoops() throws {
    let t = topology("""
      subnet l 10.62.0.0/24
      subnet p2p 10.62.9.0/24
      bridge s l
      node h
        link s
        route default via r1
      node r1
        forward
        link s eth0 10.62.0.1
        link r2 eth1 p2p
        route 10.62.77.0/24 via r2
        route 10.62.79.0/24 via 10.62.8.1
      node r2
        forward
        route 10.62.77.0/24 via r1
        route 10.62.0.0/24 via r1
      node y
        forward
        route 10.62.79.0/24 via 10.62.8.2
      link y:eth0 10.62.8.1/30 -- r1:eth9 10.62.8.2/30
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.verdict(Flow(from: "h", to: "r2", address: IPAddress("10.62.77.1"), proto: .tcp)).0, .hostUnreachable)
    XCTAssertEqual(p.verdict(Flow(from: "h", to: "r2", address: IPAddress("10.62.77.1"), proto: .udp)).0, .timedOut)
    XCTAssertEqual(p.verdict(Flow(from: "y", to: "r1", address: IPAddress("10.62.79.1"), proto: .tcp)).0, .timedOut)
    let seen = try assertExact(t, extra: [("h", "10.62.77.1"), ("y", "10.62.79.1"), ("r1", "10.62.77.1")])
    XCTAssertGreaterThan(seen[.hostUnreachable] ?? 0, 0, "a TCP probe into the loop gets the time exceeded")
  }

  /// 3b. The same loop through its source over IPv6: no martian check, so the packet goes
  /// round until the hop limit runs out and a TCP probe sees the time exceeded; the model
  /// used to drop it as IPv4 does.
  func testIPv6LoopThroughTheSourceRunsOutOfHops() throws {
    let t = topology("""
      node r1
        forward
        route fd00:63:79::/64 via fd00:63:8::1
      node y
        forward
        route fd00:63:79::/64 via fd00:63:8::2
      link y:eth0 fd00:63:8::1/64 -- r1:eth9 fd00:63:8::2/64
      """)
    let p = Predictor(t)
    XCTAssertEqual(p.verdict(Flow(from: "y", to: "r1", address: IPAddress("fd00:63:79::1"), proto: .tcp)).0, .hostUnreachable)
    let seen = try assertExact(t, extra: [("y", "fd00:63:79::1"), ("r1", "fd00:63:79::1")])
    XCTAssertGreaterThan(seen[.hostUnreachable] ?? 0, 0, "a TCP probe into the loop gets the time exceeded")
  }

  /// 4 and 5. A router's prohibit route answers administratively prohibited (host-unreachable
  /// to a socket), a local one `prohibited`; a router with no route and no way back sends
  /// nothing (timed-out), one with a way back sends net unreachable (no-route).
  func testRouterErrorsAndTheirWayBack() throws {
    let t = topology("""
      subnet l 10.63.0.0/24
      subnet m 10.63.1.0/24
      bridge s l
      bridge s2 m
      node h
        link s
        route default via r
        route 10.63.66.0/24 prohibit
        route 10.63.67.0/24 unreachable
      node r
        forward
        link s eth0 10.63.0.1
        link s2 eth1 10.63.1.1
        route 10.63.70.0/24 prohibit
        route 10.63.71.0/24 unreachable
        route 10.63.72.0/24 blackhole
        route 10.63.73.0/24 via 10.63.1.2
      node q
        forward
        link s2 eth0 10.63.1.2
      node t
        link s2
        route default via r
      """)
    // The pairs above are node to node; these are the addresses the routes act on.
    let p = Predictor(t)
    XCTAssertEqual(p.predict(from: "h", to: "t", address: IPAddress("10.63.70.1")).verdict, .hostUnreachable)
    XCTAssertEqual(p.predict(from: "h", to: "t", address: IPAddress("10.63.66.1")).verdict, .prohibited)
    XCTAssertEqual(p.predict(from: "h", to: "t", address: IPAddress("10.63.73.1")).verdict, .timedOut, "q has no route back to h")
    // Every node pair, and h to each address the routes act on, TCP and UDP.
    try Lifecycle.up(t, file: "test")
    defer { XCTAssertNotNil(try? Lifecycle.down(t.name)) }
    var set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init(protocols: [.tcp, .udp, .icmp]))
    let h = Int32(set.endpoints.firstIndex { $0.name == "h" }!)
    let target = Int32(set.endpoints.firstIndex { $0.name == "t" }!)
    for proto in [TransportProtocol.tcp, .udp, .icmp] {
      for last in [66, 67, 70, 71, 72, 73, 74] {
        set.append(source: h, target: target, address: IPAddress("10.63.\(last).1")!, proto: proto, port: 4444)
      }
    }
    let verdicts = set.probes.map { q in
      ModelVerdict(p.verdict(Flow(from: set.endpoints[Int(q.source)].name, to: set.endpoints[Int(q.target)].name, address: set.address(of: q), proto: q.proto)).0)
    }
    let measured = try Lifecycle.withTestNetwork(t) { () -> [Outcome] in
      try ProbeEngine.measure(set, model: verdicts, options: .init(timeout: 1)).outcomes
    }
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    XCTAssertEqual(Set(measured), [.reached, .noRoute, .hostUnreachable, .prohibited, .timedOut])
  }

  /// 6. A next hop nobody owns: the kernel gives up after 3 s, so a 1 s probe times out and a
  /// 4 s one sees host-unreachable, at the source and through a router.
  func testNextHopNobodyOwnsAgainstTheDeadline() throws {
    let t = topology("""
      subnet l 10.64.0.0/24
      subnet m 10.64.1.0/24
      bridge s l
      bridge s2 m
      node a
        link s
        route 10.64.8.0/24 via 10.64.0.99
        route 10.64.9.0/24 via r
      node r
        forward
        link s eth0 10.64.0.1
        link s2 eth1 10.64.1.1
        route 10.64.9.0/24 via 10.64.1.99
      node b
        link s2
        route default via r
      """)
    try Lifecycle.up(t, file: "test")
    defer { XCTAssertNotNil(try? Lifecycle.down(t.name)) }
    let ns = KernelNames(topology: t.name).namespace(node: "a")
    // The 4 s deadline first, while no neighbour entry exists: a 1 s probe left one half way
    // through its 3 s of solicitations, and a SYN retransmitted just after it failed would
    // start 3 s more, past the deadline.
    for (timeout, expected) in [(4.0, Outcome.hostUnreachable), (1.0, .timedOut)] {
      let p = Predictor(t, probeTimeout: timeout)
      for last in [8, 9] {
        let address = IPAddress("10.64.\(last).1")!
        XCTAssertEqual(p.verdict(Flow(from: "a", to: "b", address: address)).0, expected)
        var set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init())
        let source = set.endpoints.firstIndex { $0.namespace == ns }!
        set.probes = []
        set.append(source: Int32(source), target: Int32((source + 1) % set.endpoints.count), address: address, proto: .tcp, port: 4444)
        let measured = try ProbeEngine(set, options: .init(timeout: timeout)).run()[0].0
        XCTAssertEqual(measured, expected, "a -> \(address) with a \(timeout) s deadline")
      }
    }
  }

  /// 7. Without nstopo's ICMP settings the kernel would limit the errors of a router that
  /// answers hundreds of probes at once (a burst, then one a second per destination): the
  /// concurrent matrix must see every no-route a slow serial probe sees.
  func testICMPErrorsAreNotRateLimited() throws {
    let t = topology("""
      subnet l 10.65.0.0/22
      subnet m 10.65.8.0/24
      bridge s l
      bridge s2 m
      node r
        forward
        link s eth0 10.65.0.1
      node q
        forward
        link s2 eth0 10.65.8.1
      node h[1..12]
        link s
        route default via r
      node t[1..12]
        link s2
        route default via q
      """)
    let (set, measured) = try measure(t, protocols: [.tcp])
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    let counts = measured.reduce(into: [Outcome: Int]()) { $0[$1, default: 0] += 1 }
    // h* to t*: r has no route, and says so to each of them, 12 times per source.
    XCTAssertGreaterThanOrEqual(counts[.noRoute] ?? 0, 12 * 12, "\(counts)")
  }

  /// IPv6 on the kernel, exactly: the local prohibit, unreachable and blackhole routes; a
  /// router's no route, unreachable route, blackhole and loop (whose ICMPv6 errors the source
  /// keeps as soft errors: timed-out); an IPv4-only node beside IPv6-only ones (no common
  /// family: not probed). A router's prohibit route is left out: its administratively
  /// prohibited came back as `prohibited` in some runs and as silence in others.
  func testIPv6Exactly() throws {
    let t = topology("""
      subnet l6 fd00:63::/64
      subnet m6 fd00:63:1::/64
      bridge s l6
      bridge s2 m6
      node h
        link s
        route ::/0 via r
        route fd00:63:66::/64 prohibit
        route fd00:63:67::/64 unreachable
        route fd00:63:68::/64 blackhole
      node r
        forward
        link s eth0 fd00:63::1
        link s2 eth1 fd00:63:1::1
        route fd00:63:70::/64 prohibit
        route fd00:63:71::/64 unreachable
        route fd00:63:72::/64 blackhole
        route fd00:63:73::/64 via fd00:63:1::2
        route fd00:63:77::/64 via fd00:63:1::2
      node q
        forward
        link s2 eth0 fd00:63:1::2
        route fd00:63:77::/64 via fd00:63:1::1
        route fd00:63::/64 via fd00:63:1::1
      node t
        link s2
        route ::/0 via r
      node v4
      link v4:eth0 10.63.0.1/30 -- r:eth9 10.63.0.2/30
      """)
    let extra = [66, 67, 68, 71, 72, 73, 74, 77].map { ("h", "fd00:63:\($0)::1") }
    let (set, measured) = try measure(t, extra: extra)
    XCTAssertEqual(differences(t, set, measured).map(\.description), [])
    let seen = Set(measured)
    XCTAssertEqual(seen, [.reached, .noRoute, .hostUnreachable, .prohibited, .timedOut], "\(measured)")
    XCTAssertEqual(Predictor(t).verdict(Flow(from: "h", to: "r", address: IPAddress("fd00:63:66::1"))).0, .prohibited)
    // v4 and the IPv6-only nodes share no family; r, which has both, reaches all of them.
    let v4 = Int32(set.endpoints.firstIndex { $0.name == "v4" }!)
    XCTAssertTrue(set.unaddressed.contains { $0.source == v4 })
    XCTAssertTrue(set.probes.contains { $0.source == v4 && set.endpoints[Int($0.target)].name == "r" })
  }

  func testEveryExampleExactlyTCPAndUDP() throws {
    let rootfs = NSTemporaryDirectory() + "nstt-rootfs-exact-\(getpid())"
    _ = try Rootfs.build(at: rootfs)
    defer { try? FileManager.default.removeItem(atPath: rootfs) }
    var figures: [String] = []
    for name in ["seed", "two-lans", "lab", "leaf-spine", "star-100", "showcase", "v6-lans", "dual-stack", "links"] {
      let t = try example(name, rootfs: rootfs)
      let (set, measured) = try measure(t)
      let d = differences(t, set, measured)
      XCTAssertEqual(d.map(\.description), [], name)
      figures.append("\(name): \(set.probes.count) pairs, \(d.count) differ")
    }
    print("exact truth, examples: " + figures.joined(separator: "; "))
  }

  /// Seeded random small topologies: LANs and point-to-point links, routers with forwarding
  /// on or off, routes via neighbours, blackhole, unreachable and prohibit routes, missing
  /// return routes, loops, next hops nobody owns. Every pair, TCP and UDP, must be predicted
  /// exactly, and a sample must agree with a slow serial probe (one pair at a time).
  func testSeededRandomTopologiesExactly() throws {
    var rng = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["NSTOPO_SEED"].flatMap { UInt64($0) } ?? 14))
    var pairs = 0
    var differ: [String] = []
    var serial = 0
    var serialDiffer: [String] = []
    var built = 0
    var classes: [Outcome: Int] = [:]
    for k in 0..<40 where built < 8 {
      let text = RandomTopology.text(&rng, index: k)
      guard let t = validTopology(text) else { continue }
      built += 1
      // NSTOPO_DUMP_RANDOM=DIR keeps each file, to run other binaries on them.
      if let dir = ProcessInfo.processInfo.environment["NSTOPO_DUMP_RANDOM"] {
        try? "topology rnd\(k)\n\(text)".write(toFile: "\(dir)/rnd\(k).topo", atomically: true, encoding: .utf8)
      }
      let (set, measured) = try measure(t)
      pairs += set.probes.count
      for o in measured { classes[o, default: 0] += 1 }
      differ += differences(t, set, measured).map { "topology \(k): \($0)" }
      // The sample, probed one at a time with a pause.
      try Lifecycle.up(t, file: "test")
      defer { _ = try? Lifecycle.down(t.name) }
      try Lifecycle.withTestNetwork(t) {
        for i in stride(from: k % 5, to: set.probes.count, by: max(1, set.probes.count / 4)) {
          var one = set
          one.probes = [set.probes[i]]
          one.unaddressed = []
          let m = try ProbeEngine(one, options: .init(timeout: 1, maxInFlight: 1)).run()[0].0
          serial += 1
          if m != measured[i] { serialDiffer.append("topology \(k) probe \(i): concurrent \(measured[i].rawValue), serial \(m.rawValue)") }
          usleep(1_000_000)
        }
      }
      _ = try? Lifecycle.down(t.name)
    }
    XCTAssertGreaterThanOrEqual(built, 8)
    XCTAssertEqual(differ, [], "\(pairs) pairs")
    XCTAssertEqual(serialDiffer, [], "\(serial) serial probes")
    // Every class a probe can see here comes up.
    for o in [Outcome.reached, .noRoute, .hostUnreachable, .prohibited, .timedOut] { XCTAssertGreaterThan(classes[o] ?? 0, 0, "\(o) never measured") }
    print("exact truth, random topologies: \(built) topologies, \(pairs) pairs (\(classes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))), \(differ.count) differ; \(serial) serial probes, \(serialDiffer.count) differ")
  }
}

/// A small deterministic generator (SplitMix64), so a failing seed can be replayed.
struct SplitMix {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
  mutating func chance(_ percent: Int) -> Bool { below(100) < percent }
}

/// Random small topologies in the language: two LANs and a chain of point-to-point links
/// between routers, hosts on the LANs, and for each router a random mix of forwarding, routes
/// via its neighbours (so loops and missing return routes happen), blackhole, unreachable and
/// prohibit routes to the others' subnets, and next hops nobody owns. Every other one is
/// dual-stack: an IPv6 subnet on each LAN and an IPv6 pool beside the IPv4 one, routes of
/// both families (`default` is both).
enum RandomTopology {
  static func text(_ rng: inout SplitMix, index k: Int) -> String {
    let base = 70 + k % 20
    let dual = k % 2 == 1
    let routers = 2 + rng.below(3)
    var lines = ["subnet lan1 10.\(base).1.0/24", "subnet lan2 10.\(base).2.0/24", "subnet p2p 10.\(base).9.0/24"]
    if dual {
      lines += ["subnet lan1v6 fd00:\(base):1::/64", "subnet lan2v6 fd00:\(base):2::/64", "subnet p2p6 fd00:\(base):900::/56 /127"]
      lines += ["bridge s1 lan1 lan1v6", "bridge s2 lan2 lan2v6"]
    } else {
      lines += ["bridge s1 lan1", "bridge s2 lan2"]
    }
    // Router i: on lan1 (i == 0) or lan2 (i == last), and linked to router i+1.
    var prefixes = ["10.\(base).1.0/24", "10.\(base).2.0/24", "10.\(base).50.0/24", "default"]
    if dual { prefixes += ["fd00:\(base):1::/64", "fd00:\(base):2::/64", "fd00:\(base):50::/64", "::/0"] }
    for i in 0..<routers {
      lines.append("node r\(i)")
      if rng.chance(85) { lines.append("  forward") }
      let v6 = { (lan: Int) in dual ? " fd00:\(base):\(lan)::\(i + 1)" : "" }
      if i == 0 { lines.append("  link s1 eth0 10.\(base).1.\(i + 1)" + v6(1)) }
      if i == routers - 1 { lines.append("  link s2 eth0 10.\(base).2.\(i + 1)" + v6(2)) }
      if i + 1 < routers { lines.append("  link r\(i + 1) p\(i) p2p" + (dual ? " p2p6" : "")) }
      var used = Set<String>()
      for _ in 0..<rng.below(dual ? 6 : 4) {
        let d = prefixes[rng.below(prefixes.count)]
        guard used.insert(d).inserted else { continue }
        // Not the prefix of a connected route (the language refuses it).
        if (i == 0 && (d.hasSuffix(".1.0/24") || d.hasSuffix(":1::/64"))) || (i == routers - 1 && (d.hasSuffix(".2.0/24") || d.hasSuffix(":2::/64"))) {
          continue
        }
        switch rng.below(7) {
        case 0: lines.append("  route \(d) blackhole")
        case 1: lines.append("  route \(d) unreachable")
        case 2: lines.append("  route \(d) prohibit")
        case 3 where i == 0: lines.append("  route \(d) via " + (d.contains(":") ? "fd00:\(base):1::99" : "10.\(base).1.99"))
        default:
          let neighbours = [i - 1, i + 1].filter { $0 >= 0 && $0 < routers }
          lines.append("  route \(d) via r\(neighbours[rng.below(neighbours.count)])")
        }
      }
    }
    for (lan, router) in [("s1", 0), ("s2", routers - 1)] {
      for h in 0..<(1 + rng.below(2)) {
        lines.append("node \(lan)h\(h)")
        lines.append("  link \(lan)")
        if rng.chance(85) { lines.append("  route default via r\(router)") }
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// The command line: `test --exact` passes where every class is predicted and fails, saying
/// both, where one is not; `why` shows the way back that fails and, with --probe, what a real
/// socket measures.
final class ExactTruthCLITests: KernelTestCase {
  func testExactTestAndWhyProbe() throws {
    let name = uniqueName()
    let text = """
      topology \(name)
      subnet l 10.66.0.0/24
      subnet m 10.66.1.0/24
      bridge s l
      bridge s2 m
      node h[1..6]
        link s
        route default via r
      node r
        forward
        link s eth0 10.66.0.1
        link s2 eth1 10.66.1.1
      node t
        link s2
        route 10.66.0.0/25 via r

      """
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    defer { _ = try? runNstopo(binary, ["down", name]) }
    // t answers h1..h6 only in 10.66.0.0/25: all of them are there, so everything is exact.
    var (code, out, err) = try runNstopo(binary, ["test", name, "--exact", "--proto", "tcp,udp", "--no-color"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("0 mismatches"), out)
    // The reply is what fails from r's other side: why names the way back.
    (code, out, err) = try runNstopo(binary, ["why", name, "h1", "t", "--probe"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("probe:  reached"), out)
    // Take t's route away by hand: the reply has no way back.
    do {
      let fd = try NetworkNamespace.open(KernelNames(topology: name).namespace(node: "t"))
      defer { close(fd) }
      try NetlinkSocket(namespaceFD: fd, name: "t").deleteRoute(
        destination: IPPrefix("10.66.0.0/25")!, gateway: IPAddress("10.66.1.1")!, kind: .unicast, label: "test")
    }
    (code, out, err) = try runNstopo(binary, ["why", name, "h1", "t", "--probe"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("kernel: h1 (eth0 via 10.66.0.1) -> r (eth1) -> t; back: t\n"), out)
    XCTAssertTrue(out.contains("stops: t has no route back to 10.66.0.0/24 (timed-out)"), out)
    XCTAssertTrue(out.contains("probe:  timed-out"), out)
    (code, out, err) = try runNstopo(binary, ["test", name, "--exact", "--no-color"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("in the kernel: t has no route back to 10.66.0.0/24 (the model disagrees: changed by hand?)"), out)
  }
}
