import TopologyModel

/// One end of a link as a person names it: `r1`, or `r1:eth2` for one interface of it. The
/// owner is a node, a bridge or `host`.
public struct EndName: Hashable, Sendable, CustomStringConvertible {
  public var owner: String
  public var interface: String?

  public init(_ text: String) {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    owner = String(parts[0])
    interface = parts.count == 2 ? String(parts[1]) : nil
  }

  public var description: String { interface.map { "\(owner):\($0)" } ?? owner }

  func matches(_ end: LinkEnd) -> Bool {
    end.owner.description == owner && (interface == nil || interface == end.interface)
  }
}

/// What a change does to the links it names.
public enum ChangeAction: Hashable, Sendable {
  /// Both ends down (`ip link set X down` at each end).
  case down
  /// Both ends up, and the routes through them back.
  case up
  /// These properties replace the link's (the ones not given stay).
  case set(LinkProperties)
  /// Back to no shaping and the default MTU.
  case clear
}

/// A change that names no link, or more than one where one was meant.
public struct ChangeError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public var hint: String?
  public var description: String { message + (hint.map { " (\($0))" } ?? "") }
}

/// Changes to a topology that is up: which links a change names, the topology it leaves, and
/// the kernel steps from one to the other, each with its inverse. Pure: the Realizer applies
/// the steps.
public enum Changes {
  /// Every owner name of `t` (nodes, bridges, `host`), for "did you mean".
  static func owners(_ t: Topology) -> [String] {
    t.nodes.map(\.name) + t.bridges.map(\.name) + (t.hasHost ? ["host"] : [])
  }

  /// The links between `a` and `b` (indexes into `t.links`): exactly one, unless `all`.
  public static func select(_ t: Topology, _ a: EndName, _ b: EndName, all: Bool = false) throws(ChangeError) -> [Int] {
    let names = owners(t)
    for e in [a, b] where !names.contains(e.owner) {
      throw ChangeError(message: "no node, bridge or host '\(e.owner)' in topology \(t.name)", hint: closest(e.owner, names).map { "did you mean '\($0)'?" })
    }
    let found = t.links.indices.filter { k in
      let l = t.links[k]
      return (a.matches(l.a) && b.matches(l.b)) || (a.matches(l.b) && b.matches(l.a))
    }
    guard !found.isEmpty else {
      let between = t.links.filter { l in
        (l.a.owner.description == a.owner && l.b.owner.description == b.owner) || (l.b.owner.description == a.owner && l.a.owner.description == b.owner)
      }
      if between.isEmpty {
        let theirs = t.links.filter { $0.a.owner.description == a.owner || $0.b.owner.description == a.owner }
          .map { $0.a.owner.description == a.owner ? $0.b.owner.description : $0.a.owner.description }
        throw ChangeError(
          message: "there is no link between \(a.owner) and \(b.owner)",
          hint: theirs.isEmpty ? nil : "\(a.owner) links to \(Array(Set(theirs)).sorted().joined(separator: ", "))")
      }
      throw ChangeError(
        message: "no link between \(a) and \(b)",
        hint: "the links between them: " + between.map(text).joined(separator: ", "))
    }
    if found.count > 1 && !all {
      throw ChangeError(
        message: "\(a.owner) and \(b.owner) share \(found.count) links",
        hint: "name one end: " + found.map { t.links[$0] }.map { l in
          let end = l.a.owner.description == a.owner ? l.a : l.b
          return "\(a.owner):\(end.interface)"
        }.joined(separator: " or "))
    }
    return found
  }

  /// Every link of node `n`.
  public static func links(of n: String, in t: Topology) throws(ChangeError) -> [Int] {
    guard t.node(named: n) != nil else {
      throw ChangeError(message: "no node '\(n)' in topology \(t.name)", hint: closest(n, t.nodes.map(\.name)).map { "did you mean '\($0)'?" })
    }
    return t.links.indices.filter { t.links[$0].a.owner == .node(n) || t.links[$0].b.owner == .node(n) }
  }

  /// `r1:eth1 -- r2:eth0`.
  public static func text(_ l: Link) -> String { "\(l.a.owner):\(l.a.interface) -- \(l.b.owner):\(l.b.interface)" }

  /// `t` with `action` done to `links`.
  public static func apply(_ action: ChangeAction, to links: [Int], in t: Topology) -> Topology {
    var t = t
    for k in links {
      switch action {
      case .down, .up:
        t.links[k].a.down = action == .down
        t.links[k].b.down = action == .down
      case .set(let p):
        var q = t.links[k].properties
        q.rate = p.rate ?? q.rate
        q.delay = p.delay ?? q.delay
        q.jitter = p.jitter ?? q.jitter
        q.loss = p.loss ?? q.loss
        q.mtu = p.mtu ?? q.mtu
        t.links[k].properties = q
      case .clear:
        t.links[k].properties = LinkProperties()
      }
    }
    return t
  }

  /// The steps from `old` to `new` (the same links, in other states), each with its inverse:
  /// routes that go with a link deleted first (the kernel would; deleting them ourselves
  /// makes the inverse exact), ends down, MTUs and shaping, ends up, then the routes that
  /// come back.
  public static func steps(from old: Topology, to new: Topology, names: KernelNames) -> [PlannedStep] {
    precondition(old.links.count == new.links.count, "a change keeps the links")
    var removeRoutes: [PlannedStep] = []
    var downs: [PlannedStep] = []
    var shaping: [PlannedStep] = []
    var ups: [PlannedStep] = []
    var addRoutes: [PlannedStep] = []
    for (o, n) in zip(old.links, new.links) where o != n {
      for (oe, ne) in [(o.a, n.a), (o.b, n.b)] {
        let ns = names.namespace(of: ne.owner)
        if !oe.down && ne.down {
          if let ns, ne.address(.ipv6) != nil { downs.append(PlannedStep(.keepAddressesOnDown(ns: ns, link: ne.interface), inverse: nil)) }
          downs.append(PlannedStep(.setLinkDown(ns: ns, name: ne.interface), inverse: .setLinkUp(ns: ns, name: ne.interface)))
        } else if oe.down && !ne.down {
          ups.append(PlannedStep(.setLinkUp(ns: ns, name: ne.interface), inverse: .setLinkDown(ns: ns, name: ne.interface)))
        }
        if o.properties.mtu != n.properties.mtu {
          shaping.append(PlannedStep(.setMTU(ns: ns, link: ne.interface, mtu: n.properties.mtu ?? 1500), inverse: .setMTU(ns: ns, link: ne.interface, mtu: o.properties.mtu ?? 1500)))
        }
        let before = Shaping(o.properties)
        let after = Shaping(n.properties)
        if before != after {
          let forward: Step = after.map { .setShaping(ns: ns, link: ne.interface, shaping: $0) } ?? .clearShaping(ns: ns, link: ne.interface)
          let backward: Step = before.map { .setShaping(ns: ns, link: ne.interface, shaping: $0) } ?? .clearShaping(ns: ns, link: ne.interface)
          shaping.append(PlannedStep(forward, inverse: backward))
        }
      }
    }
    // Routes: what the kernel holds before and after, node by node.
    let connectedBefore = old.upPrefixes()
    let connectedAfter = new.upPrefixes()
    for node in new.nodes {
      let ns = names.namespace(node: node.name)
      for r in node.routes {
        let was = r.isLive(connected: connectedBefore[.node(node.name)] ?? [])
        let will = r.isLive(connected: connectedAfter[.node(node.name)] ?? [])
        guard was != will, let k = Step.KernelRoute(r) else { continue }
        if was {
          removeRoutes.append(PlannedStep(.deleteRoute(ns: ns, route: k), inverse: .addRoute(ns: ns, route: k)))
        } else {
          addRoutes.append(PlannedStep(.addRoute(ns: ns, route: k), inverse: .deleteRoute(ns: ns, route: k)))
        }
      }
    }
    return removeRoutes + downs + shaping + ups + addRoutes
  }

  static func closest(_ word: String, _ candidates: [String]) -> String? { Spelling.closest(word, among: candidates) }
}

extension Step.KernelRoute {
  /// The kernel's form of a model route.
  public init?(_ r: Route) {
    switch r.nextHop {
    case .gateway(let gw, _): self.init(destination: r.destination, gateway: gw, kind: .unicast)
    case .blackhole: self.init(destination: r.destination, gateway: nil, kind: .blackhole)
    case .unreachable: self.init(destination: r.destination, gateway: nil, kind: .unreachable)
    case .prohibit: self.init(destination: r.destination, gateway: nil, kind: .prohibit)
    }
  }
}

extension PlannedStep {
  /// A step with an inverse of its own (a change's: the state it leaves, not its kind's).
  public init(_ step: Step, inverse: Step?) {
    self.step = step
    self.inverse = inverse
  }
}
