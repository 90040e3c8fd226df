import TopologyModel

/// A topology turned into ordered kernel steps, each with its inverse.
public struct Plan: Sendable {
  public var topology: Topology
  public var names: KernelNames
  public var steps: [PlannedStep]
  /// Every interface end's MAC, keyed by owner and interface name.
  public var macs: [EndKey: MACAddress]
  public var bridgeMACs: [String: MACAddress]

  public struct EndKey: Hashable, Sendable {
    public var owner: Owner
    public var interface: String
    public init(_ owner: Owner, _ interface: String) {
      self.owner = owner
      self.interface = interface
    }
  }

  /// Every namespace the plan creates, in creation order.
  public var namespaces: [String] {
    steps.compactMap { if case .network(.createNamespace(let n)) = $0.step { return n } else { return nil } }
  }

  public func mac(_ end: LinkEnd) -> MACAddress { macs[EndKey(end.owner, end.interface)]! }

  /// Per L2 segment (a bridge, or a direct link), every member's address and MAC: what a
  /// full mesh needs as permanent neighbour entries, since the kernel's ARP table holds at most
  /// 1024 dynamic entries across all namespaces (`gc_thresh3`).
  public var neighbourSets: [Step.NeighbourSet] {
    Planner.neighbourSets(topology, names: names, macs: macs).filter { $0.members.count >= 2 }
  }
}

public enum Planner {
  /// Order: namespaces (each with IPv6 off, its firewall loaded and its loopback up), cgroups, bridges, veths (peer created
  /// in place, then up), addresses, permanent neighbours (only with `staticNeighbours`), routes,
  /// forwarding, `run` processes. Routes come after addresses because the kernel refuses a
  /// gateway no connected subnet reaches.
  ///
  /// Permanent neighbours are off by default: a segment of k hosts needs k(k-1) of them (a
  /// million, 3 s and 0.8 GB of kernel memory at star-1000), and ordinary traffic resolves
  /// with ARP. `nstopo test` installs them when it needs them (see `Plan.neighbourSets`).
  public static func plan(_ topology: Topology, staticNeighbours: Bool = false) -> Plan {
    let names = KernelNames(topology: topology.name)
    var steps: [Step] = []
    var macs: [Plan.EndKey: MACAddress] = [:]
    var bridgeMACs: [String: MACAddress] = [:]

    let bridgeNS = names.bridgeNamespace
    var namespaces = topology.nodes.map { names.namespace(node: $0.name) }
    if !topology.bridges.isEmpty { namespaces.insert(bridgeNS, at: 0) }
    // IPv6 only where a node has an IPv6 address: IPv4-only topologies keep their speed.
    var ipv6 = Set<String>()
    for link in topology.links {
      for end in [link.a, link.b] where end.address(.ipv6) != nil {
        if case .node(let n) = end.owner { ipv6.insert(names.namespace(node: n)) }
      }
    }
    // Routers send the ICMP errors a probe sees (no route, unreachable, prohibited, time
    // exceeded): theirs are not rate-limited. So does every node with IPv6, which answers a
    // packet it has no route for (or a reject route) even without forwarding. IPv4-only
    // hosts and the bridge namespace keep the default.
    // A node that rejects other than TCP answers with ICMP port unreachable: unlimited too
    // (behind a masquerade, every source shares one address, and one per-address budget). A
    // TCP reject answers with a reset, which no ICMP budget limits.
    let rejecting = topology.nodes.filter { n in
      guard let f = n.firewall else { return false }
      return f.rules.contains { $0.action == .reject && $0.proto != .tcp }
        || Firewall.Chain.allCases.contains { f.policy($0)?.action == .reject }
    }
    let routers = Set((topology.nodes.filter(\.forward) + rejecting).map { names.namespace(node: $0.name) }).union(ipv6)
    // A node's rules load as its namespace is born, before any of its links exists: no moment
    // where it forwards or answers what its rules drop (they match interfaces by name).
    var rulesets: [String: String] = [:]
    for node in topology.nodes {
      if let f = node.firewall, let text = Ruleset.text(f, mark: names.hostAlias) { rulesets[names.namespace(node: node.name)] = text }
    }
    // Link-local addresses only where a node may solicit for traffic not sourced from the
    // outgoing interface: it forwards, or it has more than one IPv6 interface.
    var linkLocal = Set<String>()
    for node in topology.nodes {
      let v6 = topology.ends(of: .node(node.name)).filter { $0.address(.ipv6) != nil }.count
      if v6 > 0 && (node.forward || v6 > 1) { linkLocal.insert(names.namespace(node: node.name)) }
    }
    for ns in namespaces {
      steps.append(.createNamespace(ns))
      steps.append(.setIPv6(ns: ns, enabled: ipv6.contains(ns), linkLocal: linkLocal.contains(ns)))
      if routers.contains(ns) { steps.append(.setICMPRateLimit(ns: ns, enabled: false)) }
      if let text = rulesets[ns] { steps.append(.loadFirewall(ns: ns, ruleset: text)) }
      steps.append(.setLinkUp(ns: ns, name: "lo"))
    }
    if !topology.bridges.isEmpty { steps.append(.setBridgeNetfilter(ns: bridgeNS, enabled: false)) }
    // A cgroup per node, under one per topology: caps, accounting, and the unit `down` stops.
    steps.append(.createCgroup(path: names.topologyCgroup, cpuPercent: nil))
    for node in topology.nodes {
      steps.append(.createCgroup(path: names.cgroup(node: node.name), cpuPercent: node.cpuPercent))
    }

    for (i, bridge) in topology.bridges.enumerated() {
      let mac = MACAddress(topology: topology.name, index: i + 1)
      bridgeMACs[bridge.name] = mac
      steps.append(.createBridge(ns: bridgeNS, name: bridge.name, mac: mac))
    }

    let base = topology.bridges.count
    for (k, link) in topology.links.enumerated() {
      let macA = MACAddress(topology: topology.name, index: base + 2 * k + 1)
      let macB = MACAddress(topology: topology.name, index: base + 2 * k + 2)
      macs[Plan.EndKey(link.a.owner, link.a.interface)] = macA
      macs[Plan.EndKey(link.b.owner, link.b.interface)] = macB
      // The local end is created by a socket in its own namespace, up; the peer is born in its
      // namespace and brought up afterwards (the kernel refuses a peer created up).
      let (local, localMAC, peer, peerMAC): (LinkEnd, MACAddress, LinkEnd, MACAddress)
      if case .bridge = link.b.owner {
        (local, localMAC, peer, peerMAC) = (link.b, macB, link.a, macA)
      } else if link.b.owner == .host {
        (local, localMAC, peer, peerMAC) = (link.b, macB, link.a, macA)
      } else {
        (local, localMAC, peer, peerMAC) = (link.a, macA, link.b, macB)
      }
      var master: String?
      if case .bridge(let b) = local.owner { master = b }
      steps.append(
        .createVeth(
          Step.Veth(
            ns: names.namespace(of: local.owner), name: local.interface, mac: localMAC, master: master,
            peerNamespace: names.namespace(of: peer.owner), peerName: peer.interface, peerMAC: peerMAC,
            alias: local.owner == .host ? names.hostAlias : nil, mtu: link.properties.mtu)))
      steps.append(.setLinkUp(ns: names.namespace(of: peer.owner), name: peer.interface))
      // Both directions: each end shapes what it sends.
      if let shaping = Shaping(link.properties) {
        for end in [local, peer] {
          steps.append(.setShaping(ns: names.namespace(of: end.owner), link: end.interface, shaping: shaping))
        }
      }
    }

    for link in topology.links {
      for end in [link.a, link.b] {
        for a in end.addresses {
          steps.append(.addAddress(ns: names.namespace(of: end.owner), link: end.interface, address: a))
        }
      }
    }

    if staticNeighbours {
      for set in neighbourSets(topology, names: names, macs: macs) where set.members.count >= 2 {
        steps.append(.addNeighbours(set))
      }
    }

    // Ends declared down go down once their addresses are on, as a change at run time takes
    // them down: the kernel then keeps what it keeps of a link that goes down (IPv4's local
    // routes; IPv6's addresses with keep_addr_on_down, without their local routes).
    for link in topology.links where !link.isUp {
      for end in [link.a, link.b] where end.down {
        let ns = names.namespace(of: end.owner)
        if let ns, end.address(.ipv6) != nil { steps.append(.keepAddressesOnDown(ns: ns, link: end.interface)) }
        steps.append(.setLinkDown(ns: ns, name: end.interface))
      }
    }
    // A route whose gateway is only behind a link that is down is held back: the kernel
    // refuses it ("Nexthop has invalid gateway"); a change that brings the link up adds it.
    let connected = topology.allLinksUp ? [:] : topology.upPrefixes()
    for node in topology.nodes {
      let ns = names.namespace(node: node.name)
      for r in node.routes where topology.allLinksUp || r.isLive(connected: connected[.node(node.name)] ?? []) {
        steps.append(.addRoute(ns: ns, route: Step.KernelRoute(r)!))
      }
    }
    for node in topology.nodes where node.forward {
      steps.append(.setForwarding(ns: names.namespace(node: node.name), enabled: true))
    }
    // `run` lines last, once the network is there: wave k starts every node's k-th line.
    let waves = topology.nodes.map(\.run.count).max() ?? 0
    for k in 0..<waves {
      let launches = topology.nodes.filter { $0.run.count > k }.map { n in
        Step.Launch(node: n.name, ns: names.namespace(node: n.name), cgroup: names.cgroup(node: n.name), root: n.chroot, command: n.run[k])
      }
      steps.append(.startProcesses(launches))
    }
    return Plan(topology: topology, names: names, steps: steps.map(PlannedStep.init), macs: macs, bridgeMACs: bridgeMACs)
  }

  /// One set per L2 segment (bridge or direct link) and address family, with its addressed
  /// ends: neighbours are per family (ARP for IPv4, NDP for IPv6). IPv4 sets come first.
  static func neighbourSets(_ topology: Topology, names: KernelNames, macs: [Plan.EndKey: MACAddress]) -> [Step.NeighbourSet] {
    let l2 = L2Segments(topology.links)
    let labels = l2.kinds.map { kind -> String in
      switch kind {
      case .bridge(let b): return "bridge \(b)"
      case .link(let i):
        let link = topology.links[i]
        return "link \(link.a.owner):\(link.a.interface) -- \(link.b.owner):\(link.b.interface)"
      }
    }
    var sets: [Step.NeighbourSet] = []
    for family in IPAddress.Family.allCases {
      for (index, ends) in l2.members.enumerated() {
        var set = Step.NeighbourSet(segment: family == .ipv4 ? labels[index] : "\(labels[index]) (IPv6)", members: [])
        for end in ends {
          guard let a = end.address(family) else { continue }
          set.members.append(
            Step.NeighbourSet.Member(
              ns: names.namespace(of: end.owner), link: end.interface, address: a.address,
              mac: macs[Plan.EndKey(end.owner, end.interface)]!))
        }
        if family == .ipv4 || !set.members.isEmpty { sets.append(set) }
      }
    }
    return sets
  }
}
