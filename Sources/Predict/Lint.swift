import TopologyModel

/// A design problem the model already shows, before anything is built.
public struct LintFinding: Hashable, Sendable {
  /// Line the finding is about (a `node` or an `expect`), if known.
  public var line: Int?
  public var message: String
  public var hint: String?
}

public enum Lint {
  /// Most predictions a lint run makes; beyond it the pairwise checks are skipped, so that
  /// validating 10,000 nodes stays fast.
  public static let budget = 100_000

  public static func findings(_ t: Topology) -> [LintFinding] {
    let p = Predictor(t)
    var findings: [LintFinding] = []
    var spent = 0
    let endpoints = t.nodes.map(\.name) + (t.hasHost ? ["host"] : [])
    guard endpoints.count > 1 else { return [] }

    // A node with links that reaches nothing (stops at the first node it reaches). A node
    // without any link is isolated on purpose.
    // Sets and lists computed once: per node they made 20,000 spokes of one hub quadratic.
    var linked = Set<Owner>()
    for l in t.links {
      linked.insert(l.a.owner)
      linked.insert(l.b.owner)
    }
    var addresses: [String: [IPAddress]] = [:]
    for e in endpoints { addresses[e] = p.addresses(of: e) }
    // Grouped by cause: ten nodes behind one missing route are one finding.
    var isolated: [String: (nodes: [Node], example: String)] = [:]
    var isolatedOrder: [String] = []
    for n in t.nodes where linked.contains(.node(n.name)) {
      var reaches = false
      search: for other in endpoints where other != n.name {
        for a in addresses[other]! {
          spent += 1
          if p.verdict(from: n.name, to: other, address: a).0 == .reached {
            reaches = true
            break search
          }
        }
        if spent > budget { break }
      }
      if spent > budget { return findings }
      if !reaches {
        let example = endpoints.first { $0 != n.name }!
        let why = p.predict(from: n.name, to: example).reason ?? ""
        // The cause without the node's own name, so that its siblings share it.
        let cause = why.replacingFirst(n.name, with: "\u{0}")
        if isolated[cause] == nil { isolatedOrder.append(cause) }
        isolated[cause, default: ([], "\(example): \(why)")].nodes.append(n)
      }
    }
    for cause in isolatedOrder {
      let g = isolated[cause]!
      if g.nodes.count == 1 {
        findings.append(LintFinding(line: g.nodes[0].line, message: "node '\(g.nodes[0].name)' reaches no other node", hint: "e.g. to \(g.example)"))
      } else {
        let names = g.nodes.prefix(5).map { "'\($0.name)'" }.joined(separator: ", ") + (g.nodes.count > 5 ? " and \(g.nodes.count - 5) more" : "")
        findings.append(LintFinding(line: g.nodes[0].line, message: "\(g.nodes.count) nodes reach no other node for one cause: \(names)", hint: "e.g. \(g.nodes[0].name) to \(g.example)"))
      }
    }

    // Expectations the model contradicts, one finding per line.
    // The lines are rules: their pairs are visited one at a time, never expanded, so a
    // 100-byte `expect * -> *` over thousands of nodes costs the budget, not the square.
    // Grouped by cause, over lines: where several lines fail for one reason, one finding.
    var byCause: [String: (message: String, hint: String?, lines: [Int], count: Int)] = [:]
    // Each endpoint's first address of each family, once: the pairs ask for them.
    var primaries: [String: (IPAddress?, IPAddress?)] = [:]
    for e in endpoints { primaries[e] = (p.primaryAddress(of: e, family: .ipv4), p.primaryAddress(of: e, family: .ipv6)) }
    var causeOrder: [String] = []
    ExpectationIndex(t.expectations).forEachPair { pair in
      spent += 1
      if spent > budget { return false }
      // The verdict alone first (no paths recorded); the full walk only for a finding. Each
      // family the line speaks of: its own, or every one both ends have.
      let (s4, s6) = primaries[pair.source] ?? (nil, nil)
      let (t4, t6) = primaries[pair.target] ?? (nil, nil)
      let anyFamily = s4 == nil && s6 == nil
      // Worth naming the family when the two have both.
      let both = s4 != nil && s6 != nil && t4 != nil && t6 != nil
      // At the line's protocol and port (the probe port when it names none).
      func flow(_ a: IPAddress) -> Flow { Flow(from: pair.source, to: pair.target, address: a, proto: pair.proto, port: pair.port ?? 4444) }
      func contradicts(_ a: IPAddress?, _ f: IPAddress.Family, sourceHas: Bool) -> IPAddress? {
        guard let a, pair.family == nil || pair.family == f, anyFamily || sourceHas else { return nil }
        return (pair.outcome == .reach) != (p.verdict(flow(a)).0 == .reached) ? a : nil
      }
      guard let address = contradicts(t4, .ipv4, sourceHas: s4 != nil) ?? contradicts(t6, .ipv6, sourceHas: s6 != nil) else { return true }
      let x = p.predict(flow(address))
      let message: String
      let hint: String?
      if pair.outcome == .reach && !x.reached {
        message = "this expectation cannot hold: \(pair.source) -> \(pair.target)\(both ? " over \(address.family.name)" : "") is \(x.verdict.rawValue) in the model"
        hint = x.reason
      } else if pair.outcome == .blocked && x.reached {
        let onPath = (x.path + x.returnPath).map(\.node)
        guard !onPath.contains(where: { !(t.node(named: $0)?.run.isEmpty ?? true) }) else { return true }
        message = "the model says \(pair.source) reaches \(pair.target)\(both ? " over \(address.family.name)" : "") (\(x.path.map(\.node).joined(separator: " -> "))), yet it is expected blocked"
        hint = "only a firewall in a `run` line could block it, and no node on the path has one"
      } else {
        return true
      }
      // A contradicted `reach` is grouped by its reason; a reached `blocked` by its line.
      let cause = pair.outcome == .reach ? "reach: \(hint ?? message)" : "blocked: \(pair.line)"
      if var e = byCause[cause] {
        e.count += 1
        if e.lines.last != pair.line && !e.lines.contains(pair.line) { e.lines.append(pair.line) }
        byCause[cause] = e
      } else {
        byCause[cause] = (message, hint, [pair.line], 1)
        causeOrder.append(cause)
      }
      return true
    }
    for cause in causeOrder.sorted(by: { byCause[$0]!.lines[0] < byCause[$1]!.lines[0] }) {
      let e = byCause[cause]!
      if e.lines.count == 1 {
        findings.append(
          LintFinding(line: e.lines[0], message: e.message + (e.count > 1 ? " (and \(e.count - 1) more pairs of this line)" : ""), hint: e.hint))
      } else {
        let lines = e.lines.sorted().map(String.init).joined(separator: ", ")
        findings.append(
          LintFinding(
            line: e.lines.min(), message: "\(e.count) expected pairs on lines \(lines) cannot hold, for one cause: \(e.hint ?? e.message)",
            hint: "e.g. \(e.message.replacingFirst("this expectation cannot hold: ", with: ""))"))
      }
    }

    // Asymmetric paths that break TCP, grouped by cause.
    guard endpoints.count * (endpoints.count - 1) + spent <= budget else { return findings }
    var causes: [String: (example: String, line: Int?, count: Int)] = [:]
    var order: [String] = []
    // A pair the file already expects blocked (TCP at the probe port) is known: no warning.
    let declared = ExpectationIndex(t.expectations)
    for s in endpoints {
      for d in endpoints where d != s {
        if declared.lookup(source: s, target: d, proto: .tcp, port: nil, family: nil)?.outcome == .blocked { continue }
        let x = p.predict(from: s, to: d)
        guard x.verdict == .timedOut, !x.returnPath.isEmpty, x.path.last?.node == d, let why = x.reason else { continue }
        if causes[why] == nil {
          // Located at the node where the reply stops: that is where a route is missing.
          let stuck = x.returnPath.last.flatMap { t.node(named: $0.node) } ?? t.node(named: d)
          causes[why] = ("\(s) -> \(d)", stuck?.line, 0)
          order.append(why)
        }
        causes[why]!.count += 1
      }
    }
    for why in order {
      let c = causes[why]!
      findings.append(
        LintFinding(
          line: c.line,
          message: "\(c.count) pair\(c.count == 1 ? " reaches its" : "s reach their") target but the reply cannot come back, which breaks TCP: \(why)",
          hint: "e.g. \(c.example); add the missing route"))
    }
    return findings
  }
}

extension String {
  /// Without Foundation: the first occurrence of `target` replaced.
  func replacingFirst(_ target: String, with replacement: String) -> String {
    guard !target.isEmpty, let r = range(of: target) else { return self }
    return self[..<r.lowerBound] + replacement + self[r.upperBound...]
  }

  func range(of target: String) -> Range<String.Index>? {
    var i = startIndex
    while i < endIndex {
      if self[i...].hasPrefix(target) { return i..<index(i, offsetBy: target.count) }
      i = index(after: i)
    }
    return nil
  }
}
