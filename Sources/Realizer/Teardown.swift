import Foundation
import Glibc
import Netlink
import Planner

/// Removes what a journal says nstopo created, and only that: the processes in its cgroups,
/// root-namespace links that carry the topology's alias, node namespaces, the bridge
/// namespace once the kernel has released every veth, then the cgroups. Idempotent: what is
/// already gone is skipped.
public enum Teardown {
  public struct Report: Sendable {
    public var namespacesDeleted = 0
    public var linksDeleted = 0
    public var warnings: [String] = []
    public var failures: [String] = []
  }

  public static func run(_ summary: JournalSummary, names: KernelNames, system: SystemBackend) -> Report {
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
    backend.bridgeNamespace = summary.bridgeNamespace
    // Processes first: they hold their namespaces alive.
    let nodeCgroups = summary.cgroups.reversed().filter { $0.contains("/") }
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
    for link in summary.hostLinks {
      do {
        guard let info = try backend.socket(nil).link(named: link) else { continue }
        guard info.alias == names.hostAlias else {
          report.warnings.append("left '\(link)' in the root namespace alone: it does not carry nstopo's alias \(names.hostAlias)")
          continue
        }
        try backend.apply(.deleteLink(ns: nil, name: link))
        report.linksDeleted += 1
      } catch let e as NetlinkError where e.notFound {
        continue
      } catch {
        report.failures.append("ip link del \(link): \(error)")
      }
    }
    let order = summary.namespaces.filter { $0 != summary.bridgeNamespace }.reversed()
      + (summary.bridgeNamespace.map { summary.namespaces.contains($0) ? [$0] : [] } ?? [])
    lap("host links")
    for ns in order where NetworkNamespace.exists(ns) {
      do {
        try backend.apply(.deleteNamespace(ns))
        report.namespacesDeleted += 1
      } catch {
        report.failures.append("ip netns del \(ns): \(error)")
      }
    }
    lap("namespaces (and veth release)")
    if !summary.cgroups.isEmpty, let cg = try? system.cgroups() {
      for path in summary.cgroups.reversed() {
        do { try cg.remove(path) } catch { report.failures.append("\(error)") }
      }
    }
    lap("cgroups")
    report.warnings += backend.warnings
    return report
  }
}
