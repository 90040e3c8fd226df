import TopologyModel

/// Reads a link's tail, keyword by keyword: `rate 10mbit`, `delay 20ms`, `jitter 5ms`,
/// `loss 1%`, `mtu 1400`, `down`. Units are spelled as `tc` spells them.
struct LinkTail {
  var properties: LinkProperties
  /// `down`: both ends are down at `up`.
  var down = false
  /// The `mtu` value, for the IPv6 check once addresses are known.
  var mtu: Token?
  /// The first property that needs netem, for the warning on a kernel without it.
  var netem: Token?
}

extension Resolver {
  static let propertyUsage = "a link's properties are: rate RATE, delay TIME, jitter TIME, loss PERCENT%, mtu BYTES, down"
  /// tbf's rate is 32 bits of bytes per second in libnl: 10gbit is the most it takes.
  static let rateRange: ClosedRange<UInt64> = 1_000...10_000_000_000
  /// netem's delays, in microseconds: up to a minute.
  static let durationRange: ClosedRange<UInt64> = 1...60_000_000
  static let mtuRange = 68...65_535

  /// The properties, or nil after reporting every problem in them.
  mutating func linkProperties(_ tokens: [Token], note: String?) -> LinkTail? {
    var p = LinkProperties()
    var seen: [String: Token] = [:]
    var ok = true
    var mtuToken: Token?
    var netemToken: Token?
    var down = false
    var i = 0
    while i < tokens.count {
      let key = tokens[i]
      i += 1
      guard Keywords.linkProperties.contains(key.text) else {
        error("unexpected '\(key.text)' in the link's properties", at: key,
          hint: Suggest.didYouMean(key.text, among: Keywords.linkProperties) ?? Self.propertyUsage, note: note)
        ok = false
        continue
      }
      if let first = seen[key.text] {
        error("'\(key.text)' is given twice", at: key, hint: "keep one", note: "first at column \(first.column)")
        ok = false
      }
      seen[key.text] = key
      if ["delay", "jitter", "loss"].contains(key.text) && netemToken == nil { netemToken = key }
      if key.text == "down" {
        down = true
        continue
      }
      guard i < tokens.count, !Keywords.linkProperties.contains(tokens[i].text) else {
        error("'\(key.text)' needs a value", line: key.line, column: key.column + key.length, hint: Self.example(key.text), note: note)
        ok = false
        continue
      }
      let value = tokens[i]
      i += 1
      switch key.text {
      case "rate":
        if let r = rate(value, note: note) { p.rate = r } else { ok = false }
      case "delay":
        if let d = duration(value, of: "delay", note: note) { p.delay = d } else { ok = false }
      case "jitter":
        if let j = duration(value, of: "jitter", note: note) { p.jitter = j } else { ok = false }
      case "loss":
        if let l = percent(value, note: note) { p.loss = l } else { ok = false }
      default:
        if let n = Int(value.text), Self.mtuRange.contains(n) {
          p.mtu = n
          mtuToken = value
        } else {
          error("bad MTU '\(value.text)'", at: value, hint: "an MTU is a number of bytes from 68 to 65535, e.g. mtu 1400", note: note)
          ok = false
        }
      }
    }
    if let j = seen["jitter"], seen["delay"] == nil {
      error("jitter needs a delay", at: j, hint: "jitter varies a delay: e.g. delay 20ms jitter 5ms", note: note)
      ok = false
    }
    return ok ? LinkTail(properties: p, down: down, mtu: mtuToken, netem: netemToken) : nil
  }

  static func example(_ keyword: String) -> String {
    switch keyword {
    case "rate": return "e.g. rate 10mbit (units: bit, kbit, mbit, gbit)"
    case "delay": return "e.g. delay 20ms (units: us, ms, s)"
    case "jitter": return "e.g. delay 20ms jitter 5ms (units: us, ms, s)"
    case "loss": return "e.g. loss 1%"
    default: return "e.g. mtu 1400"
    }
  }

  /// A number and its unit (`10mbit`, `2.5ms`): the number as a decimal, and the rest.
  static func split(_ text: String) -> (Double, String)? {
    let digits = text.prefix { $0.isASCIIDigit || $0 == "." }
    guard !digits.isEmpty, digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != ".",
      let n = Double(digits)
    else { return nil }
    return (n, String(text.dropFirst(digits.count)))
  }

  private mutating func rate(_ t: Token, note: String?) -> UInt64? {
    let units: [String: Double] = ["bit": 1, "kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "tbit": 1e12]
    let bytes: [String: Double] = ["bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9, "tbps": 1e12]
    guard let (n, unit) = Self.split(t.text.lowercased()) else {
      error("bad rate '\(t.text)'", at: t, hint: Self.example("rate"), note: note)
      return nil
    }
    if unit.isEmpty {
      error("rate '\(t.text)' needs a unit", at: t, hint: "e.g. \(t.text)mbit (units: bit, kbit, mbit, gbit)", note: note)
      return nil
    }
    if let b = bytes[unit] {
      let bits = LinkProperties.rateText(UInt64((n * b * 8).rounded()))
      error("tc reads '\(unit)' as bytes per second", at: t,
        hint: "write \(bits) for \(t.text), or use a bit unit: kbit, mbit, gbit", note: note)
      return nil
    }
    guard let m = units[unit] else {
      error("unknown rate unit '\(unit)'", at: t,
        hint: Suggest.didYouMean(unit, among: ["bit", "kbit", "mbit", "gbit"]) ?? "units: bit, kbit, mbit, gbit (10mbit)", note: note)
      return nil
    }
    let bits = (n * m).rounded()
    guard bits >= Double(Self.rateRange.lowerBound), bits <= Double(Self.rateRange.upperBound) else {
      error("rate \(t.text) is out of range", at: t, hint: "a rate is from 1kbit to 10gbit", note: note)
      return nil
    }
    return UInt64(bits)
  }

  private mutating func duration(_ t: Token, of what: String, note: String?) -> UInt64? {
    let units: [String: Double] = ["us": 1, "usec": 1, "ms": 1e3, "msec": 1e3, "s": 1e6, "sec": 1e6, "secs": 1e6]
    guard let (n, unit) = Self.split(t.text.lowercased()) else {
      error("bad \(what) '\(t.text)'", at: t, hint: Self.example(what), note: note)
      return nil
    }
    if unit.isEmpty {
      error("\(what) '\(t.text)' needs a unit", at: t, hint: "e.g. \(t.text)ms (units: us, ms, s)", note: note)
      return nil
    }
    guard let m = units[unit] else {
      error("unknown time unit '\(unit)'", at: t, hint: Suggest.didYouMean(unit, among: ["us", "ms", "s"]) ?? "units: us, ms, s (20ms)", note: note)
      return nil
    }
    let us = (n * m).rounded()
    guard us >= Double(Self.durationRange.lowerBound), us <= Double(Self.durationRange.upperBound) else {
      error("\(what) \(t.text) is out of range", at: t, hint: "a \(what) is from 1us to 60s", note: note)
      return nil
    }
    return UInt64(us)
  }

  private mutating func percent(_ t: Token, note: String?) -> Double? {
    guard t.text.hasSuffix("%") else {
      error("loss '\(t.text)' needs a percent sign", at: t, hint: "write it as a percentage: loss \(t.text)%", note: note)
      return nil
    }
    guard let (n, rest) = Self.split(String(t.text.dropLast())), rest.isEmpty else {
      error("bad loss '\(t.text)'", at: t, hint: Self.example("loss"), note: note)
      return nil
    }
    guard n > 0, n <= 100 else {
      error("loss \(t.text) is out of range", at: t, hint: "a loss is more than 0% and at most 100%", note: note)
      return nil
    }
    return n
  }
}

/// A link's tail typed on the command line (`nstopo link lab r1 r2 set rate 1mbit delay 5ms`),
/// read by the same rules as in a file.
public enum LinkTailReader {
  /// The properties of `words`, or nil and every problem rendered against the words as typed.
  public static func read(_ words: [String], command: String) -> (properties: LinkProperties?, down: Bool, problems: String) {
    var resolver = Resolver(fileName: command, options: LoadOptions())
    var tokens: [Token] = []
    var column = 1
    for w in words {
      tokens.append(Token(w, line: 1, column: column))
      column += w.count + 1
    }
    let tail = resolver.linkProperties(tokens, note: nil)
    guard let tail, !resolver.diagnostics.hasErrors else {
      let renderer = DiagnosticRenderer(fileName: command, source: words.joined(separator: " "))
      return (nil, false, renderer.render(resolver.diagnostics))
    }
    return (tail.properties, tail.down, "")
  }
}
