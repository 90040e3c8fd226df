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

  // MARK: addresses

  private mutating func assignAddresses(_ pending: inout [Pending]) {
    var owners: [IPAddress: (String, Token?)] = [:]
    owners.reserveCapacity(pending.count * 2)
    var usedIn: [Int: Set<IPAddress>] = [:]

    func label(_ end: End) -> String { "\(end.owner):\(end.name ?? "?")" }

    // Explicit addresses first, so auto-assignment skips them wherever they stand.
    for i in pending.indices {
      let p = pending[i]
      for isA in [true, false] {
        let end = isA ? p.a : p.b
        var kept: [(address: InterfaceAddress, token: Token?)] = []
        for (given, token) in end.addresses {
          guard let token else { continue }
          var addr = given
          if let s = p.lans.first(where: { resolver.subnets[$0].prefix.family == addr.family }) {
            let subnet = resolver.subnets[s]
            if addr.length != subnet.prefix.length {
              resolver.error("prefix length /\(addr.length) differs from subnet '\(subnet.name)' (\(subnet.prefix))", at: token,
                hint: "write \(addr.address) alone: the length comes from the subnet", note: p.note)
              addr.length = subnet.prefix.length
            }
            if !subnet.prefix.contains(addr.address) {
              resolver.error("address \(addr.address) is outside subnet '\(subnet.name)' (\(subnet.prefix))", at: token,
                hint: "bridge '\(p.b.owner)' takes addresses from \(subnet.prefix)", note: p.note)
              continue
            }
          }
          let prefix = addr.prefix
          if !prefix.isUsableHost(addr.address) {
            let what = addr.address == prefix.network ? (addr.family == .ipv4 ? "network" : "subnet-router anycast") : "broadcast"
            resolver.error("\(addr.address) is the \(what) address of \(prefix)", at: token,
              hint: "choose a host address between \(IPAddress(prefix.family, integer: prefix.network.integer + 1)) and \(IPAddress(prefix.family, integer: prefix.last.integer - (addr.family == .ipv4 ? 1 : 0)))",
              note: p.note)
            continue
          }
          if let (who, first) = owners[addr.address] {
            resolver.error("address \(addr.address) is already used by \(who)", at: token,
              hint: "every address in a topology is unique", note: first.map { "first used on line \($0.line)" })
            continue
          }
          owners[addr.address] = (label(end), token)
          for (si, s) in resolver.subnets.enumerated() where s.prefix.contains(addr.address) {
            usedIn[si, default: []].insert(addr.address)
          }
          kept.append((addr, token))
        }
        if isA { pending[i].a.addresses = kept } else { pending[i].b.addresses = kept }
      }
    }

    // Integer arithmetic over either family; 128 bits, so the block after the last /30 of
    // 255.255.255.252/30 (2^32) does not wrap.
    var cursor: [Int: UInt128] = [:]
    var blockCursor: [Int: UInt128] = [:]
    var exhausted: Set<Int> = []
    func free(_ a: IPAddress, _ s: Int) -> Bool { usedIn[s]?.contains(a) != true && owners[a] == nil }
    /// The blocks of pool `s` that hold an address already in use, by block number: computed
    /// once per pool, before it hands out any (later blocks come after the cursor).
    var blocksInUse: [Int: Set<UInt128>] = [:]
    func takenBlocks(_ s: Int, _ size: UInt128) -> Set<UInt128> {
      if let b = blocksInUse[s] { return b }
      let prefix = resolver.subnets[s].prefix
      let b = Set(owners.keys.filter { prefix.contains($0) }.map { ($0.integer - prefix.network.integer) / size })
      blocksInUse[s] = b
      return b
    }
    // Pools that have nothing left (their cursor would pass 2^128 in `::/0`).
    var full: Set<Int> = []
    var fullBlocks: Set<Int> = []
    func nextHost(_ s: Int) -> IPAddress? {
      guard !full.contains(s) else { return nil }
      let prefix = resolver.subnets[s].prefix
      var v = cursor[s] ?? prefix.network.integer + 1
      // The last host, inclusive: IPv4's last address is the broadcast; IPv6 has none.
      let top = prefix.family == .ipv4 ? prefix.last.integer - 1 : prefix.last.integer
      while v <= top {
        let a = IPAddress(prefix.family, integer: v)
        if free(a, s) {
          if v == top { full.insert(s) } else { cursor[s] = v + 1 }
          return a
        }
        if v == top { break }
        v += 1
      }
      full.insert(s)
      return nil
    }
    func nextBlock(_ s: Int) -> (IPAddress, IPAddress)? {
      guard !fullBlocks.contains(s) else { return nil }
      let subnet = resolver.subnets[s]
      let prefix = subnet.prefix
      let size = UInt128(1) << UInt128(prefix.family.width - subnet.carve)
      var block = blockCursor[s] ?? prefix.network.integer
      let last = prefix.last.integer
      while block <= last && last - block >= size - 1 {
        let first = subnet.carve == prefix.family.width - 1 ? block : block + 1
        // A block is taken when an address in it is: checked against the addresses in use,
        // not address by address (an IPv6 /64 block has 2^64 of them).
        let taken = size <= 4
          ? (block...(block + (size - 1))).contains { !free(IPAddress(prefix.family, integer: $0), s) }
          : takenBlocks(s, size).contains((block - prefix.network.integer) / size)
        let (next, over) = block.addingReportingOverflow(size)
        if !taken {
          if over { fullBlocks.insert(s) } else { blockCursor[s] = next }
          return (IPAddress(prefix.family, integer: first), IPAddress(prefix.family, integer: first + 1))
        }
        if over { break }
        block = next
      }
      fullBlocks.insert(s)
      return nil
    }

    for i in pending.indices {
      let p = pending[i]
      for s in p.lans {
        let subnet = resolver.subnets[s]
        guard p.a.address(subnet.prefix.family) == nil else { continue }
        guard let a = nextHost(s) else {
          if exhausted.insert(s).inserted {
            resolver.error("subnet '\(subnet.name)' (\(subnet.prefix)) has no free address left for \(label(p.a))", at: p.token,
              hint: "use a larger prefix for '\(subnet.name)'", note: p.note)
          }
          continue
        }
        pending[i].a.addresses.append((InterfaceAddress(address: a, length: subnet.prefix.length), nil))
        owners[a] = (label(p.a), nil)
      }
      for s in p.pools {
        let subnet = resolver.subnets[s]
        let f = subnet.prefix.family
        guard p.a.address(f) == nil, p.b.address(f) == nil else { continue }
        guard let (x, y) = nextBlock(s) else {
          if exhausted.insert(s).inserted {
            resolver.error("pool '\(subnet.name)' (\(subnet.prefix)) has no free /\(subnet.carve) left for \(label(p.a))", at: p.token,
              hint: "use a larger prefix for '\(subnet.name)'", note: p.note)
          }
          continue
        }
        pending[i].a.addresses.append((InterfaceAddress(address: x, length: subnet.carve), nil))
        pending[i].b.addresses.append((InterfaceAddress(address: y, length: subnet.carve), nil))
        owners[x] = (label(p.a), nil)
        owners[y] = (label(p.b), nil)
      }
    }
  }
}
