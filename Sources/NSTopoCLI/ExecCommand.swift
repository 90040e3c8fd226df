import ArgumentParser
import Foundation
import Glibc
import Netlink
import NodeRuntime
import Planner
import Realizer
import TopologyDSL
import TopologyModel

/// The process that runs `argv` inside `node` of a topology that is up: its cgroup, its
/// network namespace and its chroot, as the tutorial does by hand. The caller closes
/// `namespaceFD` once it started.
func nodeProcess(_ doc: StateDocument, _ node: String, argv: [String], environment: [String]) throws -> NodeProcess {
  let name = doc.topology.name
  guard let n = doc.topology.node(named: node) else {
    let names = doc.topology.nodes.map(\.name)
    let close = Spelling.closest(node, among: names).map { "; did you mean '\($0)'?" } ?? ""
    throw Failure(
      "topology '\(name)' has no node '\(node)'\(close) (its nodes: \(names.prefix(20).joined(separator: ", "))\(names.count > 20 ? ", ..." : ""))",
      code: Exit.usage)
  }
  let names = KernelNames(topology: name)
  let cgroups = try mapKernelErrors { try CgroupSystem.detect() }
  let fd = try mapKernelErrors { try NetworkNamespace.open(names.namespace(node: node)) }
  // Every process nstopo starts in a node is told where it runs (`run` services too).
  let own = environment.filter { !$0.hasPrefix("NSTOPO_NODE=") && !$0.hasPrefix("NSTOPO_TOPOLOGY=") }
  var p = NodeProcess(
    argv: argv, environment: own + ["NSTOPO_NODE=\(node)", "NSTOPO_TOPOLOGY=\(name)"], namespaceFD: fd, cgroupProcs: cgroups.procsFiles(names.cgroup(node: node)), root: n.chroot)
  p.hostname = NodeProcess.hostname(for: node)
  return p
}

/// Starts `process`, closing its namespace descriptor; exit 127 when it cannot start.
func start(_ process: NodeProcess, in place: String) throws -> pid_t {
  defer { if let fd = process.namespaceFD { close(fd) } }
  do {
    return try process.start()
  } catch {
    throw Failure("cannot start \(process.argv[0]) in \(place): \(error)", code: Exit.cannotStart)
  }
}

/// Runs a command inside one node, stdio passed through, and returns its exit code.
func runInNode(_ topologyArgument: String, _ node: String, argv: [String], environment: [String]) throws -> Int32 {
  let name = try topologyName(topologyArgument)
  let doc = try requireUp(name, hint: "see `nstopo status`")
  let process = try nodeProcess(doc, node, argv: argv, environment: environment)
  // Like system(3): the terminal's Ctrl-C belongs to the child.
  signal(SIGINT, SIG_IGN)
  signal(SIGQUIT, SIG_IGN)
  defer {
    signal(SIGINT, SIG_DFL)
    signal(SIGQUIT, SIG_DFL)
  }
  return NodeProcess.wait(try start(process, in: "\(name)/\(node)"))
}

struct Exec: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a command inside a node, or several (namespace, cgroup and chroot).",
    discussion: """
      NODES is what `expect` takes: a name, a range (h[1..4]), a comma list (h1,r1) or * (every node); quote it for the shell. With one node, stdin, stdout and stderr pass through and the exit code is the command's (128+N if killed by signal N). With several, each node's output comes under a header `== NODE ==`, one node after the other (--parallel: all at once, each node's output held until it ends, then printed in order), and the exit code is 0 when the command succeeded in every node, else 1, after a line naming the nodes where it failed. The tutorial's manual equivalent:
        echo $$ > /sys/fs/cgroup/cpu/nstopo-lab/h7/cgroup.procs
        ip netns exec lab-h7 chroot ROOTFS CMD ARGS...
      """)

  @Argument(help: "Topology name (or file).", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "Node name, or nodes: h[1..4], h1,r1, * (quoted).", completion: .custom(nodeNames))
  var node: String

  @Flag(help: "With several nodes, run the command in all of them at once.")
  var parallel = false

  @Argument(parsing: .postTerminator, help: "The command and its arguments, after --.")
  var command: [String] = []

  func validate() throws {
    if command.isEmpty { throw ValidationError("give the command after --: nstopo exec \(topology) \(node) -- CMD [ARGS...]") }
  }

  /// At most this many nodes run at once with --parallel (each holds a temporary file).
  static let maxParallel = 128

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("exec")
      let env = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }.sorted()
      let name = try topologyName(topology)
      let doc = try requireUp(name, hint: "see `nstopo status`")
      let nodes: [String]
      switch NodeSelector.resolve(node, nodes: doc.topology.nodes.map(\.name)) {
      case .success(let n): nodes = n
      case .failure(let e): throw Failure(e.unknownNode == nil ? "exec: \(e.message)" : "topology '\(name)' has \(e.message)", code: Exit.usage)
      }
      // One plain node: the command's own stdio and exit code, as before.
      if nodes.count == 1 && nodes[0] == node { return try runInNode(topology, node, argv: command, environment: env) }
      var codes: [(String, Int32)] = []
      if parallel {
        for batch in stride(from: 0, to: nodes.count, by: Self.maxParallel).map({ Array(nodes[$0..<min($0 + Self.maxParallel, nodes.count)]) }) {
          codes += try runHeld(doc, batch, env: env)
        }
      } else {
        for n in nodes {
          print("== \(n) ==")
          fflush(nil)
          var p = try nodeProcess(doc, n, argv: command, environment: env)
          p.stdin = open("/dev/null", O_RDONLY)
          defer { close(p.stdin) }
          // A command missing in one node (127) is that node's failure; the run goes on.
          do {
            codes.append((n, NodeProcess.wait(try start(p, in: "\(name)/\(n)"))))
          } catch let f as Failure where f.code == Exit.cannotStart {
            printError("nstopo: \(f.message)")
            codes.append((n, Exit.cannotStart))
          }
        }
      }
      let failed = codes.filter { $0.1 != 0 }
      if failed.isEmpty { return Exit.ok }
      printError(
        "nstopo: exec: failed in \(failed.count) of \(count(nodes.count, "node")): "
          + failed.map { "\($0.0) (exit \($0.1))" }.joined(separator: ", "))
      return Exit.mismatch
    }
  }

  /// Starts the command in every node of `batch` at once, each writing to a file of its own,
  /// and prints each node's output under its header, in order, once all ended.
  func runHeld(_ doc: StateDocument, _ batch: [String], env: [String]) throws -> [(String, Int32)] {
    // A node where the command cannot start has no pid, and its message instead of output.
    var running: [(String, pid_t?, Int32, String?)] = []
    defer { for r in running { close(r.2) } }
    for n in batch {
      var p = try nodeProcess(doc, n, argv: command, environment: env)
      var template = Array("/tmp/nstopo-exec-XXXXXX".utf8CString)
      let fd = mkstemp(&template)
      guard fd >= 0 else { throw Failure("exec: cannot create a temporary file: \(String(cString: strerror(errno)))", code: Exit.cannotCreate) }
      unlink(template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) })
      p.stdin = open("/dev/null", O_RDONLY)
      defer { close(p.stdin) }
      p.stdout = fd
      p.stderr = fd
      do {
        running.append((n, try start(p, in: "\(doc.topology.name)/\(n)"), fd, nil))
      } catch let f as Failure where f.code == Exit.cannotStart {
        running.append((n, nil, fd, f.message))
      }
    }
    var codes: [(String, Int32)] = []
    for (n, pid, fd, failure) in running {
      let code = pid.map(NodeProcess.wait) ?? Exit.cannotStart
      print("== \(n) ==")
      fflush(nil)
      if let failure { printError("nstopo: \(failure)") }
      lseek(fd, 0, SEEK_SET)
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      while true {
        let k = read(fd, &buffer, buffer.count)
        if k <= 0 { break }
        _ = buffer.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress!, k) }
      }
      codes.append((n, code))
    }
    return codes
  }
}

struct Shell: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Open an interactive shell inside a node.",
    discussion: "The node's $SHELL if it exists there (inside the chroot for chrooted nodes), else /bin/sh. The shell's hostname is the node's (a UTS namespace of its own, as in a container), so a prompt with \\h shows where you are even when your shell's rc sets its own prompt; NSTOPO_NODE and NSTOPO_TOPOLOGY name them too.")

  @Argument(help: "Topology name (or file).", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "Node name.", completion: .custom(nodeNames))
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
      return try runInNode(topology, node, argv: [shell], environment: env.map { "\($0.key)=\($0.value)" }.sorted())
    }
  }
}
