import TopologyModel

extension Resolver {
  /// Routes and settings of one node.
  mutating func resolveBody(_ entry: NodeEntry, segments: Segments) -> Node {
    var node = Node(name: entry.name, line: entry.token.line)
    let me = Owner.node(entry.name)
    var seen: [String: Token] = [:]
    var destinations: [IPPrefix: Token] = [:]
    func once(_ keyword: Token, _ r: inout Resolver) -> Bool {
      if let first = seen[keyword.text] {
        r.error("'\(keyword.text)' is given twice for node '\(entry.name)'", at: keyword,
          note: "first given on line \(first.line)")
        return false
      }
      seen[keyword.text] = keyword
      return true
    }
    for line in entry.body {
      switch line {
      case .forward(let k):
        if seen[k.text] != nil {
          warning("'forward' is given twice", at: k, note: entry.note)
        }
        seen[k.text] = k
        node.forward = true
      case .link:
        break
      case .cpu(let k, let v):
        guard once(k, &self) else { continue }
        let digits = v.text.hasSuffix("%") ? String(v.text.dropLast()) : ""
        guard !digits.isEmpty, digits.allSatisfy(\.isASCIIDigit), digits.count <= 6, let n = Int(digits), n >= 1 else {
          error("bad CPU percentage '\(v.text)'", at: v, hint: "write the cap as a percentage of one CPU, e.g. `cpu 20%` (150% = one and a half CPUs)",
            note: entry.note)
          continue
        }
        if let cpus = options.cpuCount, n > cpus * 100 {
          warning("cpu \(n)% is more than this machine's \(cpus) CPU\(cpus == 1 ? "" : "s") (\(cpus * 100)%)", at: v,
            hint: "the cap cannot bind; lower it or drop the line", note: entry.note)
        }
        node.cpuPercent = n
      case .chroot(let k, let p):
        guard once(k, &self) else { continue }
        let path = Resolver.join(options.directory, p.text)
        if let exists = options.pathExists, !exists(path) {
          warning("chroot path '\(path)' does not exist", at: p,
            hint: "create it (e.g. `nstopo rootfs \(path)`); `up` refuses a missing path", note: entry.note)
        }
        node.chroot = path
      case .run(_, let command):
        node.run.append(command.text)
      case .firewall(let k, let chain, let action):
        var f = node.firewall ?? Firewall()
        if resolvePolicy(k, chain, action, into: &f, node: entry) { node.firewall = f }
      case .dnat(let k, let p, let port, let to):
        if let d = resolveDnat(k, p, port, to, node: entry, segments: segments) {
          var f = node.firewall ?? Firewall()
          if let first = f.dnat.first(where: { $0.proto == d.proto && $0.port == d.port }) {
            error("\(d.proto.rawValue)/\(d.port) is already translated", at: port, note: "first on line \(first.line)")
            continue
          }
          f.dnat.append(d)
          node.firewall = f
        }
      case .masquerade(let k, let itf):
        let mine = (segments.ends[me] ?? []).map(\.end.interface)
        guard mine.contains(itf.text) else {
          error("'\(entry.name)' has no interface '\(itf.text)'", at: itf,
            hint: Suggest.didYouMean(itf.text, among: mine) ?? (mine.isEmpty ? "'\(entry.name)' has no link" : "its interfaces: \(mine.joined(separator: ", "))"),
            note: entry.note)
          continue
        }
        var f = node.firewall ?? Firewall()
        if let first = f.masquerades(itf.text) {
          warning("'\(itf.text)' is already masqueraded", at: k, note: "first on line \(first.line)")
          continue
        }
        f.masquerade.append(Firewall.Masquerade(interface: itf.text, line: k.line))
        node.firewall = f
      case .rule(let k, let words):
        var f = node.firewall ?? Firewall()
        if let rule = resolveRule(k, words, node: entry, segments: segments) {
          f.rules.append(rule)
          node.firewall = f
        }
      case .route(_, let d, let kind, let hop):
        for route in resolveRoutes(d, kind, hop, node: entry, me: me, segments: segments) {
          if let first = destinations[route.destination] {
            error("node '\(entry.name)' already has a route to \(route.destination.routeText)", at: d,
              note: "first declared on line \(first.line)")
            continue
          }
          destinations[route.destination] = d
          node.routes.append(route)
        }
      }
    }
    if let f = node.firewall { checkFirewall(f, node: node, entry: entry) }
    return node
  }

  /// `default` is 0.0.0.0/0 and ::/0: via an address, the one of the address's family; via a
  /// node, one for each family the two share on a segment; blackhole, unreachable or prohibit,
  /// one for each family the node has (IPv4 when it has none).
  private mutating func resolveRoutes(_ d: Token, _ kind: Token, _ hop: Token?, node entry: NodeEntry, me: Owner, segments: Segments) -> [Route] {
    guard d.text == "default" else {
      return resolveRoute(d, kind, hop, node: entry, me: me, segments: segments).map { [$0] } ?? []
    }
    func zero(_ f: IPAddress.Family) -> Token { d.with(text: f == .ipv4 ? "0.0.0.0/0" : "::/0") }
    let mine = Set((segments.ends[me] ?? []).flatMap { $0.end.addresses.map(\.family) })
    var families: [IPAddress.Family]
    if kind.text != "via" {
      families = IPAddress.Family.allCases.filter(mine.contains)
    } else if let hop, let gw = IPAddress(hop.text) {
      families = [gw.family]
    } else if let hop, let target = nodeIndex[hop.text].map({ Owner.node(nodes[$0].name) }) ?? (hop.text == "host" ? .host : nil) {
      families = IPAddress.Family.allCases.filter { !segments.shared(me, target, family: $0).isEmpty }
    } else {
      families = []
    }
    // Nothing in common (or an unknown next hop): IPv4's route, whose errors say why.
    if families.isEmpty { families = [.ipv4] }
    return families.compactMap { resolveRoute(zero($0), kind, hop, node: entry, me: me, segments: segments) }
  }

  private mutating func resolveRoute(_ d: Token, _ kind: Token, _ hop: Token?, node entry: NodeEntry, me: Owner, segments: Segments) -> Route? {
    let destination: IPPrefix
    if let (a, l) = IPPrefix.parse(d.text) {
      destination = IPPrefix(address: a, length: l)
      if destination.network != a {
        error("'\(d.text)' has host bits set", at: d, hint: "did you mean \(destination)?", note: entry.note)
        return nil
      }
    } else if let a = IPAddress(d.text) {
      destination = IPPrefix(address: a, length: a.family.width)
    } else {
      error("bad route destination '\(d.text)'", at: d, hint: "write `default`, a network such as 10.0.3.0/24, or an IPv6 one such as fd00:3::/64", note: entry.note)
      return nil
    }
    // The kernel has a connected route for each address's subnet; another route with exactly
    // that prefix (same table, metric 0) is refused with "File exists".
    for (_, end) in segments.ends[me] ?? [] {
      guard let a = end.addresses.first(where: { $0.prefix == destination }) else { continue }
      error("route \(destination) has the prefix of \(end.interface)'s connected route (\(a)): the kernel refuses a second route to it",
        at: d, hint: "drop the line: \(destination) is reached on-link through \(end.interface); or route a longer prefix", note: entry.note)
      return nil
    }
    switch kind.text {
    case "blackhole": return Route(destination: destination, nextHop: .blackhole)
    case "unreachable": return Route(destination: destination, nextHop: .unreachable)
    case "prohibit": return Route(destination: destination, nextHop: .prohibit)
    default: break
    }
    guard let hop else { return nil }
    let myEnds = segments.ends[me] ?? []
    if let gw = IPAddress(hop.text) {
      guard gw.family == destination.family else {
        let (g, dfam) = gw.family == .ipv4 ? ("IPv4", "IPv6") : ("IPv6", "IPv4")
        error("next hop \(gw) is \(g), but \(destination) is \(dfam)", at: hop,
          hint: "a route's gateway is of its destination's family", note: entry.note)
        return nil
      }
      if myEnds.contains(where: { $0.end.addresses.contains { $0.address == gw } }) {
        error("next hop \(gw) is an address of '\(entry.name)' itself", at: hop, note: entry.note)
        return nil
      }
      guard myEnds.contains(where: { $0.end.addresses.contains { $0.prefix.contains(gw) } }) else {
        let nets = Set(myEnds.flatMap { $0.end.addresses.filter { $0.family == gw.family }.map(\.prefix.description) }).sorted()
        error("next hop \(gw) is not on any subnet of '\(entry.name)'", at: hop,
          hint: nets.isEmpty ? "'\(entry.name)' has no address" : "'\(entry.name)' is on \(nets.joined(separator: ", "))", note: entry.note)
        return nil
      }
      return Route(destination: destination, nextHop: .gateway(gw, node: nil))
    }
    let target: Owner
    if hop.text == "host" {
      target = .host
    } else if nodeIndex[hop.text] != nil {
      target = .node(hop.text)
    } else {
      error("unknown node '\(hop.text)'", at: hop,
        hint: suggester.didYouMean(hop.text, at: hop) { nodes.map(\.name) } ?? "name a node or give an address", note: entry.note)
      return nil
    }
    if target == me {
      error("'\(entry.name)' cannot route via itself", at: hop, note: entry.note)
      return nil
    }
    let shared = segments.shared(me, target, family: destination.family)
    if shared.isEmpty {
      if !segments.shared(me, target, family: destination.family == .ipv4 ? .ipv6 : .ipv4).isEmpty {
        let f = destination.family == .ipv4 ? "IPv4" : "IPv6"
        error("'\(entry.name)' and '\(hop.text)' share no \(f) subnet for \(destination.routeText)", at: hop,
          hint: "give the next hop an \(f) address on a segment both share", note: entry.note)
        return nil
      }
      error("'\(entry.name)' shares no subnet with '\(hop.text)'", at: hop,
        hint: "link them (e.g. to a common bridge), or give the next hop's address", note: entry.note)
      return nil
    }
    if shared.count > 1 {
      error("'\(entry.name)' shares \(shared.count) subnets with '\(hop.text)'", at: hop,
        hint: "give the address instead: \(shared.map { "via \($0.address)" }.joined(separator: " or "))", note: entry.note)
      return nil
    }
    return Route(destination: destination, nextHop: .gateway(shared[0].address, node: hop.text))
  }

  mutating func resolveExpect(_ e: ExpectDecl, segments: Segments) -> Expectation? {
    let hasHost = segments.hasHost
    guard let sources = side(e.source, hasHost: hasHost), let targets = side(e.target, hasHost: hasHost) else { return nil }
    var family: IPAddress.Family?
    if let f = e.family {
      guard let v = IPAddress.Family(rawValue: f.text) else {
        error("unknown address family '\(f.text)'", at: f, hint: Suggest.didYouMean(f.text, among: ["ipv4", "ipv6"]) ?? "use ipv4 or ipv6")
        return nil
      }
      family = v
    }
    var proto = TransportProtocol.tcp
    var port: Int?
    if let p = e.proto {
      guard let v = TransportProtocol(rawValue: p.text) else {
        error("unknown protocol '\(p.text)'", at: p,
          hint: Suggest.didYouMean(p.text, among: ["tcp", "udp", "icmp", "ipv4", "ipv6"]) ?? "use tcp, udp or icmp (after an optional ipv4 or ipv6)")
        return nil
      }
      proto = v
    }
    if let p = e.port, !proto.hasPorts {
      error("icmp has no port", at: p, hint: "`expect A -> B icmp reach` is a ping, to no port")
      return nil
    }
    if let p = e.port {
      guard p.text.allSatisfy(\.isASCIIDigit), p.text.count <= 5, let v = Int(p.text), (1...65535).contains(v) else {
        error("bad port '\(p.text)'", at: p, hint: "a port is a number from 1 to 65535")
        return nil
      }
      port = v
    }
    guard let outcome = Expectation.Outcome(rawValue: e.outcome.text) else {
      error("expected 'reach' or 'blocked', found '\(e.outcome.text)'", at: e.outcome,
        hint: Suggest.didYouMean(e.outcome.text, among: ["reach", "blocked"]) ?? "usage: expect SOURCES -> TARGETS [ipv4|ipv6] [tcp|udp [PORT]|icmp] reach|blocked")
      return nil
    }
    if !checkFamilies(sources, targets, family, e, segments: segments) { return nil }
    if sources.count == 1 && sources == targets {
      warning("this expectation covers no pair: a node is not probed against itself", at: e.source)
    }
    return Expectation(sources: sources, targets: targets, family: family, proto: proto, port: port, outcome: outcome, line: e.keyword.line)
  }

  /// An `expect … ipv6` (or `ipv4`) line is an error when one of its nodes has no address of
  /// that family: nothing could be probed. The line names the first such node of each side.
  private mutating func checkFamilies(_ sources: [String], _ targets: [String], _ family: IPAddress.Family?, _ e: ExpectDecl, segments: Segments) -> Bool {
    guard let family, let at = e.family else { return true }
    func has(_ name: String) -> Bool {
      let owner: Owner = name == "host" ? .host : .node(name)
      return (segments.ends[owner] ?? []).contains { $0.end.address(family) != nil }
    }
    // A one-sided range (`h[1..3] -> web`) stays quiet about a source the other side is alone.
    for (side, names) in [("source", sources), ("target", targets)] {
      if let missing = names.first(where: { !has($0) }) {
        error("expect \(family.rawValue): \(side) '\(missing)' has no \(family.name) address", at: at,
          hint: "give '\(missing)' an \(family.name) address, or drop '\(family.rawValue)' to check the families both ends have")
        return false
      }
    }
    return true
  }

  /// `h[1..4]`, `r1,r2`, `*` (every node) or `host`.
  private mutating func side(_ token: Token, hasHost: Bool) -> [String]? {
    var names: [String] = []
    for t in NameList.items(token) {
      if t.text == "*" {
        names += nodes.map(\.name)
        continue
      }
      guard let expanded = NameList.expand(t, &expander) else {
        diagnostics += expander.diagnostics
        expander.diagnostics = []
        return nil
      }
      for name in expanded {
        if name == "host" {
          guard hasHost else {
            error("this topology has no host end", at: t, hint: "connect the host first: `link host:veth1 ADDR/LEN -- NODE:IF ADDR/LEN`")
            return nil
          }
        } else if nodeIndex[name] == nil {
          error("unknown node '\(name)'", at: t,
            hint: suggester.didYouMean(name, at: t) { nodes.map(\.name) } ?? "expectations name nodes, ranges of nodes, `*` or `host`")
          return nil
        }
        names.append(name)
      }
    }
    return NameList.unique(names)
  }

  /// Joins and normalizes a path lexically (no file system access).
  static func join(_ directory: String, _ path: String) -> String {
    let full = path.hasPrefix("/") || directory.isEmpty ? path : directory + "/" + path
    var parts: [Substring] = []
    for p in full.split(separator: "/") {
      if p == "." { continue }
      if p == "..", let last = parts.last, last != ".." {
        parts.removeLast()
        continue
      }
      if p == ".." && full.hasPrefix("/") { continue }
      parts.append(p)
    }
    let joined = parts.joined(separator: "/")
    return full.hasPrefix("/") ? "/" + joined : (joined.isEmpty ? "." : joined)
  }
}
