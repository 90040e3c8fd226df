import ArgumentParser
import Netlink

/// The command line: `nstopo SUBCOMMAND …`. A library, so that help texts are tested whole;
/// the executable's main.swift only calls `NSTopo.start()`.
public struct NSTopo: ParsableCommand {
  public init() {}

  /// Raises the descriptor limit (a thousand namespaces need more than the usual soft limit
  /// of 1,024), then parses the arguments and runs the command.
  public static func start() {
    Descriptors.raiseSoftLimit()
    main()
  }

  public static let configuration = CommandConfiguration(
    commandName: "nstopo",
    abstract: "Network-namespace topologies: declare, build, test, draw, tear down.",
    discussion: """
      Exit codes:
        0   ok
        1   `test`: an expectation does not hold; `why`: the pair is not reached
        2   `test --declared-only`: no `expect` line, nothing to check
        64  usage error
        65  invalid topology file (or a `chroot` path that does not exist)
        66  file not found, or topology not up (`down` too, unless --missing-ok)
        69  a required tool or kernel feature is missing (Graphviz, busybox, netem)
        70  internal error
        71  a kernel operation failed (rolled back)
        73  already up, a name it needs is taken, or an output file is not writable
        75  topology busy: another nstopo is changing it
        77  needs root
        78  refused: the state at /run/nstopo/NAME is not nstopo's
        127 exec: the command could not be started
        130 interrupted
      """,
    version: version,
    subcommands: [
      Validate.self, Plan.self, Up.self, Down.self, Status.self, Test.self, Exec.self, Shell.self, RootfsCommand.self, Graph.self, Predict.self, Why.self,
      PerfCommand.self, LinkChange.self, NodeChange.self, Diff.self, Reset.self, Import.self, Export.self, Report.self,
    ])

  /// `nstopo` alone: the help, on stderr, and a usage error (a script that forgot its
  /// subcommand must not pass).
  public func run() throws {
    printError(NSTopo.helpMessage())
    throw ExitCode(Exit.usage)
  }

  /// `nstopo --version`.
  public static let version = "0.6.0"
}
