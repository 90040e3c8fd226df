import ArgumentParser
import Foundation
import Realizer
import TopologyModel

struct Up: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Build a topology in the kernel (namespaces, veths, bridges, addresses, routes).",
    discussion: """
      Everything is created through netlink. A failure at any step rolls back everything this run created. State is kept in /run/nstopo/<topology>/ so that `down` works even if the file changes or disappears.

      --name NAME brings the file up under another name than its `topology` line: every kernel name (namespaces NAME-NODE), MAC address and the state derive from NAME, so two instances of one file coexist; every other command then takes NAME. Host ends keep the file's interface names, so a file with host ends runs once per machine.
      """)

  @Argument(help: "A topology file (.topo).", completion: .file(extensions: ["topo"]))
  var file: String

  @OptionGroup var display: DisplayOptions

  @Option(help: "Bring it up under this name instead of the file's (a second instance of one file).")
  var name: String?

  @Flag(help: "Take the topology down first if it is already up.")
  var replace = false

  @Flag(name: .shortAndLong, help: "No progress line on stderr (there is none unless stderr is a terminal), and no warnings about the file.")
  var quiet = false

  @Flag(help: "Install a permanent neighbour (ARP) entry for every pair of each L2 segment now, for your own full-mesh traffic (`test` does it on first use).")
  var staticNeighbours = false

  func run() throws {
    TopologyFile.warnings = !quiet
    installInterruptHandler()
    try NSTopoCLI.run {
      var topology = try TopologyFile.require(file)
      if let name { topology.name = try instanceName(name) }
      try requireRoot("up")
      let path = URL(fileURLWithPath: file).standardizedFileURL.path
      let progress = ProgressLine(quiet: quiet)
      defer { progress.finish() }
      progress.update("planning and checking", 0, 0)
      let report = try mapKernelErrors {
        try Lifecycle.up(
          topology, file: path, replace: replace, staticNeighbours: staticNeighbours, shouldStop: { interrupted != 0 },
          progress: { progress.update("building", $0, $1, unit: "steps") })
      }
      progress.finish()
      if let r = report.replaced {
        print("up: took the running \(topology.name) down first: \(count(r.namespacesDeleted, "namespace")), \(count(r.linksDeleted, "host link")) removed")
      }
      print(
        "up: topology \(topology.name): \(count(topology.nodes.count, "node")), \(count(topology.links.count, "veth")), \(count(report.namespaces, "namespace")), \(count(report.steps, "step")) in \(String(format: "%.3f", report.seconds)) s"
      )
      return Exit.ok
    }
  }
}

/// Maps the realizer's errors to messages and exit codes, in one place.
func mapKernelErrors<T>(_ body: () throws -> T) throws -> T {
  do {
    return try body()
  } catch let e as StateError {
    switch e {
    case .alreadyUp: throw Failure(e.description, code: Exit.alreadyUp)
    case .busy, .testing: throw Failure(e.description, code: Exit.busy)
    case .interrupted: throw Failure(e.description, code: Exit.alreadyUp)
    case .notUp: throw Failure(e.description, code: Exit.noInput)
    case .io: throw Failure(e.description, code: Exit.kernel)
    case .badName: throw Failure(e.description, code: Exit.usage)
    case .unsafe: throw Failure(e.description, code: Exit.refused)
    case .unreadable: throw Failure(e.description, code: Exit.software)
    }
  } catch let e as ResourceError {
    throw Failure(e.description, code: Exit.kernel)
  } catch let e as PreflightError {
    throw Failure(e.description, code: e.onlyInTheFile ? Exit.invalidTopology : Exit.alreadyUp)
  } catch let e as ScenarioInForce {
    throw Failure(e.description, code: Exit.busy)
  } catch let e as InterruptedChange {
    throw Failure(e.description, code: Exit.busy)
  } catch let e as MissingKernelFeature {
    throw Failure(e.description, code: Exit.unavailable)
  } catch let e as UpError where e.realize.underlying is Interrupted {
    throw Failure("interrupted at step \(e.realize.index + 1) of \(e.realize.count); " + (e.stateKept ? "run `nstopo down` to finish the cleanup" : "everything was rolled back"), code: Exit.interrupted)
  } catch let e as UpError {
    throw Failure(e.description, code: Exit.kernel)
  } catch let f as Failure {
    throw f
  } catch let e as ExitCode {
    throw e
  } catch {
    throw Failure("\(error)", code: Exit.kernel)
  }
}

/// The state of a topology that is up, or the reason it cannot be used now: not up (66, with
/// `hint`), being changed by an `up` or `down` (75), interrupted (73), not nstopo's (78).
func requireUp(_ name: String, hint: String) throws -> StateDocument {
  do {
    return try StateStore.requireUp(name)
  } catch .notUp {
    throw Failure(notUpMessage(name, hint: hint), code: Exit.noInput)
  } catch {
    return try mapKernelErrors { throw error }
  }
}

/// "topology 'lba' is not up; did you mean 'lab'?", or the hint when no name is close.
func notUpMessage(_ name: String, hint: String? = nil) -> String {
  let up = StateStore.names()
  if let close = Spelling.closest(name, among: up) {
    return "topology '\(name)' is not up; did you mean '\(close)'?"
  }
  let others = up.isEmpty ? "no topology is up" : "up: \(up.prefix(5).joined(separator: ", "))\(up.count > 5 ? ", …" : "")"
  return "topology '\(name)' is not up (\(others))" + (hint.map { ": \($0)" } ?? "")
}

/// `1 namespace`, `2 namespaces`.
func count(_ n: Int, _ noun: String, plural: String? = nil) -> String {
  "\(n) \(n == 1 ? noun : plural ?? noun + "s")"
}

/// `--name NAME`: a topology name, checked as the file's `topology` line is (exit 64).
func instanceName(_ name: String) throws -> String {
  if let problem = NameRules.topologyProblem(name) {
    throw Failure("--name: '\(name)' is not a topology name: it \(problem)", code: Exit.usage)
  }
  return name
}
