import TopologyModel

// One packet's way through the model, hop by hop: the walk every prediction is made of.
extension Predictor {
  /// One packet's way from `start` to `dst`, as the kernel forwards it: local delivery to any
  /// of a node's addresses; a drop where a forwarded packet's source is the node's own address
  /// (a martian: how a loop through its source ends); forwarding; the TTL (64 at the source,
  /// one less per router, time exceeded at the 64th); longest-prefix routes; the next hop's
  /// owner on the segment, or any node there with that address (Linux answers ARP for all of
  /// its addresses on every interface). A router that cannot forward a probe sends an ICMP
  /// error, which counts only if it can get back to the probe's source.
  func walk(from start: String, to target: IPAddress, as traffic: Traffic, port probePort: Int = 4444, record: Bool = true) -> Walk {
    var dst = target
    var port = probePort
    var dnats: [(node: String, from: IPAddress, to: IPAddress, port: Int)] = []
    guard let first = endpointIndex[start] else {
      return Walk(verdict: .noRoute, reason: "\(start) is not in the topology", path: record ? [Hop(node: start)] : [], last: start)
    }
    var node = first
    var path: [Hop] = []
    // The routers after the source, for loops: empty (no allocation) for a delivery on a segment.
    var visited: [Int] = []
    var atSource = true
    var loop: String?
    var sourceAddress: IPAddress?
    var nats: [(node: String, original: IPAddress)] = []
    // What the current node did with the packet (recorded walks only).
    var steps: [HopStep] = []
    if case .reply(let s) = traffic { sourceAddress = s }
    var ttl = 64
    let toward: String
    switch traffic {
    case .probe: toward = "to"
    case .reply: toward = "back to"
    case .icmp: toward = "with the error for"
    }
    func stop(_ v: Prediction.Verdict, _ reason: String?, hop: Hop? = nil) -> Walk {
      if record && loop == nil {
        var h = hop ?? Hop(node: states[node].name)
        h.steps = steps
        path.append(h)
      }
      return Walk(verdict: v, reason: reason, path: path, sourceAddress: sourceAddress, last: states[node].name, nats: nats, dnats: dnats)
    }
    /// An ICMP error for the probe, from a router (or, for a neighbour that never answers, the
    /// source itself): the probe sees `verdict` if the error gets back to its source, else
    /// silence. A UDP socket takes only hard errors: net and host unreachable (codes 0 and 1)
    /// and time exceeded are soft and ignored; administratively prohibited (code 13) is hard.
    /// ICMPv6 alike: no route, address unreachable and time exceeded are soft, administratively
    /// prohibited hard. A TCP probe sees every one (it reads its socket's error queue).
    func error(_ verdict: Prediction.Verdict, _ reason: String, hop: Hop? = nil, hard: Bool = false) -> Walk {
      if traffic.silent { return stop(.timedOut, reason, hop: hop) }
      if case .probe(.udp) = traffic, !hard { return stop(.timedOut, "\(reason); a UDP socket ignores the ICMP error it causes", hop: hop) }
      guard let src = sourceAddress else { return stop(.timedOut, reason, hop: hop) }
      let back = walkBack(from: states[node].name, to: src, nats: nats, as: .icmp, record: false)
      if back.verdict == .reached { return stop(verdict, reason, hop: hop) }
      return stop(.timedOut, "\(reason); its ICMP error cannot get back to \(src): \(back.reason ?? "lost")", hop: hop)
    }
    // The interface the packet came in on, for `in IF` rules.
    var inInterface: String?
    /// A chain of this node's firewall on the probe: nil when it accepts, else where it ends.
    /// Replies and ICMP errors are part of an accepted connection: every chain lets them pass.
    func filter(_ chain: Firewall.Chain, out: String?, hop: Hop? = nil) -> Walk? {
      guard let fw = states[node].firewall else { return nil }
      guard case .probe(let proto) = traffic, let src = sourceAddress else {
        if record && !fw.isTrivial(chain) { steps.append(.session(chain: chain)) }
        return nil
      }
      let packet = Firewall.Packet(
        source: src, destination: dst, proto: proto == .tcp ? .tcp : .udp, port: port,
        inInterface: chain == .output ? nil : inInterface, outInterface: out)
      // Accepted without a step to record: the action alone (a million pairs copy no rule).
      if !record && fw.action(chain, packet) == .accept { return nil }
      let decision = fw.decide(chain, packet)
      // A chain that accepts everything is not built (`Ruleset`): no step.
      if record && !fw.isTrivial(chain) { steps.append(.filter(chain: chain, decision: decision)) }
      if decision.action == .accept { return nil }
      // The reason only for what the chain stops: a million accepted pairs build no text.
      let name = states[node].name
      let why: String
      switch decision {
      case .rule(let r):
        why = "\(r.action == .drop ? "dropped" : "rejected") by \(name)'s rule at line \(r.line) (`\(r.text)`)"
      case .policy(let c, let a, let line):
        why = "\(name)'s \(c.rawValue) policy \(a == .drop ? "drops" : "rejects") \(proto.rawValue)/\(port) from \(src)\(line.map { " (line \($0))" } ?? "")"
      }
      switch (decision.action, chain) {
      case (.accept, _): return nil
      // Dropped on the way out: a TCP SYN is retransmitted until the deadline; a UDP send
      // fails at once with EPERM (measured).
      case (.drop, .output): return stop(proto == .tcp ? .timedOut : .prohibited, why, hop: hop)
      case (.drop, _): return stop(.timedOut, why, hop: hop)
      // Rejected on the way out: TCP gets the reset itself (refused); a UDP send fails with
      // EPERM at once, as for a drop (measured).
      case (.reject, .output): return stop(proto == .tcp ? .refused : .prohibited, why, hop: hop)
      // Rejected further on: a TCP reset, or ICMP port unreachable (a hard error for UDP too),
      // which counts only if it gets back.
      case (.reject, _): return error(.refused, why, hop: hop, hard: true)
      }
    }
    // The source, up to 64 routers, and where the packet ends.
    for _ in 0..<66 {
      let name = states[node].name
      if !atSource, loop == nil, node == first || visited.contains(node) {
        let trail = [first] + visited
        let k = trail.firstIndex(of: node)!
        loop = (trail[k...] + [node]).map { states[$0].name }.joined(separator: " -> ")
        // The path shows the loop once, closed at the node it came back to.
        if record { path.append(Hop(node: name)) }
      }
      // `dnat` on arrival: the destination (and port) become the rule's, then routing goes on.
      // Each node's own prerouting translates again: a second dnat on the way applies too
      // (once per node: its connection tracking keeps the first translation).
      if !atSource, case .probe(let proto) = traffic, states[node].local.contains(dst), !dnats.contains(where: { $0.node == name }),
        let d = states[node].firewall?.dnat.first(where: { $0.port == port && $0.proto.rawValue == proto.rawValue }),
        let to = d.to.first(where: { $0.family == dst.family })
      {
        if record { steps.append(.dnat(from: dst, fromPort: port, to: to, toPort: d.toPort ?? port, line: d.line)) }
        dnats.append((name, dst, to, d.toPort ?? port))
        dst = to
        port = d.toPort ?? port
      }
      // A dnat can send a packet back to its source, which IPv4 drops as a martian (a local
      // source address arriving from outside).
      if !atSource, !dnats.isEmpty, dst.family == .ipv4, let s = sourceAddress, states[node].local.contains(s) {
        return stop(.timedOut, "\(name) drops it: its source \(s) is \(name)'s own address (dnat sent it back)")
      }
      if states[node].local.contains(dst) {
        if !atSource, let w = filter(.input, out: nil) { return w }
        if record {
          if case .probe = traffic { steps.append(.deliver(address: dst, port: port)) } else { steps.append(.deliver(address: dst, port: nil)) }
        }
        return stop(.reached, nil)
      }
      // Only a packet that left this node can come back with its address as the source; it
      // then arrives here to be forwarded (a packet for this node would not have left it).
      // IPv4 drops it as a martian; IPv6 has no such check and forwards it on, until the hop
      // limit runs out (measured).
      if !atSource, states[node].forwarding, let s = sourceAddress, s.family == .ipv4, states[node].local.contains(s) {
        return stop(.timedOut, "\(name) drops it: its source \(s) is \(name)'s own address\(loop.map { " (routing loop: \($0))" } ?? "")")
      }
      if !atSource { visited.append(node) }
      if !atSource {
        if !states[node].forwarding {
          // IPv6 looks the route up before it checks forwarding: a prohibit or unreachable
          // route, or none, still answers with its ICMPv6 error (measured), where IPv4 drops
          // in silence. Only a route it would forward by stops at the forwarding switch.
          if dst.family == .ipv6 {
            let route = states[node].table.route(to: dst)
            if record, let r = route, r.kind == .prohibit || r.kind == .unreachable {
              steps.append(.route(prefix: r.prefix, kind: r.kind.step, interface: nil, via: nil))
            }
            switch route?.kind {
            case .prohibit?:
              return error(.prohibited, "\(name) has a prohibit route for \(route!.prefix) (\(toward) \(dst)), forwarding off or not", hard: true)
            case .unreachable?:
              return error(.noRoute, "\(name) has an unreachable route for \(route!.prefix) (\(toward) \(dst)), forwarding off or not")
            case nil:
              return error(.noRoute, "\(name) has no route \(toward) \(describe(dst)), forwarding off or not")
            default:
              break
            }
          }
          return stop(.timedOut, "forwarding is off in \(name)")
        }
        if ttl <= 1 {
          // A connecting TCP socket dies of the time exceeded; a UDP socket ignores it.
          return error(.hostUnreachable, "the TTL runs out at \(name)\(loop.map { " (routing loop: \($0))" } ?? "")")
        }
        ttl -= 1
      }
      guard let route = states[node].table.route(to: dst) else {
        if name == "host" { return stop(.noRoute, "the host has no route \(toward) \(describe(dst)) through the topology\(downNote(node, dst))") }
        let why = "\(name) has no route \(toward) \(describe(dst))\(downNote(node, dst))"
        return atSource && !traffic.silent ? stop(.noRoute, why) : error(.noRoute, why)
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
        return stop(atSource && !traffic.silent ? .noRoute : .timedOut, why)
      case .unreachable:
        // Local: EHOSTUNREACH. From a router: ICMP host unreachable, or ICMPv6 no route.
        let why = "\(name) has an unreachable route for \(route.prefix) (\(toward) \(dst))"
        return atSource && !traffic.silent ? stop(.hostUnreachable, why) : error(dst.family == .ipv4 ? .hostUnreachable : .noRoute, why)
      case .prohibit:
        // Local: EACCES. From a router: ICMP administratively prohibited, which a socket
        // reports as EHOSTUNREACH; ICMPv6's, as EACCES. Both are hard errors.
        let why = "\(name) has a prohibit route for \(route.prefix) (\(toward) \(dst))"
        return atSource && !traffic.silent ? stop(.prohibited, why) : error(dst.family == .ipv4 ? .hostUnreachable : .prohibited, why, hard: true)
      case .connected, .gateway:
        break
      }
      let nextHop = route.gateway ?? dst
      guard let out = route.interface ?? states[node].interfaces.first(where: { !interfaces[$0].down && interfaces[$0].addresses.contains { $0.prefix.contains(nextHop) } }) else {
        return stop(atSource ? .noRoute : .timedOut, "\(name)'s next hop \(nextHop) is on none of its subnets")
      }
      if atSource && sourceAddress == nil { sourceAddress = interfaces[out].addresses.first { $0.family == dst.family }?.address }
      if record { steps.append(.route(prefix: route.prefix, kind: route.kind.step, interface: interfaces[out].name, via: route.gateway)) }
      var hop = Hop(node: name, interface: interfaces[out].name, nextHop: route.gateway)
      if let w = filter(atSource ? .output : .forward, out: interfaces[out].name, hop: hop) { return w }
      // `masquerade IF` on a router: the source becomes IF's address of the family.
      if case .probe = traffic, !atSource, states[node].firewall?.masquerades(interfaces[out].name) != nil,
        let old = sourceAddress, let new = interfaces[out].addresses.first(where: { $0.family == dst.family })?.address, new != old
      {
        nats.append((name, old))
        sourceAddress = new
        hop.masqueradedAs = new
        if record { steps.append(.masquerade(interface: interfaces[out].name, from: old, to: new)) }
      }
      let segment = interfaces[out].segment
      guard let owner = owners[segment][nextHop] ?? weakHostOwner(segment, nextHop) else {
        let lookup = nextHop.family == .ipv4 ? "ARP" : "neighbour discovery"
        var why = "nobody on \(name)'s \(interfaces[out].name) segment has \(nextHop) (\(lookup) fails)"
        if let note = interfaces[out].downNote ?? downInterface(owning: nextHop)?.downNote { why += ": \(note)" }
        // The kernel reports it once it gives up resolving, after `neighbourGiveUp` seconds.
        guard probeTimeout > Self.neighbourGiveUp else {
          if !traffic.silent { why += "; the kernel gives up after \(Int(Self.neighbourGiveUp)) s, after the probe's deadline" }
          return stop(.timedOut, why, hop: hop)
        }
        // At the source too, the failure comes back as an ICMP host unreachable to itself.
        if atSource && !traffic.silent && dst.family == .ipv4, case .probe(.tcp) = traffic { return stop(.hostUnreachable, why, hop: hop) }
        return error(.hostUnreachable, why, hop: hop)
      }
      // Around a loop, the path shows it once.
      if record && loop == nil {
        hop.steps = steps
        path.append(hop)
      }
      steps = []
      node = interfaces[owner].endpoint
      inInterface = interfaces[owner].name
      atSource = false
    }
    return Walk(verdict: .timedOut, reason: "more than 64 routers \(toward) \(dst)", path: path, last: states[node].name)
  }
}
