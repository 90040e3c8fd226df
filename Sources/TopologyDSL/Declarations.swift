import TopologyModel

/// The resolver's first pass: every `topology`, `subnet`, `bridge` and `node` declaration,
/// ranges expanded, names claimed once, subnets checked and laid out, before any body line
/// refers to them.
extension Resolver {
  mutating func declare(_ statement: Statement) {
    switch statement {
    case .topology(let keyword, let name):
      if topologyName != nil {
        error("the topology is already named '\(topologyName!)'", at: keyword, hint: "keep one `topology` line")
        return
      }
      if let problem = Names.problem(with: name.text, maxBytes: Names.maxTopology) {
        error("topology name '\(name.text)' \(problem)", at: name)
      }
      topologyName = name.text
    case .subnet(let decl):
      declareSubnet(decl)
    case .bridge(let decl):
      for (token, values) in instances(of: decl.name) {
        guard checkName(token, kind: "bridge", maxBytes: Names.maxInterface) else { continue }
        let subnetTokens = decl.subnets.compactMap { render($0, values) }
        if claimNodeOrBridge(token, kind: "bridge") {
          bridgeIndex[token.text] = bridges.count
          bridges.append(BridgeEntry(name: token.text, token: token, subnetTokens: subnetTokens))
        }
      }
    case .node(let decl):
      declareNode(decl)
    case .link(let link):
      let leftCount = 1 + link.left.addresses.count
      let rightEnd = leftCount + 1 + link.right.addresses.count
      let words = [link.left.end] + link.left.addresses + [link.right.end] + link.right.addresses + link.properties
      guard let (templates, ranges) = expander.templates(words, firstIndex: 0) else { return }
      guard claimExpansion(ranges.reduce(1) { $0 * $1.count }, at: link.keyword) else { return }
      for values in Expander.combinations(ranges) {
        let rendered = templates.map { $0.render(values) }
        let left = LinkEndSyntax(end: rendered[0], addresses: Array(rendered[1..<leftCount]))
        let right = LinkEndSyntax(end: rendered[leftCount], addresses: Array(rendered[(leftCount + 1)..<rightEnd]))
        lines.append(.general(GeneralLink(keyword: link.keyword, left: left, right: right, properties: Array(rendered[rightEnd...]))))
      }
    case .expect(let e):
      expects.append(e)
    case .scenario(let s):
      if let first = scenarioDecls.first(where: { $0.name.text == s.name.text }) {
        error("scenario '\(s.name.text)' is already declared", at: s.name, hint: "give each scenario its own name", note: "first declared on line \(first.name.line)")
      } else if let problem = Names.problem(with: s.name.text, maxBytes: 64) {
        error("scenario name '\(s.name.text)' \(problem)", at: s.name)
      } else {
        scenarioDecls.append(s)
      }
    }
  }

  /// The instances a declared name stands for, with the index values of each.
  mutating func instances(of name: Token) -> [(Token, [String])] {
    guard let (templates, ranges) = expander.templates([name], firstIndex: 0) else { return [] }
    return Expander.combinations(ranges).map { (templates[0].render($0), $0) }
  }

  /// Renders a token that may use the declaration's `$i` but declares no range itself.
  mutating func render(_ token: Token, _ values: [String]) -> Token? {
    guard let (t, _) = expander.templates([token], firstIndex: values.count, allowRanges: false) else { return nil }
    return t[0].render(values)
  }

  mutating func checkName(_ token: Token, kind: String, maxBytes: Int) -> Bool {
    if let problem = Names.problem(with: token.text, maxBytes: maxBytes) {
      error("\(kind) name '\(token.text)' \(problem)", at: token,
        hint: maxBytes == Names.maxInterface ? "a \(kind) is a kernel interface: at most 15 bytes" : nil)
      return false
    }
    if token.text == "host" {
      error("'host' is the root namespace and cannot be declared as a \(kind)", at: token,
        hint: "refer to the root namespace as `host:IFNAME` in a `link ... -- ...` line")
      return false
    }
    return true
  }

  /// Nodes and bridges share one namespace, since `link NAME` may name either.
  mutating func claimNodeOrBridge(_ token: Token, kind: String) -> Bool {
    let existing = nodeIndex[token.text].map { ("node", nodes[$0].token) } ?? bridgeIndex[token.text].map { ("bridge", bridges[$0].token) }
    if let (otherKind, other) = existing {
      error("duplicate name '\(token.text)'", at: token, hint: "rename one of them",
        note: "a \(otherKind) named '\(token.text)' is declared on line \(other.line)")
      return false
    }
    return true
  }

  mutating func declareSubnet(_ decl: SubnetDecl) {
    // The block size for point-to-point links, by family (checked once the CIDR says which).
    let carveText = decl.carve?.text
    for (token, values) in instances(of: decl.name) {
      guard checkName(token, kind: "subnet", maxBytes: Names.maxNode), let cidr = render(decl.cidr, values) else { continue }
      if let other = subnetIndex[token.text] {
        error("duplicate subnet '\(token.text)'", at: token, note: "first declared on line \(subnets[other].token.line)")
        continue
      }
      guard let (addr, len) = IPPrefix.parse(cidr.text) else {
        error("bad CIDR '\(cidr.text)'", at: cidr,
          hint: cidr.text.contains(":") ? "write an IPv6 network as prefix/len, e.g. fd00:1::/64" : "write a network as a.b.c.d/len, e.g. 10.0.1.0/24")
        continue
      }
      let prefix = IPPrefix(address: addr, length: len)
      if prefix.network != addr {
        error("'\(cidr.text)' has host bits set", at: cidr, hint: "did you mean \(prefix)?")
        continue
      }
      let v4 = prefix.family == .ipv4
      var carve = v4 ? 30 : (len <= 64 ? 64 : len <= 126 ? 126 : 127)
      if let c = decl.carve, let text = carveText {
        let allowed = v4 ? ["/30", "/31"] : ["/64", "/126", "/127"]
        if allowed.contains(text) {
          carve = Int(text.dropFirst())!
        } else {
          let quoted = allowed.map { "'\($0)'" }
          error("expected \(quoted.dropLast().joined(separator: ", ")) or \(quoted.last!), found '\(text)'", at: c,
            hint: "the block size for point-to-point links carved from this \(v4 ? "IPv4" : "IPv6") subnet")
        }
      }
      if v4 && len > 30 && decl.carve == nil {
        error("subnet \(prefix) is too small", at: cidr, hint: "a subnet needs at least two usable addresses: use /30 or shorter")
        continue
      }
      if !v4 && len > 127 {
        error("subnet \(prefix) is too small", at: cidr, hint: "a subnet needs at least two usable addresses: use /127 or shorter")
        continue
      }
      if len > carve {
        error("subnet \(prefix) is smaller than its /\(carve) blocks", at: cidr)
        continue
      }
      subnetIndex[token.text] = subnets.count
      subnets.append(SubnetEntry(name: token.text, token: token, prefix: prefix, carve: carve))
    }
  }

  mutating func declareNode(_ decl: NodeDecl) {
    guard let (nameTemplates, ranges) = expander.templates([decl.name], firstIndex: 0) else { return }
    // Templates of each body line, parsed once for all instances.
    var bodyTemplates: [(BodyLine, [Template], [RangeSpec])] = []
    for line in decl.body {
      let tokens = line.tokens.dropFirst()
      switch line {
      case .run, .rule:
        // A command line is not expanded beyond $i: brackets belong to the command. Nor is
        // a rule: its ranges name the members of a side (`from pc[1..3]`).
        bodyTemplates.append((line, [], []))
        continue
      default:
        break
      }
      guard let (t, r) = expander.templates(Array(tokens), firstIndex: ranges.count) else { continue }
      bodyTemplates.append((line, t, r))
    }
    let combos = Expander.combinations(ranges)
    if nodes.count + combos.count > TopologyLoader.maxNodes {
      error("too many nodes: this declaration brings the total to \(nodes.count + combos.count), more than the limit of \(TopologyLoader.maxNodes)",
        at: decl.name)
      return
    }
    // Body lines with ranges of their own multiply with the node's: h[1..100] with
    // `link s[0..49999]` is five million links.
    let perNode = bodyTemplates.reduce(0) { $0 + $1.2.reduce(1) { $0 * $1.count } }
    let widest = bodyTemplates.max { $0.2.reduce(1) { $0 * $1.count } < $1.2.reduce(1) { $0 * $1.count } }
    guard claimExpansion(combos.count * perNode, at: widest?.1.first?.token ?? decl.name, nodes: combos.count) else { return }
    for values in combos {
      let name = nameTemplates[0].render(values)
      guard checkName(name, kind: "node", maxBytes: Names.maxNode), claimNodeOrBridge(name, kind: "node") else { continue }
      let note = ranges.isEmpty ? nil : "in node '\(name.text)' from '\(decl.name.text)'"
      var body: [BodyLine] = []
      for (line, templates, lineRanges) in bodyTemplates {
        if case .run(let k, let command) = line {
          body.append(.run(keyword: k, command: substituteVariables(command, values)))
          continue
        }
        if case .rule(let k, let words) = line {
          body.append(.rule(keyword: k, words: words.map { substituteVariables($0, values) }))
          continue
        }
        for extra in Expander.combinations(lineRanges) {
          let all = values + extra
          var i = 0
          body.append(line.map { _ in
            defer { i += 1 }
            return templates[i].render(all)
          })
        }
      }
      nodeIndex[name.text] = nodes.count
      nodes.append(NodeEntry(name: name.text, token: name, note: note, body: body))
      for line in body {
        if case .link(let k, let target, let args, let properties) = line {
          lines.append(.body(node: name.text, keyword: k, target: target, args: args, properties: properties, note: note))
        }
      }
    }
  }

  /// Counts `count` more expanded lines (node body lines and top-level links) against the
  /// file's limit, so that memory stays proportional to what a topology can be; false (with
  /// an error at `token`) past it.
  mutating func claimExpansion(_ count: Int, at token: Token, nodes: Int? = nil) -> Bool {
    expandedLines += count
    guard expandedLines > TopologyLoader.maxExpandedLines else { return true }
    let what = nodes.map { "these \($0) nodes' body lines expand to \(count) lines" } ?? "this line expands to \(count) links"
    error("\(what), which brings the file to \(expandedLines), more than the limit of \(TopologyLoader.maxExpandedLines)", at: token,
      hint: "a range in a node body repeats for every node of the node's range; split the topology or use smaller ranges")
    return false
  }

  /// `$i` `$j` `$k` in a `run` command; everything else is left for the shell.
  func substituteVariables(_ token: Token, _ values: [String]) -> Token {
    guard token.text.contains("$") else { return token }
    var s = token.text
    for (i, v) in values.enumerated() {
      s = s.replacingAll("$\(Expander.variables[i])", with: v)
    }
    return token.with(text: s)
  }

  mutating func resolveBridgeSubnets() {
    for i in bridges.indices {
      for t in bridges[i].subnetTokens {
        guard let s = subnetIndex[t.text] else {
          error("unknown subnet '\(t.text)'", at: t,
            hint: suggester.didYouMean(t.text, at: t) { subnets.map(\.name) } ?? "declare it: `subnet \(t.text) 10.0.0.0/24`")
          continue
        }
        let family = subnets[s].prefix.family
        if let same = bridges[i].subnets.first(where: { subnets[$0].prefix.family == family }) {
          error("bridge '\(bridges[i].name)' already has an \(family.name) subnet, '\(subnets[same].name)' (\(subnets[same].prefix))", at: t,
            hint: "a bridge takes at most one subnet per family: one IPv4 and one IPv6 for a dual-stack LAN")
          continue
        }
        if let other = subnets[s].bridge {
          error("subnet '\(t.text)' is already the subnet of bridge '\(other)'", at: t,
            hint: "give each bridge its own subnet: two segments with one subnet cannot be routed")
          continue
        }
        subnets[s].bridge = bridges[i].name
        bridges[i].subnets.append(s)
      }
      bridges[i].subnets.sort { subnets[$0].prefix.family == .ipv4 && subnets[$1].prefix.family == .ipv6 }
    }
  }

  mutating func checkOverlaps() {
    let order = subnets.indices.sorted { subnets[$0].prefix < subnets[$1].prefix }
    var widest: Int?
    for i in order {
      if let w = widest, subnets[w].prefix.overlaps(subnets[i].prefix) {
        error("subnet '\(subnets[i].name)' (\(subnets[i].prefix)) overlaps '\(subnets[w].name)' (\(subnets[w].prefix))",
          at: subnets[i].token, hint: "choose prefixes that do not overlap",
          note: "'\(subnets[w].name)' is declared on line \(subnets[w].token.line)")
      }
      if widest == nil || subnets[i].prefix.last > subnets[widest!].prefix.last { widest = i }
    }
  }
}
