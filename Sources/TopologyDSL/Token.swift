/// A word of a topology file and where it stands. Range expansion rewrites `text` but keeps
/// the position, so a diagnostic about `h3` still points at `h[1..4]`.
public struct Token: Hashable, Sendable, CustomStringConvertible {
  public var text: String
  public var line: Int
  public var column: Int
  public var length: Int

  public init(_ text: String, line: Int, column: Int, length: Int? = nil) {
    self.text = text
    self.line = line
    self.column = column
    self.length = length ?? text.count
  }

  public var description: String { text }

  func with(text: String) -> Token {
    var t = self
    t.text = text
    return t
  }
}

/// One non-blank line of a topology file, split into words, comment removed.
struct SourceLine: Sendable {
  var number: Int
  /// The raw text, for `run` lines that keep their spacing.
  var text: String
  var indented: Bool
  var tokens: [Token]

  /// The raw text from `first` to the end of the last word.
  func rest(from first: Token) -> String {
    guard let last = tokens.last else { return "" }
    let chars = Array(text)
    let start = first.column - 1
    let end = min(chars.count, last.column - 1 + last.length)
    return start < end ? String(chars[start..<end]) : ""
  }
}
