import TopologyModel

/// The human view of a test run: a matrix of marks (rows: sources, columns: targets), or for
/// large topologies a table per subnet, then every mismatch and the summary line.
public enum MatrixText {
  /// Past this many endpoints the full matrix is replaced by the per-subnet table.
  public static let maxMatrix = 40
  /// Mismatches listed one per line, at most.
  public static let maxListed = 50

  public enum Mark: String {
    case reachedExpected = "✓"
    case reached = "+"
    case blockedExpected = "·"
    case notReached = "-"
    case mismatch = "✗"
    case none = " "
  }

  public static let legend = "✓ reached as expected  + reached  · blocked as expected  - not reached  ✗ mismatch"

  /// The mark of each (source, target) cell, over every protocol and port probed (of
  /// `family` only, when given).
  public static func marks(_ r: TestReport, family: IPAddress.Family? = nil) -> [[Mark]] {
    let index = Dictionary(uniqueKeysWithValues: r.endpoints.enumerated().map { ($1, $0) })
    let n = r.endpoints.count
    var reached = [[Bool?]](repeating: [Bool?](repeating: nil, count: n), count: n)
    var expected = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
    var mismatch = [[Bool]](repeating: [Bool](repeating: false, count: n), count: n)
    for p in r.pairs {
      guard let s = index[p.source], let t = index[p.target] else { continue }
      if let family, p.family != family { continue }
      if p.port == r.port && r.protocols.contains(p.proto) {
        reached[s][t] = (reached[s][t] ?? true) && p.outcome.reached
      }
      if p.expected != nil { expected[s][t] = true }
      if p.holds == false { mismatch[s][t] = true }
    }
    return (0..<n).map { s in
      (0..<n).map { t in
        if s == t { return .none }
        if mismatch[s][t] { return .mismatch }
        guard let ok = reached[s][t] else { return expected[s][t] ? .reachedExpected : .none }
        if ok { return expected[s][t] ? .reachedExpected : .reached }
        return expected[s][t] ? .blockedExpected : .notReached
      }
    }
  }

  /// `width`: the columns available (a terminal's); when a row of the matrix would not fit,
  /// the per-subnet table instead, whatever the endpoint count.
  public static func render(_ r: TestReport, topology: Topology, color: Bool, width: Int? = nil) -> String {
    var out = ""
    let n = r.endpoints.count
    let families = r.families
    if n <= maxMatrix && width.map({ matrixWidth(r) <= $0 }) != false {
      // With both families, one matrix for each.
      for family in families.count == 2 ? families.map(Optional.some) : [nil] {
        if let family { out += (family == .ipv6 ? "\n" : "") + family.name + "\n" }
        let marks = marks(r, family: family)
        let nameWidth = r.endpoints.map(\.count).max() ?? 1
        let numWidth = String(n).count
        let cell = numWidth + 1
        var header = String(repeating: " ", count: numWidth + 2 + nameWidth)
        for i in 1...max(1, n) { header += pad(String(i), cell) }
        out += header + "\n"
        for (s, name) in r.endpoints.enumerated() {
          var line = pad(String(s + 1), numWidth) + " " + name + String(repeating: " ", count: nameWidth - name.count + 1)
          for m in marks[s] { line += String(repeating: " ", count: cell - 1) + paint(m, color) }
          out += line + "\n"
        }
      }
      out += legend + "\n"
    } else {
      out += subnetTable(r, topology: topology)
    }
    if !r.landed.isEmpty {
      // A dnat answers from elsewhere: say where, for the pairs it reached.
      let through = r.landed.sorted { $0.key < $1.key }.filter { r.pairs[$0.key].outcome.reached }
      if !through.isEmpty {
        out += "\nreached through a dnat (\(through.count)):\n"
        for (i, l) in through.prefix(maxListed) {
          let p = r.pairs[i]
          out += "  \(p.source) -> \(p.target) \(p.proto.label(Int(p.port))): reached via dnat to \(l)\n"
        }
        if through.count > maxListed { out += "  ... and \(through.count - maxListed) more (see --json)\n" }
      }
    }
    let mismatches = r.mismatches
    if !mismatches.isEmpty {
      out += "\nmismatches (\(mismatches.count)):\n"
      for m in mismatches.prefix(maxListed) {
        let x = paint(.mismatch, color)
        let fam = families.count == 2 ? m.family.map { "\($0.rawValue) " } ?? "" : ""
        out += "  \(x) \(m.source) -> \(m.target) \(fam)\(m.proto.label(Int(m.port)))\(m.address.map { " (\($0))" } ?? ""): \(verdicts(m))\(m.line.map { " (line \($0))" } ?? "")\n"
        if let r = m.reason { out += "      \(r)\n" }
      }
      if mismatches.count > maxListed { out += "  ... and \(mismatches.count - maxListed) more (see --json)\n" }
    }
    let surprises = r.surprises
    if !surprises.isEmpty {
      out += "\nmeasured differs from the model where the expectation holds (\(surprises.count)): something the model cannot see\n"
      for s in surprises.prefix(10) {
        out += "  ! \(s.source) -> \(s.target) \(s.proto.label(Int(s.port))): declared \(s.declared!.rawValue), predicted \(s.predicted!.rawValue), measured \(s.outcome.rawValue)\n"
        if let r = s.reason { out += "      \(r)\n" }
      }
      if surprises.count > 10 { out += "  ... and \(surprises.count - 10) more\n" }
    }
    out += "\n" + r.summary + "\n"
    return out
  }

  /// Columns one row of the matrix takes: number, name, a cell per endpoint.
  public static func matrixWidth(_ r: TestReport) -> Int {
    let n = r.endpoints.count
    let numWidth = String(n).count
    return numWidth + 2 + (r.endpoints.map(\.count).max() ?? 1) + n * (numWidth + 1)
  }

  /// `expected reach, got timed-out`, or, where they differ, the three verdicts:
  /// `declared reach, predicted blocked, measured timed-out`.
  static func verdicts(_ m: PairResult) -> String {
    if let x = m.exactly, x != m.outcome, m.expected.map({ $0 == .reach ? m.outcome.reached : !m.outcome.reached }) != false {
      return "predicted exactly \(x.rawValue), measured \(m.outcome.rawValue)"
    }
    let predicted = m.predicted.map { $0.reached ? "reach" : "blocked" }
    if let d = m.declared, let p = predicted, p != d.rawValue {
      let detail = m.predicted!.reached ? "" : " (\(m.predicted!.rawValue))"
      return "declared \(d.rawValue), predicted \(p)\(detail), measured \(m.outcome.rawValue)"
    }
    if m.declared == nil, m.predicted != nil {
      return "predicted \(m.expected!.rawValue) (no expect line), measured \(m.outcome.rawValue)"
    }
    return "expected \(m.expected!.rawValue), got \(m.outcome.rawValue)"
  }

  /// For large topologies: reached/probed per (source subnet, target subnet), a subnet of
  /// the family probed: a dual-stack LAN has a row and a column for each of its subnets.
  static func subnetTable(_ r: TestReport, topology: Topology) -> String {
    let ends = topology.endsByOwner()
    func group(_ name: String, _ family: IPAddress.Family?) -> String {
      if name == "host" { return family.map { "host (\($0.name))" } ?? "host" }
      let all = ends[.node(name)]?.flatMap(\.addresses) ?? []
      guard let a = family.flatMap({ f in all.first { $0.family == f } }) ?? all.first else { return "(no address)" }
      return topology.subnets.first { $0.prefix.contains(a.address) }?.name ?? a.prefix.description
    }
    let families: [IPAddress.Family?] = r.families.count == 2 ? r.families.map(Optional.some) : [nil]
    var groups: [String] = []
    var groupsOf: [String: [String]] = [:]
    for f in families {
      for e in r.endpoints {
        let g = group(e, f)
        groupsOf[e, default: []].append(g)
        if !groups.contains(g) { groups.append(g) }
      }
    }
    func groupOf(_ name: String, _ family: IPAddress.Family?) -> String? {
      guard let list = groupsOf[name] else { return nil }
      return families.count == 2 && family == .ipv6 ? list[1] : list[0]
    }
    struct Cell {
      var reached = 0
      var total = 0
      var mismatches = 0
    }
    var cells: [String: Cell] = [:]
    for p in r.pairs {
      let key = "\(groupOf(p.source, p.family) ?? "?")>\(groupOf(p.target, p.family) ?? "?")"
      var c = cells[key, default: Cell()]
      c.total += 1
      if p.outcome.reached { c.reached += 1 }
      if p.holds == false { c.mismatches += 1 }
      cells[key] = c
    }
    var rows = [["FROM \\ TO"] + groups]
    for s in groups {
      rows.append([s] + groups.map { t in
        guard let c = cells["\(s)>\(t)"] else { return "" }
        return "\(c.reached)/\(c.total)" + (c.mismatches > 0 ? " ✗\(c.mismatches)" : "")
      })
    }
    var widths = [Int](repeating: 0, count: rows[0].count)
    for row in rows { for (i, c) in row.enumerated() { widths[i] = max(widths[i], c.count) } }
    var out = "\(r.endpoints.count) endpoints: reached/probed pairs by subnet (the full matrix is in --json)\n"
    for row in rows {
      var line = row.enumerated().map { pad($1, widths[$0], left: true) }.joined(separator: "  ")
      while line.last == " " { line.removeLast() }
      out += line + "\n"
    }
    return out
  }

  static func paint(_ m: Mark, _ color: Bool) -> String {
    guard color else { return m.rawValue }
    switch m {
    case .reachedExpected, .reached: return "\u{1B}[32m\(m.rawValue)\u{1B}[0m"
    case .blockedExpected, .notReached: return "\u{1B}[2m\(m.rawValue)\u{1B}[0m"
    case .mismatch: return "\u{1B}[1;31m\(m.rawValue)\u{1B}[0m"
    case .none: return m.rawValue
    }
  }

  static func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, n - s.count))
    return left ? s + fill : fill + s
  }
}
