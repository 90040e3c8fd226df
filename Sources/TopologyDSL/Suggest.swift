/// "Did you mean" by edit distance, as swift-argument-parser does it.
enum Suggest {
  static func didYouMean(_ word: String, among candidates: [String]) -> String? {
    guard let best = closest(word, among: candidates) else { return nil }
    return "did you mean '\(best)'?"
  }

  static func closest(_ word: String, among candidates: [String]) -> String? {
    let limit = max(1, word.count / 3)
    var best: (String, Int)?
    for c in candidates where c != word {
      let d = distance(word, c)
      if d <= limit && d < word.count && (best == nil || d < best!.1) { best = (c, d) }
    }
    return best?.0
  }

  /// Levenshtein distance over characters.
  static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    if abs(a.count - b.count) > 3 { return abs(a.count - b.count) }
    var previous = Array(0...b.count)
    var current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...a.count {
      current[0] = i
      for j in 1...b.count {
        current[j] = Swift.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
      }
      swap(&previous, &current)
    }
    return previous[b.count]
  }
}
