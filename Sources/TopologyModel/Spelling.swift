/// "Did you mean" by edit distance, as swift-argument-parser does it: the closest candidate
/// within a third of the word's length.
public enum Spelling {
  public static func closest(_ word: String, among candidates: [String]) -> String? {
    let count = word.count
    let limit = max(1, count / 3)
    let bytes = word.utf8.count
    var best: (String, Int)?
    // A length apart by more than the limit cannot be within it (UTF-8 bytes bound characters
    // from above, so only ASCII words are skipped this way).
    for c in candidates where c != word && (c.utf8.count - bytes).magnitude <= limit * 4 {
      let d = distance(word, c)
      if d <= limit && d < word.count && (best == nil || d < best!.1) { best = (c, d) }
    }
    return best?.0
  }

  /// Edit distance over characters, a swap of two neighbours counting as one edit (optimal
  /// string alignment): `dealy` is one edit from `delay`.
  public static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    if abs(a.count - b.count) > 3 { return abs(a.count - b.count) }
    var beforePrevious = [Int](repeating: 0, count: b.count + 1)
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
          current[j] = Swift.min(current[j], beforePrevious[j - 2] + 1)
        }
      }
      (beforePrevious, previous, current) = (previous, current, beforePrevious)
    }
    return previous[b.count]
  }
}
