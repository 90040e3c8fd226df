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
  }

  public var node: String
  public var namespace: String?
  public var present: Bool
  public var forward: Bool?
  public var interfaces: [Interface]
  public var routes: [String]
  /// The node's cgroup, its cap, CPU use over the sampling window, and its processes.
  public var cgroup: String?
  public var cpuCapPercent: Int?
  public var cpuUsePercent: Double?
  public var processes: [String] = []
  /// Differences between the plan and the kernel, one sentence each.
  public var drift: [String]
}

/// Reads a topology back from the kernel through netlink.
public enum Readback {
  /// `sample`: seconds over which CPU use is measured (0: not measured).
  public static func status(_ plan: Plan, sample: Double = 0) -> [NodeStatus] {
    guard let backend = try? NetlinkBackend() else { return [] }
    var result: [NodeStatus] = []
    let cg = try? CgroupSystem.detect()
    let before = plan.topology.nodes.map { cg?.cpuSeconds(plan.names.cgroup(node: $0.name)) }
    if sample > 0 { usleep(useconds_t(sample * 1e6)) }
    for (i, node) in plan.topology.nodes.enumerated() {
      let ns = plan.names.namespace(node: node.name)
      var s = read(plan: plan, owner: .node(node.name), ns: ns, node: node, backend: backend)
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
    if plan.topology.hasHost {
      result.append(read(plan: plan, owner: .host, ns: nil, node: nil, backend: backend))
    }
    if !plan.topology.bridges.isEmpty {
      let ns = plan.names.bridgeNamespace
      var s = NodeStatus(node: "(bridges)", namespace: ns, present: NetworkNamespace.exists(ns), forward: nil, interfaces: [], routes: [], cgroup: nil, drift: [])
      if !s.present {
        s.drift.append("bridge namespace \(ns) is missing")
      } else if let links = try? backend.socket(ns).links() {
        for b in plan.topology.bridges {
          guard let l = links.first(where: { $0.name == b.name }) else {
            s.drift.append("bridge \(b.name) is missing")
            continue
          }
          let ports = links.filter { $0.master == l.index }.count
          let expected = plan.topology.links.filter { $0.bridge == b.name }.count
          if ports != expected { s.drift.append("bridge \(b.name) has \(ports) ports, expected \(expected)") }
          s.interfaces.append(NodeStatus.Interface(name: b.name, up: l.isUp, addresses: [], mac: hex(l.mac)))
        }
      }
      result.append(s)
    }
    return result
  }

  static func read(plan: Plan, owner: Owner, ns: String?, node: Node?, backend: NetlinkBackend) -> NodeStatus {
    var s = NodeStatus(node: owner.description, namespace: ns, present: true, forward: nil, interfaces: [], routes: [], cgroup: nil, drift: [])
    if let ns, !NetworkNamespace.exists(ns) {
      s.present = false
      s.drift.append("namespace \(ns) is missing")
      return s
    }
    guard let sock = try? backend.socket(ns), let links = try? sock.links(), let addrs = try? sock.addresses(),
      let routes = try? sock.routes()
    else {
      s.drift.append("cannot read \(ns ?? "the root namespace") through netlink")
      return s
    }
    let expected = plan.topology.ends(of: owner)
    let names = Set(expected.map(\.interface))
    for l in links where ns != nil || names.contains(l.name) {
      let a = addrs.filter { $0.ifindex == l.index }.map(\.address.description).sorted()
      s.interfaces.append(NodeStatus.Interface(name: l.name, up: l.isUp, addresses: a, mac: hex(l.mac)))
    }
    for end in expected {
      guard let i = s.interfaces.first(where: { $0.name == end.interface }) else {
        s.drift.append("interface \(end.interface) is missing")
        continue
      }
      if !i.up { s.drift.append("interface \(end.interface) is down") }
      for a in end.addresses where !i.addresses.contains(a.description) {
        s.drift.append("address \(a) on \(end.interface) is missing")
      }
    }
    if ns != nil, let lo = s.interfaces.first(where: { $0.name == "lo" }), !lo.up { s.drift.append("loopback is down") }
    guard let node else { return s }
    let main = routes.filter { $0.table == 254 }
    s.routes = main.map { r in
      let dest = r.destination.isDefault ? "default" : r.destination.description
      if let gw = r.gateway { return "\(dest) via \(gw)" }
      if r.kind != .unicast { return "\(r.kind.rawValue) \(dest)" }
      let dev = links.first { $0.index == r.ifindex }?.name ?? "?"
      return "\(dest) dev \(dev)"
    }
    for r in node.routes {
      let found = main.contains { k in
        guard k.destination == r.destination else { return false }
        switch r.nextHop {
        case .gateway(let gw, _): return k.gateway == gw
        case .blackhole: return k.kind == .blackhole
        case .unreachable: return k.kind == .unreachable
        case .prohibit: return k.kind == .prohibit
        }
      }
      if !found { s.drift.append("route \(r.destination.isDefault ? "default" : r.destination.description) is missing") }
    }
    if let ns, let fd = try? NetworkNamespace.open(ns) {
      defer { close(fd) }
      s.forward = try? Sysctl.forwarding(namespaceFD: fd, name: ns)
      if let f = s.forward, f != node.forward { s.drift.append("forwarding is \(f ? "on" : "off"), expected \(node.forward ? "on" : "off")") }
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
