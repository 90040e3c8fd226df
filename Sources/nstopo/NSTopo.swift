import ArgumentParser

struct NSTopo: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "nstopo",
    abstract: "Network-namespace topologies: declare, build, test, draw, tear down.",
    discussion: """
      Exit codes: 0 ok, 1 test mismatch, 64 usage, 65 invalid topology, 66 file not found,
      69 a required tool is missing, 70 internal error, 71 kernel operation failed,
      73 topology already up, 75 topology busy (another nstopo holds it), 77 needs root.
      """,
    subcommands: [Validate.self, Plan.self, Up.self, Down.self, Status.self, Test.self, Exec.self, Shell.self, RootfsCommand.self, Graph.self])
}
