import Foundation
import Glibc
import Netlink
import NodeRuntime
import Planner

/// A `run` line that failed at once: `up` reports it with the end of its log and rolls back.
public struct ServiceError: Error, CustomStringConvertible {
  public var node: String
  public var command: String
  public var exitCode: Int32
  public var logTail: String

  public var description: String {
    "`run \(command)` in node \(node) exited with code \(exitCode)" + (logTail.isEmpty ? "" : "; its log ends with:\n" + logTail.split(separator: "\n", omittingEmptySubsequences: false).map { "    | \($0)" }.joined(separator: "\n"))
  }
}

/// The real backend for every step: cgroups and processes here, the network through
/// `NetlinkBackend`. Confine an instance to one thread.
public final class SystemBackend: KernelBackend {
  public let net: NetlinkBackend
  /// Where `run` output goes: `<logs>/<node>.log`. nil: /dev/null.
  public let logDirectory: String?
  /// How long a started `run` line is watched for an immediate failure.
  public var grace: Double = 0.3
  private var cgroupSystem: Result<CgroupSystem, Error>?
  /// Children this process started (any backend may reap them: `down` in the same process as
  /// `up`, as in tests, would otherwise leave zombies).
  nonisolated(unsafe) private static var children: [pid_t] = []

  public init(net: NetlinkBackend, logDirectory: String?) {
    self.net = net
    self.logDirectory = logDirectory
  }

  public func cgroups() throws -> CgroupSystem {
    if cgroupSystem == nil { cgroupSystem = Result { try CgroupSystem.detect() } }
    return try cgroupSystem!.get()
  }

  public func apply(_ step: Step) throws {
    switch step {
    case .network(let n): try net.apply(n)
    case .node(let p): try apply(p)
    }
  }

  /// Cgroups and processes.
  public func apply(_ step: NodeStep) throws {
    switch step {
    case .createCgroup(let path, let cpu):
      try cgroups().create(path, cpuPercent: cpu)
    case .deleteCgroup(let path):
      let cg = try cgroups()
      _ = cg.killAll(path, reap: reap)
      try cg.remove(path)
    case .startProcesses(let launches):
      try start(launches)
    case .stopProcesses(let paths):
      let cg = try cgroups()
      for p in paths { _ = cg.killAll(p, reap: reap) }
      reap()
    }
  }

  public func proof(_ kind: JournalEntry.Kind, _ name: String) -> UInt64? { net.proof(kind, name) }

  /// Namespace groups are netlink work only.
  public func applyConcurrently(_ groups: [[Step]]) -> [GroupOutcome] { net.applyConcurrently(groups) }

  /// Starts one wave, then watches it for `grace` seconds: a line that exits non-zero fails
  /// `up`; one that exits 0 was a one-shot command (e.g. an iptables rule) and is fine.
  private func start(_ launches: [Step.Launch]) throws {
    let cg = try cgroups()
    var started: [(Step.Launch, pid_t)] = []
    if let dir = logDirectory { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
    let null = open("/dev/null", O_RDWR | O_CLOEXEC)
    defer { close(null) }
    for l in launches {
      let log = logDirectory.map { open("\($0)/\(l.node).log", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644) } ?? null
      defer { if log != null && log >= 0 { close(log) } }
      let nsfd = try NetworkNamespace.open(l.ns)
      defer { close(nsfd) }
      var p = NodeProcess(
        argv: Step.argv(for: l.command),
        environment: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "NSTOPO_NODE=\(l.node)", "NSTOPO_TOPOLOGY=\(l.topology)"],
        namespaceFD: nsfd, cgroupProcs: cg.procsFiles(l.cgroup), root: l.root)
      p.hostname = NodeProcess.hostname(for: l.node)
      p.stdin = null
      p.stdout = log >= 0 ? log : null
      p.stderr = log >= 0 ? log : null
      p.detached = true
      do {
        let pid = try p.start()
        Self.children.append(pid)
        started.append((l, pid))
      } catch {
        throw ServiceError(node: l.node, command: l.command, exitCode: 127, logTail: "\(error)")
      }
    }
    let deadline = Date().addingTimeInterval(grace)
    var pending = started
    while !pending.isEmpty && Date() < deadline {
      usleep(10_000)
      var still: [(Step.Launch, pid_t)] = []
      for (l, pid) in pending {
        guard let code = NodeProcess.poll(pid) else {
          still.append((l, pid))
          continue
        }
        Self.children.removeAll { $0 == pid }
        if code != 0 { throw ServiceError(node: l.node, command: l.command, exitCode: code, logTail: tail(l.node)) }
      }
      pending = still
    }
  }

  private func tail(_ node: String) -> String {
    guard let dir = logDirectory, let text = try? String(contentsOfFile: "\(dir)/\(node).log", encoding: .utf8) else { return "" }
    return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(6).joined(separator: "\n")
      .trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Collects the children that have ended, so none stays a zombie in its cgroup.
  public func reap() {
    Self.children.removeAll { NodeProcess.poll($0) != nil }
  }
}
