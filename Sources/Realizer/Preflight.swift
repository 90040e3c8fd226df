import Foundation
import Netlink
import NodeRuntime
import Planner
import TopologyModel

/// Checks made before anything is created, so that a refused `up` changes nothing.
public enum Preflight {
  /// Every problem found; empty when `up` may go ahead.
  public static func problems(_ plan: Plan, root: NetlinkSocket, cgroups: CgroupSystem? = nil) -> [String] {
    var problems: [String] = []
    if let cgroups {
      for case .node(.createCgroup(let path, _)) in plan.steps.map(\.step) where cgroups.exists(path) {
        problems.append("cgroup '\(path)' already exists (\(cgroups.directories(path).joined(separator: ", "))); nstopo never takes over a cgroup it did not create")
      }
    }
    for ns in plan.namespaces where NetworkNamespace.exists(ns) {
      problems.append("namespace '\(ns)' already exists (\(NetworkNamespace.path(ns))); nstopo never takes over a namespace it did not create")
    }
    let hostEnds = plan.topology.ends(of: .host)
    if !hostEnds.isEmpty {
      var routes: [IPAddress.Family: [RouteInfo]] = [:]
      for f in Set(hostEnds.flatMap { $0.addresses.map(\.family) }) {
        do {
          routes[f] = try root.routes(family: f)
        } catch {
          problems.append("cannot read the root namespace's routes to check host addresses against them: \(error)")
        }
      }
      for end in hostEnds {
        do {
          if try root.link(named: end.interface) != nil {
            problems.append("interface '\(end.interface)' already exists in the root namespace")
          }
        } catch {
          problems.append("cannot check interface '\(end.interface)': \(error)")
        }
        // The host's routes of each family the end has addresses in.
        for a in end.addresses {
          let prefix = a.prefix
          for r in routes[a.family] ?? [] where r.destination.length > 0 && (r.table == 254 || r.table == 255) {
            let other = r.destination
            if other.overlaps(prefix) {
              problems.append(
                "host address \(a) on '\(end.interface)' overlaps the root namespace's route \(other) (\(r.table == 255 ? "local" : "main") table); choose a free subnet")
              break
            }
          }
        }
      }
    }
    for node in plan.topology.nodes {
      if let path = node.chroot, !FileManager.default.fileExists(atPath: path) {
        problems.append("\(missingChrootPrefix) '\(path)' of node '\(node.name)' does not exist (create it with `nstopo rootfs \(path)`)")
      }
    }
    return problems
  }

  /// How the problem of a missing `chroot` path begins.
  public static let missingChrootPrefix = "chroot path"
}

/// The kernel lacks a feature the topology needs: `up` refuses before creating anything.
public struct MissingKernelFeature: Error, CustomStringConvertible {
  /// Each link that needs it, with what it asks for (`r1:eth1 -- r2:eth0: delay 20ms loss 1%`).
  public var links: [String]
  /// "created" for `up`, "changed" for a change at run time.
  public var nothing = "created"

  public var description: String {
    """
    this kernel has no netem (the sch_netem qdisc, CONFIG_NET_SCH_NETEM), which \(links.count == 1 ? "this link needs" : "these links need"); nothing was \(nothing):
    \(links.prefix(10).map { "  - \($0)" }.joined(separator: "\n"))\(links.count > 10 ? "\n  - and \(links.count - 10) more" : "")
      rate, mtu and down work without it; delay, jitter and loss need netem: load the running kernel's sch_netem module (`modprobe sch_netem`) or use a kernel built with CONFIG_NET_SCH_NETEM
    """
  }
}

extension Preflight {
  /// The links that need netem when this kernel has none (nil when none is missing). Asks
  /// the kernel only when a link needs it.
  public static func missingNetem(_ t: Topology, available: () -> Bool = Netem.isAvailable) -> MissingKernelFeature? {
    let needing = t.links.filter { $0.properties.needsNetem }
    guard !needing.isEmpty, !available() else { return nil }
    return MissingKernelFeature(links: needing.map { "\($0.a.owner):\($0.a.interface) -- \($0.b.owner):\($0.b.interface): \($0.properties.netemWords.joined(separator: " "))" })
  }
}
