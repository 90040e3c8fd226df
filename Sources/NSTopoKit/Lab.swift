import Foundation
import Glibc
import Matrix
import Netlink
import NodeRuntime
import Planner
import Probe
import Realizer
import TopologyModel

/// A topology that is up: built in the kernel by ``Lab/up(_:)``, probed by ``Lab/test(_:)``,
/// entered by ``Lab/exec(_:_:)``, removed by ``Lab/down()``.
///
/// A lab is taken down when the last reference to it goes away, so a lab made in a test is
/// removed when the test ends, whether it passed, failed or threw. ``Lab/with(_:_:)`` makes
/// that explicit. Needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root), as `nstopo up` does.
///
/// ```swift
/// let lab = try Lab.up(try Topology.parse(text, name: "twolans"))
/// let report = try lab.test()
/// XCTAssertTrue(report.passed, report.summary)
/// ```
public final class Lab {
  /// The model the lab was built from.
  public let topology: Topology
  /// Whether ``down()`` ran.
  public private(set) var isDown = false

  private init(_ topology: Topology) { self.topology = topology }

  /// Builds `topology` in the kernel: namespaces, veths, bridges, addresses, routes,
  /// firewalls, cgroups and `run` services, as `nstopo up FILE` does. On any failure
  /// everything it made is rolled back before it throws.
  public static func up(_ topology: Topology) throws -> Lab {
    try Lifecycle.up(topology, file: "(built by NSTopoKit)")
    return Lab(topology)
  }

  /// Brings `topology` up, runs `body` with it and takes it down, also when `body` throws.
  public static func with<T>(_ topology: Topology, _ body: (Lab) throws -> T) throws -> T {
    let lab = try up(topology)
    defer { try? lab.down() }
    return try body(lab)
  }

  /// Probes every pair with real sockets and holds each to its `expect` line and to the
  /// model, as `nstopo test` does; returns the report (``TestReport/passed``,
  /// ``TestReport/mismatches``, every pair's outcome).
  public func test(_ options: TestOptions = TestOptions()) throws -> TestReport {
    try TestRun.run(topology, scenarios: [], options: options).base
  }

  /// The matrix, then each named scenario of the file put in force, probed and reverted, as
  /// `nstopo test --scenario` does (every one of them with `scenarios: nil`).
  public func test(_ options: TestOptions = TestOptions(), scenarios names: [String]?) throws -> TestRun.Result {
    let chosen = try (names ?? topology.scenarios.map(\.name)).map { n in
      guard let s = topology.scenarios.first(where: { $0.name == n }) else { throw LabError.noScenario(n, in: topology.name) }
      return s
    }
    return try TestRun.run(topology, scenarios: chosen, options: options)
  }

  /// `nstopo why`: the model's walk from `source` to `target` and the same walk over what
  /// the kernel has, with every difference between them (`Explain`).
  public func why(_ source: String, _ target: String, address: IPAddress? = nil, proto: TransportProtocol = .tcp, port: Int = 4444)
    -> (model: Prediction, kernel: Explain.KernelSide)
  {
    let flow = Flow(
      from: source, to: target, address: address ?? Explain.defaultAddress(topology, from: source, to: target), proto: proto, port: port)
    let model = Explain.model(topology, flow)
    return (model, Explain.kernel(topology, flow, model: model))
  }

  /// What a command printed and how it ended.
  public struct ExecResult: Sendable {
    /// The exit code (128+N when killed by signal N).
    public var status: Int32
    public var output: String
    public var error: String
  }

  /// Runs `argv` inside `node` (its namespace, cgroup and chroot, with the node's name as
  /// its hostname) and waits for it, as `nstopo exec` does. At most 16 MiB of each output
  /// is kept.
  public func exec(_ node: String, _ argv: [String], environment: [String] = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]) throws -> ExecResult {
    guard let n = topology.node(named: node) else { throw LabError.noSuchNode(node, topology.name) }
    guard !argv.isEmpty else { throw LabError.emptyCommand }
    let names = KernelNames(topology: topology.name)
    let cgroups = try CgroupSystem.detect()
    let fd = try NetworkNamespace.open(names.namespace(node: node))
    defer { close(fd) }
    var files: [Int32] = []
    defer { for f in files { close(f) } }
    for _ in 0..<2 {
      var template = Array("/tmp/nstopo-lab-XXXXXX".utf8CString)
      let f = mkstemp(&template)
      guard f >= 0 else { throw LabError.system("mkstemp", errno) }
      unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
      files.append(f)
    }
    let null = open("/dev/null", O_RDONLY)
    defer { close(null) }
    var p = NodeProcess(argv: argv, environment: environment, namespaceFD: fd, cgroupProcs: cgroups.procsFiles(names.cgroup(node: node)), root: n.chroot)
    p.hostname = NodeProcess.hostname(for: node)
    p.stdin = null
    p.stdout = files[0]
    p.stderr = files[1]
    let status = NodeProcess.wait(try p.start())
    func read(_ f: Int32) -> String {
      lseek(f, 0, SEEK_SET)
      var data = [UInt8]()
      var buffer = [UInt8](repeating: 0, count: 65536)
      while data.count < 16 << 20 {
        let k = Glibc.read(f, &buffer, buffer.count)
        if k <= 0 { break }
        data += buffer[0..<k]
      }
      return String(decoding: data, as: UTF8.self)
    }
    return ExecResult(status: status, output: read(files[0]), error: read(files[1]))
  }

  /// Removes everything the lab made, as `nstopo down` does. Safe to call twice.
  public func down() throws {
    guard !isDown else { return }
    isDown = true
    if let report = try Lifecycle.down(topology.name), !report.failures.isEmpty {
      throw LabError.downFailed(report.failures)
    }
  }

  deinit { try? down() }
}

/// What a ``Lab`` could not do.
public enum LabError: Error, CustomStringConvertible, Sendable {
  case noSuchNode(String, String)
  case noScenario(String, in: String)
  case emptyCommand
  case system(String, Int32)
  case downFailed([String])

  public var description: String {
    switch self {
    case .noSuchNode(let n, let t): return "topology '\(t)' has no node '\(n)'"
    case .noScenario(let n, let t): return "topology '\(t)' has no scenario '\(n)'"
    case .emptyCommand: return "exec needs a command"
    case .system(let call, let e): return "\(call): \(String(cString: strerror(e)))"
    case .downFailed(let f): return "could not remove everything: \(f.joined(separator: "; "))"
    }
  }
}
