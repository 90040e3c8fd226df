import TopologyModel

// A walk's state and its one step: what each node does with the packet.
extension Predictor {
  /// One walk under way: the packet as it is now (destination, port, source, what translated
  /// it) and where it has been. `step` moves it one node on.
  ///
  /// The model comes in as an argument to each method, not as a stored property: a stored
  /// copy of `Predictor` retains a dozen arrays per walk, and made `predict` of star-1000
  /// 14 % slower; an argument is borrowed.
  struct WalkState {
    let traffic: Traffic
    let record: Bool
    let first: Int
    /// "to", "back to", "with the error for": how reasons say where the packet was going.
    let toward: String
    var dst: IPAddress
    var port: Int
    /// Every dnat on the way, in order: the node, the destination before it and after, the
    /// port after.
    var dnats: [(node: String, from: IPAddress, to: IPAddress, port: Int)] = []
    var node: Int
    var path: [Hop] = []
    /// The routers after the source, for loops: empty (no allocation) for a delivery on a segment.
    var visited: [Int] = []
    var atSource = true
    var loop: String?
    var sourceAddress: IPAddress?
    var nats: [(node: String, original: IPAddress)] = []
    /// What the current node did with the packet (recorded walks only).
    var steps: [HopStep] = []
    var ttl = 64
    /// The interface the packet came in on, for `in IF` rules.
    var inInterface: String?

    init(traffic: Traffic, record: Bool, first: Int, dst: IPAddress, port: Int) {
      self.traffic = traffic
      self.record = record
      self.first = first
      self.dst = dst
      self.port = port
      node = first
      if case .reply(let s) = traffic { sourceAddress = s }
      switch traffic {
      case .probe: toward = "to"
      case .reply: toward = "back to"
      case .icmp: toward = "with the error for"
      }
    }

    mutating func stop(_ model: Predictor, _ v: Prediction.Verdict, _ reason: String?, hop: Hop? = nil) -> Walk {
      if record && loop == nil {
        var h = hop ?? Hop(node: model.states[node].name)
        h.steps = steps
        path.append(h)
      }
      return Walk(verdict: v, reason: reason, path: path, sourceAddress: sourceAddress, last: model.states[node].name, nats: nats, dnats: dnats)
    }
    /// An ICMP error for the probe, from a router (or, for a neighbour that never answers, the
    /// source itself): the probe sees `verdict` if the error gets back to its source, else
    /// silence. A UDP socket takes only hard errors: net and host unreachable (codes 0 and 1)
    /// and time exceeded are soft and ignored; administratively prohibited (code 13) is hard.
    /// ICMPv6 alike: no route, address unreachable and time exceeded are soft, administratively
    /// prohibited hard. A TCP probe sees every one (it reads its socket's error queue).
    mutating func error(_ model: Predictor, _ verdict: Prediction.Verdict, _ reason: String, hop: Hop? = nil, hard: Bool = false) -> Walk {
      if traffic.silent { return stop(model, .timedOut, reason, hop: hop) }
      if case .probe(.udp) = traffic, !hard { return stop(model, .timedOut, "\(reason); a UDP socket ignores the ICMP error it causes", hop: hop) }
      guard let src = sourceAddress else { return stop(model, .timedOut, reason, hop: hop) }
      let back = model.walkBack(from: model.states[node].name, to: src, nats: nats, as: .icmp, record: false)
      if back.verdict == .reached { return stop(model, verdict, reason, hop: hop) }
      return stop(model, .timedOut, "\(reason); its ICMP error cannot get back to \(src): \(back.reason ?? "lost")", hop: hop)
    }
    /// A chain of this node's firewall on the probe: nil when it accepts, else where it ends.
    /// Replies and ICMP errors are part of an accepted connection: every chain lets them pass.
    mutating func filter(_ model: Predictor, _ chain: Firewall.Chain, out: String?, hop: Hop? = nil) -> Walk? {
      guard let fw = model.states[node].firewall else { return nil }
      guard case .probe(let proto) = traffic, let src = sourceAddress else {
        if record && !fw.isTrivial(chain) { steps.append(.session(chain: chain)) }
        return nil
      }
      let packet = Firewall.Packet(
        source: src, destination: dst, proto: proto == .tcp ? .tcp : proto == .udp ? .udp : .icmp, port: port,
        inInterface: chain == .output ? nil : inInterface, outInterface: out)
      // Accepted without a step to record: the action alone (a million pairs copy no rule).
      if !record && fw.action(chain, packet) == .accept { return nil }
      let decision = fw.decide(chain, packet)
      // A chain that accepts everything is not built (`Ruleset`): no step.
      if record && !fw.isTrivial(chain) { steps.append(.filter(chain: chain, decision: decision)) }
      if decision.action == .accept { return nil }
      // The reason only for what the chain stops: a million accepted pairs build no text.
      let name = model.states[node].name
      let why: String
      switch decision {
      case .rule(let r):
        why = "\(r.action == .drop ? "dropped" : "rejected") by \(name)'s rule at line \(r.line) (`\(r.text)`)"
      case .policy(let c, let a, let line):
        why = "\(name)'s \(c.rawValue) policy \(a == .drop ? "drops" : "rejects") \(proto.label(port)) from \(src)\(line.map { " (line \($0))" } ?? "")"
      }
      switch (decision.action, chain) {
      case (.accept, _): return nil
      // Dropped on the way out: a TCP SYN is retransmitted until the deadline; a UDP send
      // fails at once with EPERM (measured).
      case (.drop, .output): return stop(model, proto == .tcp ? .timedOut : .prohibited, why, hop: hop)
      case (.drop, _): return stop(model, .timedOut, why, hop: hop)
      // Rejected on the way out: TCP gets the reset itself (refused); a UDP send fails with
      // EPERM at once, as for a drop (measured).
      case (.reject, .output): return stop(model, proto == .tcp ? .refused : .prohibited, why, hop: hop)
      // Rejected further on: a TCP reset, or ICMP port unreachable (a hard error for UDP too),
      // which counts only if it gets back.
      case (.reject, _): return error(model, .refused, why, hop: hop, hard: true)
      }
    }

    /// The packet at `node`: delivered, stopped (the walk's end), or sent on to the next node
    /// (nil).
    mutating func step(_ model: Predictor) -> Walk? {
      let name = model.states[node].name
      if !atSource, loop == nil, node == first || visited.contains(node) {
        let trail = [first] + visited
        let k = trail.firstIndex(of: node)!
        loop = (trail[k...] + [node]).map { model.states[$0].name }.joined(separator: " -> ")
        // The path shows the loop once, closed at the node it came back to.
        if record { path.append(Hop(node: name)) }
      }
      // `dnat` on arrival: the destination (and port) become the rule's, then routing goes on.
      // Each node's own prerouting translates again: a second dnat on the way applies too
      // (once per node: its connection tracking keeps the first translation).
      if !atSource, case .probe(let proto) = traffic, model.states[node].local.contains(dst), !dnats.contains(where: { $0.node == name }),
        let d = model.states[node].firewall?.dnat.first(where: { $0.port == port && $0.proto.rawValue == proto.rawValue }),
        let to = d.to.first(where: { $0.family == dst.family })
      {
        if record { steps.append(.dnat(from: dst, fromPort: port, to: to, toPort: d.toPort ?? port, line: d.line)) }
        dnats.append((name, dst, to, d.toPort ?? port))
        dst = to
        port = d.toPort ?? port
      }
      // A dnat can send a packet back to its source, which IPv4 drops as a martian (a local
      // source address arriving from outside).
      if !atSource, !dnats.isEmpty, dst.family == .ipv4, let s = sourceAddress, model.states[node].local.contains(s) {
        return stop(model, .timedOut, "\(name) drops it: its source \(s) is \(name)'s own address (dnat sent it back)")
      }
      if model.states[node].local.contains(dst) {
        if !atSource, let w = filter(model, .input, out: nil) { return w }
        if record {
          if case .probe(let p) = traffic, p.hasPorts { steps.append(.deliver(address: dst, port: port)) } else { steps.append(.deliver(address: dst, port: nil)) }
        }
        return stop(model, .reached, nil)
      }
      // Only a packet that left this node can come back with its address as the source; it
      // then arrives here to be forwarded (a packet for this node would not have left it).
      // IPv4 drops it as a martian; IPv6 has no such check and forwards it on, until the hop
      // limit runs out (measured).
      if !atSource, model.states[node].forwarding, let s = sourceAddress, s.family == .ipv4, model.states[node].local.contains(s) {
        return stop(model, .timedOut, "\(name) drops it: its source \(s) is \(name)'s own address\(loop.map { " (routing loop: \($0))" } ?? "")")
      }
      if !atSource { visited.append(node) }
      if !atSource {
        if !model.states[node].forwarding {
          // IPv6 looks the route up before it checks forwarding: a prohibit or unreachable
          // route, or none, still answers with its ICMPv6 error (measured), where IPv4 drops
          // in silence. Only a route it would forward by stops at the forwarding switch.
          if dst.family == .ipv6 {
            let route = model.states[node].table.route(to: dst)
            if record, let r = route, r.kind == .prohibit || r.kind == .unreachable {
              steps.append(.route(prefix: r.prefix, kind: r.kind.step, interface: nil, via: nil))
            }
            switch route?.kind {
            case .prohibit?:
              return error(model, .prohibited, "\(name) has a prohibit route for \(route!.prefix) (\(toward) \(dst)), forwarding off or not", hard: true)
            case .unreachable?:
              return error(model, .noRoute, "\(name) has an unreachable route for \(route!.prefix) (\(toward) \(dst)), forwarding off or not")
            case nil:
              return error(model, .noRoute, "\(name) has no route \(toward) \(model.describe(dst)), forwarding off or not")
            default:
              break
            }
          }
          return stop(model, .timedOut, "forwarding is off in \(name)")
        }
        if ttl <= 1 {
          // A connecting TCP socket dies of the time exceeded; a UDP socket ignores it.
          return error(model, .hostUnreachable, "the TTL runs out at \(name)\(loop.map { " (routing loop: \($0))" } ?? "")")
        }
        ttl -= 1
      }
      guard let route = model.states[node].table.route(to: dst) else {
        if name == "host" { return stop(model, .noRoute, "the host has no route \(toward) \(model.describe(dst)) through the topology\(model.downNote(node, dst))") }
        let why = "\(name) has no route \(toward) \(model.describe(dst))\(model.downNote(node, dst))"
        return atSource && !traffic.silent ? stop(model, .noRoute, why) : error(model, .noRoute, why)
      }
      switch route.kind {
      case .blackhole, .unreachable, .prohibit:
        if record { steps.append(.route(prefix: route.prefix, kind: route.kind.step, interface: nil, via: nil)) }
      case .connected, .gateway:
        break
      }
      switch route.kind {
      case .blackhole:
        let why = "\(name) blackholes \(route.prefix) (\(toward) \(dst))"
        return stop(model, atSource && !traffic.silent ? .noRoute : .timedOut, why)
      case .unreachable:
        // Local: EHOSTUNREACH. From a router: ICMP host unreachable, or ICMPv6 no route.
        let why = "\(name) has an unreachable route for \(route.prefix) (\(toward) \(dst))"
        return atSource && !traffic.silent ? stop(model, .hostUnreachable, why) : error(model, dst.family == .ipv4 ? .hostUnreachable : .noRoute, why)
      case .prohibit:
        // Local: EACCES. From a router: ICMP administratively prohibited, which a socket
        // reports as EHOSTUNREACH; ICMPv6's, as EACCES. Both are hard errors.
        let why = "\(name) has a prohibit route for \(route.prefix) (\(toward) \(dst))"
        return atSource && !traffic.silent ? stop(model, .prohibited, why) : error(model, dst.family == .ipv4 ? .hostUnreachable : .prohibited, why, hard: true)
      case .connected, .gateway:
        break
      }
      let nextHop = route.gateway ?? dst
      guard let out = route.interface ?? model.states[node].interfaces.first(where: { !model.interfaces[$0].down && model.interfaces[$0].addresses.contains { $0.prefix.contains(nextHop) } }) else {
        return stop(model, atSource ? .noRoute : .timedOut, "\(name)'s next hop \(nextHop) is on none of its subnets")
      }
      if atSource && sourceAddress == nil { sourceAddress = model.interfaces[out].addresses.first { $0.family == dst.family }?.address }
      if record { steps.append(.route(prefix: route.prefix, kind: route.kind.step, interface: model.interfaces[out].name, via: route.gateway)) }
      var hop = Hop(node: name, interface: model.interfaces[out].name, nextHop: route.gateway)
      if let w = filter(model, atSource ? .output : .forward, out: model.interfaces[out].name, hop: hop) { return w }
      // `masquerade IF` on a router: the source becomes IF's address of the family.
      if case .probe = traffic, !atSource, model.states[node].firewall?.masquerades(model.interfaces[out].name) != nil,
        let old = sourceAddress, let new = model.interfaces[out].addresses.first(where: { $0.family == dst.family })?.address, new != old
      {
        nats.append((name, old))
        sourceAddress = new
        hop.masqueradedAs = new
        if record { steps.append(.masquerade(interface: model.interfaces[out].name, from: old, to: new)) }
      }
      let segment = model.interfaces[out].segment
      guard let owner = model.owners[segment][nextHop] ?? model.weakHostOwner(segment, nextHop) else {
        let lookup = nextHop.family == .ipv4 ? "ARP" : "neighbour discovery"
        var why = "nobody on \(name)'s \(model.interfaces[out].name) segment has \(nextHop) (\(lookup) fails)"
        if let note = model.interfaces[out].downNote ?? model.downInterface(owning: nextHop)?.downNote { why += ": \(note)" }
        // The kernel reports it once it gives up resolving, after `neighbourGiveUp` seconds.
        guard model.probeTimeout > Predictor.neighbourGiveUp else {
          if !traffic.silent { why += "; the kernel gives up after \(Int(Predictor.neighbourGiveUp)) s, after the probe's deadline" }
          return stop(model, .timedOut, why, hop: hop)
        }
        // At the source too, the failure comes back as an ICMP host unreachable to itself.
        // (TCP and ICMP echo read their error queue; UDP ignores this soft error.)
        if atSource && !traffic.silent && dst.family == .ipv4, case .probe(let p) = traffic, p != .udp { return stop(model, .hostUnreachable, why, hop: hop) }
        return error(model, .hostUnreachable, why, hop: hop)
      }
      // Around a loop, the path shows it once.
      if record && loop == nil {
        hop.steps = steps
        path.append(hop)
      }
      steps = []
      node = model.interfaces[owner].endpoint
      inInterface = model.interfaces[owner].name
      atSource = false
      return nil
    }
  }
}
