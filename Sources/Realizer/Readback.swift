import Foundation
import Netlink
import NodeRuntime
import Planner
import TopologyModel

/// A node (or the host) as the kernel has it now, compared with its plan.
public struct NodeStatus: Codable, Sendable {
  public struct Interface: Codable, Sendable {
    public var name: String
    public var up: Bool
    public var addresses: [String]
    public var mac: String
    public var mtu: Int?
    /// Its qdiscs of nstopo's kinds, as `tc` writes them (`10mbit 20ms 1%`); nil: none.
    public var shaping: String?
  }

  public var node: String
  public var namespace: String?
  public var present: Bool
  public var forward: Bool?
  public var interfaces: [Interface]
  public var routes: [String]
  /// `routes`, structured (as `ip -j route`: dst, type, gateway, dev).
  public var routeEntries: [RouteEntry] = []
  /// The node's cgroup, its cap, CPU use over the sampling window, and its processes.
  public var cgroup: String?
  public var cpuCapPercent: Int?
  public var cpuUsePercent: Double?
  public var processes: [String] = []
  /// Differences between the plan and the kernel, one sentence each.
  public var drift: [String]
}

/// A route as the kernel has it, for JSON.
public struct RouteEntry: Codable, Sendable {
  public var destination: String
  /// unicast, blackhole, unreachable or prohibit.
  public var type: String
  public var via: String?
  public var dev: String?
}

/// `nstopo status`: each node (and the host) as the kernel has it, with its cgroup, and the
/// differences from the plan (`KernelReading.differences`, the sentences `why` and `test` use).
public enum Readback {
  /// `sample`: seconds over which CPU use is measured (0: not measured).
  public static func status(_ plan: Plan, sample: Double = 0) -> [NodeStatus] {
    var result: [NodeStatus] = []
    let cg = try? CgroupSystem.detect()
    let before = plan.topology.nodes.map { cg?.cpuSeconds(plan.names.cgroup(node: $0.name)) }
    if sample > 0 { usleep(useconds_t(sample * 1e6)) }
    let reading = KernelView.read(plan)
    for (i, node) in plan.topology.nodes.enumerated() {
      var s = status(reading, .node(node.name), plan.topology)
      let path = plan.names.cgroup(node: node.name)
      s.cgroup = path
      s.cpuCapPercent = node.cpuPercent
      if let cg {
        if !cg.exists(path) { s.drift.append("cgroup \(path) is missing") }
        if sample > 0, let a = before[i], let b = cg.cpuSeconds(path) { s.cpuUsePercent = ((b - a) / sample * 1000).rounded() / 10 }
        s.processes = cg.pids(path).map { pid in
          let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
          return "\(pid) \(comm)"
        }
      }
      result.append(s)
    }
    if plan.topology.hasHost { result.append(status(reading, .host, plan.topology)) }
    if !plan.topology.bridges.isEmpty { result.append(bridges(plan)) }
    return result
  }

  /// One owner's row: what the kernel has, and how it differs from the model.
  static func status(_ reading: KernelReading, _ owner: Owner, _ model: Topology) -> NodeStatus {
    let r = reading.owners[owner]!
    var s = NodeStatus(
      node: owner.description, namespace: r.namespace, present: r.present, forward: r.forward, interfaces: [], routes: [], cgroup: nil,
      drift: reading.differences(from: model, for: owner))
    // In the root namespace only the topology's own ends are shown.
    let names = Set(model.ends(of: owner).map(\.interface))
    for l in r.links where r.namespace != nil || names.contains(l.name) {
      let a = r.addresses.filter { $0.ifindex == l.index }.map(\.address.description).sorted()
      let shaping = r.shaping(l.name).shapingText
      s.interfaces.append(
        NodeStatus.Interface(name: l.name, up: l.isUp, addresses: a, mac: hex(l.mac), mtu: l.mtu, shaping: shaping.isEmpty ? nil : shaping))
    }
    if case .node = owner {
      s.routes = r.routes.map { k in
        if let route = KernelView.route(k) { return route.text }
        return "\(k.destination.routeText) dev \(r.links.first { $0.index == k.ifindex }?.name ?? "?")"
      }
      s.routeEntries = r.routes.map { k in
        let dev = r.links.first { $0.index == k.ifindex }?.name
        var e = RouteEntry(destination: k.destination.routeText, type: "unicast", via: nil, dev: dev)
        switch KernelView.route(k)?.nextHop {
        case .gateway(let gw, _): e.via = gw.description
        case .blackhole: e.type = "blackhole"
        case .unreachable: e.type = "unreachable"
        case .prohibit: e.type = "prohibit"
        case nil: break
        }
        return e
      }
    }
    return s
  }

  /// The bridge namespace: each bridge there, with its port count checked.
  static func bridges(_ plan: Plan) -> NodeStatus {
    let ns = plan.names.bridgeNamespace
    var s = NodeStatus(node: "(bridges)", namespace: ns, present: NetworkNamespace.exists(ns), forward: nil, interfaces: [], routes: [], cgroup: nil, drift: [])
    if !s.present {
      s.drift.append("bridge namespace \(ns) is missing")
    } else if let links = try? NetlinkBackend().socket(ns).links() {
      for b in plan.topology.bridges {
        guard let l = links.first(where: { $0.name == b.name }) else {
          s.drift.append("bridge \(b.name) is missing")
          continue
        }
        let ports = links.filter { $0.master == l.index }.count
        let expected = plan.topology.links.filter { $0.bridge == b.name }.count
        if ports != expected { s.drift.append("bridge \(b.name) has \(ports) ports, expected \(expected)") }
        s.interfaces.append(NodeStatus.Interface(name: b.name, up: l.isUp, addresses: [], mac: hex(l.mac), mtu: l.mtu))
      }
    } else {
      s.drift.append("cannot read \(ns) through netlink")
    }
    return s
  }

  static func hex(_ bytes: [UInt8]) -> String {
    bytes.map { b in
      let h = String(b, radix: 16)
      return h.count == 1 ? "0" + h : h
    }.joined(separator: ":")
  }
}
