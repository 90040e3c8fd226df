import Foundation
import Netlink
import Planner
import TopologyModel

/// What the kernel has of one owner of interfaces (a node or the host), read once through
/// netlink: `ip -n NS link`, `ip -n NS addr`, `ip -n NS route show table main` and
/// `ip_forward`.
public struct OwnerReading: Sendable {
  public var owner: Owner
  public var namespace: String?
  /// Whether its namespace exists (the root namespace always does).
  public var present: Bool
  /// Whether netlink answered.
  public var readable: Bool
  public var links: [LinkInfo] = []
  public var addresses: [AddressInfo] = []
  /// The main table.
  public var routes: [RouteInfo] = []
  public var forward: Bool?
  /// IPv6's forwarding, read where the node has IPv6 addresses.
  public var forward6: Bool?
  /// `nft list table inet nstopo`, read where the model has a firewall: nil when there is no
  /// such table (or it could not be read).
  public var firewall: String?
  /// Tables in its namespace that are not nstopo's (`nft list tables`): rules the model
  /// cannot see, from a `run` line or a hand edit (`table ip filter`).
  public var otherTables: [String] = []
  /// Its tbf and netem qdiscs, by ifindex (`tc qdisc show`).
  public var qdiscs: [Int32: [QdiscInfo]] = [:]

  func link(_ name: String) -> LinkInfo? { links.first { $0.name == name } }

  /// The shaping on interface `name` as the model writes it (no MTU).
  func shaping(_ name: String) -> LinkProperties {
    var p = LinkProperties()
    guard let l = link(name) else { return p }
    for q in qdiscs[l.index] ?? [] {
      if q.kind == "tbf" { p.rate = q.rate }
      if q.kind == "netem" {
        p.delay = q.delay
        p.jitter = q.jitter
        p.loss = q.loss
      }
    }
    return p
  }
}

/// The topology as the kernel has it now, read once: the declared links (the cables) with the
/// addresses, routes and forwarding read back. The predictor walks its `topology` like the
/// model's, so the two walks can be compared hop by hop (`why`, `test`), and
/// `differences(from:for:)` says where they part, in the same sentences for `status`, `why`
/// and `test`.
public struct KernelReading: Sendable {
  public var topology: Topology
  public var owners: [Owner: OwnerReading]
  /// The bridge namespace (its ports are the bridges' link ends), when there are bridges.
  public var bridges: OwnerReading?

  /// Who holds `end`'s interface in the kernel: its owner, or the bridge namespace.
  func reading(of end: LinkEnd) -> OwnerReading? {
    if case .bridge = end.owner { return bridges }
    return owners[end.owner]
  }

  /// Differences between the model and the kernel for one owner, one sentence each.
  public func differences(from model: Topology, for owner: Owner) -> [String] {
    guard let r = owners[owner] else { return [] }
    if !r.present { return ["namespace \(r.namespace ?? "root") is missing"] }
    if !r.readable { return ["cannot read \(r.namespace ?? "the root namespace") through netlink"] }
    var out: [String] = []
    for link in model.links where link.a.owner == owner || link.b.owner == owner {
      let (end, other) = link.a.owner == owner ? (link.a, link.b) : (link.b, link.a)
      guard let l = r.link(end.interface) else {
        out.append("interface \(end.interface) is missing")
        continue
      }
      let named = "\(owner)'s link to \(other.owner) (\(end.interface))"
      if l.isUp == end.down { out.append("\(named) is \(l.isUp ? "up" : "down") (the model has it \(end.down ? "down" : "up"))") }
      // A bridge's port is read from the bridge namespace and reported with its node.
      if case .bridge(let b) = other.owner, let port = bridges?.link(other.interface), port.isUp == other.down {
        out.append("\(b)'s port \(other.interface) for \(owner) is \(port.isUp ? "up" : "down") (the model has it \(other.down ? "down" : "up"))")
      }
      let mtu = link.properties.mtu ?? 1500
      if l.mtu != mtu { out.append("\(end.interface) has MTU \(l.mtu) (the model says \(mtu))") }
      let want = link.properties.shapingText
      let have = r.shaping(end.interface).shapingText
      if want != have {
        out.append(have.isEmpty ? "\(end.interface) is not shaped (the model says \(want))" : "\(end.interface) is shaped to \(have) (the model says \(want.isEmpty ? "none" : want))")
      }
      for a in end.addresses where !r.addresses.contains(where: { $0.ifindex == l.index && $0.address == a }) {
        out.append("address \(a) on \(end.interface) is missing")
      }
      // One the model does not have (IPv6 link-locals are the kernel's own).
      let linkLocal = IPPrefix("fe80::/10")!
      for k in r.addresses where k.ifindex == l.index && !end.addresses.contains(k.address) && !linkLocal.contains(k.address.address) {
        out.append("address \(k.address) on \(end.interface) is not in the model (added by hand?)")
      }
    }
    if r.namespace != nil, let lo = r.link("lo"), !lo.isUp { out.append("loopback is down") }
    guard case .node(let name) = owner, let m = model.node(named: name), let k = topology.node(named: name) else { return out }
    // Routes held back while their link is down are not expected in the kernel.
    let connected = model.allLinksUp ? [] : model.upPrefixes()[owner] ?? []
    let mk = Set(m.routes.filter { model.allLinksUp || $0.isLive(connected: connected) }.map(\.text))
    let kk = Set(k.routes.map(\.text))
    for route in mk.subtracting(kk).sorted() { out.append("\(name) lacks the route \(route) that the model has") }
    for route in kk.subtracting(mk).sorted() { out.append("\(name) has a route \(route) that the model does not") }
    if let f = r.forward, f != m.forward { out.append("forwarding is \(f ? "on" : "off") in \(name) (the model says \(m.forward ? "on" : "off"))") }
    out += firewallDifferences(model: m, reading: r)
    if let f = r.forward6, f != m.forward { out.append("IPv6 forwarding is \(f ? "on" : "off") in \(name) (the model says \(m.forward ? "on" : "off"))") }
    return out
  }

  /// Differences for the endpoint named `name` (a node, or `host`).
  /// nstopo's table against the model's rules: missing or extra rules, by their line, and
  /// changed policies. Other tables are none of nstopo's business.
  func firewallDifferences(model m: Node, reading r: OwnerReading) -> [String] {
    let foreign = r.otherTables.filter { $0.hasPrefix("table \(Ruleset.table),") }.map { "\(m.name) has a \($0)" }
    guard let f = m.firewall, let want = Ruleset.text(f) else {
      // The model has no table here: ours would be drift; another's is named once.
      return r.firewall != nil ? ["\(m.name) has nstopo's table \(Ruleset.table), which the model does not"] : foreign
    }
    guard let have = r.firewall else { return ["\(m.name) lacks nstopo's nftables table (table \(Ruleset.table))"] + foreign }
    var out: [String] = []
    let w = Ruleset.parse(want)
    let h = Ruleset.parse(have)
    for (chain, wc) in w.sorted(by: { $0.key < $1.key }) {
      guard let hc = h[chain] else {
        out.append("\(m.name)'s table lacks its \(chain) chain")
        continue
      }
      if let p = wc.policy, p != hc.policy { out.append("\(m.name)'s \(chain) policy is \(hc.policy ?? "none") (the model says \(p))") }
      let wantLines = wc.rules.compactMap(Ruleset.line(of:))
      var haveLines = hc.rules.compactMap(Ruleset.line(of:))
      for l in wantLines {
        if let i = haveLines.firstIndex(of: l) {
          haveLines.remove(at: i)
        } else if let rule = f.rules.first(where: { $0.line == l }) {
          out.append("\(m.name) lacks the rule of line \(l) (`\(rule.text)`) that the model has")
        } else {
          out.append("\(m.name) lacks the \(chain) rule of line \(l) that the model has")
        }
      }
      let uncommented = hc.rules.filter { Ruleset.line(of: $0) == nil && !wc.rules.contains($0) }
      for rule in uncommented + haveLines.map({ "a second rule of line \($0)" }) {
        out.append("\(m.name)'s \(chain) chain has a rule the model does not: \(rule)")
      }
    }
    return out
  }

  /// "rules outside nstopo's table in db (table ip filter): a `run` line?" for the nodes of a
  /// walk that have others' tables; nil when none has.
  public func outsideRules(along nodes: [String]) -> String? {
    var seen = Set<String>()
    let found = nodes.filter { seen.insert($0).inserted }.compactMap { n -> String? in
      guard let r = owners[.node(n)], !r.otherTables.isEmpty else { return nil }
      return "\(n) (\(r.otherTables.joined(separator: ", ")))"
    }
    guard !found.isEmpty else { return nil }
    return "rules outside nstopo's table in \(found.joined(separator: ", ")): a `run` line?"
  }

  public func differences(from model: Topology, forEndpoint name: String) -> [String] {
    differences(from: model, for: name == "host" ? .host : .node(name))
  }
}

public enum KernelView {
  /// Reads every node (and the host's ends) of `plan` once.
  public static func read(_ plan: Plan) -> KernelReading {
    var t = plan.topology
    var owners: [Owner: OwnerReading] = [:]
    let backend = try? NetlinkBackend()
    var all: [Owner] = t.nodes.map { .node($0.name) }
    if t.hasHost { all.append(.host) }
    var bridges: OwnerReading?
    if !t.bridges.isEmpty {
      let ns = plan.names.bridgeNamespace
      var r = OwnerReading(owner: .bridge(ns), namespace: ns, present: NetworkNamespace.exists(ns), readable: false)
      if r.present, let s = try? backend?.socket(ns), let l = try? s.links(), let q = try? s.qdiscs() {
        r.readable = true
        r.links = l
        r.qdiscs = q
      }
      bridges = r
    }
    for owner in all {
      let ns = plan.names.namespace(of: owner)
      var r = OwnerReading(owner: owner, namespace: ns, present: ns.map(NetworkNamespace.exists) ?? true, readable: false)
      if r.present, let backend, let s = try? backend.socket(ns), let l = try? s.links(), let a = try? s.addresses(family: nil),
        let routes = try? s.routes(), let routes6 = try? (a.contains { $0.address.family == .ipv6 } ? s.routes(family: .ipv6) : []),
        let q = try? s.qdiscs()
      {
        r.readable = true
        r.links = l
        r.qdiscs = q
        // Link-local IPv6 addresses are the kernel's own, not the topology's.
        let linkLocal = IPPrefix("fe80::/10")!
        r.addresses = a.filter { !linkLocal.contains($0.address.address) }
        // IPv6's kernel-made routes (link-local, multicast) are not the topology's.
        // (`::/0` overlaps fe80::/10 too, and is the topology's.)
        r.routes = routes.filter { $0.table == 254 } + routes6.filter {
          $0.table == 254 && !($0.destination.length >= 10 && linkLocal.contains($0.destination.network)) && $0.kind != .other
        }
      }
      if r.present, let ns, let fd = try? NetworkNamespace.open(ns) {
        try? NetworkNamespace.run(in: fd) { () throws in
          let tables = try Nftables.run("list tables", namespace: ns).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
          r.otherTables = tables.filter { !$0.isEmpty && $0 != "table \(Ruleset.table)" }
          if case .node = owner, tables.contains("table \(Ruleset.table)") {
            // Ours only with our mark: another program's table of the same name is one of
            // the others, whose rules the model cannot see.
            let listing = try Nftables.run("list table \(Ruleset.table)", namespace: ns)
            if Ruleset.mark(of: listing) == plan.names.hostAlias {
              r.firewall = listing
            } else {
              r.otherTables.append("table \(Ruleset.table), which lacks nstopo's mark (comment \"\(plan.names.hostAlias)\"): not nstopo's")
            }
          }
        }
        r.forward = try? Sysctl.forwarding(namespaceFD: fd, name: ns)
        if r.addresses.contains(where: { $0.address.family == .ipv6 }) {
          r.forward6 = try? Sysctl.forwarding(namespaceFD: fd, name: ns, family: .ipv6)
        }
        close(fd)
      }
      owners[owner] = r
    }
    let reading = KernelReading(topology: t, owners: owners, bridges: bridges)
    // The declared cables as the kernel has them: each end up or down (a missing one is down,
    // without addresses), its addresses (one per family; a down interface keeps its IPv4
    // ones), and the link's MTU and shaping as end a has them.
    for k in t.links.indices {
      for isA in [true, false] {
        var end = isA ? t.links[k].a : t.links[k].b
        let r = reading.reading(of: end)
        let l = r?.link(end.interface)
        end.down = !(l?.isUp ?? false)
        if case .bridge = end.owner {
        } else {
          var addresses: [InterfaceAddress] = []
          if let r, let l {
            for f in IPAddress.Family.allCases {
              if let a = r.addresses.first(where: { $0.ifindex == l.index && $0.address.family == f }) { addresses.append(a.address) }
            }
          }
          end.addresses = addresses
        }
        if isA {
          var p = r?.shaping(end.interface) ?? LinkProperties()
          if let m = l?.mtu, m != 1500 || t.links[k].properties.mtu != nil { p.mtu = m }
          t.links[k].properties = p
          t.links[k].a = end
        } else {
          t.links[k].b = end
        }
      }
    }
    for i in t.nodes.indices {
      let r = owners[.node(t.nodes[i].name)]
      t.nodes[i].routes = (r?.routes ?? []).filter { $0.gateway != nil || $0.kind != .unicast }.compactMap(route)
      t.nodes[i].forward = r?.forward ?? false
      // The kernel's walk filters with what nstopo's table still has.
      if let f = t.nodes[i].firewall, Ruleset.text(f) != nil {
        t.nodes[i].firewall = Ruleset.readBack(r?.firewall, model: f)
      }
    }
    return KernelReading(topology: t, owners: owners, bridges: bridges)
  }

  /// A kernel route as the model writes routes; nil for kinds the model has no word for.
  static func route(_ r: RouteInfo) -> Route? {
    switch r.kind {
    case .blackhole: return Route(destination: r.destination, nextHop: .blackhole)
    case .unreachable: return Route(destination: r.destination, nextHop: .unreachable)
    case .prohibit: return Route(destination: r.destination, nextHop: .prohibit)
    default: return r.gateway.map { Route(destination: r.destination, nextHop: .gateway($0, node: nil)) }
    }
  }
}
