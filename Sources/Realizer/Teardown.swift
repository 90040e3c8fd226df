import Glibc
import Netlink
import Planner

/// Removes what a journal says nstopo created, and only that: root-namespace links that carry
/// the topology's alias, then node namespaces, then the bridge namespace once the kernel has
/// released every veth. Idempotent: what is already gone is skipped.
public enum Teardown {
  public struct Report: Sendable {
    public var namespacesDeleted = 0
    public var linksDeleted = 0
    public var warnings: [String] = []
    public var failures: [String] = []
  }

  public static func run(_ summary: JournalSummary, names: KernelNames, backend: NetlinkBackend) -> Report {
    var report = Report()
    backend.bridgeNamespace = summary.bridgeNamespace
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
    for ns in order where NetworkNamespace.exists(ns) {
      do {
        try backend.apply(.deleteNamespace(ns))
        report.namespacesDeleted += 1
      } catch {
        report.failures.append("ip netns del \(ns): \(error)")
      }
    }
    report.warnings += backend.warnings
    return report
  }
}
