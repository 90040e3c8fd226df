import TopologyModel

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
    var local: LocalAddresses
    var interfaces: [Int]
    /// Its rules, when it has any.
    var firewall: Firewall?
  }
  var states: [EndpointState] = []
  var endpointIndex: [String: Int] = [:]

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
      var local = LocalAddresses()
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
    /// Every dnat on the way, in order: the node, the destination before it and after, the
    /// port after. One array, not more fields: a walk is copied a million times a matrix,
    /// and a wider struct went through memmove (predict of star-1000 was 5-8 % slower).
    var dnats: [(node: String, from: IPAddress, to: IPAddress, port: Int)] = []
    /// The last dnat on the way: the node that translated, and where the probe landed.
    var dnat: (node: String, address: IPAddress, port: Int)? { dnats.last.map { ($0.node, $0.to, $0.port) } }
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

}
