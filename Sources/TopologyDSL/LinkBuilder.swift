import TopologyModel

/// Resolves `link` lines into veths: their ends, interface names and addresses.
struct LinkBuilder {
  var resolver: Resolver
  var links: [Link] = []

  struct End {
    var owner: Owner
    var nameToken: Token?
    var name: String?
    /// At most one per family; a token when the file gave it.
    var addresses: [(address: InterfaceAddress, token: Token?)] = []

    init(owner: Owner) { self.owner = owner }

    func address(_ family: IPAddress.Family) -> InterfaceAddress? {
      addresses.first { $0.address.family == family }?.address
    }
  }

  struct Pending {
    var a: End
    var b: End
    /// Subnet indexes of the bridge's LANs, or of the point-to-point pools: at most one per family.
    var lans: [Int] = []
    var pools: [Int] = []
    var token: Token
    var note: String?
    var tail = LinkTail(properties: LinkProperties())

    init(a: End, b: End, token: Token, note: String? = nil) {
      self.a = a
      self.b = b
      self.token = token
      self.note = note
    }
  }

  init(resolver: Resolver) { self.resolver = resolver }

  mutating func build() {
    var pending: [Pending] = []
    for line in resolver.lines {
      switch line {
      case .body(let node, _, let target, let args, let properties, let note):
        let tail = resolver.linkProperties(properties, note: note)
        if var p = classifyBody(node: node, target: target, args: args, note: note), let tail {
          p.tail = tail
          pending.append(p)
        }
      case .general(let g):
        let tail = resolver.linkProperties(g.properties, note: nil)
        if var p = classifyGeneral(g), let tail {
          p.tail = tail
          pending.append(p)
        }
      }
    }
    warnAboutLinksFromBothEnds(pending)
    assignNames(&pending)
    assignAddresses(&pending)
    // The kernel takes IPv6 off an interface whose MTU is below 1280 (RFC 8200's minimum).
    for p in pending {
      guard let mtu = p.tail.properties.mtu, mtu < 1280, let t = p.tail.mtu,
        p.a.address(.ipv6) != nil || p.b.address(.ipv6) != nil
      else { continue }
      resolver.error("MTU \(mtu) is below IPv6's minimum of 1280, and this link has IPv6 addresses", at: t,
        hint: "use mtu 1280 or more (the kernel takes IPv6 off a smaller interface)", note: p.note)
    }
    // Asked once, and only of a file that needs it.
    if let ask = resolver.options.netemAvailable, pending.contains(where: { $0.tail.netem != nil }), !ask() {
      for p in pending {
        guard let t = p.tail.netem else { continue }
        resolver.warning("this kernel has no netem: `\(p.tail.properties.netemWords.joined(separator: " "))` cannot be built here", at: t,
          hint: "`up` refuses this file on this machine; rate, mtu and down work without netem (load the kernel's sch_netem module to get it)",
          note: p.note)
      }
    }
    links = pending.map { p in
      Link(
        a: LinkEnd(owner: p.a.owner, interface: p.a.name ?? "", addresses: p.a.addresses.map(\.address), down: p.tail.down),
        b: LinkEnd(owner: p.b.owner, interface: p.b.name ?? "", addresses: p.b.addresses.map(\.address), down: p.tail.down),
        subnets: (p.lans + p.pools).map { resolver.subnets[$0].name }, properties: p.tail.properties)
    }
  }

  /// `link r2 p2p` in r1 and `link r1 p2p` in r2 are two veths, which is rarely meant: a
  /// warning at the second, naming the first. Two links declared from one node are parallel
  /// links on purpose.
  private mutating func warnAboutLinksFromBothEnds(_ pending: [Pending]) {
    var first: [String: Pending] = [:]
    for p in pending {
      guard case .node(let a) = p.a.owner, case .node(let b) = p.b.owner, a != b else { continue }
      if let earlier = first["\(b)\u{0}\(a)"] {
        resolver.warning(
          "this link from \(a) to \(b) and the one at line \(earlier.token.line) from \(b) to \(a) are two links (each `link` line is a veth of its own)",
          at: p.token, hint: "declare a link once, in either node; two parallel links are declared in one node", note: p.note)
      } else if first["\(a)\u{0}\(b)"] == nil {
        first["\(a)\u{0}\(b)"] = p
      }
    }
  }

  // MARK: classification

  private func looksLikeAddress(_ text: String) -> Bool {
    IPAddress(text) != nil || IPPrefix.parse(text) != nil
      || (text.first?.isASCIIDigit == true && text.contains(".")) || text.contains(":")
  }

  private mutating func parseAddress(_ token: Token, defaultLength: Int?) -> InterfaceAddress? {
    if let (a, l) = IPPrefix.parse(token.text) { return InterfaceAddress(address: a, length: l) }
    if let a = IPAddress(token.text) {
      if let l = defaultLength, l <= a.family.width { return InterfaceAddress(address: a, length: l) }
      if let s = resolver.subnets.first(where: { $0.prefix.contains(a) }) {
        return InterfaceAddress(address: a, length: s.prefix.length)
      }
      resolver.error("address '\(token.text)' needs a prefix length", at: token,
        hint: "write it as \(token.text)/24 (or whatever the subnet's length is)")
      return nil
    }
    resolver.error("bad address '\(token.text)'", at: token, hint: "write an address as a.b.c.d or a.b.c.d/len (IPv6: fd00::1 or fd00::1/64)")
    return nil
  }

  private mutating func checkInterfaceName(_ token: Token) -> Bool {
    if let problem = Names.problem(with: token.text, maxBytes: Names.maxInterface) {
      resolver.error("interface name '\(token.text)' \(problem)", at: token,
        hint: token.text.utf8.count > Names.maxInterface ? "the kernel limits interface names to 15 bytes (IFNAMSIZ)" : nil)
      return false
    }
    if token.text == "lo" {
      resolver.error("'lo' is the loopback interface", at: token, hint: "choose another name, e.g. eth0")
      return false
    }
    return true
  }

  /// A second address or subnet of a family the line already has: an error, false.
  private mutating func secondOfFamily(_ family: IPAddress.Family, _ token: Token, seen: inout [IPAddress.Family: Token], note: String?) -> Bool {
    if let first = seen[family] {
      resolver.error("a second \(family.name) \(looksLikeAddress(token.text) ? "address" : "subnet") for one interface", at: token,
        hint: "an interface takes at most one address per family: one IPv4 and one IPv6 (first: '\(first.text)')", note: note)
      return true
    }
    seen[family] = token
    return false
  }

  private mutating func classifyBody(node: String, target: Token, args: [Token], note: String?) -> Pending? {
    var p = Pending(a: End(owner: .node(node)), b: End(owner: .host), token: target, note: note)
    // `[IFNAME] [SPEC [SPEC]]`: the first argument is the interface name unless it, and
    // everything after it, is an address or a subnet name.
    func isSpec(_ t: Token) -> Bool { looksLikeAddress(t.text) || resolver.subnetIndex[t.text] != nil }
    var specs = args
    if let first = args.first, args.count == 3 || !args.allSatisfy(isSpec) {
      p.a.nameToken = first
      specs.removeFirst()
    }
    if let t = p.a.nameToken, !checkInterfaceName(t) { p.a.nameToken = nil }
    p.a.name = p.a.nameToken?.text
    if target.text == "host" {
      resolver.error("a link to the host needs the general form", at: target,
        hint: "write it as a top-level line: `link host:veth1 10.0.0.1/24 -- \(node):eth0 10.0.0.2/24`", note: note)
      return nil
    }
    if target.text == node {
      resolver.error("a link from '\(node)' to itself", at: target, hint: "link to a bridge or another node", note: note)
      return nil
    }
    var seen: [IPAddress.Family: Token] = [:]
    if let b = resolver.bridgeIndex[target.text] {
      let bridge = resolver.bridges[b]
      p.b.owner = .bridge(bridge.name)
      p.lans = bridge.subnets
      func lan(_ f: IPAddress.Family) -> Resolver.SubnetEntry? {
        bridge.subnets.map { resolver.subnets[$0] }.first { $0.prefix.family == f }
      }
      for s in specs {
        if looksLikeAddress(s.text) {
          let family: IPAddress.Family = s.text.contains(":") ? .ipv6 : .ipv4
          guard let addr = parseAddress(s, defaultLength: lan(family)?.prefix.length) else { return nil }
          if secondOfFamily(addr.family, s, seen: &seen, note: note) { return nil }
          p.a.addresses.append((addr, s))
        } else if let si = resolver.subnetIndex[s.text] {
          if !bridge.subnets.contains(si) {
            let names = bridge.subnets.map { "'\(resolver.subnets[$0].name)'" }
            resolver.error("bridge '\(bridge.name)' takes its addresses from \(names.isEmpty ? "no subnet" : names.joined(separator: " and ")), not '\(s.text)'",
              at: s, hint: "give an address, or nothing for the next free one", note: note)
            return nil
          }
          if secondOfFamily(resolver.subnets[si].prefix.family, s, seen: &seen, note: note) { return nil }
        } else {
          resolver.error("unknown subnet '\(s.text)'", at: s,
            hint: resolver.suggester.didYouMean(s.text, at: s) { resolver.subnets.map(\.name) }
              ?? Suggest.didYouMean(s.text, among: Keywords.linkProperties) ?? "give an address or a subnet name", note: note)
          return nil
        }
      }
      return p
    }
    if resolver.nodeIndex[target.text] != nil {
      p.b.owner = .node(target.text)
      for s in specs {
        if looksLikeAddress(s.text) {
          resolver.error("a direct link takes a point-to-point subnet, not an address", at: s,
            hint: "name a pool (`link \(target.text) p2p`), or give both addresses in the general form: `link \(node):eth0 ADDR/LEN -- \(target.text):eth0 ADDR/LEN`",
            note: note)
          return nil
        }
        guard let si = resolver.subnetIndex[s.text] else {
          resolver.error("unknown subnet '\(s.text)'", at: s,
            hint: resolver.suggester.didYouMean(s.text, at: s) { resolver.subnets.map(\.name) }
              ?? Suggest.didYouMean(s.text, among: Keywords.linkProperties) ?? "declare it: `subnet \(s.text) 10.255.0.0/16`", note: note)
          return nil
        }
        if let owner = resolver.subnets[si].bridge {
          resolver.error("subnet '\(s.text)' belongs to bridge '\(owner)'", at: s,
            hint: "declare a separate subnet as the pool for point-to-point links", note: note)
          return nil
        }
        if secondOfFamily(resolver.subnets[si].prefix.family, s, seen: &seen, note: note) { return nil }
        resolver.subnets[si].pool = true
        p.pools.append(si)
      }
      p.pools.sort { resolver.subnets[$0].prefix.family == .ipv4 && resolver.subnets[$1].prefix.family == .ipv6 }
      return p
    }
    let hint = resolver.suggester.didYouMean(target.text, at: target) { resolver.bridges.map(\.name) + resolver.nodes.map(\.name) }
    resolver.error("unknown bridge or node '\(target.text)'", at: target,
      hint: hint ?? "declare it with `bridge \(target.text)` or `node \(target.text)`", note: note)
    return nil
  }

  private mutating func classifyEnd(_ syntax: LinkEndSyntax) -> End? {
    let parts = syntax.end.text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
      resolver.error("expected NODE:IFNAME, found '\(syntax.end.text)'", at: syntax.end, hint: "e.g. host:veth1 or h1:eth0")
      return nil
    }
    let ownerName = String(parts[0])
    var end = End(owner: .host)
    if ownerName != "host" {
      guard resolver.nodeIndex[ownerName] != nil else {
        if resolver.bridgeIndex[ownerName] != nil {
          resolver.error("a link end is a node or the host, not bridge '\(ownerName)'", at: syntax.end,
            hint: "attach a node to a bridge with `link \(ownerName)` in the node's body")
        } else {
          resolver.error("unknown node '\(ownerName)'", at: syntax.end,
            hint: resolver.suggester.didYouMean(ownerName, at: syntax.end) { ["host"] + resolver.nodes.map(\.name) } ?? "declare it with `node \(ownerName)`")
        }
        return nil
      }
      end.owner = .node(ownerName)
    }
    let nameToken = Token(String(parts[1]), line: syntax.end.line, column: syntax.end.column + parts[0].count + 1)
    guard checkInterfaceName(nameToken) else { return nil }
    end.nameToken = nameToken
    end.name = nameToken.text
    var seen: [IPAddress.Family: Token] = [:]
    for a in syntax.addresses {
      guard let addr = parseAddress(a, defaultLength: nil) else { return nil }
      if secondOfFamily(addr.family, a, seen: &seen, note: nil) { return nil }
      end.addresses.append((addr, a))
    }
    return end
  }

  private mutating func classifyGeneral(_ g: GeneralLink) -> Pending? {
    guard let a = classifyEnd(g.left), let b = classifyEnd(g.right) else { return nil }
    if a.owner == b.owner {
      resolver.error("a link from '\(a.owner)' to itself", at: g.right.end, hint: "the two ends must be in different namespaces")
      return nil
    }
    return Pending(a: a, b: b, token: g.left.end)
  }

  // MARK: interface names

  private mutating func assignNames(_ pending: inout [Pending]) {
    var used: [Owner: [String: Token]] = [:]
    for p in pending {
      for end in [p.a, p.b] {
        guard let t = end.nameToken else { continue }
        if let first = used[end.owner]?[t.text] {
          resolver.error("interface '\(t.text)' is used twice in \(end.owner == .host ? "the host" : "node '\(end.owner)'")", at: t,
            hint: "give each interface of a namespace its own name", note: "first used on line \(first.line)")
        } else {
          used[end.owner, default: [:]][t.text] = t
        }
      }
    }
    var next: [Owner: Int] = [:]
    next.reserveCapacity(pending.count)
    func fresh(_ owner: Owner) -> String {
      var n = next[owner, default: 0]
      while used[owner]?["eth\(n)"] != nil { n += 1 }
      next[owner] = n + 1
      return "eth\(n)"
    }
    // A node's own lines first, then the far ends of other nodes' direct links.
    for i in pending.indices where pending[i].a.name == nil {
      pending[i].a.name = fresh(pending[i].a.owner)
    }
    for i in pending.indices where pending[i].b.name == nil {
      if case .node = pending[i].b.owner { pending[i].b.name = fresh(pending[i].b.owner) }
    }
    // Bridge ports live together in the bridge namespace: `<node>-<ifname>` when it fits.
    var portNames = Set(resolver.bridges.map(\.name))
    var counter = 0
    var ports: [String: Int] = [:]
    for i in pending.indices {
      guard case .bridge(let bridge) = pending[i].b.owner else { continue }
      ports[bridge, default: 0] += 1
      if ports[bridge] == Self.maxBridgePorts + 1 {
        resolver.error(
          "bridge '\(bridge)' would get its \(Self.maxBridgePorts + 1)th port here: a Linux bridge takes at most \(Self.maxBridgePorts)",
          at: pending[i].token, hint: "split the LAN over two bridges joined by a router, or over two subnets", note: pending[i].note)
      }
      var name = "\(pending[i].a.owner)-\(pending[i].a.name ?? "")"
      if name.utf8.count > Names.maxInterface || portNames.contains(name) {
        repeat {
          counter += 1
          name = "port\(counter)"
        } while portNames.contains(name)
      }
      portNames.insert(name)
      pending[i].b.name = name
    }
  }

  /// The kernel numbers a bridge's ports 1 to 1,023 (`BR_MAX_PORTS` is 1,024, port 0 is
  /// reserved): `up` would fail at the next with "Exchange full" (EXFULL).
  static let maxBridgePorts = 1023
}
