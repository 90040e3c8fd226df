import TopologyModel

/// "Did you mean", worded.
enum Suggest {
  static func didYouMean(_ word: String, among candidates: [String]) -> String? {
    guard let best = closest(word, among: candidates) else { return nil }
    return "did you mean '\(best)'?"
  }

  static func closest(_ word: String, among candidates: [String]) -> String? {
    Spelling.closest(word, among: candidates)
  }

  static func distance(_ a: String, _ b: String) -> Int { Spelling.distance(a, b) }
}

/// "Did you mean" for one file, bounded: each unknown word is looked up once, a place that
/// already has a hint gets no second one (the copies one range line makes are folded into
/// the first), and the file's comparisons are capped, so that 20,000 unknown references among
/// 20,000 names stay a fraction of a second instead of 400 million comparisons.
struct Suggester: Sendable {
  /// Candidate comparisons left for this file.
  var budget = 200_000
  private var cache: [String: String?] = [:]
  private var places: Set<Int> = []

  /// `candidates` is built only when the word is new, its place has no hint yet, and the
  /// budget allows.
  mutating func didYouMean(_ word: String, at token: Token, among candidates: () -> [String]) -> String? {
    if let known = cache[word] { return known }
    guard budget > 0, places.insert(token.line << 20 | min(token.column, 1 << 20 - 1)).inserted else { return nil }
    let list = candidates()
    budget -= list.count
    let hint = Suggest.didYouMean(word, among: list)
    if cache.count < 10_000 { cache[word] = hint }
    return hint
  }
}
