import TopologyModel

/// A scenario's body against the resolved topology: each change names nodes and links that
/// exist (one link where one is meant), each action is one the line's kind takes, each
/// `expect` line is resolved as a top-level one.
extension Resolver {
  mutating func resolveScenario(_ decl: ScenarioDecl, in t: Topology, segments: Segments) -> Scenario {
    var s = Scenario(name: decl.name.text, line: decl.name.line)
    for line in decl.body {
      switch line {
      case .node(let k, let node, let action):
        guard action.text == "down" || action.text == "up" else {
          error("unknown action '\(action.text)' for a node", at: action,
            hint: Suggest.didYouMean(action.text, among: ["down", "up"]) ?? "a node goes down or up")
          continue
        }
        do {
          let links = try t.links(of: node.text)
          s.changes.append(Scenario.Change(action: action.text == "down" ? .down : .up, links: links, text: "node \(node.text) \(action.text)", line: k.line))
        } catch {
          self.error(error.message, at: node, hint: error.hint)
        }
      case .link(let k, let a, let b, let action, let words):
        var change: ChangeAction
        switch action.text {
        case "down", "up", "clear":
          if let extra = words.first {
            error("unexpected '\(extra.text)'", at: extra, hint: "`\(action.text)` takes nothing after it")
            continue
          }
          change = action.text == "down" ? .down : action.text == "up" ? .up : .clear
        case "set":
          guard !words.isEmpty else {
            error("'set' needs properties", line: action.line, column: action.column + action.length, hint: Self.propertyUsage)
            continue
          }
          guard let tail = linkProperties(words, note: nil) else { continue }
          if tail.down {
            error("'down' is a change of its own", at: words.first { $0.text == "down" }!, hint: "write `link \(a.text) \(b.text) down` on its own line")
            continue
          }
          change = .set(tail.properties)
        default:
          error("unknown action '\(action.text)' for a link", at: action,
            hint: Suggest.didYouMean(action.text, among: ["down", "up", "set", "clear"]) ?? "a link goes down or up, or you set or clear its properties")
          continue
        }
        do {
          let links = try t.selectLinks(EndName(a.text), EndName(b.text))
          if let problem = t.problem(change, on: links) {
            let at = words.firstIndex { $0.text == "mtu" }.flatMap { $0 + 1 < words.count ? words[$0 + 1] : nil } ?? action
            self.error(problem.message, at: at, hint: problem.hint)
            continue
          }
          let text = (["link", a.text, b.text, action.text] + words.map(\.text)).joined(separator: " ")
          s.changes.append(Scenario.Change(action: change, links: links, text: text, line: k.line))
        } catch {
          // At the end that is unknown, else at the first.
          let at = t.ownerNames.contains(EndName(a.text).owner) && !t.ownerNames.contains(EndName(b.text).owner) ? b : a
          self.error(error.message, at: at, hint: error.hint)
        }
      case .expect(let e):
        if let x = resolveExpect(e, segments: segments) { s.expectations.append(x) }
      }
    }
    if s.changes.isEmpty && !decl.body.isEmpty && !diagnostics.hasErrors {
      warning("scenario '\(s.name)' changes nothing", at: decl.name, hint: "add `node N down` or `link A B down` to its body")
    }
    return s
  }
}
