import ArgumentParser
import Foundation
import Glibc
import Planner
import Probe
import Realizer
import TopologyModel

/// Set by SIGINT/SIGTERM so that long runs stop promptly and clean up.
nonisolated(unsafe) var interrupted: sig_atomic_t = 0

func installInterruptHandler() {
  signal(SIGINT) { _ in interrupted = 1 }
  signal(SIGTERM) { _ in interrupted = 1 }
}

struct Test: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Probe every ordered pair of nodes with real TCP/UDP sockets and check the expectations.",
    discussion: """
      Each node listens on the probe port (default 4444/tcp, as in the tutorial) and echoes a per-probe nonce; every other node connects to its primary address (the first address in link order; --all-addresses for all). A `run` service already on the port is probed by connecting. Exit 0 when every `expect` holds, 1 when any does not.
      """)

  @Argument(help: "A topology name (up), or a file with --up.")
  var topology: String

  @Flag(help: "Bring the file's topology up first and take it down afterwards.")
  var up = false

  @Option(help: "Protocols to probe, comma-separated: tcp, udp.")
  var proto = "tcp"

  @Option(help: "Probe port.")
  var port: UInt16 = 4444

  @Option(help: "Seconds each probe may take.")
  var timeout = 1.0

  @Option(help: "Most probes in flight at once.")
  var maxInFlight = 512

  @Flag(help: "Probe every address of each target, not only its primary one.")
  var allAddresses = false

  @Option(help: "Write every pair as JSON to this file.")
  var json: String?

  @Option(help: "Write one JUnit test case per expectation to this file.")
  var junit: String?

  @Flag(help: "No colour, even on a terminal.")
  var noColor = false

  func validate() throws {
    for p in proto.split(separator: ",") where TransportProtocol(rawValue: String(p)) == nil {
      throw ValidationError("unknown protocol '\(p)': use tcp, udp or tcp,udp")
    }
    if timeout <= 0 || timeout > 60 { throw ValidationError("--timeout must be between 0 and 60 seconds") }
    if maxInFlight < 1 { throw ValidationError("--max-in-flight must be at least 1") }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
  }

  func run() throws {
    try nstopo.run {
      try requireRoot("test")
      installInterruptHandler()
      let topology: Topology
      if up {
        topology = try TopologyFile.require(self.topology)
        let path = URL(fileURLWithPath: self.topology).standardizedFileURL.path
        try mapKernelErrors { try Lifecycle.up(topology, file: path) }
      } else {
        let name = topologyName(self.topology)
        guard let doc = StateStore.document(name), StateStore.phase(name) == .up else {
          throw Failure("topology '\(name)' is not up: run `nstopo up FILE` first, or `nstopo test FILE --up`", code: Exit.noInput)
        }
        topology = doc.topology
      }
      defer {
        if up {
          if let report = try? Lifecycle.down(topology.name), !report.failures.isEmpty {
            printError("nstopo: could not take \(topology.name) down: \(report.failures.joined(separator: "; "))")
          }
        }
      }
      let report = try probe(topology)
      let tty = isatty(STDOUT_FILENO) == 1 && !noColor && ProcessInfo.processInfo.environment["NO_COLOR"] == nil
      print(MatrixText.render(report, topology: topology, color: tty), terminator: "")
      if let json { try write(encodeJSON(TestDocument(report)), to: json) }
      if let junit { try write(JUnitReport.render(report), to: junit) }
      return report.passed ? Exit.ok : Exit.mismatch
    }
  }

  func probe(_ topology: Topology) throws -> TestReport {
    let names = KernelNames(topology: topology.name)
    let protocols = proto.split(separator: ",").compactMap { TransportProtocol(rawValue: String($0)) }
    let set = ProbeSet(
      topology: topology, namespace: names.namespace(node:),
      options: ProbeSet.Options(protocols: protocols, port: port, allAddresses: allAddresses))
    let engine = ProbeEngine(set, options: ProbeEngine.Options(timeout: timeout, maxInFlight: maxInFlight))
    let start = Date()
    let results: [(Outcome, Double?)]
    do {
      results = try engine.run { interrupted != 0 }
    } catch is ProbeEngine.Cancelled {
      throw Failure("interrupted", code: 130)
    } catch {
      throw Failure("\(error)", code: Exit.kernel)
    }
    return TestReport(
      topology: topology, set: set, results: results, seconds: Date().timeIntervalSince(start), timeout: timeout,
      protocols: protocols, peakInFlight: engine.peakInFlight)
  }

  func write(_ text: String, to path: String) throws {
    do {
      try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
      throw Failure("cannot write \(path): \(error.localizedDescription)", code: Exit.kernel)
    }
  }
}

/// The documented JSON of `nstopo test --json` (format 1), read back by `nstopo graph --results`.
struct TestDocument: Codable {
  var format = 1
  var topology: String
  var passed: Bool
  var summary: String
  var seconds: Double
  var port: Int
  var protocols: [TransportProtocol]
  var timeoutSeconds: Double
  var peakInFlight: Int
  var pairs: [PairResult]

  init(_ r: TestReport) {
    topology = r.topology
    passed = r.passed
    summary = r.summary
    seconds = r.seconds
    port = r.port
    protocols = r.protocols
    timeoutSeconds = r.timeoutSeconds
    peakInFlight = r.peakInFlight
    pairs = r.pairs
  }
}
