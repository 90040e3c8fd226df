import TopologyModel

/// What the model says about one direction of traffic or one pair.
public struct Prediction: Hashable, Sendable {
  public enum Verdict: String, Hashable, Sendable {
    case reached
    /// ENETUNREACH at the source: no route there, or a router answered "net unreachable".
    case noRoute = "no-route"
    /// EHOSTUNREACH: an `unreachable` route, or nobody owns the next hop on its segment.
    case hostUnreachable = "host-unreachable"
    /// A `prohibit` route at the source.
    case prohibited
    /// Dropped silently on the way or on the way back: forwarding off, a blackhole on a
    /// router, a routing loop, no route back.
    case timedOut = "timed-out"
  }

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
public struct Predictor: Sendable {
  struct Interface: Sendable {
    var owner: String
    var name: String
    var address: InterfaceAddress?
    var segment: Int
  }

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
  var tables: [String: [RouteEntry]] = [:]
  var forwarding: [String: Bool] = [:]
  var subnetNames: [(IPv4Prefix, String)] = []
  var nodes: [String: Node] = [:]
  var local: [String: Set<UInt32>] = [:]

  public init(_ t: Topology) {
    topology = t
    var bridgeSegment: [String: Int] = [:]
    var segments = 0
    for link in t.links {
      let segment: Int
      if let b = link.bridge {
        if let s = bridgeSegment[b] {
          segment = s
        } else {
          segment = segments
          bridgeSegment[b] = segment
          segments += 1
        }
      } else {
        segment = segments
        segments += 1
      }
      for end in [link.a, link.b] {
        if case .bridge = end.owner { continue }
        let owner = end.owner.description
        byOwner[owner, default: []].append(interfaces.count)
        interfaces.append(Interface(owner: owner, name: end.interface, address: end.address, segment: segment))
      }
    }
    owners = [[UInt32: Int]](repeating: [:], count: segments)
    for (i, itf) in interfaces.enumerated() {
      if let a = itf.address {
        owners[itf.segment][a.address.value] = i
        local[itf.owner, default: []].insert(a.address.value)
      }
    }
    for n in t.nodes { nodes[n.name] = n }
    let endpoints = t.nodes.map(\.name) + (t.hasHost ? ["host"] : [])
    for name in endpoints {
      var table: [RouteEntry] = []
      for i in byOwner[name] ?? [] {
        if let a = interfaces[i].address { table.append(RouteEntry(prefix: a.prefix, interface: i, gateway: nil, kind: .connected)) }
      }
      for r in nodes[name]?.routes ?? [] {
        switch r.nextHop {
        case .gateway(let gw, _): table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: gw, kind: .gateway))
        case .blackhole: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .blackhole))
        case .unreachable: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .unreachable))
        case .prohibit: table.append(RouteEntry(prefix: r.destination, interface: nil, gateway: nil, kind: .prohibit))
        }
      }
      // Longest prefix first; connected before static for equal prefixes.
      tables[name] = table.enumerated().sorted { a, b in
        (a.element.prefix.length, a.element.kind == .connected ? 1 : 0, -a.offset) > (b.element.prefix.length, b.element.kind == .connected ? 1 : 0, -b.offset)
      }.map(\.element)
      forwarding[name] = nodes[name]?.forward ?? false
    }
    subnetNames = t.subnets.map { ($0.prefix, $0.name) }
  }

  /// Addresses of an endpoint, in link order (the first is the primary).
  public func addresses(of endpoint: String) -> [IPv4Address] {
    (byOwner[endpoint] ?? []).compactMap { interfaces[$0].address?.address }
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
    guard let dst = address ?? addresses(of: target).first else {
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
    var node = start
    var path: [Hop] = []
    var visited: [String] = []
    var sourceAddress: IPv4Address?
    let toward = back ? "back to" : "to"
    func stop(_ v: Prediction.Verdict, _ reason: String?, hop: Hop? = nil) -> Walk {
      if record { path.append(hop ?? Hop(node: node)) }
      return Walk(verdict: v, reason: reason, path: path, sourceAddress: sourceAddress, last: node)
    }
    for _ in 0..<64 {
      if local[node]?.contains(dst.value) == true { return stop(.reached, nil) }
      if visited.contains(node) {
        if record { path.append(Hop(node: node)) }
        let loop = (visited.drop { $0 != node } + [node]).joined(separator: " -> ")
        return Walk(verdict: .timedOut, reason: "routing loop: \(loop)", path: path, last: node)
      }
      let atSource = visited.isEmpty
      visited.append(node)
      if !atSource && !(forwarding[node] ?? false) { return stop(.timedOut, "forwarding is off in \(node)") }
      guard let route = (tables[node] ?? []).first(where: { $0.prefix.contains(dst) }) else {
        if node == "host" { return stop(.noRoute, "the host has no route \(toward) \(describe(dst)) through the topology") }
        return stop(atSource ? .noRoute : (back ? .timedOut : .noRoute), "\(node) has no route \(toward) \(describe(dst))")
      }
      switch route.kind {
      case .blackhole:
        return stop(atSource && !back ? .noRoute : .timedOut, "\(node) blackholes \(route.prefix) (\(toward) \(dst))")
      case .unreachable, .prohibit:
        let what = route.kind == .unreachable ? "an unreachable" : "a prohibit"
        let verdict: Prediction.Verdict = back ? .timedOut : (atSource && route.kind == .prohibit ? .prohibited : .hostUnreachable)
        return stop(verdict, "\(node) has \(what) route for \(route.prefix) (\(toward) \(dst))")
      case .connected, .gateway:
        break
      }
      let nextHop = route.gateway ?? dst
      guard let out = route.interface ?? connected(node, nextHop) else {
        return stop(atSource ? .noRoute : .timedOut, "\(node)'s next hop \(nextHop) is on none of its subnets")
      }
      if atSource { sourceAddress = interfaces[out].address?.address }
      let hop = Hop(node: node, interface: interfaces[out].name, nextHop: route.gateway)
      guard let owner = owners[interfaces[out].segment][nextHop.value] else {
        return stop(back ? .timedOut : .hostUnreachable, "nobody on \(node)'s \(interfaces[out].name) segment has \(nextHop) (ARP fails)", hop: hop)
      }
      if record { path.append(hop) }
      node = interfaces[owner].owner
    }
    return Walk(verdict: .timedOut, reason: "more than 64 hops \(toward) \(dst)", path: path, last: node)
  }

  /// The interface of `node` whose subnet contains `address`.
  func connected(_ node: String, _ address: IPv4Address) -> Int? {
    (byOwner[node] ?? []).first { interfaces[$0].address?.prefix.contains(address) == true }
  }
}
