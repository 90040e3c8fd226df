import ArgumentParser

struct NSTopo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nstopo",
    abstract: "Network-namespace topologies: declare, build, test, draw, tear down.",
    discussion: """
      Exit codes:
        0   ok
        1   `test`: an expectation does not hold
        64  usage error
        65  invalid topology file
        66  file or topology not found
        69  a required tool is missing (Graphviz, busybox)
        70  internal error
        71  a kernel operation failed (rolled back)
        73  topology already up, or a name it needs is taken
        75  topology busy: another nstopo is changing it
        77  needs root
        130 interrupted
      """,
    subcommands: [Validate.self, Plan.self, Up.self, Down.self, Status.self, Test.self, Exec.self, Shell.self, RootfsCommand.self, Graph.self, Predict.self, Why.self])
}
