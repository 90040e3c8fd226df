/// One problem found in a topology file. Data only; `DiagnosticRenderer` words it.
public struct Diagnostic: Hashable, Sendable {
  public enum Severity: String, Sendable, Comparable {
    case error
    case warning

    public static func < (a: Severity, b: Severity) -> Bool { a == .error && b == .warning }
  }

  public var severity: Severity
  public var message: String
  /// 1-based line and column (in characters) of the culprit.
  public var line: Int
  public var column: Int
  /// How many characters the caret underlines.
  public var length: Int
  public var hint: String?
  /// Extra context, such as the range instance that produced the problem.
  public var note: String?

  public init(
    _ severity: Severity, _ message: String, at token: Token, hint: String? = nil, note: String? = nil
  ) {
    self.init(severity, message, line: token.line, column: token.column, length: token.length, hint: hint, note: note)
  }

  /// `line` 0: about the whole file (no source line is shown).
  public init(
    _ severity: Severity, _ message: String, line: Int, column: Int, length: Int = 1,
    hint: String? = nil, note: String? = nil
  ) {
    self.severity = severity
    self.message = message
    self.line = line
    self.column = column
    self.length = max(1, length)
    self.hint = hint
    self.note = note
  }
}

extension Array where Element == Diagnostic {
  public var hasErrors: Bool { contains { $0.severity == .error } }
  public var errorCount: Int { filter { $0.severity == .error }.count }
  public var warningCount: Int { filter { $0.severity == .warning }.count }
}

/// Renders diagnostics compiler-style:
///
///     lab.topo:12:8: error: unknown bridge or node 's9'
///        12 |   link s9
///           |        ^~
///           = hint: did you mean 's1'?
public struct DiagnosticRenderer: Sendable {
  public var fileName: String
  public var lines: [String]
  /// ANSI colours as a compiler uses them on a terminal: bold position, red error, magenta
  /// warning, green caret, cyan note and hint.
  public var color = false

  public init(fileName: String, source: String) {
    self.fileName = fileName
    // Split by scalars: as Characters, "\r\n" is one grapheme and would not split, so a
    // stray CR at a line's end shifted every later excerpt.
    self.lines = source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { line in
      var text = String(String.UnicodeScalarView(line))
      while text.unicodeScalars.last == "\r" { text.unicodeScalars.removeLast() }
      return text
    }
  }

  private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }

  public func render(_ d: Diagnostic) -> String {
    let position = d.line >= 1 ? ":\(d.line):\(d.column)" : ""
    let severity = paint("\(d.severity.rawValue):", d.severity == .error ? "1;31" : "1;35")
    var out = "\(paint("\(fileName)\(position):", "1")) \(severity) \(paint(d.message, "1"))\n"
    let number = String(d.line)
    let pad = String(repeating: " ", count: number.count)
    if d.line >= 1 && d.line <= lines.count {
      let text = lines[d.line - 1].replacingTabs()
      out += " \(number) | \(text)\n"
      let available = max(1, text.count - (d.column - 1))
      let carets = "^" + String(repeating: "~", count: max(0, min(d.length, available) - 1))
      out += " \(pad) | \(String(repeating: " ", count: max(0, d.column - 1)))\(paint(carets, "1;32"))\n"
    }
    if let note = d.note { out += " \(pad) = \(paint("note:", "1;36")) \(note)\n" }
    if let hint = d.hint { out += " \(pad) = \(paint("hint:", "1;36")) \(hint)\n" }
    return out
  }

  /// Every diagnostic, errors and warnings in file order, then a count line.
  public func render(_ diagnostics: [Diagnostic]) -> String {
    var out = ""
    for d in diagnostics { out += render(d) }
    let e = diagnostics.errorCount
    let w = diagnostics.warningCount
    if e + w > 0 {
      var parts: [String] = []
      if e > 0 { parts.append("\(e) error\(e == 1 ? "" : "s")") }
      if w > 0 { parts.append("\(w) warning\(w == 1 ? "" : "s")") }
      out += "\(fileName): \(parts.joined(separator: ", "))\n"
    }
    return out
  }
}

extension String {
  /// Tabs and stray CRs shown as one space each, so carets line up with the columns we
  /// count and a CR cannot move the terminal's cursor.
  fileprivate func replacingTabs() -> String {
    String(map { $0 == "\t" || $0 == "\r" ? " " : $0 })
  }
}
