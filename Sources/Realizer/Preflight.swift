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
        problems.append("chroot path '\(path)' of node '\(node.name)' does not exist (create it with `nstopo rootfs \(path)`)")
      }
    }
    return problems
  }
}
