import ArgumentParser
import Foundation
import Glibc
import Netlink
import NodeRuntime
import Planner
import Realizer
import TopologyModel

/// Runs a command inside a node of a topology that is up: its cgroup, its network namespace
/// and its chroot, as the tutorial does by hand.
func runInNode(_ topologyArgument: String, _ node: String, argv: [String], environment: [String]) throws -> Int32 {
  let name = try topologyName(topologyArgument)
  let doc = try requireUp(name, hint: "see `nstopo status`")
  guard let n = doc.topology.node(named: node) else {
    let names = doc.topology.nodes.map(\.name)
    throw Failure(
      "topology '\(name)' has no node '\(node)'; its nodes are: \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", ..." : "")",
      code: Exit.usage)
  }
  let names = KernelNames(topology: name)
  let fd = try mapKernelErrors { try NetworkNamespace.open(names.namespace(node: node)) }
  defer { close(fd) }
  let cgroups = try mapKernelErrors { try CgroupSystem.detect() }
  let process = NodeProcess(
    argv: argv, environment: environment, namespaceFD: fd, cgroupProcs: cgroups.procsFiles(names.cgroup(node: node)), root: n.chroot)
  // Like system(3): the terminal's Ctrl-C belongs to the child.
  signal(SIGINT, SIG_IGN)
  signal(SIGQUIT, SIG_IGN)
  defer {
    signal(SIGINT, SIG_DFL)
    signal(SIGQUIT, SIG_DFL)
  }
  let pid: pid_t
  do {
    pid = try process.start()
  } catch {
    throw Failure("cannot start \(argv[0]) in \(name)/\(node): \(error)", code: Exit.cannotStart)
  }
  return NodeProcess.wait(pid)
}

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a command inside a node (namespace, cgroup and chroot).",
    discussion: """
      stdin, stdout and stderr pass through; the exit code is the command's (128+N if killed by signal N). The tutorial's manual equivalent:
        echo $$ > /sys/fs/cgroup/cpu/nstopo-lab/h7/cgroup.procs
        ip netns exec lab-h7 chroot ROOTFS CMD ARGS...
      """)

  @Argument(help: "Topology name (or file).")
  var topology: String

  @Argument(help: "Node name.")
  var node: String

  @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
  var command: [String] = []

  func validate() throws {
    if command.isEmpty { throw ValidationError("give the command after --: nstopo exec \(topology) \(node) -- CMD [ARGS...]") }
  }

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("exec")
      let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }.sorted()
      return try runInNode(topology, node, argv: command, environment: env)
    }
  }
}

struct Shell: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open an interactive shell inside a node.",
    discussion: "The node's $SHELL if it exists there (inside the chroot for chrooted nodes), else /bin/sh.")

  @Argument(help: "Topology name (or file).")
  var topology: String

  @Argument(help: "Node name.")
  var node: String

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("shell")
      let name = try topologyName(topology)
      let root = StateStore.document(name)?.topology.node(named: node)?.chroot ?? ""
      var shell = "/bin/sh"
      if let s = ProcessInfo.processInfo.environment["SHELL"], FileManager.default.isExecutableFile(atPath: root + s) { shell = s }
      var env = ProcessInfo.processInfo.environment
      env["PS1"] = "[\(name)/\(node)] \\w # "
      env["NSTOPO_NODE"] = node
      return try runInNode(topology, node, argv: [shell], environment: env.map { "\($0.key)=\($0.value)" }.sorted())
    }
  }
}
