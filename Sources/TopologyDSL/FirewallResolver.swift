import TopologyModel

/// `firewall`, `allow`, `deny` and `reject` lines of a node body.
extension Resolver {
  static let chains = Firewall.Chain.allCases.map(\.rawValue)

  private mutating func chain(_ t: Token, note: String?) -> Firewall.Chain? {
    if let c = Firewall.Chain(rawValue: t.text) { return c }
    error("unknown chain '\(t.text)'", at: t, hint: Suggest.didYouMean(t.text, among: Self.chains) ?? "a chain is input, forward or output", note: note)
    return nil
  }

  /// `firewall CHAIN accept|drop|reject`: the chain's policy, once per chain.
  mutating func resolvePolicy(_ k: Token, _ c: Token, _ a: Token, into f: inout Firewall, node entry: NodeEntry) -> Bool {
    guard let chain = chain(c, note: entry.note) else { return false }
    guard let action = Firewall.Action(rawValue: a.text) else {
      error("unknown policy '\(a.text)'", at: a, hint: Suggest.didYouMean(a.text, among: ["accept", "drop", "reject"]) ?? "a policy is accept, drop or reject",
        note: entry.note)
      return false
    }
    if let first = f.policy(chain) {
      error("the \(chain.rawValue) policy of '\(entry.name)' is already set", at: k, hint: "keep one `firewall \(chain.rawValue)` line",
        note: "first set on line \(first.line)")
      return false
    }
    f.setPolicy(chain, Firewall.Policy(action: action, line: k.line))
    return true
  }

  /// `allow|deny|reject CHAIN [tcp|udp|icmp [PORT|LO-HI]] [from SIDES] [to SIDES] [in IF] [out IF]`.
  mutating func resolveRule(_ k: Token, _ words: [Token], node entry: NodeEntry, segments: Segments) -> Firewall.Rule? {
    let usage = "\(k.text) input|forward|output [tcp|udp|icmp [PORT|LO-HI]] [from SIDES] [to SIDES] [in IF] [out IF]"
    guard let chain = chain(words[0], note: entry.note) else { return nil }
    let action: Firewall.Action = k.text == "allow" ? .accept : k.text == "deny" ? .drop : .reject
    var rest = Array(words.dropFirst())
    var proto: Firewall.Proto?
    var ports: ClosedRange<Int>?
    if let p = rest.first, !["from", "to", "in", "out"].contains(p.text) {
      guard let v = Firewall.Proto(rawValue: p.text) else {
        error("unknown protocol '\(p.text)'", at: p,
          hint: Suggest.didYouMean(p.text, among: ["tcp", "udp", "icmp", "from", "to", "in", "out"]) ?? "usage: \(usage)", note: entry.note)
        return nil
      }
      proto = v
      rest.removeFirst()
      if let t = rest.first, !["from", "to", "in", "out"].contains(t.text) {
        guard v != .icmp else {
          error("icmp has no ports", at: t, hint: "drop '\(t.text)', or write tcp or udp", note: entry.note)
          return nil
        }
        guard let r = portRange(t, note: entry.note) else { return nil }
        ports = r
        rest.removeFirst()
      }
    }
    var from: [IPPrefix]?
    var to: [IPPrefix]?
    var inIF: String?
    var outIF: String?
    var seen: [String: Token] = [:]
    let myInterfaces = (segments.ends[.node(entry.name)] ?? []).map(\.end.interface)
    while let key = rest.first {
      rest.removeFirst()
      guard ["from", "to", "in", "out"].contains(key.text) else {
        error("unexpected '\(key.text)'", at: key, hint: Suggest.didYouMean(key.text, among: ["from", "to", "in", "out"]) ?? "usage: \(usage)", note: entry.note)
        return nil
      }
      if let first = seen[key.text] {
        error("'\(key.text)' is given twice in one rule", at: key, hint: "a side takes a comma list: `\(key.text) a,b`", note: "first at column \(first.column)")
        return nil
      }
      seen[key.text] = key
      guard let value = rest.first else {
        error("'\(key.text)' needs a value", at: key, hint: "usage: \(usage)", note: entry.note)
        return nil
      }
      rest.removeFirst()
      switch key.text {
      case "from", "to":
        guard let prefixes = sides(value, segments: segments, note: entry.note) else { return nil }
        if key.text == "from" { from = prefixes } else { to = prefixes }
      default:
        guard myInterfaces.contains(value.text) else {
          error("'\(entry.name)' has no interface '\(value.text)'", at: value,
            hint: Suggest.didYouMean(value.text, among: myInterfaces).map { $0 } ?? (myInterfaces.isEmpty ? "'\(entry.name)' has no link" : "its interfaces: \(myInterfaces.joined(separator: ", "))"),
            note: entry.note)
          return nil
        }
        if key.text == "in" { inIF = value.text } else { outIF = value.text }
      }
    }
    if chain == .input && outIF != nil {
      error("the input chain has no outgoing interface", at: seen["out"]!, hint: "use `in IF`, or the forward chain", note: entry.note)
      return nil
    }
    if chain == .output && inIF != nil {
      error("the output chain has no incoming interface", at: seen["in"]!, hint: "use `out IF`, or the forward chain", note: entry.note)
      return nil
    }
    // A packet is of one family: `from` IPv4 only and `to` IPv6 only matches nothing (the
    // kernel gets no rule for it at all).
    if let from, let to, Set(from.map(\.family)).isDisjoint(with: to.map(\.family)) {
      func families(_ p: [IPPrefix]) -> String { Set(p.map(\.family)).contains(.ipv4) ? "IPv4" : "IPv6" }
      warning(
        "this rule can never match: its sides share no address family (from is \(families(from)) only, to is \(families(to)) only)",
        at: k, hint: "a packet is IPv4 or IPv6: give both sides an address of one family", note: entry.note)
    }
    let text = ([k] + words).map(\.text).joined(separator: " ")
    return Firewall.Rule(chain: chain, action: action, proto: proto, ports: ports, from: from, to: to, inInterface: inIF, outInterface: outIF, line: k.line, text: text)
  }

  /// `dnat tcp|udp PORT to NODE|ADDRESS[:PORT]` (an IPv6 address with a port: `[fd00::10]:80`).
  mutating func resolveDnat(_ k: Token, _ p: Token, _ port: Token, _ to: Token, node entry: NodeEntry, segments: Segments) -> Firewall.Dnat? {
    guard let proto = Firewall.Proto(rawValue: p.text), proto != .icmp else {
      error("dnat takes tcp or udp, not '\(p.text)'", at: p, hint: Suggest.didYouMean(p.text, among: ["tcp", "udp"]) ?? "dnat tcp|udp PORT to NODE|ADDRESS[:PORT]", note: entry.note)
      return nil
    }
    guard let ports = portRange(port, note: entry.note) else { return nil }
    guard ports.count == 1 else {
      error("dnat takes one port, not a range", at: port, note: entry.note)
      return nil
    }
    // Split off `:PORT`: after `]` for IPv6, after the only colon otherwise.
    var host = to.text
    var toPort: Int?
    var portText: String?
    if host.hasPrefix("["), let close = host.firstIndex(of: "]") {
      let rest = host[host.index(after: close)...]
      if rest.hasPrefix(":") { portText = String(rest.dropFirst()) }
      host = String(host[host.index(after: host.startIndex)..<close])
    } else if host.filter({ $0 == ":" }).count == 1, let c = host.firstIndex(of: ":") {
      portText = String(host[host.index(after: c)...])
      host = String(host[..<c])
    }
    if let pt = portText {
      guard let r = portRange(to.with(text: pt), note: entry.note), r.count == 1 else { return nil }
      toPort = r.lowerBound
    }
    var addresses: [IPAddress] = []
    var toNode: String?
    if let a = IPAddress(host) {
      addresses = [a]
    } else if nodeIndex[host] != nil {
      toNode = host
      for f in IPAddress.Family.allCases {
        if let a = (segments.ends[.node(host)] ?? []).lazy.compactMap({ $0.end.address(f)?.address }).first { addresses.append(a) }
      }
      if addresses.isEmpty {
        error("dnat to '\(host)', which has no address", at: to, hint: "link '\(host)' to a subnet, or give an address", note: entry.note)
        return nil
      }
    } else {
      error("unknown node '\(host)'", at: to,
        hint: suggester.didYouMean(host, at: to) { nodes.map(\.name) } ?? "dnat to a node, an address, NODE:PORT or ADDRESS:PORT", note: entry.note)
      return nil
    }
    let text = [k, p, port, Token("to", line: k.line, column: 0), to].map(\.text).joined(separator: " ")
    return Firewall.Dnat(proto: proto, port: ports.lowerBound, to: addresses, toPort: toPort, toNode: toNode, line: k.line, text: text)
  }

  /// `80` or `8000-8100`.
  mutating func portRange(_ t: Token, note: String?) -> ClosedRange<Int>? {
    let parts = t.text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    let values = parts.map { p -> Int? in p.allSatisfy(\.isASCIIDigit) && !p.isEmpty && p.count <= 5 ? Int(p) : nil }
    guard parts.count <= 2, values.allSatisfy({ $0 != nil && (1...65535).contains($0!) }) else {
      error("bad port '\(t.text)'", at: t, hint: "a port is a number from 1 to 65535, a range LO-HI (8000-8100)", note: note)
      return nil
    }
    let lo = values[0]!, hi = values.last!!
    guard lo <= hi else {
      error("port range \(t.text) is reversed", at: t, hint: "did you mean \(hi)-\(lo)?", note: note)
      return nil
    }
    return lo...hi
  }

  /// A side: nodes (all their addresses), subnets (their prefixes), addresses, CIDRs, `host`
  /// (the host ends), in a comma list, with ranges (`pc[1..3],10.9.0.0/16`).
  mutating func sides(_ token: Token, segments: Segments, note: String?) -> [IPPrefix]? {
    var out: [IPPrefix] = []
    func addresses(of owner: Owner) -> [IPPrefix] {
      (segments.ends[owner] ?? []).flatMap { $0.end.addresses.map { IPPrefix(address: $0.address, length: $0.family.width) } }
    }
    for t in NameList.items(token) {
      if let (a, l) = IPPrefix.parse(t.text) {
        let p = IPPrefix(address: a, length: l)
        if p.network != a {
          error("'\(t.text)' has host bits set", at: t, hint: "did you mean \(p)?", note: note)
          return nil
        }
        out.append(p)
        continue
      }
      if let a = IPAddress(t.text) {
        out.append(IPPrefix(address: a, length: a.family.width))
        continue
      }
      if let s = subnetIndex[t.text] {
        out.append(subnets[s].prefix)
        continue
      }
      if t.text == "host" {
        guard segments.hasHost else {
          error("this topology has no host end", at: t, hint: "connect the host first: `link host:veth1 ADDR/LEN -- NODE:IF ADDR/LEN`", note: note)
          return nil
        }
        out += addresses(of: .host)
        continue
      }
      guard let expanded = NameList.expand(t, &expander) else {
        diagnostics += expander.diagnostics
        expander.diagnostics = []
        return nil
      }
      for name in expanded {
        guard nodeIndex[name] != nil else {
          error("unknown node or subnet '\(name)'", at: t,
            hint: suggester.didYouMean(name, at: t) { nodes.map(\.name) + subnets.map(\.name) }
              ?? "a side is a node, a subnet, an address, a CIDR or `host`", note: note)
          return nil
        }
        let mine = addresses(of: .node(name))
        if mine.isEmpty {
          warning("node '\(name)' has no address: this side matches nothing of it", at: t, note: note)
        }
        out += mine
      }
    }
    return out
  }

  /// Warnings about a node's rules: `run iptables` beside them, and rules an earlier rule of
  /// their chain already decides.
  mutating func checkFirewall(_ f: Firewall, node: Node, entry: NodeEntry) {
    if let k = entry.body.first(where: { if case .rule = $0 { return true } else { return false } }),
      node.run.contains(where: { $0.contains("iptables") || $0.contains("nft ") })
    {
      warning("'\(node.name)' has rules and `run` lines that change the firewall", at: k.tokens[0],
        hint: "rules from `run` lines are invisible to the model: declare them as `allow|deny|reject` lines", note: entry.note)
    }
    for (i, r) in f.rules.enumerated() {
      if let earlier = f.rules[..<i].first(where: { $0.chain == r.chain && Self.covers($0, r) }) {
        let token = entry.body.compactMap { l -> Token? in
          if case .rule(let k, _) = l, k.line == r.line { return k }
          return nil
        }.first ?? entry.token
        warning("this rule can never match: line \(earlier.line) (`\(earlier.text)`) already decides everything it matches", at: token,
          hint: "drop it, or move it above line \(earlier.line)", note: entry.note)
      }
    }
  }

  /// Whether every packet `b` matches is also matched by `a`.
  static func covers(_ a: Firewall.Rule, _ b: Firewall.Rule) -> Bool {
    if let p = a.proto, p != b.proto { return false }
    if let ap = a.ports {
      guard let bp = b.ports, b.proto == a.proto, ap.contains(bp.lowerBound), ap.contains(bp.upperBound) else { return false }
    }
    func within(_ outer: [IPPrefix]?, _ inner: [IPPrefix]?) -> Bool {
      guard let outer else { return true }
      guard let inner else { return false }
      return inner.allSatisfy { i in outer.contains { $0.family == i.family && $0.length <= i.length && $0.contains(i.network) } }
    }
    if !within(a.from, b.from) || !within(a.to, b.to) { return false }
    if let i = a.inInterface, i != b.inInterface { return false }
    if let o = a.outInterface, o != b.outInterface { return false }
    return true
  }
}
