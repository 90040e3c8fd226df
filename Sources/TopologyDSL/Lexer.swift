/// Splits a topology file into lines of words. Checks encoding, indentation and emptiness.
struct Lexer {
  var lines: [SourceLine] = []
  var diagnostics: [Diagnostic] = []
  /// The text as decoded (invalid bytes replaced), for rendering diagnostics.
  var source: String = ""

  init(bytes: [UInt8]) {
    var decoded: [String] = []
    var lineNumber = 0
    var indentStyle: (tab: Bool, line: Int)?
    var start = 0
    while start <= bytes.count {
      var end = start
      while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
      lineNumber += 1
      var slice = Array(bytes[start..<end])
      // CRLF, and stray CRs before it (`\r\r\n`): line ends, not text.
      while slice.last == UInt8(ascii: "\r") { slice.removeLast() }
      let (text, badColumn) = Lexer.decode(slice)
      decoded.append(text)
      if let col = badColumn {
        diagnostics.append(
          Diagnostic(
            .error, "the file is not valid UTF-8", line: lineNumber, column: col,
            hint: "save the file as UTF-8"))
      }
      if let line = lex(text, number: lineNumber, indentStyle: &indentStyle) { lines.append(line) }
      if end >= bytes.count { break }
      start = end + 1
    }
    source = decoded.joined(separator: "\n")
    if lines.isEmpty && diagnostics.isEmpty {
      diagnostics.append(
        Diagnostic(
          .error, bytes.isEmpty ? "the file is empty" : "the file has no declarations", line: 1, column: 1,
          hint: "declare at least one node, e.g. `node h1`"))
    }
  }

  /// Decodes one line; returns the column of the first invalid byte, if any.
  static func decode(_ bytes: [UInt8]) -> (String, Int?) {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var scalars = String.UnicodeScalarView()
    var bad: Int?
    loop: while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let s): scalars.append(s)
      case .emptyInput: break loop
      case .error:
        if bad == nil { bad = String(scalars).count + 1 }
        scalars.append("\u{FFFD}")
      }
    }
    return (String(scalars), bad)
  }

  private mutating func lex(_ text: String, number: Int, indentStyle: inout (tab: Bool, line: Int)?)
    -> SourceLine?
  {
    var tokens: [Token] = []
    var column = 0
    var current = ""
    var currentStart = 0
    var indentTabs = false
    var indentSpaces = false
    var inIndent = true
    var comment = false
    // A `run` line is shell: `#` inside quotes is text, not a comment.
    var shell = false
    var quote: Character?
    var quoteColumn = 0
    var escaped = false
    for ch in text {
      column += 1
      // Quoted or escaped in a `run` line: no special meaning here.
      var literal = false
      if shell {
        if escaped {
          escaped = false
          literal = true
        } else if let q = quote {
          literal = true
          if ch == q { quote = nil } else if ch == "\\" && q == "\"" { escaped = true }
        } else if ch == "'" || ch == "\"" {
          quote = ch
          quoteColumn = column
        } else if ch == "\\" {
          escaped = true
        }
      }
      // A lone CR inside a line is blank space, as a tab is.
      if (ch == " " || ch == "\t" || ch == "\r") && !literal {
        if inIndent {
          if ch == "\t" { indentTabs = true } else if ch == " " { indentSpaces = true }
        }
        if !current.isEmpty {
          tokens.append(Token(current, line: number, column: currentStart))
          if tokens.count == 1 && current == "run" { shell = true }
          current = ""
        }
        continue
      }
      if current.isEmpty && ch == "#" && !literal {
        comment = true
        break
      }
      inIndent = false
      if current.isEmpty { currentStart = column }
      current.append(ch)
    }
    if !current.isEmpty && !comment { tokens.append(Token(current, line: number, column: currentStart)) }
    if let q = quote {
      diagnostics.append(
        Diagnostic(.warning, "this `run` line has an unclosed \(q == "'" ? "single" : "double") quote", line: number, column: quoteColumn,
          hint: "the shell will refuse it at `up`; close the quote"))
    }
    guard !tokens.isEmpty else { return nil }
    let indented = tokens[0].column > 1
    if indentTabs && indentSpaces {
      diagnostics.append(
        Diagnostic(
          .error, "indentation mixes tabs and spaces", line: number, column: 1, length: tokens[0].column - 1,
          hint: "indent with spaces only (or tabs only) throughout the file"))
    } else if indented {
      if let style = indentStyle, style.tab != indentTabs {
        diagnostics.append(
          Diagnostic(
            .error, "indentation uses \(indentTabs ? "tabs" : "spaces") but line \(style.line) uses \(style.tab ? "tabs" : "spaces")",
            line: number, column: 1, length: tokens[0].column - 1,
            hint: "indent with spaces only (or tabs only) throughout the file"))
      } else if indentStyle == nil {
        indentStyle = (indentTabs, number)
      }
    }
    return SourceLine(number: number, text: text, indented: indented, tokens: tokens)
  }
}
