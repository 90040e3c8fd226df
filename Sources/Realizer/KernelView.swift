import Foundation
import Netlink
import Planner
import TopologyModel

/// The topology as the kernel has it now: the declared links (the cables), but addresses,
/// routes and forwarding read back through netlink. The predictor walks it like the model,
/// so the two walks can be compared hop by hop.
public enum KernelView {
  public static func topology(_ plan: Plan) -> (topology: Topology, notes: [String]) {
    var t = plan.topology
    var notes: [String] = []
    guard let backend = try? NetlinkBackend() else { return (t, ["cannot open netlink"]) }
    struct Seen {
      var links: [LinkInfo]
      var addresses: [AddressInfo]
    }
    var cache: [String: Seen?] = [:]
    func read(_ owner: Owner) -> Seen? {
      let key = owner.description
      if let c = cache[key] { return c }
      let ns = plan.names.namespace(of: owner)
      var seen: Seen?
      if ns == nil || NetworkNamespace.exists(ns!), let s = try? backend.socket(ns), let l = try? s.links(), let a = try? s.addresses() {
        seen = Seen(links: l, addresses: a)
      } else {
        notes.append("namespace \(ns ?? "root") of \(owner) is missing")
      }
      cache[key] = seen
      return seen
    }
    for k in t.links.indices {
      for isA in [true, false] {
        let end = isA ? t.links[k].a : t.links[k].b
        if case .bridge = end.owner { continue }
        var addresses: [InterfaceAddress] = []
        if let seen = read(end.owner), let l = seen.links.first(where: { $0.name == end.interface }) {
          if !l.isUp {
            notes.append("\(end.interface) of \(end.owner) is down")
          } else {
            // One per family, as the model has them.
            for f in IPAddress.Family.allCases {
              if let a = seen.addresses.first(where: { $0.ifindex == l.index && $0.address.family == f }) { addresses.append(a.address) }
            }
          }
        } else if read(end.owner) != nil {
          notes.append("\(end.interface) of \(end.owner) is missing")
        }
        for want in end.addresses where !addresses.contains(where: { $0.family == want.family }) && notes.last?.hasPrefix(end.interface) != true {
          notes.append("\(end.owner)'s address \(want) on \(end.interface) is missing")
        }
        if isA { t.links[k].a.addresses = addresses } else { t.links[k].b.addresses = addresses }
      }
    }
    for i in t.nodes.indices {
      let ns = plan.names.namespace(node: t.nodes[i].name)
      guard NetworkNamespace.exists(ns), let s = try? backend.socket(ns), let routes = try? s.routes() else {
        t.nodes[i].routes = []
        continue
      }
      t.nodes[i].routes = routes.filter { $0.table == 254 && ($0.gateway != nil || $0.kind != .unicast) }.compactMap { r in
        let dest = r.destination
        switch r.kind {
        case .blackhole: return Route(destination: dest, nextHop: .blackhole)
        case .unreachable: return Route(destination: dest, nextHop: .unreachable)
        case .prohibit: return Route(destination: dest, nextHop: .prohibit)
        default: return r.gateway.map { Route(destination: dest, nextHop: .gateway($0, node: nil)) }
        }
      }
      if let fd = try? NetworkNamespace.open(ns) {
        t.nodes[i].forward = (try? Sysctl.forwarding(namespaceFD: fd, name: ns)) ?? false
        close(fd)
      }
    }
    return (t, notes)
  }

  /// Differences between the model and the kernel for one node, one sentence each.
  public static func differences(model: Topology, kernel: Topology, node: String) -> [String] {
    guard let m = model.node(named: node), let k = kernel.node(named: node) else { return [] }
    var out: [String] = []
    if m.forward != k.forward { out.append("forwarding is \(k.forward ? "on" : "off") in \(node) (the model says \(m.forward ? "on" : "off"))") }
    func text(_ r: Route) -> String {
      let d = r.destination.isDefault ? "default" : r.destination.description
      switch r.nextHop {
      case .gateway(let gw, _): return "\(d) via \(gw)"
      case .blackhole: return "blackhole \(d)"
      case .unreachable: return "unreachable \(d)"
      case .prohibit: return "prohibit \(d)"
      }
    }
    let mk = Set(m.routes.map(text))
    let kk = Set(k.routes.map(text))
    for r in mk.subtracting(kk).sorted() { out.append("\(node) lacks the route \(r) that the model has") }
    for r in kk.subtracting(mk).sorted() { out.append("\(node) has a route \(r) that the model does not") }
    return out
  }
}
