import ArgumentParser
import Foundation
import HTMLReport
import NSTopoKit
import Glibc
import Planner
import Predict
import Matrix
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
      Each node listens on the probe port (default 4444/tcp, as in the tutorial) and echoes a per-probe nonce; every other node connects to its primary address (the first address in link order; --all-addresses for all, and an `expect` line about a node then holds for each of its addresses). A `run` service already on the port is probed by connecting. A pair that timed out where the model expects an ICMP error is probed again, one per source a second (routers limit the errors they send about one source). Exit 0 when every `expect` holds (with --exact, every pair's outcome is the model's), 1 when any does not.
      """)

  @Argument(help: "A topology name (up), or a file with --up.", completion: .custom(topologyNamesOrFiles))
  var topology: String

  @Flag(help: "Bring the file's topology up first and take it down afterwards.")
  var up = false

  @Option(help: "With --up: bring it up under this name instead of the file's (as `up --name`).")
  var name: String?

  @Flag(help: "Also measure the throughput across every link with a `rate` (1 s each way, as `nstopo perf`), held to its rate within 10 %.")
  var perf = false

  @Flag(name: .shortAndLong, help: "No progress line on stderr (there is none unless stderr is a terminal), and no warnings about the file.")
  var quiet = false

  @OptionGroup var probeOptions: ProbeOptions

  @OptionGroup var scenarioOptions: ScenarioOptions

  @Option(help: "Seconds each probe may take.")
  var timeout = 1.0

  @Option(help: "Most probes in flight at once.")
  var maxInFlight = 512

  @Flag(help: "Probe every address of each target, not only its primary one.")
  var allAddresses = false

  @Option(help: "Write every pair as JSON to this file (- for stdout, instead of the matrix).")
  var json: String?

  @Option(help: "Write the self-contained HTML report to this file (see `nstopo report`).")
  var html: String?

  @Option(help: "Write one JUnit test case per expectation to this file (- for stdout).")
  var junit: String?

  @OptionGroup var display: DisplayOptions

  @Flag(help: "Hold only pairs with an `expect` line; by default the model's prediction is the expectation of every other pair.")
  var declaredOnly = false

  @Flag(help: "Also hold every pair to the model's exact outcome (no-route, host-unreachable, prohibited, timed-out, reached), not only to reach or blocked.")
  var exact = false

  @Option(help: "An earlier run's --json file: list the pairs whose outcome changed since (regressions and fixes), scenario by scenario.")
  var compare: String?

  @Flag(help: "With --compare: exit 1 when any pair's outcome changed.")
  var failOnChange = false

  func validate() throws {
    if [json, junit, html].filter({ $0 == "-" }).count > 1 { throw ValidationError("--json -, --junit - and --html - would all write to stdout: send all but one to a file") }
    if failOnChange && compare == nil { throw ValidationError("--fail-on-change needs --compare PREVIOUS.json") }
    if timeout <= 0 || timeout > 60 { throw ValidationError("--timeout must be between 0 and 60 seconds") }
    if maxInFlight < 1 { throw ValidationError("--max-in-flight must be at least 1") }
    if name != nil && !up { throw ValidationError("--name goes with --up (a topology that is up is named by its first argument)") }
  }

  func run() throws {
    TopologyFile.warnings = !quiet
    try NSTopoCLI.run {
      try requireRoot("test")
      let commandStart = Date()
      let progress = ProgressLine(quiet: quiet)
      defer { progress.finish() }
      installInterruptHandler()
      let jsonFile = try OutputFile.checked(json, option: "--json")
      let junitFile = try OutputFile.checked(junit, option: "--junit")
      let htmlFile = try OutputFile.checked(html, option: "--html")
      let topology: Topology
      if up {
        var file = try TopologyFile.require(self.topology)
        if let name { file.name = try instanceName(name) }
        topology = file
        try requireSomethingToCheck(topology)
        if StateStore.document(topology.name) != nil {
          throw Failure(
            "topology '\(topology.name)' is already up: test it as it is with `nstopo test \(topology.name)` (without --up), or take it down first with `nstopo down \(topology.name)`",
            code: Exit.alreadyUp)
        }
        let path = URL(fileURLWithPath: self.topology).standardizedFileURL.path
        progress.update("planning and checking", 0, 0)
        _ = try mapKernelErrors {
          try Lifecycle.up(topology, file: path, shouldStop: { interrupted != 0 }, progress: { progress.update("building", $0, $1, unit: "steps") })
        }
        progress.finish()
      } else {
        let name = try topologyName(self.topology)
        // A scenario that a killed test left in force is not the topology: put it back first.
        if StateStore.phase(name) == .up, let left = try mapChangeErrors({ try Change.revertScenarioLeftInForce(name) }) {
          printError("nstopo: scenario \(left) was still in force (the test that applied it was killed): reverted it before testing")
        }
        topology = try requireUp(name, hint: "run `nstopo up FILE` first, or `nstopo test FILE --up`").topology
        try requireSomethingToCheck(topology)
      }
      defer {
        if up {
          let down = try? Lifecycle.down(topology.name, progress: { progress.update("taking down", $0, $1, unit: "namespaces") })
          progress.finish()
          if let report = down, !report.failures.isEmpty {
            printError("nstopo: could not take \(topology.name) down: \(report.failures.joined(separator: "; "))")
          }
        }
      }
      let profiling = getenv("NSTOPO_PROFILE") != nil
      var mark = Date()
      func lap(_ what: String) {
        if profiling { printError("test: \(what): \(String(format: "%.3f", Date().timeIntervalSince(mark))) s") }
        mark = Date()
      }
      let scenarios = try scenarioOptions.chosen(topology)
      // Read before the run: a file that cannot be read fails now, not after it.
      let previous = try compare.map(readPrevious)
      lap("load")
      // A full mesh needs permanent ARP entries (the kernel's table is global and small).
      // Each scenario is put in force, probed and reverted in turn, under the test's lock;
      // an interface that went down lost its entries, which go back after each.
      var events = TestRun.Events()
      events.shouldStop = { interrupted != 0 }
      events.lap = lap
      events.progress = { scenario, phase, done, total in
        progress.prefix = scenario.map { "scenario \($0): " } ?? ""
        progress.update(phase, done, total, unit: phase == "probing" ? "pairs" : "")
      }
      events.measured = { _, m in
        progress.finish()
        progress.prefix = ""
        say(reprobed: m)
      }
      let run = try mapChangeErrors {
        do {
          return try TestRun.run(topology, scenarios: scenarios, options: testOptions, events: events)
        } catch is ProbeEngine.Cancelled {
          throw Failure("interrupted", code: Exit.interrupted)
        }
      }
      progress.finish()
      var report = run.base
      let reports = run.scenarios
      let neighbourCheck = run.neighbourCheck
      report.wallSeconds = Date().timeIntervalSince(commandStart)
      // A report on stdout (`--json -`) is all that goes there.
      let text = !(jsonFile?.isStdout ?? false) && !(junitFile?.isStdout ?? false) && !(htmlFile?.isStdout ?? false)
      let tty = Terminal.color()
      if text {
        print(MatrixText.render(report, topology: topology, color: tty, width: Terminal.width()), terminator: "")
        if let c = neighbourCheck, c.probed > 0 {
          print(
            "neighbour resolution: \(count(c.probed, "reached pair")) probed again without test's permanent neighbour entries (every routed or firewalled pair, \(NeighbourCheck.plainPairsPerSegment) a segment among the rest\(c.skipped > 0 ? "; \(c.skipped) left out to keep the kernel's neighbour table small" : "")): "
              + (c.differ == 0 ? "the kernel resolves every next hop itself" : "\(c.differ) reached only with the entries (see the mismatches)"))
        }
        for s in reports { printScenario(s, topology: topology, color: tty) }
      }
      lap("render")
      var passed = report.passed && reports.allSatisfy(\.report.passed)
      var throughput: [ThroughputCheck] = []
      if perf {
        // Each shaped link, measured across (after the matrix, whose probes it would crowd).
        let pairs = Perf.shapedPairs(topology)
        if text { print(pairs.isEmpty ? "\nperf: no link has a `rate`" : "\nperf (\(count(pairs.count, "shaped link")), 1 s each way, within 10 %):") }
        for (a, b) in pairs {
          do {
            for d in try Perf.run(topology, a, b, udp: false, seconds: 1) {
              let held = Perf.holds(d, tolerance: 10)
              passed = passed && held
              throughput.append(
                ThroughputCheck(
                  source: d.source, target: d.target, address: d.address, megabitsPerSecond: d.measured.megabitsPerSecond, rate: d.bottleneck?.bits, held: held))
              if text { print("  \(held ? "✓" : "✗") \(throughput.last!.text)") }
            }
          } catch let e as Throughput.Failure {
            passed = false
            if text { print("  ✗ \(a) <-> \(b): \(e.description)") }
          }
        }
      }
      if let previous, let compare {
        let changes = since(previous, report, reports)
        if text { print("\nsince \(compare): " + (changes.isEmpty ? "no pair changed" : changes.map { "\($0.0): \($0.1.text())" }.joined()), terminator: changes.isEmpty ? "\n" : "") }
        if failOnChange && !changes.isEmpty { passed = false }
      }
      try jsonFile?.stream { TestJSON.write(report, passed: passed, scenarios: reports, kind: "test", throughput: throughput, $0) }
      try junitFile?.write(JUnitReport.render(report, scenarios: reports, throughput: throughput))
      if let htmlFile {
        var json = ""
        TestJSON.write(report, passed: passed, scenarios: reports, kind: "test") { json += $0 }
        let doc = try JSONDecoder().decode(TestDocument.self, from: Data(json.utf8))
        let generated = ISO8601DateFormatter().string(from: commandStart)
        if let problem = HTMLReport.tooLarge(doc) {
          printError("nstopo: warning: no HTML report: \(problem)")
        } else {
          try htmlFile.write(HTMLReport.render(doc, context: ReportSupport.context(doc, topology: topology, generated: generated)))
        }
      }
      return passed ? Exit.ok : Exit.mismatch
    }
  }

  /// `--declared-only` holds only `expect` lines: without one there is nothing to check
  /// (exit 2, as netlab's `validate` says "no tests").
  func requireSomethingToCheck(_ topology: Topology) throws {
    guard declaredOnly else { return }
    let scenarios = try scenarioOptions.chosen(topology)
    if topology.expectations.isEmpty && scenarios.allSatisfy(\.expectations.isEmpty) {
      throw Failure(
        "test --declared-only: \(topology.name) has no `expect` line, so there is nothing to check (without --declared-only, every pair is held to the model)",
        code: Exit.nothingToCheck)
    }
  }

  var testOptions: TestOptions {
    TestOptions(
      protocols: probeOptions.protocols, port: probeOptions.port, families: probeOptions.families, allAddresses: allAddresses,
      timeout: timeout, maxInFlight: maxInFlight, declaredOnly: declaredOnly, exact: exact)
  }

  /// What a matrix's second looks were, one line each (stderr when a report is on stdout).
  func say(reprobed m: MatrixMeasurement) {
    func say(_ line: String) { if [json, junit, html].contains("-") { printError(line) } else { print(line) } }
    if m.reprobedPaced > 0 {
      say("re-probed \(m.reprobedPaced) pair\(m.reprobedPaced == 1 ? "" : "s") that timed out where the model expects an ICMP error, one per source a second (routers limit the errors they send about one source)")
    }
    if m.reprobedLost > 0 {
      say("re-probed \(m.reprobedLost) pair\(m.reprobedLost == 1 ? "" : "s") not reached where the model expects it, at low concurrency: \(m.reachedOnSecondLook) reached (lost under the run's own load)")
    }
  }


  func readPrevious(_ path: String) throws -> TestDocument {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw Failure("\(path): no such file (--compare takes an earlier run's --json)", code: Exit.noInput)
    }
    do {
      return try JSONDecoder().decode(TestDocument.self, from: data)
    } catch {
      throw Failure("\(path) is not the JSON of `nstopo test --json`: \(error)", code: Exit.invalidTopology)
    }
  }

  /// The base and each scenario against the same one of the earlier run, where it has it:
  /// the regressions (lost), fixes (gained) and other changes, labelled.
  func since(_ previous: TestDocument, _ base: TestReport, _ scenarios: [ScenarioReport]) -> [(String, Differential)] {
    var out: [(String, Differential)] = []
    let d = Differential(before: previous.pairs, after: base.pairs)
    if !d.isEmpty { out.append(("base", d)) }
    for s in scenarios {
      guard let old = previous.scenarios?.first(where: { $0.name == s.name }) else { continue }
      let d = Differential(before: old.pairs, after: s.report.pairs)
      if !d.isEmpty { out.append(("scenario \(s.name)", d)) }
    }
    return out
  }


}

