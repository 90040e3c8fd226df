import TopologyModel

/// JSON written as it goes, for a `<script type="application/json">` block: `<`, `>` and `&`
/// are escaped too, so that no string can end the script element (`</script>`) or open a
/// comment, and U+2028/2029 are escaped for older script parsers.
final class JSONText {
  private(set) var text = ""

  init() {}
  /// Whether the next member or element needs a comma before it, per open container.
  private var needsComma: [Bool] = []

  private func separate() {
    if let last = needsComma.last {
      if last { text += "," }
      needsComma[needsComma.count - 1] = true
    }
  }

  func object(_ body: () -> Void) {
    separate()
    text += "{"
    needsComma.append(false)
    body()
    needsComma.removeLast()
    text += "}"
  }

  /// A member `"key":` whose value the next call writes.
  private func key(_ k: String) {
    separate()
    text += Self.quoted(k) + ":"
    needsComma.append(false)
  }

  private func endKey() { needsComma.removeLast() }

  func field(_ k: String, _ v: String) {
    key(k)
    text += Self.quoted(v)
    endKey()
  }

  func field(_ k: String, _ v: Int) {
    key(k)
    text += String(v)
    endKey()
  }

  func field(_ k: String, _ v: Bool) {
    key(k)
    text += v ? "true" : "false"
    endKey()
  }

  func array<T>(_ k: String, _ items: [T], _ each: (T) -> Void) {
    key(k)
    text += "["
    needsComma.append(false)
    for i in items { each(i) }
    needsComma.removeLast()
    text += "]"
    endKey()
  }

  /// An array value inside an array.
  func rawArray(_ body: () -> Void) {
    separate()
    text += "["
    needsComma.append(false)
    body()
    needsComma.removeLast()
    text += "]"
  }

  func value(_ s: String) {
    separate()
    text += Self.quoted(s)
  }

  func value(_ n: Int) {
    separate()
    text += String(n)
  }

  func element(_ s: String?) {
    separate()
    text += s.map(Self.quoted) ?? "null"
  }

  func element(_ n: Int?) {
    separate()
    text += n.map(String.init) ?? "null"
  }

  func element(_ d: Double?) {
    separate()
    guard let d, d.isFinite else {
      text += "null"
      return
    }
    text += d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : "\(d)"
  }

  static func quoted(_ s: String) -> String { Escaping.jsonString(s, forScript: true) }
}
