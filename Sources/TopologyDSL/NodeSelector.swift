import TopologyModel

/// A list of nodes as `expect` takes it, for the command line (`nstopo exec lab 'h[1..4],r1'`):
/// comma-separated items, each a name, a range (`h[1..4]`, `rack[1..2]-h[1..3]`) or `*` (every
/// node). In the order given, each node once.
public enum NodeSelector {
  /// The nodes `text` names among `nodes`, or the problem, worded for a one-line error.
  public static func resolve(_ text: String, nodes: [String]) -> Result<[String], SelectorError> {
    let known = Set(nodes)
    var names: [String] = []
    for token in NameList.items(Token(text, line: 1, column: 1)) {
      if token.text == "*" {
        names += nodes
        continue
      }
      if token.text.isEmpty { return .failure(SelectorError(message: "'\(text)' is not a node list: an empty item")) }
      var expander = Expander()
      guard let expanded = NameList.expand(token, &expander) else {
        return .failure(SelectorError(message: "'\(token.text)' is not a node list: " + (expander.diagnostics.first?.message ?? "not a name or range")))
      }
      for name in expanded {
        guard known.contains(name) else {
          let hint = Suggest.didYouMean(name, among: nodes).map { "; \($0)" } ?? ""
          return .failure(SelectorError(message: "no node '\(name)'\(hint)", unknownNode: name))
        }
        names.append(name)
      }
    }
    return .success(NameList.unique(names))
  }
}

public struct SelectorError: Error, CustomStringConvertible, Sendable {
  public var message: String
  /// The name that is no node, when that is the problem.
  public var unknownNode: String?
  public var description: String { message }

  public init(message: String, unknownNode: String? = nil) {
    self.message = message
    self.unknownNode = unknownNode
  }
}
