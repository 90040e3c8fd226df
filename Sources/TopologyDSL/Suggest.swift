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

/// "Did you mean" for one file, bounded: each unknown word is looked up once, and the file's
/// comparisons are capped, so that 20,000 unknown references among 20,000 names stay a
/// fraction of a second instead of 400 million comparisons. Past the cap, no hint.
struct Suggester: Sendable {
  /// Candidate comparisons left for this file.
  var budget = 400_000
  private var cache: [String: String?] = [:]

  /// `candidates` is built only when the word is new and the budget allows.
  mutating func didYouMean(_ word: String, among candidates: () -> [String]) -> String? {
    if let known = cache[word] { return known }
    guard budget > 0 else { return nil }
    let list = candidates()
    budget -= list.count
    let hint = Suggest.didYouMean(word, among: list)
    if cache.count < 10_000 { cache[word] = hint }
    return hint
  }
}
