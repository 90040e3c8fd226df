import TopologyModel

/// A comma list of names and ranges, as `expect`, a firewall rule's sides and `nstopo exec`
/// take it (`pc[1..3],r1`): one place that splits it into located items and expands each.
/// What an item may also be (`*`, `host`, an address) and how an unknown name is worded stay
/// with each caller.
enum NameList {
  /// The items of `token`'s comma list, each a token at its own column.
  static func items(_ token: Token) -> [Token] {
    var column = token.column
    return token.text.split(separator: ",", omittingEmptySubsequences: false).map { item in
      defer { column += item.count + 1 }
      return Token(String(item), line: token.line, column: column)
    }
  }

  /// The names `item` expands to (`h[1..3]` is h1, h2, h3), in order; nil when it is not a
  /// name or range (the reason is in `expander.diagnostics`).
  static func expand(_ item: Token, _ expander: inout Expander) -> [String]? {
    guard let (templates, ranges) = expander.templates([item], firstIndex: 0) else { return nil }
    return Expander.combinations(ranges).map { templates[0].render($0).text }
  }

  /// Each name once, in the order first given.
  static func unique(_ names: [String]) -> [String] {
    var seen = Set<String>()
    return names.filter { seen.insert($0).inserted }
  }
}
