import Foundation
import Glibc
import Netlink
import Planner
import TopologyModel

/// Removes what a journal says nstopo created, and only that: the processes in its cgroups,
/// root-namespace links that carry the topology's alias, the namespaces, then the cgroups.
/// Idempotent: what is already gone is skipped.
///
/// With the topology at hand (its state.json), the bridge namespace goes first: the kernel
/// then destroys every veth pair plugged into its bridges in one batch, and `down` waits until
/// the node ends are gone before deleting the node namespaces, which by then hold little.
/// At star-1000 that returns after 0.6 s instead of 1.0 s. Without the topology, the node
/// namespaces go first and the bridge namespace last, once its veths are released.
public enum Teardown {
  public struct Report: Sendable {
    public var namespacesDeleted = 0
    public var linksDeleted = 0
    public var warnings: [String] = []
    public var failures: [String] = []
    /// Stopped by `shouldStop` (Ctrl-C) after finishing the step at hand: the state is kept,
    /// and another `down` finishes the job.
    public var interrupted = false
    /// What is left when interrupted: namespaces, then cgroups.
    public var namespacesLeft = 0
    /// Objects with the topology's own names that `down` left in place because it could not
    /// prove them nstopo's (`netns NAME`, `link NAME`, `cgroup PATH`): the state is kept, so
    /// that the name stays claimed until someone decides (see `Lifecycle.down(forget:)`).
    public var leftInPlace: [String] = []
  }

  public static func run(
    _ journal: JournalSummary, names: KernelNames, topology: Topology? = nil, system: SystemBackend,
    shouldStop: () -> Bool = { false }, progress: ((Int, Int) -> Void)? = nil
  ) -> Report {
    var report = Report()
    let profiling = getenv("NSTOPO_PROFILE") != nil
    var mark = monotonicSeconds()
    func lap(_ what: String) {
      guard profiling else { return }
      let now = monotonicSeconds()
      FileHandle.standardError.write("down: \(what): \(String(format: "%.3f", now - mark)) s\n".data(using: .utf8)!)
      mark = now
    }
    let backend = system.net
    let ownership = Ownership(names: names, topology: topology)
    var (summary, refused) = ownership.filter(journal)
    report.warnings += refused
    // Namespaces whose identity cannot be proven are left alone, as foreign ones are.
    var unproven: [String] = []
    summary.namespaces = summary.namespaces.filter { ns in
      guard NetworkNamespace.exists(ns), let why = ownership.unproven(ns, summary, socket: { try backend.socket($0) }) else { return true }
      if unproven.count < 3 { report.warnings.append("left namespace '\(ns)' alone: \(why); if it is yours, `ip netns del \(ns)`") }
      unproven.append(ns)
      report.leftInPlace.append("netns \(ns)")
      return false
    }
    if unproven.count > 3 {
      report.warnings.append(
        "left \(unproven.count - 3) more namespaces alone for the same reasons: \(unproven.dropFirst(3).prefix(5).joined(separator: ", "))\(unproven.count > 8 ? ", …" : "")")
    }
    if let b = summary.bridgeNamespace, !summary.namespaces.contains(b) { summary.bridgeNamespace = nil }
    backend.bridgeNamespace = summary.bridgeNamespace
    // Processes first: they hold their namespaces alive. Only in cgroups that up confirmed it
    // created: one it died before confirming may be someone else's (it is removed only if empty).
    let nodeCgroups = summary.cgroups.reversed().filter { $0.contains("/") && !summary.isUnconfirmed(.cgroup, $0) }
    if !summary.cgroups.isEmpty {
      do {
        let cg = try system.cgroups()
        for path in nodeCgroups where !cg.killAll(path, reap: system.reap) {
          report.failures.append("processes in cgroup \(path) survived SIGKILL")
        }
      } catch {
        report.failures.append("cgroups: \(error)")
      }
    }
    lap("stop processes")
    /// Ctrl-C: the step at hand is done; say what is left and keep the state.
    func interrupted(_ left: [String]) -> Report {
      report.interrupted = true
      report.namespacesLeft = left.filter(NetworkNamespace.exists).count
      report.warnings += backend.warnings
      return report
    }
    if shouldStop() { return interrupted(summary.namespaces) }
    for link in summary.hostLinks {
      do {
        guard let info = try backend.socket(nil).link(named: link) else { continue }
        guard info.alias == names.hostAlias else {
          report.warnings.append("left '\(link)' in the root namespace alone: it does not carry nstopo's alias \(names.hostAlias)")
          report.leftInPlace.append("link \(link)")
          continue
        }
        try backend.apply(NetworkStep.deleteLink(ns: nil, name: link))
        report.linksDeleted += 1
      } catch let e as NetlinkError where e.notFound {
        continue
      } catch {
        report.failures.append("ip link del \(link): \(error)")
      }
    }
    var order = summary.namespaces.filter { $0 != summary.bridgeNamespace }.reversed()
      + (summary.bridgeNamespace.map { summary.namespaces.contains($0) ? [$0] : [] } ?? [])
    lap("host links")
    if let topology, let bridgeNS = summary.bridgeNamespace, summary.namespaces.contains(bridgeNS),
      NetworkNamespace.exists(bridgeNS)
    {
      do {
        try NetworkNamespace.delete(bridgeNS)
        report.namespacesDeleted += 1
        order.removeAll { $0 == bridgeNS }
        let ports = topology.links.compactMap { link -> (String, String)? in
          guard link.bridge != nil, case .node(let n) = link.a.owner else { return nil }
          return (names.namespace(node: n), link.a.interface)
        }
        let late = waitUntilGone(ports, timeout: backend.releaseTimeout)
        if !late.isEmpty {
          report.warnings.append(
            "\(late.count) bridge port(s) were not released after \(Int(backend.releaseTimeout)) s (e.g. \(late[0].1) in \(late[0].0)): a process may still hold the bridge namespace")
        }
      } catch {
        report.failures.append("ip netns del \(bridgeNS): \(error)")
      }
      lap("bridge namespace (and its veth pairs)")
    }
    for (k, ns) in order.enumerated() where NetworkNamespace.exists(ns) {
      if shouldStop() { return interrupted(order) }
      do {
        try backend.apply(NetworkStep.deleteNamespace(ns))
        report.namespacesDeleted += 1
        progress?(k + 1, order.count)
      } catch {
        report.failures.append("ip netns del \(ns): \(error)")
      }
    }
    lap("namespaces")
    if !summary.cgroups.isEmpty, let cg = try? system.cgroups() {
      for path in summary.cgroups.reversed() {
        if summary.isUnconfirmed(.cgroup, path) && !cg.pids(path).isEmpty {
          report.warnings.append("left cgroup '\(path)' alone: up was stopped before it could record creating it, and it has processes nstopo never started")
          report.leftInPlace.append("cgroup \(path)")
          continue
        }
        do { try cg.remove(path) } catch { report.failures.append("\(error)") }
      }
    }
    lap("cgroups")
    report.warnings += backend.warnings
    return report
  }

  /// Waits until none of `links` (namespace, name) exists any more, or `timeout` passes;
  /// returns those still there. A namespace already gone has nothing left. One link first
  /// (the kernel destroys them in one batch), then every one, each namespace entered briefly:
  /// an open descriptor would keep it alive.
  static func waitUntilGone(_ links: [(String, String)], timeout: Double) -> [(String, String)] {
    func exists(_ link: (String, String)) -> Bool {
      guard let fd = try? NetworkNamespace.open(link.0) else { return false }
      defer { close(fd) }
      return ((try? NetworkNamespace.run(in: fd) { if_nametoindex(link.1) }) ?? 0) != 0
    }
    let deadline = monotonicSeconds() + timeout
    var pending = links
    if let last = pending.last {
      while exists(last) && monotonicSeconds() < deadline { usleep(2000) }
    }
    while true {
      pending = pending.filter(exists)
      if pending.isEmpty || monotonicSeconds() >= deadline { return pending }
      usleep(2000)
    }
  }
}
