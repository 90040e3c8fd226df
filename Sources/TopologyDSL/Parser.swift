/// Turns lexed lines into statements, checking each line's shape. Meaning (names, addresses)
/// is the resolver's job; this only knows the grammar.
struct Parser {
  var statements: [Statement] = []
  var diagnostics: [Diagnostic] = []

  init(lines: [SourceLine]) {
    var currentNode: NodeDecl?
    var currentScenario: ScenarioDecl?
    for line in lines {
      let head = line.tokens[0]
      if line.indented {
        if currentScenario != nil {
          if let l = parseScenarioLine(line) { currentScenario!.body.append(l) }
          continue
        }
        guard currentNode != nil else {
          diagnostics.append(
            Diagnostic(
              .error, "indented line outside a node body", at: head,
              hint: "only `node` and `scenario` declarations have a body; remove the indentation or put it under a node"))
          continue
        }
        if let body = parseBody(line) { currentNode!.body.append(body) }
        continue
      }
      if let node = currentNode {
        statements.append(.node(node))
        currentNode = nil
      }
      if let s = currentScenario {
        statements.append(.scenario(s))
        currentScenario = nil
      }
      switch head.text {
      case "topology":
        if expectCount(line, 2, usage: "topology NAME") { statements.append(.topology(keyword: head, name: line.tokens[1])) }
      case "subnet":
        guard expectCount(line, 3...4, usage: "subnet NAME CIDR [/30|/31] (IPv6: [/64|/126|/127])") else { continue }
        statements.append(.subnet(SubnetDecl(name: line.tokens[1], cidr: line.tokens[2], carve: line.tokens.count > 3 ? line.tokens[3] : nil)))
      case "bridge":
        guard expectCount(line, 2...4, usage: "bridge NAME [SUBNET [SUBNET6]]") else { continue }
        statements.append(.bridge(BridgeDecl(name: line.tokens[1], subnets: Array(line.tokens.dropFirst(2)))))
      case "node":
        guard expectCount(line, 2, usage: "node NAME") else { continue }
        currentNode = NodeDecl(keyword: head, name: line.tokens[1], body: [])
      case "link":
        if let link = parseGeneralLink(line) { statements.append(.link(link)) }
      case "expect":
        if let e = parseExpect(line) { statements.append(.expect(e)) }
      case "scenario":
        guard expectCount(line, 2, usage: "scenario NAME") else { continue }
        currentScenario = ScenarioDecl(keyword: head, name: line.tokens[1], body: [])
      default:
        if Keywords.body.contains(head.text) {
          diagnostics.append(
            Diagnostic(
              .error, "'\(head.text)' belongs in a node body", at: head,
              hint: "indent it under a `node` declaration"))
        } else {
          diagnostics.append(
            Diagnostic(
              .error, "unknown keyword '\(head.text)'", at: head,
              hint: Suggest.didYouMean(head.text, among: Keywords.topLevel + Keywords.body)
                ?? "a line starts with one of: \(Keywords.topLevel.joined(separator: ", "))"))
        }
      }
    }
    if let node = currentNode { statements.append(.node(node)) }
    if let s = currentScenario { statements.append(.scenario(s)) }
  }

  /// A line of a scenario's body: `node N down|up`, `link A B down|up|clear|set …`, `expect …`.
  private mutating func parseScenarioLine(_ line: SourceLine) -> ScenarioLine? {
    let t = line.tokens
    switch t[0].text {
    case "node":
      guard expectCount(line, 3, usage: "node NODE down|up") else { return nil }
      return .node(keyword: t[0], node: t[1], action: t[2])
    case "link":
      guard t.count >= 4 else {
        _ = expectCount(line, 4, usage: "link A[:IF] B[:IF] down|up|clear, or link A B set PROPERTIES")
        return nil
      }
      return .link(keyword: t[0], a: t[1], b: t[2], action: t[3], properties: Array(t.dropFirst(4)))
    case "expect":
      return parseExpect(line).map { .expect($0) }
    default:
      diagnostics.append(
        Diagnostic(
          .error, "unknown keyword '\(t[0].text)' in a scenario", at: t[0],
          hint: Suggest.didYouMean(t[0].text, among: Keywords.scenarioBody) ?? "a scenario's lines are: node N down|up, link A B down|up|clear|set …, expect …"))
      return nil
    }
  }

  private mutating func expectCount(_ line: SourceLine, _ count: Int, usage: String) -> Bool {
    expectCount(line, count...count, usage: usage)
  }

  private mutating func expectCount(_ line: SourceLine, _ range: ClosedRange<Int>, usage: String) -> Bool {
    let n = line.tokens.count
    if range.contains(n) { return true }
    if n > range.upperBound {
      let extra = line.tokens[range.upperBound]
      diagnostics.append(Diagnostic(.error, "unexpected '\(extra.text)'", at: extra, hint: "usage: \(usage)"))
    } else {
      let last = line.tokens[n - 1]
      diagnostics.append(
        Diagnostic(
          .error, "'\(line.tokens[0].text)' needs more arguments", line: line.number,
          column: last.column + last.length, hint: "usage: \(usage)"))
    }
    return false
  }

  private mutating func parseBody(_ line: SourceLine) -> BodyLine? {
    let t = line.tokens
    let head = t[0]
    switch head.text {
    case "forward":
      return expectCount(line, 1, usage: "forward") ? .forward(head) : nil
    case "link":
      // The tail starts at the first property keyword; only what stands before it counts.
      let tail = t.dropFirst(2).firstIndex { Keywords.linkProperties.contains($0.text) } ?? t.count
      var head = line
      head.tokens = Array(t[..<tail])
      guard expectCount(head, 2...5, usage: "link TARGET [IFNAME] [ADDRESS|SUBNET [ADDRESS6|SUBNET6]] [rate R] [delay D] [jitter J] [loss P%] [mtu N] [down]") else { return nil }
      return .link(keyword: t[0], target: t[1], args: Array(t[2..<tail]), properties: Array(t[tail...]))
    case "route":
      guard expectCount(line, 3...4, usage: "route DEST|default via NODE|ADDRESS, or route DEST blackhole") else { return nil }
      let kind = t[2]
      switch kind.text {
      case "via":
        guard t.count == 4 else {
          diagnostics.append(
            Diagnostic(.error, "'via' needs a next hop", line: line.number, column: kind.column + kind.length,
              hint: "give a node name or an address: `route default via r1`"))
          return nil
        }
      case "blackhole", "unreachable", "prohibit":
        guard t.count == 3 else {
          diagnostics.append(Diagnostic(.error, "unexpected '\(t[3].text)'", at: t[3], hint: "`\(kind.text)` takes no next hop"))
          return nil
        }
      default:
        diagnostics.append(
          Diagnostic(
            .error, "expected 'via', 'blackhole', 'unreachable' or 'prohibit', found '\(kind.text)'", at: kind,
            hint: Suggest.didYouMean(kind.text, among: ["via", "blackhole", "unreachable", "prohibit"])
              ?? "usage: route DEST via NODE|ADDRESS"))
        return nil
      }
      return .route(keyword: head, destination: t[1], kind: kind, nextHop: t.count == 4 ? t[3] : nil)
    case "cpu":
      return expectCount(line, 2, usage: "cpu PERCENT%") ? .cpu(keyword: head, value: t[1]) : nil
    case "chroot":
      return expectCount(line, 2, usage: "chroot PATH") ? .chroot(keyword: head, path: t[1]) : nil
    case "firewall":
      guard expectCount(line, 3, usage: "firewall input|forward|output accept|drop|reject") else { return nil }
      return .firewall(keyword: head, chain: t[1], action: t[2])
    case "dnat":
      guard expectCount(line, 5, usage: "dnat tcp|udp PORT to NODE|ADDRESS[:PORT]") else { return nil }
      guard t[3].text == "to" else {
        diagnostics.append(Diagnostic(.error, "expected 'to', found '\(t[3].text)'", at: t[3], hint: "usage: dnat tcp|udp PORT to NODE|ADDRESS[:PORT]"))
        return nil
      }
      return .dnat(keyword: head, proto: t[1], port: t[2], to: t[4])
    case "masquerade":
      return expectCount(line, 2, usage: "masquerade IFNAME") ? .masquerade(keyword: head, interface: t[1]) : nil
    case "allow", "deny", "reject":
      guard t.count >= 2 else {
        diagnostics.append(
          Diagnostic(.error, "'\(head.text)' needs a chain", line: line.number, column: head.column + head.length,
            hint: "usage: \(head.text) input|forward|output [tcp|udp|icmp [PORT|LO-HI]] [from SIDES] [to SIDES] [in IF] [out IF]"))
        return nil
      }
      return .rule(keyword: head, words: Array(t.dropFirst()))
    case "run":
      guard t.count >= 2 else {
        diagnostics.append(
          Diagnostic(.error, "'run' needs a command", line: line.number, column: head.column + head.length,
            hint: "usage: run COMMAND [ARGS...]"))
        return nil
      }
      let text = line.rest(from: t[1])
      return .run(keyword: head, command: Token(text, line: line.number, column: t[1].column))
    default:
      diagnostics.append(
        Diagnostic(
          .error, "unknown keyword '\(head.text)' in a node body", at: head,
          hint: Suggest.didYouMean(head.text, among: Keywords.body)
            ?? (Keywords.topLevel.contains(head.text)
              ? "'\(head.text)' is a top-level declaration; remove the indentation"
              : "a node body line starts with one of: \(Keywords.body.joined(separator: ", "))")))
      return nil
    }
  }

  private mutating func parseGeneralLink(_ line: SourceLine) -> GeneralLink? {
    let t = line.tokens
    let usage = "link NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] -- NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] [PROPERTIES]"
    guard let sep = t.firstIndex(where: { $0.text == "--" }) else {
      if t.count >= 2 && !t[1].text.contains(":") {
        diagnostics.append(
          Diagnostic(
            .error, "a top-level link needs both ends", at: t[1],
            hint: "indent it under a node (`link \(t[1].text)`), or use the general form: \(usage)"))
      } else {
        diagnostics.append(
          Diagnostic(.error, "expected '--' between the two ends of the link", at: t.last!, hint: "usage: \(usage)"))
      }
      return nil
    }
    let left = Array(t[1..<sep])
    let tail = t[(sep + 1)...].firstIndex { Keywords.linkProperties.contains($0.text) } ?? t.count
    let right = Array(t[(sep + 1)..<tail])
    guard (1...3).contains(left.count), (1...3).contains(right.count) else {
      let culprit = left.isEmpty || right.isEmpty ? t[sep] : (left.count > 3 ? left[3] : right[3])
      diagnostics.append(
        Diagnostic(.error, "each end of a link is NODE:IFNAME and at most one address per family", at: culprit, hint: "usage: \(usage)"))
      return nil
    }
    return GeneralLink(
      keyword: t[0], left: LinkEndSyntax(end: left[0], addresses: Array(left.dropFirst())),
      right: LinkEndSyntax(end: right[0], addresses: Array(right.dropFirst())), properties: Array(t[tail...]))
  }

  private mutating func parseExpect(_ line: SourceLine) -> ExpectDecl? {
    let t = line.tokens
    let usage = "expect SOURCES -> TARGETS [ipv4|ipv6] [tcp|udp [PORT]|icmp] reach|blocked"
    guard t.count >= 5, t.count <= 8, t[2].text == "->" else {
      if t.count >= 3 && t[2].text != "->" {
        diagnostics.append(Diagnostic(.error, "expected '->' after the sources", at: t[2], hint: "usage: \(usage)"))
      } else if t.count > 8 {
        diagnostics.append(Diagnostic(.error, "unexpected '\(t[8].text)'", at: t[8], hint: "usage: \(usage)"))
      } else {
        let last = t.last!
        diagnostics.append(
          Diagnostic(.error, "'expect' needs more arguments", line: line.number, column: last.column + last.length, hint: "usage: \(usage)"))
      }
      return nil
    }
    var extra = Array(t[4..<(t.count - 1)])
    var family: Token?
    if let first = extra.first, ["ipv4", "ipv6"].contains(first.text) || (extra.count == 3) {
      family = extra.removeFirst()
    }
    if extra.count > 2 {
      diagnostics.append(Diagnostic(.error, "unexpected '\(extra[2].text)'", at: extra[2], hint: "usage: \(usage)"))
      return nil
    }
    let proto = extra.first
    let port = extra.count == 2 ? extra[1] : nil
    return ExpectDecl(keyword: t[0], source: t[1], target: t[3], family: family, proto: proto, port: port, outcome: t[t.count - 1])
  }
}
