import TopologyModel

/// The kernel steps of a change to a topology that is up, each with its inverse. Pure: the
/// Realizer applies them.
public enum Changes {
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
