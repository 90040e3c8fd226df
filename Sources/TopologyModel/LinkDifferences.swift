/// What changes at run time (`link`, `node`, a scenario left in force) have made of a
/// topology's links, against the file: for `status`, `diff` and `reset`.
extension Topology {
  /// One line per link whose state or properties differ from `declared`'s (the same links,
  /// in the same order): `r1:eth2 -- r2:eth2: down (the file: up)`. Nil when the links
  /// themselves differ (another file): `structuralDifferences` says how.
  public func linkDifferences(from declared: Topology) -> [String]? {
    guard links.count == declared.links.count, zip(links, declared.links).allSatisfy({ $0.text == $1.text }) else { return nil }
    var out: [String] = []
    for (now, file) in zip(links, declared.links) where now.a.down != file.a.down || now.b.down != file.b.down || now.properties != file.properties {
      var words: [String] = []
      if now.isUp != file.isUp || now.a.down != file.a.down || now.b.down != file.b.down { words.append("\(now.stateText) (the file: \(file.stateText))") }
      if now.properties != file.properties {
        words.append("\(now.properties.isEmpty ? "no properties" : now.properties.text) (the file: \(file.properties.isEmpty ? "none" : file.properties.text))")
      }
      out.append("\(now.text): \(words.joined(separator: "; "))")
    }
    return out
  }

  /// How `other`'s nodes and links differ from this topology's, by name and ends.
  public func structuralDifferences(from other: Topology) -> [String] {
    var out: [String] = []
    let (mine, theirs) = (Set(nodes.map(\.name)), Set(other.nodes.map(\.name)))
    out += theirs.subtracting(mine).sorted().map { "node \($0): in the file, not up" }
    out += mine.subtracting(theirs).sorted().map { "node \($0): up, not in the file" }
    let (l1, l2) = (Set(links.map(\.text)), Set(other.links.map(\.text)))
    out += l2.subtracting(l1).sorted().map { "link \($0): in the file, not up" }
    out += l1.subtracting(l2).sorted().map { "link \($0): up, not in the file" }
    return out
  }

  /// This topology with every link's state and properties as `declared` has them (the same
  /// links): what `reset` and a node brought up return to.
  public func withLinkStates(of declared: Topology, only indices: [Int]? = nil) -> Topology {
    var t = self
    for k in indices ?? Array(links.indices) where k < declared.links.count {
      t.links[k].a.down = declared.links[k].a.down
      t.links[k].b.down = declared.links[k].b.down
      if indices == nil { t.links[k].properties = declared.links[k].properties }
    }
    return t
  }
}

extension Link {
  /// `up`, `down`, or which end is down.
  var stateText: String {
    switch (a.down, b.down) {
    case (false, false): return "up"
    case (true, true): return "down"
    case (true, false): return "down at \(a.owner):\(a.interface)"
    case (false, true): return "down at \(b.owner):\(b.interface)"
    }
  }
}
