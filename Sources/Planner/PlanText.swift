import TopologyModel

/// The human-readable form of a plan (`nstopo plan`). Deterministic: same plan, same text.
public enum PlanText {
  /// Expected pairs are listed one by one up to this many, then summarised.
  public static let maxListedPairs = 200

  public static func render(_ plan: Plan) -> String {
    let t = plan.topology
    var out = "topology \(t.name)\n"
    let nsCount = plan.namespaces.count
    out += "  \(t.nodes.count) node\(t.nodes.count == 1 ? "" : "s"), \(t.bridges.count) bridge\(t.bridges.count == 1 ? "" : "s"), \(t.links.count) veth\(t.links.count == 1 ? "" : "s"), \(nsCount) namespace\(nsCount == 1 ? "" : "s")\n"
    if !t.subnets.isEmpty {
      out += "\nsubnets\n"
      for s in t.subnets { out += "  \(s.name)  \(s.prefix)\n" }
    }
    var byOwner: [Owner: [(LinkEnd, LinkEnd)]] = [:]
    var tails: [Plan.EndKey: String] = [:]
    for link in t.links {
      byOwner[link.a.owner, default: []].append((link.a, link.b))
      byOwner[link.b.owner, default: []].append((link.b, link.a))
      // The link's properties and state, on each end's line.
      for end in [link.a, link.b] {
        let words = [link.properties.text, end.down ? "down" : ""].filter { !$0.isEmpty }
        if !words.isEmpty { tails[Plan.EndKey(end.owner, end.interface)] = words.joined(separator: " ") }
      }
    }
    func interfaceLine(_ me: LinkEnd, _ other: LinkEnd) -> String {
      let addr = me.addresses.isEmpty ? "-" : me.addresses.map(\.description).joined(separator: ",")
      let peer: String
      switch other.owner {
      case .bridge(let b): peer = "bridge \(b) (port \(other.interface))"
      case .node(let n): peer = "\(n):\(other.interface)"
      case .host: peer = "host:\(other.interface)"
      }
      let tail = tails[Plan.EndKey(me.owner, me.interface)].map { "  (\($0))" } ?? ""
      return "    \(pad(me.interface, 6)) \(pad(addr, 18)) \(plan.mac(me))  -> \(peer)\(tail)\n"
    }
    if !t.bridges.isEmpty {
      out += "\nbridges (netns \(plan.names.bridgeNamespace))\n"
      for b in t.bridges {
        let ports = byOwner[.bridge(b.name)]?.count ?? 0
        let named = b.subnets.compactMap { s in t.subnets.first { $0.name == s } }.map { "\($0.name) \($0.prefix)" }
        let subnet = named.isEmpty ? "no subnet" : named.joined(separator: ", ")
        out += "  \(b.name)  \(subnet)  \(ports) port\(ports == 1 ? "" : "s")  \(plan.bridgeMACs[b.name]!)\n"
      }
    }
    out += "\nnodes\n"
    for n in t.nodes {
      var flags: [String] = ["netns \(plan.names.namespace(node: n.name))"]
      if n.forward { flags.append("forward") }
      if let c = n.cpuPercent { flags.append("cpu \(c)%") }
      if let r = n.chroot { flags.append("chroot \(r)") }
      out += "  \(n.name)  \(flags.joined(separator: "  "))\n"
      for (me, other) in byOwner[.node(n.name)] ?? [] { out += interfaceLine(me, other) }
      for r in n.routes {
        var via = ""
        if case .gateway(_, let node?) = r.nextHop { via = " (\(node))" }
        out += "    route \(r.text)\(via)\n"
      }
      for r in n.run { out += "    run \(r)\n" }
    }
    if let host = byOwner[.host] {
      out += "\nhost (root namespace)\n"
      for (me, other) in host { out += interfaceLine(me, other) }
    }
    let pairs = t.expectedPairs()
    if !pairs.isEmpty {
      out += "\nexpectations (\(pairs.count) pair\(pairs.count == 1 ? "" : "s"))\n"
      for p in pairs.prefix(maxListedPairs) {
        out += "  \(p.source) -> \(p.target) \(p.proto.rawValue)\(p.port.map { " \($0)" } ?? "") \(p.outcome.rawValue)  (line \(p.line))\n"
      }
      if pairs.count > maxListedPairs { out += "  ... and \(pairs.count - maxListedPairs) more (see --json)\n" }
    }
    if !t.scenarios.isEmpty {
      out += "\nscenarios (applied by `test --scenario`, not by up)\n"
      for sc in t.scenarios {
        out += "  \(sc.name) (line \(sc.line)): \(sc.changes.map(\.text).joined(separator: "; "))"
        out += sc.expectations.isEmpty ? "\n" : ", \(sc.expectations.count) expect line\(sc.expectations.count == 1 ? "" : "s")\n"
      }
    }
    out += "\nsteps (\(plan.steps.count))\n"
    let width = String(plan.steps.count).count
    for (i, s) in plan.steps.enumerated() {
      out += "  \(pad(String(i + 1), width, right: true))  \(s.step.shellEquivalent)\n"
    }
    return out
  }

  /// The steps as a POSIX shell script (`nstopo plan --script`): what `up` does through
  /// netlink, written as iproute2, sysctl, nft and cgroup commands. For reading and for
  /// `sh -n`; nstopo itself never runs them.
  public static func script(_ plan: Plan) -> String {
    var out = "#!/bin/sh\n"
    out += "# The kernel steps of `nstopo up` for topology \(plan.topology.name), as shell commands.\n"
    out += "# nstopo makes them through netlink, with a journal and rollback; this script has neither.\n"
    out += "set -e\n"
    for (i, s) in plan.steps.enumerated() {
      out += "# \(i + 1)\n\(s.step.shellEquivalent)\n"
    }
    return out
  }

  static func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
    s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
  }
}
