import TopologyModel

/// The stable JSON form of a plan (`nstopo plan --json`), documented in the README.
/// Keys are sorted on output; optional fields are omitted when absent.
public struct PlanDocument: Encodable, Sendable {
  /// 2 since expectations say `reached` (format 1 said `reach`).
  public var format = 2
  public var kind = "plan"
  public var topology: String
  public var bridgeNamespace: String?
  public var subnets: [SubnetDoc]
  public var bridges: [BridgeDoc]
  public var nodes: [NodeDoc]
  public var host: [InterfaceDoc]
  public var links: [LinkDoc]
  public var expectations: [ExpectedPair]
  /// Failure scenarios, when the file has any: `test --scenario` applies them, not `up`.
  public var scenarios: [ScenarioDoc]?
  public var steps: [StepDoc]

  public struct ScenarioDoc: Encodable, Sendable {
    public var name: String
    public var line: Int
    /// As the file writes them (`link core edge down`).
    public var changes: [String]
    public var expectations: [Expectation]
  }

  public struct SubnetDoc: Encodable, Sendable {
    public var name: String
    public var prefix: IPPrefix
    public var carve: Int?
  }

  /// `subnet`, `prefix` and `address` are the first of `subnets`, `prefixes` and `addresses`
  /// (IPv4 when there is one), as format 1 had them before IPv6.
  public struct BridgeDoc: Encodable, Sendable {
    public var name: String
    public var subnet: String?
    public var prefix: IPPrefix?
    public var subnets: [String]
    public var prefixes: [IPPrefix]
    public var mac: MACAddress
    public var ports: [String]
  }

  /// An address as `ip -j addr` gives it: `{"family": "ipv4", "local": "10.0.0.1",
  /// "prefixlen": 24}`, for readers that should not parse `10.0.0.1/24`.
  public struct AddressInfo: Encodable, Sendable {
    public var family: String
    public var local: String
    public var prefixlen: Int

    public init(_ a: InterfaceAddress) {
      family = a.family.rawValue
      local = a.address.description
      prefixlen = a.length
    }
  }

  public struct InterfaceDoc: Encodable, Sendable {
    public var name: String
    public var address: InterfaceAddress?
    public var addresses: [InterfaceAddress]
    /// `addresses`, structured.
    public var addressInfo: [AddressInfo]
    public var mac: MACAddress
    /// `bridge:s1` (with `port`), `node:r2` or `host`.
    public var peer: String
    public var peerInterface: String
  }

  public struct RouteDoc: Encodable, Sendable {
    public var destination: String
    public var via: IPAddress?
    public var viaNode: String?
    public var type: String
  }

  public struct NodeDoc: Encodable, Sendable {
    public var name: String
    public var namespace: String
    public var forward: Bool
    public var cpuPercent: Int?
    public var chroot: String?
    public var run: [String]
    public var interfaces: [InterfaceDoc]
    public var routes: [RouteDoc]
    /// Its rules, resolved: every side a list of prefixes (a node's addresses, a subnet's
    /// prefix), policies, NAT, each with its line; and the nftables text `up` loads.
    public var firewall: FirewallDoc?
  }

  public struct FirewallDoc: Encodable, Sendable {
    public var input: Firewall.Policy?
    public var forward: Firewall.Policy?
    public var output: Firewall.Policy?
    public var rules: [Firewall.Rule]
    public var masquerade: [Firewall.Masquerade]
    public var dnat: [Firewall.Dnat]
    /// nil when no chain refuses anything and there is no NAT: no table is loaded.
    public var ruleset: String?
  }

  public struct EndDoc: Encodable, Sendable {
    /// `node`, `bridge` or `host`.
    public var kind: String
    public var owner: String
    public var namespace: String?
    public var interface: String
    public var address: InterfaceAddress?
    public var addresses: [InterfaceAddress]
    public var addressInfo: [AddressInfo]
    public var mac: MACAddress
  }

  public struct LinkDoc: Encodable, Sendable {
    public var a: EndDoc
    public var b: EndDoc
    public var subnet: String?
    public var subnets: [String]
    /// Its tail (`rate`, `delay`, `jitter`, `loss`, `mtu`), when it has one.
    public var properties: LinkProperties?
    /// When an end is down: which (`a`, `b`, or both).
    public var down: [String]?
  }

  public struct StepDoc: Encodable, Sendable {
    public var index: Int
    public var op: String
    public var namespace: String?
    public var shell: String
    public var inverse: String?
  }

  public init(_ plan: Plan) {
    let t = plan.topology
    topology = t.name
    bridgeNamespace = t.bridges.isEmpty ? nil : plan.names.bridgeNamespace
    subnets = t.subnets.map { s in
      let pool = t.links.contains { $0.bridge == nil && $0.subnets.contains(s.name) }
      return SubnetDoc(name: s.name, prefix: s.prefix, carve: pool ? s.carve : nil)
    }
    let prefixOf = Dictionary(t.subnets.map { ($0.name, $0.prefix) }, uniquingKeysWith: { a, _ in a })
    bridges = t.bridges.map { b in
      let prefixes = b.subnets.compactMap { prefixOf[$0] }
      return BridgeDoc(
        name: b.name, subnet: b.subnets.first, prefix: prefixes.first, subnets: b.subnets, prefixes: prefixes,
        mac: plan.bridgeMACs[b.name]!, ports: t.links.filter { $0.bridge == b.name }.map(\.b.interface))
    }
    // Interfaces per owner in one pass, so large stars stay linear.
    var byOwner: [Owner: [InterfaceDoc]] = [:]
    for link in t.links {
      for (me, other) in [(link.a, link.b), (link.b, link.a)] {
        let peer: String
        switch other.owner {
        case .bridge(let b): peer = "bridge:\(b)"
        case .node(let n): peer = "node:\(n)"
        case .host: peer = "host"
        }
        byOwner[me.owner, default: []].append(
          InterfaceDoc(name: me.interface, address: me.addresses.first, addresses: me.addresses, addressInfo: me.addresses.map(AddressInfo.init), mac: plan.mac(me), peer: peer, peerInterface: other.interface))
      }
    }
    host = byOwner[.host] ?? []
    nodes = t.nodes.map { n in
      NodeDoc(
        name: n.name, namespace: plan.names.namespace(node: n.name), forward: n.forward, cpuPercent: n.cpuPercent,
        chroot: n.chroot, run: n.run, interfaces: byOwner[.node(n.name)] ?? [],
        routes: n.routes.map { r in
          switch r.nextHop {
          case .gateway(let gw, let node):
            return RouteDoc(destination: r.destination.routeText, via: gw, viaNode: node, type: "unicast")
          case .blackhole, .unreachable, .prohibit:
            let kind = r.nextHop == .blackhole ? "blackhole" : r.nextHop == .unreachable ? "unreachable" : "prohibit"
            return RouteDoc(destination: r.destination.routeText, via: nil, viaNode: nil, type: kind)
          }
        },
        firewall: n.firewall.map { f in
          FirewallDoc(
            input: f.input, forward: f.forward, output: f.output, rules: f.rules, masquerade: f.masquerade, dnat: f.dnat,
            ruleset: Ruleset.text(f, mark: plan.names.hostAlias))
        })
    }
    func end(_ e: LinkEnd) -> EndDoc {
      let kind: String
      switch e.owner {
      case .node: kind = "node"
      case .bridge: kind = "bridge"
      case .host: kind = "host"
      }
      return EndDoc(kind: kind, owner: e.owner.description, namespace: plan.names.namespace(of: e.owner), interface: e.interface, address: e.addresses.first, addresses: e.addresses, addressInfo: e.addresses.map(AddressInfo.init), mac: plan.mac(e))
    }
    links = t.links.map { l in
      let down = (l.a.down ? ["a"] : []) + (l.b.down ? ["b"] : [])
      return LinkDoc(
        a: end(l.a), b: end(l.b), subnet: l.subnets.first, subnets: l.subnets, properties: l.properties.isEmpty ? nil : l.properties,
        down: down.isEmpty ? nil : down)
    }
    expectations = t.expectedPairs()
    scenarios = t.scenarios.isEmpty ? nil : t.scenarios.map {
      ScenarioDoc(name: $0.name, line: $0.line, changes: $0.changes.map(\.text), expectations: $0.expectations)
    }
    steps = plan.steps.enumerated().map { i, s in
      StepDoc(index: i + 1, op: s.step.op, namespace: s.step.namespace, shell: s.step.shellEquivalent, inverse: s.inverse?.shellEquivalent)
    }
  }
}

extension Step {
  /// A short stable name for the operation.
  public var op: String {
    switch self {
    case .network(let n): return n.op
    case .node(let p): return p.op
    }
  }
}

extension NetworkStep {
  public var op: String {
    switch self {
    case .createNamespace: return "create-namespace"
    case .deleteNamespace: return "delete-namespace"
    case .createBridge: return "create-bridge"
    case .createVeth: return "create-veth"
    case .deleteLink: return "delete-link"
    case .setLinkUp: return "link-up"
    case .setLinkDown: return "link-down"
    case .addAddress: return "add-address"
    case .deleteAddress: return "delete-address"
    case .addRoute: return "add-route"
    case .deleteRoute: return "delete-route"
    case .addNeighbours: return "add-neighbours"
    case .deleteNeighbours: return "delete-neighbours"
    case .setForwarding: return "set-forwarding"
    case .setIPv6: return "set-ipv6"
    case .setICMPRateLimit: return "set-icmp-ratelimit"
    case .setBridgeNetfilter: return "set-bridge-netfilter"
    case .loadFirewall: return "load-firewall"
    case .setShaping: return "set-shaping"
    case .clearShaping: return "clear-shaping"
    case .setMTU: return "set-mtu"
    case .keepAddressesOnDown: return "keep-addresses-on-down"
    }
  }
}

extension NodeStep {
  public var op: String {
    switch self {
    case .createCgroup: return "create-cgroup"
    case .deleteCgroup: return "delete-cgroup"
    case .startProcesses: return "start-processes"
    case .stopProcesses: return "stop-processes"
    }
  }
}

