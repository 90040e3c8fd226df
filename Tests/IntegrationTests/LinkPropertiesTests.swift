import Foundation
import Glibc
import Netlink
import Planner
import Predict
import Realizer
import TopologyModel
import XCTest

/// Link properties on the real kernel: MTU and shaping read back without drift, a rate
/// measured with a bulk TCP transfer, links declared down predicted and measured alike (also
/// in seeded random topologies), a link set down by hand named as drift and by `why`, and a
/// kernel without netem refusing `up` before it creates anything.
final class LinkPropertiesTests: KernelTestCase {
  func testMTUShapingAndStateReadBackWithoutDrift() throws {
    let t = try example("links", rootfs: "/")
    let plan = Planner.plan(t)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let reading = KernelView.read(plan)
    for n in t.nodes { XCTAssertEqual(reading.differences(from: t, for: .node(n.name)), [], n.name) }
    let backend = try NetlinkBackend()
    let core = try backend.socket(plan.names.namespace(node: "core"))
    let links = try core.links()
    XCTAssertEqual(links.first { $0.name == "eth0" }?.mtu, 9000)
    XCTAssertEqual(links.first { $0.name == "eth1" }?.mtu, 1400)
    // The uplink shapes both ways: a token bucket at 20 Mbit/s on each end.
    let eth1 = links.first { $0.name == "eth1" }!.index
    XCTAssertEqual(try core.qdiscs()[eth1]?.map(\.kind), ["tbf"])
    XCTAssertEqual(try core.qdiscs()[eth1]?.first?.rate, 20_000_000)
    let edge = try backend.socket(plan.names.namespace(node: "edge"))
    let edgeLinks = try edge.links()
    XCTAssertEqual(edgeLinks.first { $0.name == "eth1" }.flatMap { try? edge.qdiscs()[$0.index]?.first?.rate }, 20_000_000)
    // The backup is down at both ends, and core2's route over it is held back.
    XCTAssertEqual(edgeLinks.first { $0.name == "eth2" }?.isUp, false)
    let core2 = try backend.socket(plan.names.namespace(node: "core2"))
    XCTAssertEqual(try core2.links().first { $0.name == "eth1" }?.isUp, false)
    XCTAssertEqual(try core2.routes().filter { $0.gateway != nil }.count, 0)
    // The bridge port of a jumbo-frame server carries its MTU too.
    let ports = try backend.socket(plan.names.bridgeNamespace).links()
    XCTAssertEqual(ports.first { $0.name == "srv1-eth0" }?.mtu, 9000)
    // The kernel's view is the model's: the same link states, MTUs and shaping.
    XCTAssertEqual(reading.topology.links.map(\.isUp), t.links.map(\.isUp))
    XCTAssertEqual(reading.topology.links.map(\.properties), t.links.map(\.properties))
  }

  /// `rate 10mbit`: a bulk TCP transfer through the link runs at 10 Mbit/s, within 20 %.
  func testRateMeasuredWithABulkTransfer() throws {
    let t = topology("""
      node a
      node b
      link a:eth0 10.77.1.1/30 -- b:eth0 10.77.1.2/30 rate 10mbit
      """)
    try Lifecycle.up(t, file: "test")
    defer { _ = try? Lifecycle.down(t.name) }
    let names = KernelNames(topology: t.name)
    let bits = try bulkTransfer(from: names.namespace(node: "a"), to: names.namespace(node: "b"), address: "10.77.1.2", bytes: 3_000_000)
    print("rate 10mbit: a bulk TCP transfer measured \(String(format: "%.2f", bits / 1e6)) Mbit/s")
    XCTAssertGreaterThan(bits, 8_000_000)
    XCTAssertLessThan(bits, 12_000_000)
  }

  /// A link set down by hand: drift in `status`'s words, and `why` names the link where the
  /// kernel's walk stops; `test` agrees with the walk of the kernel, not with the file.
  func testALinkDownByHandIsDriftAndWhyNamesIt() throws {
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/links.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology links", with: "topology \(name)")
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    let names = KernelNames(topology: name)
    try NetlinkBackend().socket(names.namespace(node: "core")).setLink("eth1", up: false)
    var (code, out, err) = try runNstopo(binary, ["status", name])
    XCTAssertEqual(code, 0, err)
    XCTAssertTrue(out.contains("core: core's link to edge (eth1) is down (the model has it up)"), out)
    XCTAssertTrue(out.contains("core: core lacks the route 10.50.1.0/24 via 10.50.255.2 that the model has"), out)
    (code, out, err) = try runNstopo(binary, ["why", name, "pc1", "srv1"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("kernel: pc1 (eth0 via 10.50.1.1) -> edge (eth1 via 10.50.255.1)"), out)
    XCTAssertTrue(out.contains("core's link to edge (eth1) is down"), out)
    (code, out, err) = try runNstopo(binary, ["test", name, "--no-color"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("✗ pc1 -> srv1 tcp/4444 (10.50.2.3): expected reach, got timed-out"), out)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// Where netem is missing, `up` of a file with a delay exits 69 before it creates anything,
  /// saying what needs netem and what works without it. Where netem exists, a 50 ms delay
  /// each way shows in the connect time.
  func testNetemMissingRefusesBeforeCreatingAnything() throws {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      node a
      node b
      link a:eth0 10.77.2.1/30 -- b:eth0 10.77.2.2/30 delay 50ms rate 10mbit
      """)
    if Netem.isAvailable() {
      XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
      let names = KernelNames(topology: name)
      let listener = try listen(in: names.namespace(node: "b"), port: 4444)
      defer { close(listener) }
      let start = monotonicSeconds()
      XCTAssertEqual(try connectErrno(from: names.namespace(node: "a"), to: "10.77.2.2", port: 4444), 0)
      XCTAssertGreaterThanOrEqual(monotonicSeconds() - start, 0.1)
      XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
      return
    }
    let (code, out, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 69, out + err)
    XCTAssertTrue(err.contains("this kernel has no netem (the sch_netem qdisc, CONFIG_NET_SCH_NETEM), which this link needs; nothing was created"), err)
    XCTAssertTrue(err.contains("a:eth0 -- b:eth0: delay 50ms"), err)
    XCTAssertTrue(err.contains("rate, mtu and down work without it"), err)
    XCTAssertEqual(leftovers(name), [])
    // validate says so too, as a warning.
    let v = try runNstopo(binary, ["validate", path])
    XCTAssertEqual(v.0, 0)
    XCTAssertTrue(v.2.contains("warning: this kernel has no netem: `delay 50ms` cannot be built here"), v.2)
    throw XCTSkip("this kernel has no netem: the refusal is tested; a delay measured where netem exists")
  }

  /// The seeded random topologies of ExactTruthTests, with links (bridge ports, point-to-point
  /// links between routers) declared down at random: every pair, TCP and UDP, as predicted.
  func testSeededRandomTopologiesWithDownLinksExactly() throws {
    var rng = SplitMix(seed: UInt64(ProcessInfo.processInfo.environment["NSTOPO_SEED"].flatMap { UInt64($0) } ?? 17))
    var downs = SplitMix(seed: 1717)
    var built = 0
    var pairs = 0
    var down = 0
    var differ: [String] = []
    var classes: [Outcome: Int] = [:]
    for k in 0..<40 where built < 8 {
      let lines = RandomTopology.text(&rng, index: k).split(separator: "\n").map { line -> String in
        guard line.hasPrefix("  link "), downs.chance(25) else { return String(line) }
        down += 1
        return line + " down"
      }
      guard let t = validTopology(lines.joined(separator: "\n") + "\n") else { continue }
      built += 1
      let (set, measured) = try measure(t)
      pairs += set.probes.count
      for o in measured { classes[o, default: 0] += 1 }
      differ += differences(t, set, measured).map { "topology \(k): \($0)" }
    }
    XCTAssertGreaterThanOrEqual(built, 8)
    XCTAssertGreaterThan(down, 4)
    XCTAssertEqual(differ, [], "\(pairs) pairs")
    print("exact truth, random topologies with down links: \(built) topologies, \(down) links down, \(pairs) pairs (\(classes.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", "))), \(differ.count) differ")
  }
}

/// Sends `bytes` over TCP from namespace `source` to `address`:5201 in namespace `target`,
/// and returns the receiver's rate in bits per second (first byte to last).
func bulkTransfer(from source: String, to target: String, address: String, bytes: Int) throws -> Double {
  let listener = try listen(in: target, port: 5201)
  defer { close(listener) }
  let fd = try NetworkNamespace.open(source)
  defer { close(fd) }
  let s = try NetworkNamespace.run(in: fd) { socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
  defer { close(s) }
  var addr = sockaddr_in()
  addr.sin_family = sa_family_t(AF_INET)
  addr.sin_port = UInt16(5201).bigEndian
  addr.sin_addr.s_addr = IPv4Address(address)!.value.bigEndian
  let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
  guard rc == 0 else { throw SystemError("connect", address, errno: errno) }
  let peer = accept(listener, nil, nil)
  guard peer >= 0 else { throw SystemError("accept", address, errno: errno) }
  defer { close(peer) }
  // The receiver reads on its own thread until the sender closes.
  final class Result: @unchecked Sendable {
    var first = 0.0
    var last = 0.0
    var total = 0
    var firstBytes = 0
  }
  let result = Result()
  let reader = Thread {
    var buffer = [UInt8](repeating: 0, count: 65536)
    var deadline = monotonicSeconds() + 30
    while monotonicSeconds() < deadline {
      let n = buffer.withUnsafeMutableBytes { recv(peer, $0.baseAddress, $0.count, 0) }
      if n <= 0 { break }
      if result.total == 0 {
        result.first = monotonicSeconds()
        result.firstBytes = n
        deadline = result.first + 30
      }
      result.total += n
      result.last = monotonicSeconds()
    }
  }
  reader.start()
  let chunk = [UInt8](repeating: 7, count: 65536)
  var sent = 0
  while sent < bytes {
    let n = chunk.withUnsafeBytes { send(s, $0.baseAddress, min($0.count, bytes - sent), Int32(MSG_NOSIGNAL)) }
    guard n > 0 else { throw SystemError("send", address, errno: errno) }
    sent += n
  }
  shutdown(s, Int32(SHUT_WR))
  let wait = monotonicSeconds() + 40
  while !reader.isFinished && monotonicSeconds() < wait { usleep(10_000) }
  guard result.total == bytes, result.last > result.first else { throw SystemError("receive", "\(result.total) of \(bytes) bytes", errno: EIO) }
  return Double(result.total - result.firstBytes) * 8 / (result.last - result.first)
}
