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

  public var reached: Bool { verdict == .reached }
}

/// One node on a predicted path and how the packet leaves it.
public struct Hop: Hashable, Sendable, CustomStringConvertible {
  public var node: String
  /// Outgoing interface and the next hop's address, or nil where the packet ends.
  public var interface: String?
  public var nextHop: IPv4Address?

  public var description: String {
    guard let i = interface else { return node }
    return "\(node) (\(i)\(nextHop.map { " via \($0)" } ?? ""))"
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
  public var address: IPv4Address?
  public var proto: TransportProtocol
  public var port: Int

  public init(from source: String, to target: String, address: IPv4Address? = nil, proto: TransportProtocol = .tcp, port: Int = 4444) {
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
    var address: InterfaceAddress?
    var segment: Int
    /// Index of its owner in `states` (every owner of an interface is an endpoint).
    var endpoint = -1
  }

  /// What a walk needs of one endpoint, by index: a walk hashes a name once, not at every hop.
  struct EndpointState: Sendable {
    var name: String
    var table: RouteTable
    var forwarding: Bool
    var local: Set<UInt32>
    var interfaces: [Int]
  }
  var states: [EndpointState] = []
  var endpointIndex: [String: Int] = [:]

  struct RouteEntry: Sendable {
    var prefix: IPv4Prefix
    var interface: Int?
    var gateway: IPv4Address?
    var kind: Kind

    enum Kind: Sendable { case connected, gateway, blackhole, unreachable, prohibit }
  }

  let topology: Topology
  var interfaces: [Interface] = []
  var byOwner: [String: [Int]] = [:]
  /// Per segment: address → interface index.
  var owners: [[UInt32: Int]] = []

  /// A node's routes, longest prefix first (connected before static for equal prefixes). A
  /// large table is also indexed by prefix, so a lookup costs one probe per prefix length it
  /// uses: a router with 20,000 connected routes made every walk through it scan them all.
  struct RouteTable: Sendable {
    var entries: [RouteEntry]
    var lengths: [Int] = []
    var first: [UInt64: Int] = [:]

    init(_ sorted: [RouteEntry]) {
      entries = sorted
      guard sorted.count > 16 else { return }
      for (i, r) in sorted.enumerated() {
        let key = UInt64(r.prefix.length) << 32 | UInt64(r.prefix.network.value)
        if first[key] == nil { first[key] = i }
        if lengths.last != r.prefix.length { lengths.append(r.prefix.length) }
      }
    }

    /// The first entry whose prefix contains `dst`.
    func route(to dst: IPv4Address) -> RouteEntry? {
      guard !first.isEmpty else { return entries.first { $0.prefix.contains(dst) } }
      for length in lengths {
        if let i = first[UInt64(length) << 32 | UInt64(dst.value & IPv4Prefix.mask(length))] { return entries[i] }
      }
      return nil
    }
  }
  var subnetNames: [(IPv4Prefix, String)] = []

  public init(_ t: Topology) {
    topology = t
    let l2 = L2Segments(t.links)
    let segments = l2.count
    // In link order: an endpoint's first interface with an address is its primary address.
    for (i, link) in t.links.enumerated() {
      let segment = l2.ofLink[i]
      for end in [link.a, link.b] {
        if case .bridge = end.owner { continue }
        let owner = end.owner.description
        byOwner[owner, default: []].append(interfaces.count)
        interfaces.append(Interface(owner: owner, name: end.interface, address: end.address, segment: segment))
      }
    }
    owners = [[UInt32: Int]](repeating: [:], count: segments)
    for (i, itf) in interfaces.enumerated() {
      if let a = itf.address { owners[itf.segment][a.address.value] = i }
    }
    let endpoints: [(String, Node?)] = t.nodes.map { ($0.name, $0) } + (t.hasHost ? [("host", nil)] : [])
    states.reserveCapacity(endpoints.count)
    for (name, node) in endpoints {
      var table: [RouteEntry] = []
      var local = Set<UInt32>()
      let mine = byOwner[name] ?? []
      for i in mine {
        guard let a = interfaces[i].address else { continue }
        table.append(RouteEntry(prefix: a.prefix, interface: i, gateway: nil, kind: .connected))
        local.insert(a.address.value)
      }
      for r in node?.routes ?? [] {
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
      states.append(EndpointState(name: name, table: RouteTable(sorted), forwarding: node?.forward ?? false, local: local, interfaces: mine))
    }
    for i in interfaces.indices { interfaces[i].endpoint = endpointIndex[interfaces[i].owner] ?? -1 }
    subnetNames = t.subnets.map { ($0.prefix, $0.name) }
  }

  /// Addresses of an endpoint, in link order (the first is the primary).
  public func addresses(of endpoint: String) -> [IPv4Address] {
    (byOwner[endpoint] ?? []).compactMap { interfaces[$0].address?.address }
  }

  /// The first of `addresses(of:)`, without building the list.
  public func primaryAddress(of endpoint: String) -> IPv4Address? {
    (byOwner[endpoint] ?? []).lazy.compactMap { interfaces[$0].address?.address }.first
  }

  /// The flow as a probe sends it: what a question to the predictor is. (Routing does not
  /// look at the protocol and port; a filter will.)
  public func predict(_ flow: Flow) -> Prediction {
    predict(from: flow.source, to: flow.target, address: flow.address, record: true)
  }

  /// The verdict and reason of a flow alone, without recording paths: for a million pairs.
  public func verdict(_ flow: Flow) -> (Prediction.Verdict, String?) {
    let p = predict(from: flow.source, to: flow.target, address: flow.address, record: false)
    return (p.verdict, p.reason)
  }

  /// The pair as a probe sees it: the forward walk to `address` (default: the target's
  /// primary address), then the reply's walk back to the source address the first hop chose.
  public func predict(from source: String, to target: String, address: IPv4Address? = nil) -> Prediction {
    predict(from: source, to: target, address: address, record: true)
  }

  /// The verdict and reason alone, without recording paths: for a million pairs.
  public func verdict(from source: String, to target: String, address: IPv4Address? = nil) -> (Prediction.Verdict, String?) {
    let p = predict(from: source, to: target, address: address, record: false)
    return (p.verdict, p.reason)
  }

  func predict(from source: String, to target: String, address: IPv4Address?, record: Bool) -> Prediction {
    guard let dst = address ?? primaryAddress(of: target) else {
      return Prediction(verdict: .noRoute, reason: "\(target) has no address", path: [Hop(node: source)], returnPath: [])
    }
    let there = walk(from: source, to: dst, back: false, record: record)
    guard there.verdict == .reached, let src = there.sourceAddress else {
      return Prediction(verdict: there.verdict, reason: there.reason, path: there.path, returnPath: [])
    }
    let back = walk(from: there.last, to: src, back: true, record: record)
    if back.verdict == .reached {
      return Prediction(verdict: .reached, reason: nil, path: there.path, returnPath: back.path)
    }
    // A reply that cannot get back looks like silence to the source.
    return Prediction(verdict: .timedOut, reason: back.reason, path: there.path, returnPath: back.path)
  }

  struct Walk {
    var verdict: Prediction.Verdict
    var reason: String?
    var path: [Hop]
    var sourceAddress: IPv4Address?
    /// The node where the walk ended.
    var last: String = ""
  }

  /// Where `dst` belongs, for sentences: its subnet or link prefix when known.
  func describe(_ dst: IPv4Address) -> String {
    if let a = interfaces.first(where: { $0.address?.address == dst })?.address { return a.prefix.description }
    if let s = subnetNames.first(where: { $0.0.contains(dst) }) { return s.0.description }
    return dst.description
  }

  func walk(from start: String, to dst: IPv4Address, back: Bool, record: Bool = true) -> Walk {
    guard let first = endpointIndex[start] else {
      return Walk(verdict: .noRoute, reason: "\(start) is not in the topology", path: record ? [Hop(node: start)] : [], last: start)
    }
    var node = first
    var path: [Hop] = []
    var visited: [Int] = []
    var sourceAddress: IPv4Address?
    let toward = back ? "back to" : "to"
    func stop(_ v: Prediction.Verdict, _ reason: String?, hop: Hop? = nil) -> Walk {
      if record { path.append(hop ?? Hop(node: states[node].name)) }
      return Walk(verdict: v, reason: reason, path: path, sourceAddress: sourceAddress, last: states[node].name)
    }
    for _ in 0..<64 {
      let here = states[node]
      let name = here.name
      if here.local.contains(dst.value) { return stop(.reached, nil) }
      if visited.contains(node) {
        if record { path.append(Hop(node: name)) }
        let loop = (visited.drop { $0 != node } + [node]).map { states[$0].name }.joined(separator: " -> ")
        return Walk(verdict: .timedOut, reason: "routing loop: \(loop)", path: path, last: name)
      }
      let atSource = visited.isEmpty
      visited.append(node)
      if !atSource && !here.forwarding { return stop(.timedOut, "forwarding is off in \(name)") }
      guard let route = here.table.route(to: dst) else {
        if name == "host" { return stop(.noRoute, "the host has no route \(toward) \(describe(dst)) through the topology") }
        return stop(atSource ? .noRoute : (back ? .timedOut : .noRoute), "\(name) has no route \(toward) \(describe(dst))")
      }
      switch route.kind {
      case .blackhole:
        return stop(atSource && !back ? .noRoute : .timedOut, "\(name) blackholes \(route.prefix) (\(toward) \(dst))")
      case .unreachable, .prohibit:
        let what = route.kind == .unreachable ? "an unreachable" : "a prohibit"
        let verdict: Prediction.Verdict = back ? .timedOut : (atSource && route.kind == .prohibit ? .prohibited : .hostUnreachable)
        return stop(verdict, "\(name) has \(what) route for \(route.prefix) (\(toward) \(dst))")
      case .connected, .gateway:
        break
      }
      let nextHop = route.gateway ?? dst
      guard let out = route.interface ?? here.interfaces.first(where: { interfaces[$0].address?.prefix.contains(nextHop) == true }) else {
        return stop(atSource ? .noRoute : .timedOut, "\(name)'s next hop \(nextHop) is on none of its subnets")
      }
      if atSource { sourceAddress = interfaces[out].address?.address }
      let hop = Hop(node: name, interface: interfaces[out].name, nextHop: route.gateway)
      guard let owner = owners[interfaces[out].segment][nextHop.value] else {
        return stop(back ? .timedOut : .hostUnreachable, "nobody on \(name)'s \(interfaces[out].name) segment has \(nextHop) (ARP fails)", hop: hop)
      }
      if record { path.append(hop) }
      node = interfaces[owner].endpoint
    }
    return Walk(verdict: .timedOut, reason: "more than 64 hops \(toward) \(dst)", path: path, last: states[node].name)
  }

  /// The interface of `node` whose subnet contains `address`.
  func connected(_ node: String, _ address: IPv4Address) -> Int? {
    (byOwner[node] ?? []).first { interfaces[$0].address?.prefix.contains(address) == true }
  }
}
