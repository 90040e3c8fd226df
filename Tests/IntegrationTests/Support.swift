import Foundation
import Glibc
import Netlink
import NodeRuntime
import Planner
import Realizer
import TopologyDSL
import TopologyModel
import XCTest

/// Base class for tests against the real kernel. Every topology gets a unique name with the
/// `nstt` prefix (what scripts/check-leftovers.sh looks for), and is taken down in tearDown,
/// whatever happened, after which nothing of it may remain.
class KernelTestCase: XCTestCase {
  nonisolated(unsafe) static var counter = 0
  var names: [String] = []

  override func setUpWithError() throws {
    try XCTSkipUnless(geteuid() == 0, "integration tests need root")
  }

  override func tearDown() {
    for n in names {
      _ = try? Lifecycle.down(n)
      XCTAssertEqual(leftovers(n), [], "objects of \(n) left behind")
    }
    XCTAssertEqual(anchors(), [], "up released its anchor file")
    super.tearDown()
  }

  /// A fresh topology name, registered for cleanup.
  func uniqueName() -> String {
    KernelTestCase.counter += 1
    let n = "nstt\(getpid())x\(KernelTestCase.counter)"
    names.append(n)
    return n
  }

  /// An example from topologies/, renamed uniquely, with its host ends and rootfs made local.
  func example(_ name: String, rootfs: String) throws -> Topology {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    var text = try String(contentsOf: repo.appendingPathComponent("topologies/\(name).topo"), encoding: .utf8)
    text = text.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix("topology ") && !$0.contains("run iptables") }
      .joined(separator: "\n")
      .replacingOccurrences(of: "host:veth1 192.168.1.1/24", with: "host:\(host) \(net).1/24")
      .replacingOccurrences(of: "myns:veth0 192.168.1.2/24", with: "myns:veth0 \(net).2/24")
      .replacingOccurrences(of: "chroot ../rootfs", with: "chroot \(rootfs)")
    return topology(text)
  }

  /// Loads `text` (whose first line must not be `topology`), naming it uniquely; nil when it
  /// has errors.
  func validTopology(_ text: String) -> Topology? {
    let r = TopologyLoader.load(text: "topology probe\n" + text, fileName: "probe.topo")
    guard !r.diagnostics.hasErrors else { return nil }
    return topology(text)
  }

  /// Loads `text` (whose first line must not be `topology`), naming it uniquely.
  func topology(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Topology {
    let name = uniqueName()
    let r = TopologyLoader.load(text: "topology \(name)\n" + text, fileName: "\(name).topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered, file: file, line: line)
    return r.topology!
  }

  /// Namespaces, mounts, state and root links of topology `name` still present.
  func leftovers(_ name: String) -> [String] {
    var result: [String] = []
    let netns = (try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []
    result += netns.filter { $0 == name || $0.hasPrefix(name + "-") }.map { "netns \($0)" }
    let mounts = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    result += mounts.split(separator: "\n").filter { $0.contains("/run/netns/\(name)-") || $0.contains("/run/netns/\(name) ") }.map { "mount \($0)" }
    if FileManager.default.fileExists(atPath: StateStore.directory(name)) { result.append("state \(StateStore.directory(name))") }
    let temporary = ((try? FileManager.default.contentsOfDirectory(atPath: StateStore.root)) ?? []).filter { $0.hasPrefix(".\(name).") }
    result += temporary.map { "state \(StateStore.root)/\($0)" }
    if let cg = try? CgroupSystem.detect(), cg.exists("nstopo-\(name)") { result.append("cgroup nstopo-\(name)") }
    if let root = try? NetlinkSocket(namespaceFD: nil, name: "root"), let links = try? root.links() {
      result += links.filter { $0.alias == "nstopo:\(name)" }.map { "link \($0.name)" }
    }
    return result
  }

  /// This process's namespace-file anchors still in /run/netns (see NetworkNamespace.claim).
  func anchors() -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: "/run/netns")) ?? []).filter { $0 == ".nstopo-anchor-\(getpid())" }
  }

  /// A host link name that the leak check recognises.
  func hostLinkName() -> String { "nstt\(KernelTestCase.counter)h" }

  /// A /24 for host ends that no other test uses.
  func hostSubnet() -> String { "10.123.\(KernelTestCase.counter % 250).0" }

  var repo: URL {
    URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  }

  /// The nstopo binary built next to this test bundle.
  var binary: String {
    let candidates = [
      URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nstopo").path,
      repo.appendingPathComponent(".build/debug/nstopo").path,
    ]
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) } ?? candidates[1]
  }

  /// A busybox rootfs for this test, removed at its end.
  func rootfs() throws -> String {
    let path = NSTemporaryDirectory() + "nstt-rootfs-\(getpid())-\(KernelTestCase.counter)"
    _ = try Rootfs.build(at: path)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
  }

  /// Writes `text` to a temporary .topo file.
  func tempFile(_ name: String, _ text: String) throws -> String {
    let path = NSTemporaryDirectory() + "\(name).topo"
    try text.write(toFile: path, atomically: true, encoding: .utf8)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
  }
}

/// Runs `nstopo ARGS`, returning its exit code and output.
@discardableResult
func runNstopo(_ binary: String, _ args: [String], input: String? = nil) throws -> (Int32, String, String) {
  try runProcess(binary, args, input: input)
}

/// Runs a program to its end, returning its exit code, stdout and stderr.
@discardableResult
func runProcess(_ executable: String, _ args: [String], environment: [String: String]? = nil, input: String? = nil) throws -> (Int32, String, String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: executable)
  p.arguments = args
  if let environment { p.environment = environment }
  let out = Pipe()
  let err = Pipe()
  p.standardOutput = out
  p.standardError = err
  let inPipe = Pipe()
  p.standardInput = input == nil ? FileHandle.nullDevice : inPipe
  try p.run()
  if let input {
    inPipe.fileHandleForWriting.write(input.data(using: .utf8)!)
    try inPipe.fileHandleForWriting.close()
  }
  // Read both pipes at once: a full stderr must not block the child while stdout is read.
  final class Box: @unchecked Sendable { var data = Data() }
  let e = Box()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    e.data = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let o = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  p.waitUntilExit()
  return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e.data, as: UTF8.self))
}

/// Runs `nstopo ARGS`, sends it SIGINT once `ready()` holds (polled every 0.5 ms for at most
/// 20 s) and `delay` seconds more have passed, and returns its exit status and stderr.
func interruptNstopo(_ binary: String, _ args: [String], delay: Double = 0, when ready: () -> Bool) throws -> (Int32, String) {
  let p = Process()
  p.executableURL = URL(fileURLWithPath: binary)
  p.arguments = args
  p.standardOutput = FileHandle.nullDevice
  let err = Pipe()
  p.standardError = err
  try p.run()
  let deadline = Date().addingTimeInterval(20)
  while !ready() && p.isRunning && Date() < deadline { usleep(500) }
  if delay > 0 { usleep(UInt32(delay * 1e6)) }
  kill(p.processIdentifier, SIGINT)
  let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
  p.waitUntilExit()
  return (p.terminationStatus, text)
}

/// Opens a TCP listener inside a namespace (sockets keep their namespace).
/// A TCP listener on PORT in a namespace: IPv4 (accept gives a `sockaddr_in`), or with
/// `bothFamilies` an IPv6 socket that also takes IPv4.
func listen(in ns: String, port: UInt16, bothFamilies: Bool = false) throws -> Int32 {
  let fd = try NetworkNamespace.open(ns)
  defer { close(fd) }
  return try NetworkNamespace.run(in: fd) { () throws -> Int32 in
    let family = bothFamilies ? AF_INET6 : AF_INET
    let s = socket(family, Int32(SOCK_STREAM.rawValue), 0)
    var one: Int32 = 1
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, 4)
    let rc: Int32
    if family == AF_INET6 {
      var zero: Int32 = 0
      setsockopt(s, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &zero, 4)
      var addr = sockaddr_in6()
      addr.sin6_family = sa_family_t(AF_INET6)
      addr.sin6_port = port.bigEndian
      rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, UInt32(MemoryLayout<sockaddr_in6>.size)) } }
    } else {
      var addr = sockaddr_in()
      addr.sin_family = sa_family_t(AF_INET)
      addr.sin_port = port.bigEndian
      rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
    }
    guard rc == 0, Glibc.listen(s, 64) == 0 else { throw SystemError("bind/listen", "port \(port) in \(ns)", errno: errno) }
    return s
  }
}

/// Connects from a namespace (nil: root) to ADDR:PORT (either family) with a `timeout`
/// (seconds); returns errno (0: connected). No permanent neighbour entry is involved: the
/// kernel resolves the next hop itself, as a user's own traffic does.
func connectErrno(from ns: String?, to address: String, port: UInt16, timeout: Int = 2) throws -> Int32 {
  let v6 = address.contains(":")
  let make = { () -> Int32 in socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue), 0) }
  let s: Int32
  if let ns {
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    s = try NetworkNamespace.run(in: fd, make)
  } else {
    s = make()
  }
  defer { close(s) }
  var tv = timeval(tv_sec: timeout, tv_usec: 0)
  setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, UInt32(MemoryLayout<timeval>.size))
  let rc: Int32
  if v6 {
    var addr = sockaddr_in6()
    addr.sin6_family = sa_family_t(AF_INET6)
    addr.sin6_port = port.bigEndian
    guard inet_pton(AF_INET6, address, &addr.sin6_addr) == 1 else { return EINVAL }
    rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, UInt32(MemoryLayout<sockaddr_in6>.size)) } }
  } else {
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = port.bigEndian
    addr.sin_addr.s_addr = IPv4Address(address)!.value.bigEndian
    rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
  }
  return rc == 0 ? 0 : errno
}

/// Compares the kernel with the plan: every interface (name, MAC, up, address, master),
/// every route and the forwarding flag of every node, and each bridge's ports.
func assertKernelMatchesPlan(_ plan: Plan, file: StaticString = #filePath, line: UInt = #line) throws {
  let backend = try NetlinkBackend()
  for node in plan.topology.nodes {
    let ns = plan.names.namespace(node: node.name)
    XCTAssertTrue(NetworkNamespace.exists(ns), "namespace \(ns)", file: file, line: line)
    let s = try backend.socket(ns)
    let links = try s.links()
    let addrs = try s.addresses()
    XCTAssertEqual(links.first { $0.name == "lo" }?.isUp, true, "lo up in \(ns)", file: file, line: line)
    for end in plan.topology.ends(of: .node(node.name)) {
      guard let l = links.first(where: { $0.name == end.interface }) else {
        XCTFail("\(ns): no \(end.interface)", file: file, line: line)
        continue
      }
      XCTAssertEqual(l.kind, "veth", file: file, line: line)
      XCTAssertTrue(l.isUp, "\(ns):\(end.interface) up", file: file, line: line)
      XCTAssertEqual(l.mac, plan.mac(end).bytes, "\(ns):\(end.interface) MAC", file: file, line: line)
      let have = addrs.filter { $0.ifindex == l.index }.map(\.address.description)
      XCTAssertEqual(have, end.addresses.map(\.description), "\(ns):\(end.interface) addresses", file: file, line: line)
    }
    let routes = try s.routes().filter { $0.table == 254 && ($0.gateway != nil || $0.kind != .unicast) }
    let want = node.routes.map { r -> String in
      switch r.nextHop {
      case .gateway(let gw, _): return "\(r.destination) via \(gw)"
      case .blackhole: return "\(r.destination) blackhole"
      case .unreachable: return "\(r.destination) unreachable"
      case .prohibit: return "\(r.destination) prohibit"
      }
    }.sorted()
    let got = routes.map { r -> String in
      let d = r.destination
      return r.gateway.map { "\(d) via \($0)" } ?? "\(d) \(r.kind.rawValue)"
    }.sorted()
    XCTAssertEqual(got, want, "\(ns) routes", file: file, line: line)
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    XCTAssertEqual(try Sysctl.forwarding(namespaceFD: fd, name: ns), node.forward, "\(ns) forwarding", file: file, line: line)
    // One write to `all`: the kernel carries it to `default`, so every later veth has it too.
    for dev in ["all", "default", "lo"] + plan.topology.ends(of: .node(node.name)).map(\.interface) {
      XCTAssertEqual(try sysctl(fd, "/proc/sys/net/ipv6/conf/\(dev)/disable_ipv6"), "1", "\(ns) \(dev): IPv6 off", file: file, line: line)
    }
  }
  if !plan.topology.bridges.isEmpty {
    let bfd = try NetworkNamespace.open(plan.names.bridgeNamespace)
    defer { close(bfd) }
    for dev in ["all", "default"] + plan.topology.bridges.map(\.name) {
      XCTAssertEqual(try sysctl(bfd, "/proc/sys/net/ipv6/conf/\(dev)/disable_ipv6"), "1", "bridge namespace \(dev): IPv6 off", file: file, line: line)
    }
    // Present only where br_netfilter is loaded (it is on these machines).
    if let nf = try sysctl(bfd, "/proc/sys/net/bridge/bridge-nf-call-iptables") {
      XCTAssertEqual(nf, "0", "bridge namespace: bridged frames skip iptables", file: file, line: line)
    }
    let links = try backend.socket(plan.names.bridgeNamespace).links()
    for b in plan.topology.bridges {
      let bridge = try XCTUnwrap(links.first { $0.name == b.name }, "bridge \(b.name)", file: file, line: line)
      XCTAssertEqual(bridge.kind, "bridge", file: file, line: line)
      XCTAssertTrue(bridge.isUp, file: file, line: line)
      let ports = links.filter { $0.master == bridge.index }.map(\.name).sorted()
      XCTAssertEqual(ports, plan.topology.links.filter { $0.bridge == b.name }.map(\.b.interface).sorted(), "ports of \(b.name)", file: file, line: line)
    }
  }
  for end in plan.topology.ends(of: .host) {
    let l = try XCTUnwrap(try backend.socket(nil).link(named: end.interface), "host \(end.interface)", file: file, line: line)
    XCTAssertEqual(l.alias, plan.names.hostAlias, file: file, line: line)
    XCTAssertEqual(l.mac, plan.mac(end).bytes, file: file, line: line)
  }
}

/// A sysctl's value inside the namespace behind `fd`; nil when the file does not exist.
func sysctl(_ fd: Int32, _ path: String) throws -> String? {
  try NetworkNamespace.run(in: fd) {
    (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
  }
}
