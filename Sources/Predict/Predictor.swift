import TopologyModel

/// What the model says about one direction of traffic or one pair.
public struct Prediction: Hashable, Sendable {
  /// The model's outcome: one of the probe's (`Outcome`), never refused, wrong-responder,
  /// not-probed or error.
  public typealias Verdict = Outcome

  public var verdict: Verdict
  /// One sentence: where and why it stops ("forwarding is off in r2"); nil when reached.
  public var reason: String?
  /// The nodes the packet visits, source first.
  public var path: [Hop]
  /// The nodes the reply visits, target first (when the forward path arrives).
  public var returnPath: [Hop]
  /// Where a `dnat` sent the probe: the node and port it lands on (nstopo listens there).
  public var landedNode: String?
  public var landedPort: Int?

  public init(verdict: Verdict, reason: String?, path: [Hop], returnPath: [Hop], landedNode: String? = nil, landedPort: Int? = nil) {
    self.verdict = verdict
    self.reason = reason
    self.path = path
    self.returnPath = returnPath
    self.landedNode = landedNode
    self.landedPort = landedPort
  }

  public var reached: Bool { verdict == .reached }
}

/// One node on a predicted path and how the packet leaves it.
public struct Hop: Hashable, Sendable, CustomStringConvertible {
  public var node: String
  /// Outgoing interface and the next hop's address, or nil where the packet ends.
  public var interface: String?
  public var nextHop: IPAddress?
  /// The source this node masqueraded the packet as, if it did.
  public var masqueradedAs: IPAddress?
  /// What the node did with it, in order (recorded walks only).
  public var steps: [HopStep]

  public init(node: String, interface: String? = nil, nextHop: IPAddress? = nil, masqueradedAs: IPAddress? = nil, steps: [HopStep] = []) {
    self.node = node
    self.interface = interface
    self.nextHop = nextHop
    self.masqueradedAs = masqueradedAs
    self.steps = steps
  }

  public var description: String {
    guard let i = interface else { return node }
    return "\(node) (\(i)\(nextHop.map { " via \($0)" } ?? "")\(masqueradedAs.map { ", masquerade as \($0)" } ?? ""))"
  }
}

/// Predicts reachability from the model alone: L2 segments (bridges, direct veths),
/// connected routes, static routes by longest prefix match, default routes, `forward` on
/// every router on the way, and the way back. Loops and black holes end the walk.
/// One flow: from an endpoint to one of another's addresses (nil: its primary address),
/// with a protocol and port, as `nstopo test` sends it.
public struct Flow: Hashable, Sendable {
  public var source: String
  public var target: String
  public var address: IPAddress?
  public var proto: TransportProtocol
  public var port: Int

  public init(from source: String, to target: String, address: IPAddress? = nil, proto: TransportProtocol = .tcp, port: Int = 4444) {
    self.source = source
    self.target = target
    self.address = address
    self.proto = proto
    self.port = port
  }
}

public struct Predictor: Sendable {
  struct Interface: Sendable {
    var owner: String
    var name: String
    var addresses: [InterfaceAddress]
    var segment: Int
    /// Index of its owner in `states` (every owner of an interface is an endpoint).
    var endpoint = -1
    /// Administratively down: no connected route, nothing sent or received.
    var down = false
    /// Why it carries nothing, when it does not: "r1's link to r2 (eth2) is down".
    var downNote: String?
  }

  /// What a walk needs of one endpoint, by index: a walk hashes a name once, not at every hop.
  struct EndpointState: Sendable {
    var name: String
    var table: RouteTable
    var forwarding: Bool
    var local: Set<IPAddress>
    var interfaces: [Int]
    /// Its rules, when it has any.
    var firewall: Firewall?
  }
  var states: [EndpointState] = []
  var endpointIndex: [String: Int] = [:]

  struct RouteEntry: Sendable {
    var prefix: IPPrefix
    var interface: Int?
    var gateway: IPAddress?
    var kind: Kind

    enum Kind: Sendable {
      case connected, gateway, blackhole, unreachable, prohibit

      var step: HopStep.RouteKind {
        switch self {
        case .connected: return .connected
        case .gateway: return .gateway
        case .blackhole: return .blackhole
        case .unreachable: return .unreachable
        case .prohibit: return .prohibit
        }
      }
    }
  }

  let topology: Topology
  var interfaces: [Interface] = []
  var byOwner: [String: [Int]] = [:]
  /// Per segment: address → interface index.
  var owners: [[IPAddress: Int]] = []
  /// Per segment: its interfaces.
  var segmentMembers: [[Int]] = []
  /// The addresses of interfaces on links that are down, for the sentence that says so.
  var downOwners: [IPAddress: Int] = [:]
  /// The probe's deadline in seconds: a neighbour nobody owns is reported only after
  /// `neighbourGiveUp`, so a shorter deadline sees silence.
  public var probeTimeout = 1.0

  /// A node's routes, longest prefix first (connected before static for equal prefixes). A
  /// large table is also indexed by prefix, so a lookup costs one probe per prefix length it
  /// uses: a router with 20,000 connected routes made every walk through it scan them all.
  struct RouteTable: Sendable {
    var entries: [RouteEntry]
    /// (family, length) in order of first appearance: longest first within a family.
    var lengths: [(IPAddress.Family, Int)] = []
    var first: [IPPrefix: Int] = [:]

    init(_ sorted: [RouteEntry]) {
      entries = sorted
      guard sorted.count > 16 else { return }
      for (i, r) in sorted.enumerated() {
        if first[r.prefix] == nil { first[r.prefix] = i }
        if !lengths.contains(where: { $0 == (r.prefix.family, r.prefix.length) }) { lengths.append((r.prefix.family, r.prefix.length)) }
      }
    }

    /// The first entry whose prefix contains `dst`.
    func route(to dst: IPAddress) -> RouteEntry? {
      guard !first.isEmpty else { return entries.first { $0.prefix.contains(dst) } }
      let family = dst.family
      for (f, length) in lengths where f == family {
        if let i = first[IPPrefix(address: dst, length: length)] { return entries[i] }
      }
      return nil
    }
  }
  var subnetNames: [(IPPrefix, String)] = []
  /// Whether any node has a `dnat` (else no probe lands elsewhere).
  public private(set) var hasDnat = false

  public init(_ t: Topology, probeTimeout: Double = 1.0) {
    topology = t
    self.probeTimeout = probeTimeout
    let l2 = L2Segments(t.links)
    var segments = l2.count
    byOwner.reserveCapacity(t.nodes.count + 1)
    interfaces.reserveCapacity(2 * t.links.count)
    endpointIndex.reserveCapacity(t.nodes.count + 1)
    // In link order: an endpoint's first interface with an address is its primary address.
    // The ends of a link that is down are each alone on a segment of their own: nothing
    // crosses it, and nobody beyond it answers for their addresses.
    for (i, link) in t.links.enumerated() {
      for (end, other) in [(link.a, link.b), (link.b, link.a)] {
        if case .bridge = end.owner { continue }
        let owner = end.owner.description
        var itf = Interface(owner: owner, name: end.interface, addresses: end.addresses, segment: l2.ofLink[i], down: end.down)
        if !link.isUp {
          itf.segment = segments
          segments += 1
          let downEnd = end.down ? end : other
          let downOther = end.down ? other : end
          itf.downNote = "\(downEnd.owner)'s link to \(downOther.owner) (\(downEnd.interface)) is down"
        }
        byOwner[owner, default: []].append(interfaces.count)
        interfaces.append(itf)
      }
    }
    owners = [[IPAddress: Int]](repeating: [:], count: segments)
    segmentMembers = [[Int]](repeating: [], count: segments)
    for (i, itf) in interfaces.enumerated() {
      for a in itf.addresses { owners[itf.segment][a.address] = i }
      if itf.downNote != nil { for a in itf.addresses { downOwners[a.address] = i } }
      segmentMembers[itf.segment].append(i)
    }
    let endpoints: [(String, Node?)] = t.nodes.map { ($0.name, $0) } + (t.hasHost ? [("host", nil)] : [])
    states.reserveCapacity(endpoints.count)
    for (name, node) in endpoints {
      var table: [RouteEntry] = []
      var local = Set<IPAddress>()
      var connected: [IPPrefix] = []
      let mine = byOwner[name] ?? []
      for i in mine {
        for a in interfaces[i].addresses {
          // A down interface has no connected route; IPv4 keeps its addresses local to the
          // node, IPv6 keeps them (keep_addr_on_down) without their local routes (measured).
          guard !interfaces[i].down else {
            if a.family == .ipv4 { local.insert(a.address) }
            continue
          }
          local.insert(a.address)
          table.append(RouteEntry(prefix: a.prefix, interface: i, gateway: nil, kind: .connected))
          connected.append(a.prefix)
        }
      }
      // The kernel holds a route via a gateway only while the gateway is on an up interface.
      for r in node?.routes ?? [] where r.isLive(connected: connected) {
        switch r.nextHop {
        case .gateway(let gw, _): table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: gw, kind: .gateway))
        case .blackhole: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .blackhole))
        case .unreachable: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .unreachable))
        case .prohibit: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .prohibit))
        }
      }
      // Longest prefix first; connected before static for equal prefixes.
      let sorted = table.count < 2 ? table : table.enumerated().sorted { a, b in
        (a.element.prefix.length, a.element.kind == .connected ? 1 : 0, -a.offset) > (b.element.prefix.length, b.element.kind == .connected ? 1 : 0, -b.offset)
      }.map(\.element)
      endpointIndex[name] = states.count
      states.append(
        EndpointState(name: name, table: RouteTable(sorted), forwarding: node?.forward ?? false, local: local, interfaces: mine, firewall: node?.firewall))
    }
    for i in interfaces.indices { interfaces[i].endpoint = endpointIndex[interfaces[i].owner] ?? -1 }
    subnetNames = t.subnets.map { ($0.prefix, $0.name) }
    hasDnat = t.nodes.contains { !($0.firewall?.dnat.isEmpty ?? true) }
  }

  /// Addresses of an endpoint of `family` (nil: IPv4 ones, then IPv6 ones), in link order
  /// (the first is the primary).
  public func addresses(of endpoint: String, family: IPAddress.Family? = nil) -> [IPAddress] {
    guard let family else { return IPAddress.Family.allCases.flatMap { addresses(of: endpoint, family: $0) } }
    return (byOwner[endpoint] ?? []).compactMap { i in interfaces[i].addresses.first { $0.family == family }?.address }
  }

  /// The first of `addresses(of:)`, without building the list.
  public func primaryAddress(of endpoint: String, family: IPAddress.Family? = nil) -> IPAddress? {
    // nil: its IPv4 address if it has one, else its IPv6 one.
    guard let family else { return primaryAddress(of: endpoint, family: .ipv4) ?? primaryAddress(of: endpoint, family: .ipv6) }
    // A loop, not a lazy chain: its closure would copy the predictor once per question.
    guard let mine = byOwner[endpoint] else { return nil }
    for i in mine {
      for a in interfaces[i].addresses where a.family == family { return a.address }
    }
    return nil
  }

  /// The flow as a probe sends it: what a question to the predictor is. The protocol matters
  /// where the kernel's answer does: a TCP connect dies of an ICMP time exceeded, a UDP
  /// socket ignores it.
  public func predict(_ flow: Flow) -> Prediction {
    predict(from: flow.source, to: flow.target, address: flow.address, proto: flow.proto, port: flow.port, record: true)
  }

  /// The verdict and reason of a flow alone, without recording paths: for a million pairs.
  public func verdict(_ flow: Flow) -> (Prediction.Verdict, String?) {
    let p = predict(from: flow.source, to: flow.target, address: flow.address, proto: flow.proto, port: flow.port, record: false)
    return (p.verdict, p.reason)
  }

  /// The pair as a TCP probe sees it: the forward walk to `address` (default: the target's
  /// primary address), then the reply's walk back to the source address the first hop chose.
  public func predict(from source: String, to target: String, address: IPAddress? = nil) -> Prediction {
    predict(from: source, to: target, address: address, proto: .tcp, record: true)
  }

  /// The verdict and reason alone, without recording paths: for a million pairs.
  public func verdict(from source: String, to target: String, address: IPAddress? = nil) -> (Prediction.Verdict, String?) {
    let p = predict(from: source, to: target, address: address, proto: .tcp, record: false)
    return (p.verdict, p.reason)
  }

  /// Where a `dnat` makes the probe of `flow` land, when its forward way gets there: the
  /// node and the port, for the listener `test` opens there.
  public func landing(_ flow: Flow) -> (node: String, port: Int)? {
    guard hasDnat, let dst = flow.address ?? primaryAddress(of: flow.target)
    else { return nil }
    let there = walk(from: flow.source, to: dst, as: .probe(flow.proto), port: flow.port, record: false)
    guard there.verdict == .reached, let d = there.dnat else { return nil }
    return (there.last, d.port)
  }

  /// Seconds after which the kernel gives up resolving a neighbour and reports host
  /// unreachable: `mcast_solicit` (3) probes `retrans_time_ms` (1000) apart, the defaults of a
  /// new namespace.
  public static let neighbourGiveUp = 3.0

  func predict(
    from source: String, to target: String, address: IPAddress?, proto: TransportProtocol, port: Int = 4444, record: Bool
  ) -> Prediction {
    guard let dst = address ?? primaryAddress(of: target) else {
      return Prediction(verdict: .noRoute, reason: "\(target) has no address", path: [Hop(node: source)], returnPath: [])
    }
    let there = walk(from: source, to: dst, as: .probe(proto), port: port, record: record)
    guard there.verdict == .reached, let src = there.sourceAddress else {
      return Prediction(verdict: there.verdict, reason: there.reason, path: there.path, returnPath: [])
    }
    let landed = there.dnat?.address ?? dst
    let back = walkBack(from: there.last, to: src, nats: there.nats, as: .reply(source: landed), record: record || there.dnat != nil)
    // A reply to a translated probe is translated back only where each translation was made.
    if back.verdict == .reached,
      let d = there.dnats.first(where: { d in d.node != there.last && !back.path.contains(where: { $0.node == d.node }) })
    {
      return Prediction(verdict: .timedOut, reason: "the reply from \(there.last) bypasses \(d.node), which translated the destination", path: there.path, returnPath: back.path)
    }
    if back.verdict == .reached {
      var back = back
      // Each dnat's node turns the reply's source back into the address the probe had there.
      if record {
        for d in there.dnats.reversed() {
          if let k = back.path.firstIndex(where: { $0.node == d.node }) { back.path[k].steps.append(.untranslate(field: .source, from: d.to, to: d.from)) }
        }
      }
      return Prediction(
        verdict: .reached, reason: nil, path: there.path, returnPath: back.path, landedNode: there.dnat.map { _ in there.last },
        landedPort: there.dnat?.port)
    }
    // A reply that cannot get back looks like silence to the source.
    return Prediction(verdict: .timedOut, reason: back.reason, path: there.path, returnPath: back.path)
  }

  struct Walk {
    var verdict: Prediction.Verdict
    var reason: String?
    var path: [Hop]
    var sourceAddress: IPAddress?
    /// The node where the walk ended.
    var last: String = ""
    /// Masquerades on the way, in order: the node that rewrote the source, and the source
    /// before it. A reply to the rewritten source is translated back there.
    var nats: [(node: String, original: IPAddress)] = []
    /// A `dnat` on the way: the node that translated, and where the probe landed (the last
    /// one, when several translated).
    var dnat: (node: String, address: IPAddress, port: Int)?
    /// Every dnat on the way, in order: the node, the destination before it and after.
    var dnats: [(node: String, from: IPAddress, to: IPAddress)] = []
  }

  /// The way back to `dst` through the translations `nats` made: to the last router that
  /// masqueraded, then from it to the source it hid, and so on.
  func walkBack(from start: String, to dst: IPAddress, nats: [(node: String, original: IPAddress)], as traffic: Traffic, record: Bool) -> Walk {
    var w = walk(from: start, to: dst, as: traffic, record: record)
    var rest = nats
    var target = dst
    while w.verdict == .reached, let n = rest.popLast(), w.last == n.node {
      let next = walk(from: n.node, to: n.original, as: traffic, record: record)
      var path = w.path
      // One hop at the translating node: the rewrite (before routing), then how it goes on.
      if record, var here = path.popLast(), let first = next.path.first {
        let forwardChain = endpointIndex[n.node].flatMap { states[$0].firewall }.map { !$0.isTrivial(.forward) } ?? false
        here.steps.removeAll {
          switch $0 {
          case .deliver, .session: return true
          default: return false
          }
        }
        here.steps.append(.untranslate(field: .destination, from: target, to: n.original))
        if forwardChain { here.steps.append(.session(chain: .forward)) }
        here.steps += first.steps.filter { if case .session = $0 { return false } else { return true } }
        here.interface = first.interface
        here.nextHop = first.nextHop
        path.append(here)
      }
      path += next.path.dropFirst()
      target = n.original
      w = Walk(verdict: next.verdict, reason: next.reason, path: path, sourceAddress: w.sourceAddress, last: next.last)
    }
    return w
  }

  /// What is walking: a probe (whose errors come back to its source as ICMP), a reply from the
  /// target, or an ICMP error on its way to the probe's source. The last two fail silently:
  /// the kernel sends no error about an error, and errors about a reply go to the target.
  enum Traffic {
    case probe(TransportProtocol)
    /// `source`: the reply's source address (the address the probe reached).
    case reply(source: IPAddress)
    case icmp

    var silent: Bool {
      if case .probe = self { return false }
      return true
    }
  }

  /// Where `dst` belongs, for sentences: its subnet or link prefix when known.
  func describe(_ dst: IPAddress) -> String {
    for itf in interfaces {
      if let a = itf.addresses.first(where: { $0.address == dst }) { return a.prefix.description }
    }
    if let s = subnetNames.first(where: { $0.0.contains(dst) }) { return s.0.description }
    return dst.description
  }

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
    var dnat: (node: String, address: IPAddress, port: Int)?
    var dnats: [(node: String, from: IPAddress, to: IPAddress)] = []
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
      return Walk(verdict: v, reason: reason, path: path, sourceAddress: sourceAddress, last: states[node].name, nats: nats, dnat: dnat, dnats: dnats)
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
        dnats.append((name, dst, to))
        dst = to
        port = d.toPort ?? port
        dnat = (name, to, port)
      }
      // A dnat can send a packet back to its source, which IPv4 drops as a martian (a local
      // source address arriving from outside).
      if !atSource, dnat != nil, dst.family == .ipv4, let s = sourceAddress, states[node].local.contains(s) {
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

  /// "; r1's link to r2 (eth2) is down" when a link of `node` that is down is why it has no
  /// route to `dst`: the link's prefix holds `dst`, or a route of the node's that the kernel
  /// dropped with it covers `dst`. Empty otherwise.
  func downNote(_ node: Int, _ dst: IPAddress) -> String {
    let mine = states[node].interfaces.filter { interfaces[$0].down }
    guard !mine.isEmpty else { return "" }
    for i in mine where interfaces[i].addresses.contains(where: { $0.prefix.contains(dst) }) {
      return interfaces[i].downNote.map { "; \($0)" } ?? ""
    }
    guard let model = topology.node(named: states[node].name) else { return "" }
    for r in model.routes where r.destination.contains(dst) {
      guard case .gateway(let gw, _) = r.nextHop else { continue }
      for i in mine where interfaces[i].addresses.contains(where: { $0.prefix.contains(gw) }) {
        return interfaces[i].downNote.map { "; \($0) (its route \(r.text) is gone with it)" } ?? ""
      }
    }
    return ""
  }

  /// The interface with `address` on a link that is down, if any: who would have answered.
  func downInterface(owning address: IPAddress) -> Interface? {
    downOwners.isEmpty ? nil : downOwners[address].map { interfaces[$0] }
  }

  /// An interface on `segment` of a node that has `address` on another interface: Linux
  /// answers ARP for any local address on every interface (`arp_ignore=0`). Not IPv6:
  /// neighbour discovery is strict, a node answers a solicitation only for an address of the
  /// interface it arrives on.
  func weakHostOwner(_ segment: Int, _ address: IPAddress) -> Int? {
    guard address.family == .ipv4 else { return nil }
    for i in segmentMembers[segment] where interfaces[i].endpoint >= 0 && states[interfaces[i].endpoint].local.contains(address) {
      return i
    }
    return nil
  }

  /// The interface of `node` whose subnet contains `address`.
  func connected(_ node: String, _ address: IPAddress) -> Int? {
    (byOwner[node] ?? []).first { interfaces[$0].addresses.contains { $0.prefix.contains(address) } }
  }
}
