/// `name[a..b]` declares one item per index; `$i`, `$j`, `$k` stand for the indices of the
/// first, second and third range in scope (a node body continues its node's numbering).
struct RangeSpec: Sendable {
  var lower: Int
  var upper: Int
  /// Zero-padded width (`h[01..10]` gives h01..h10), 0 for none.
  var width: Int

  var count: Int { upper - lower + 1 }

  func value(at offset: Int) -> String {
    let v = String(lower + offset)
    return v.count < width ? String(repeating: "0", count: width - v.count) + v : v
  }
}

/// A token split into literal text, range groups and variable references.
struct Template: Sendable {
  enum Part: Sendable {
    case text(String)
    case group(Int)
    case variable(Int)
  }

  var token: Token
  var parts: [Part]

  var isPlain: Bool { parts.allSatisfy { if case .text = $0 { return true } else { return false } } }

  func render(_ values: [String]) -> Token {
    if isPlain { return token }
    var s = ""
    for p in parts {
      switch p {
      case .text(let t): s += t
      case .group(let i), .variable(let i): s += i < values.count ? values[i] : ""
      }
    }
    return token.with(text: s)
  }
}

struct Expander {
  /// Largest range, and largest product of ranges on one line.
  static let maxInstances = 50_000
  /// Largest bound of a range, so that every index and count stays far from overflow.
  static let maxIndex = 999_999_999
  static let variables: [Character] = ["i", "j", "k"]

  var diagnostics: [Diagnostic] = []

  /// Splits `tokens` into templates; range groups are numbered from `firstIndex`.
  /// Returns nil (with diagnostics) when a token is malformed.
  mutating func templates(_ tokens: [Token], firstIndex: Int, allowRanges: Bool = true)
    -> (templates: [Template], ranges: [RangeSpec])?
  {
    var templates: [Template] = []
    var ranges: [RangeSpec] = []
    var ok = true
    for token in tokens {
      var parts: [Template.Part] = []
      var literal = ""
      let chars = Array(token.text)
      var i = 0
      while i < chars.count {
        let c = chars[i]
        if c == "$" {
          let next = i + 1 < chars.count ? chars[i + 1] : " "
          guard let v = Expander.variables.firstIndex(of: next) else {
            diagnostics.append(
              Diagnostic(.error, "unknown variable '$\(next == " " ? "" : String(next))'", line: token.line,
                column: token.column + i, length: 2, hint: "the range indices are $i, $j and $k"))
            ok = false
            i += 2
            continue
          }
          if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
          parts.append(.variable(v))
          i += 2
        } else if c == "[" {
          guard let close = chars[i...].firstIndex(of: "]") else {
            diagnostics.append(
              Diagnostic(.error, "unclosed '['", line: token.line, column: token.column + i,
                hint: "a range is written [FIRST..LAST], e.g. h[1..4]"))
            ok = false
            break
          }
          let body = String(chars[(i + 1)..<close])
          // `[fd00::10]:80`: an IPv6 address in brackets, as a URL writes it, is not a range.
          if body.contains(":") && !body.contains("..") {
            literal += String(chars[i...close])
            i = close + 1
            continue
          }
          let at = Token(String(chars[i...close]), line: token.line, column: token.column + i)
          guard allowRanges else {
            diagnostics.append(
              Diagnostic(.error, "a range is not allowed here", at: at,
                hint: "ranges go in the declared name, e.g. `subnet lan[1..3] 10.0.$i.0/24`"))
            ok = false
            i = close + 1
            continue
          }
          guard let spec = parseRange(body, at: at) else {
            ok = false
            i = close + 1
            continue
          }
          if !literal.isEmpty { parts.append(.text(literal)); literal = "" }
          parts.append(.group(firstIndex + ranges.count))
          ranges.append(spec)
          i = close + 1
        } else {
          literal.append(c)
          i += 1
        }
      }
      if !literal.isEmpty { parts.append(.text(literal)) }
      templates.append(Template(token: token, parts: parts))
    }
    let total = ranges.reduce(1) { $0.multipliedReportingOverflow(by: $1.count).partialValue }
    if total > Expander.maxInstances || total < 0 {
      diagnostics.append(
        Diagnostic(.error, "this line expands to \(total) items, more than the limit of \(Expander.maxInstances)",
          at: tokens.first!, hint: "split it into smaller ranges"))
      ok = false
    }
    let defined = firstIndex + ranges.count
    for t in templates {
      for case .variable(let v) in t.parts where v >= defined {
        diagnostics.append(
          Diagnostic(.error, "'$\(Expander.variables[v])' has no range here", at: t.token,
            hint: defined == 0
              ? "declare a range such as `node h[1..4]` to use $i"
              : "only \(defined) range\(defined == 1 ? "" : "s") in scope: $\(Expander.variables[0..<min(defined, 3)].map(String.init).joined(separator: ", $"))"))
        ok = false
      }
    }
    if firstIndex + ranges.count > Expander.variables.count {
      diagnostics.append(
        Diagnostic(.error, "more than three ranges in scope", at: tokens.first!, hint: "use at most three ranges ($i, $j, $k)"))
      ok = false
    }
    return ok ? (templates, ranges) : nil
  }

  private mutating func parseRange(_ body: String, at token: Token) -> RangeSpec? {
    let hint = "a range is written [FIRST..LAST] with FIRST <= LAST, e.g. h[1..4]"
    if body.isEmpty || body == ".." {
      diagnostics.append(Diagnostic(.error, "empty range", at: token, hint: hint))
      return nil
    }
    let parts = body.components(separatedBy: "..")
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty,
      parts[0].allSatisfy(\.isASCIIDigit), parts[1].allSatisfy(\.isASCIIDigit)
    else {
      diagnostics.append(Diagnostic(.error, "malformed range '\(token.text)'", at: token, hint: hint))
      return nil
    }
    // Bounds past the limit are refused before any arithmetic on them.
    guard let lo = Int(parts[0]), let hi = Int(parts[1]), lo <= Expander.maxIndex, hi <= Expander.maxIndex else {
      diagnostics.append(
        Diagnostic(.error, "range '\(token.text)' has a bound above \(Expander.maxIndex)", at: token,
          hint: "range bounds go from 0 to \(Expander.maxIndex)"))
      return nil
    }
    if lo > hi {
      diagnostics.append(
        Diagnostic(.error, "reversed range '\(token.text)'", at: token, hint: "did you mean [\(hi)..\(lo)]?"))
      return nil
    }
    if hi - lo + 1 > Expander.maxInstances {
      diagnostics.append(
        Diagnostic(.error, "range '\(token.text)' has \(hi - lo + 1) items, more than the limit of \(Expander.maxInstances)",
          at: token, hint: "split it into smaller ranges"))
      return nil
    }
    let width = parts[0].count > 1 && parts[0].hasPrefix("0") ? parts[0].count : 0
    return RangeSpec(lower: lo, upper: hi, width: width)
  }

  /// Every combination of range values, first range outermost.
  static func combinations(_ ranges: [RangeSpec]) -> [[String]] {
    var result: [[String]] = [[]]
    for r in ranges {
      var next: [[String]] = []
      next.reserveCapacity(result.count * r.count)
      for prefix in result {
        for k in 0..<r.count { next.append(prefix + [r.value(at: k)]) }
      }
      result = next
    }
    return result
  }
}

extension Character {
  var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
  /// Foundation-free `components(separatedBy:)` for a string separator.
  func components(separatedBy separator: String) -> [String] {
    var result: [String] = []
    var rest = Substring(self)
    while let r = rest.range(of: separator) {
      result.append(String(rest[..<r.lowerBound]))
      rest = rest[r.upperBound...]
    }
    result.append(String(rest))
    return result
  }
}

extension Substring {
  func range(of needle: String) -> Range<Index>? {
    guard !needle.isEmpty else { return nil }
    var i = startIndex
    while i < endIndex {
      if self[i...].hasPrefix(needle) { return i..<index(i, offsetBy: needle.count) }
      i = index(after: i)
    }
    return nil
  }
}
