import Matrix
import TopologyModel

/// What a report shows besides the results: the diagram, where and when, and the path the
/// model predicts for the pairs it lists.
public struct ReportContext: Sendable {
  /// The `graph --results` SVG, or nil when Graphviz or the topology is not at hand.
  public var diagramSVG: String?
  /// When the run was, as the caller words it.
  public var generated: String
  /// The machine (`uname -n`, kernel) and the options (`tcp,udp port 4444, timeout 1 s`).
  public var machine: String
  public var options: String
  /// Endpoint groups for large matrices (a LAN's subnet): name and endpoint names.
  public var groups: [(name: String, members: [String])]
  /// The predicted path of a pair in a tab (`base` or a scenario's name), hop by hop, by
  /// `pathKey`.
  public var paths: [String: String]
  /// Each scenario's own diagram (its links as the scenario leaves them), by scenario name.
  public var scenarioSVGs: [String: String] = [:]

  public init(
    diagramSVG: String? = nil, generated: String = "", machine: String = "", options: String = "",
    groups: [(name: String, members: [String])] = [], paths: [String: String] = [:]
  ) {
    self.diagramSVG = diagramSVG
    self.generated = generated
    self.machine = machine
    self.options = options
    self.groups = groups
    self.paths = paths
  }

  /// The key of `paths` for a pair of a tab.
  public static func pathKey(_ p: PairResult, tab: String = "base") -> String {
    "\(tab)|\(p.source)>\(p.target) \(p.proto.label(Int(p.port))) \(p.family?.rawValue ?? "-")"
  }
}

/// `nstopo report`: one self-contained HTML file (inline CSS, script and SVG; nothing fetched)
/// with the summary, the diagram, the matrix as a heat map whose cells show their pair on
/// hover and its verdicts on click, the mismatch and surprise lists with filters, and a tab
/// per scenario. Pure and deterministic: the same input gives the same bytes. Every name is
/// escaped for HTML, and the data block for a script element, so a hostile node name stays
/// text.
public enum HTMLReport {
  /// Lost and gained pairs listed per scenario tab, at most (each list).
  static let maxChanges = 200

  /// Pairs listed one by one per tab, at most (the heat map still has every cell).
  public static let maxListed = 5_000
  /// Up to this many endpoints, every pair of a cell is in the page; beyond it, the listed
  /// ones (mismatches, surprises) and the cell's mark.
  public static let maxDetailed = 120

  /// Most endpoints the heat map draws: each tab carries one mark per cell, so 4,000 is a
  /// 16 MB map per tab. Beyond, `render` is refused (`tooLarge`).
  public static let maxEndpoints = 4_000

  /// The endpoints drawn: those of the document that some pair names, in its order (a
  /// document that lists more, with no pair, draws nothing more).
  static func endpoints(_ doc: TestDocument) -> [String] {
    var named = Set<String>()
    for p in doc.pairs { named.insert(p.source); named.insert(p.target) }
    for s in doc.scenarios ?? [] { for p in s.pairs { named.insert(p.source); named.insert(p.target) } }
    guard let listed = doc.endpoints else { return named.sorted() }
    return listed.filter { named.contains($0) }
  }

  /// Why the document is too large for a page (its endpoints' square), or nil.
  public static func tooLarge(_ doc: TestDocument) -> String? {
    let n = endpoints(doc).count
    guard n > maxEndpoints else { return nil }
    return "the matrix has \(n) endpoints, more than the report draws (\(maxEndpoints): a heat map of \(maxEndpoints)² cells per tab); the JSON itself has every pair"
  }

  public static func render(_ doc: TestDocument, context: ReportContext = ReportContext()) -> String {
    let endpoints = Self.endpoints(doc)
    var tabs: [(name: String, title: String, pairs: [PairResult], summary: String, passed: Bool, changes: [String])] = [
      ("base", "base", doc.pairs, doc.summary, doc.passed, [])
    ]
    for s in doc.scenarios ?? [] { tabs.append((s.name, "scenario \(s.name)", s.pairs, s.summary, s.passed, s.changes)) }
    let data = JSONText()
    data.object {
      data.field("topology", doc.topology)
      data.field("kind", doc.kind ?? "test")
      data.array("endpoints", endpoints) { data.value($0) }
      data.array("legend", ReportAssets.legend) { l in data.rawArray { data.element(l.0); data.element(l.1); data.element(l.2) } }
      data.array("groups", context.groups) { g in
        data.object {
          data.field("name", g.name)
          let index = Dictionary(endpoints.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
          data.array("members", g.members.compactMap { index[$0] }) { data.value($0) }
        }
      }
      data.array("tabs", tabs.indices.map { $0 }) { k in
        let tab = tabs[k]
        data.object {
          data.field("name", tab.name)
          data.field("title", tab.title)
          data.field("summary", tab.summary)
          data.field("passed", tab.passed)
          data.array("changes", tab.changes) { data.value($0) }
          data.field("marks", marks(tab.pairs, endpoints))
          // "33/33 hold": the pairs held to something, and how many do.
          data.field("expected", tab.pairs.reduce(0) { $0 + ($1.holds == nil ? 0 : 1) })
          data.field("held", tab.pairs.reduce(0) { $0 + ($1.holds == true ? 1 : 0) })
          if k > 0 {
            let d = Differential(before: doc.pairs, after: tab.pairs)
            data.field("differential", d.summary)
            // What the scenario loses and gains, pair by pair, as the terminal lists them.
            data.array("lost", d.lost.prefix(maxChanges).map(\.description)) { data.value($0) }
            data.array("gained", d.gained.prefix(maxChanges).map(\.description)) { data.value($0) }
          }
          let listed = Self.listed(tab.pairs, detailed: endpoints.count <= maxDetailed)
          data.array("pairs", listed) { p in pair(p, data, endpoints: endpoints, path: context.paths[ReportContext.pathKey(p, tab: k == 0 ? "base" : tab.name)]) }
          data.field("listedAll", endpoints.count <= maxDetailed)
        }
      }
    }
    var out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    out += "<title>nstopo \(html(doc.kind == "predict" ? "prediction" : "test")): \(html(doc.topology))</title>\n"
    out += "<style>\n\(ReportAssets.css)</style>\n</head>\n<body>\n"
    out += "<header>\n<h1>\(doc.kind == "predict" ? "Predicted" : "Measured") reachability of <span class=\"name\">\(html(doc.topology))</span></h1>\n"
    out += "<p id=\"summary\" class=\"\(doc.passed ? "pass" : "fail")\">\(html(doc.summary))</p>\n"
    out += "<p class=\"meta\">\(html([context.generated, context.options, context.machine].filter { !$0.isEmpty }.joined(separator: " · ")))</p>\n</header>\n"
    if let svg = context.diagramSVG {
      // The base diagram, and each scenario's: the page shows the one of the tab in view.
      out += "<details id=\"diagram\" open><summary>Diagram</summary>\n<div class=\"svg\" data-tab=\"base\">\(inlineSVG(svg))</div>\n"
      for s in doc.scenarios ?? [] {
        guard let scenario = context.scenarioSVGs[s.name] else { continue }
        out += "<div class=\"svg\" data-tab=\"\(html(s.name))\" hidden>\(inlineSVG(scenario))</div>\n"
      }
      out += "</details>\n"
    }
    out += "<nav id=\"tabs\" role=\"tablist\"></nav>\n"
    out += "<main>\n<section id=\"matrix\">\n<h2 id=\"matrix-title\">Matrix</h2>\n<p id=\"tab-summary\"></p>\n<p id=\"level\"></p>\n"
    out += "<ul id=\"changes\" hidden></ul>\n"
    // The names on the axes: columns above, rows to the left (drawn when they fit).
    out += "<div class=\"heat\"><span></span><canvas id=\"cols\" aria-hidden=\"true\"></canvas><canvas id=\"rows\" aria-hidden=\"true\"></canvas>"
    out += "<canvas id=\"heat\" tabindex=\"0\" aria-label=\"reachability matrix: rows are sources, columns targets\"></canvas><div id=\"tip\" role=\"tooltip\" hidden></div></div>\n"
    out += "<ul class=\"legend\">" + ReportAssets.legend.map { "<li><span class=\"sw\" style=\"background:\($0.1)\"></span>\(html($0.2))</li>" }.joined() + "</ul>\n"
    out += "</section>\n<aside id=\"details\" aria-live=\"polite\"><h2>Pair</h2><p class=\"hint\">Click a cell (or move with the arrow keys and press Enter) to see its pair.</p></aside>\n"
    out += "<section id=\"lists\">\n<h2>Mismatches and surprises</h2>\n<form id=\"filters\" onsubmit=\"return false\">"
    out += "<label>node <input id=\"f-node\" type=\"search\" placeholder=\"any\"></label> "
    out += "<label>outcome <select id=\"f-outcome\"><option value=\"\">any</option>" + Outcome.allCases.map { "<option>\($0.rawValue)</option>" }.joined() + "</select></label> "
    out += "<label>protocol <select id=\"f-proto\"><option value=\"\">any</option><option>tcp</option><option>udp</option><option>icmp</option></select></label> "
    out += "<label>family <select id=\"f-family\"><option value=\"\">any</option><option>ipv4</option><option>ipv6</option></select></label></form>\n"
    out += "<table id=\"list\"><thead><tr><th>kind</th><th>source</th><th>target</th><th>probe</th><th>declared</th><th>predicted</th><th>measured</th><th>why</th></tr></thead><tbody></tbody></table>\n"
    out += "<p id=\"list-count\"></p>\n</section>\n</main>\n"
    out += "<script type=\"application/json\" id=\"data\">\(data.text)</script>\n"
    out += "<script>\n\(ReportAssets.script)</script>\n</body>\n</html>\n"
    return out
  }

  /// The pairs the page lists: every one for small matrices, else the mismatches and
  /// surprises (at most `maxListed`).
  static func listed(_ pairs: [PairResult], detailed: Bool) -> [PairResult] {
    if detailed { return pairs }
    let interesting = pairs.lazy.filter { p in
      p.holds == false || (p.declared != nil && p.holds == true && p.predicted != nil && p.predicted!.reached != p.outcome.reached)
    }
    return Array(interesting.prefix(maxListed))
  }

  /// One character per (source, target) cell, row by row: ` ` self or nothing probed, `v`
  /// reached as expected, `+` reached, `.` blocked as expected, `-` not reached, `x` mismatch,
  /// `!` surprise (the expectation holds, the model disagrees).
  static func marks(_ pairs: [PairResult], _ endpoints: [String]) -> String {
    let n = endpoints.count
    let index = Dictionary(endpoints.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    // 0 nothing, 1 reached, 2 not reached; bit 4 expected, 8 mismatch, 16 surprise.
    var cell = [UInt8](repeating: 0, count: n * n)
    for p in pairs {
      guard let s = index[p.source], let t = index[p.target], p.outcome != .notProbed else { continue }
      let k = s * n + t
      var v = cell[k]
      let reached: UInt8 = p.outcome.reached ? 1 : 2
      v = (v & 3) == 0 ? (v | reached) : ((v & 3) == 1 && reached == 1 ? v : (v & ~3) | 2)
      if p.expected != nil { v |= 4 }
      if p.holds == false { v |= 8 }
      if p.declared != nil && p.holds == true && p.predicted != nil && p.predicted!.reached != p.outcome.reached { v |= 16 }
      cell[k] = v
    }
    var out = [UInt8](repeating: 32, count: n * n)
    for k in cell.indices {
      let v = cell[k]
      out[k] =
        v & 8 != 0 ? 120 /* x */
        : v & 16 != 0 ? 33 /* ! */
        : v & 3 == 1 ? (v & 4 != 0 ? 118 /* v */ : 43 /* + */)
        : v & 3 == 2 ? (v & 4 != 0 ? 46 /* . */ : 45 /* - */) : 32
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// One pair as a compact array: [source, target, proto, port, family, outcome, expected,
  /// declared, predicted, holds (1, 0 or null), latency ms, reason, line, path].
  static func pair(_ p: PairResult, _ d: JSONText, endpoints: [String], path: String?) {
    d.rawArray {
      d.element(endpoints.firstIndex(of: p.source) ?? -1)
      d.element(endpoints.firstIndex(of: p.target) ?? -1)
      d.element(p.proto.rawValue)
      d.element(p.port)
      d.element(p.family?.rawValue)
      d.element(p.outcome.rawValue)
      d.element(p.expected?.json)
      d.element(p.declared?.json)
      d.element(p.predicted?.rawValue)
      d.element(p.holds.map { $0 ? 1 : 0 })
      d.element(p.latencyMs.map { Double(Int($0 * 1000)) / 1000 })
      d.element(p.reason)
      d.element(p.line)
      d.element(path)
    }
  }

  /// An SVG document as an element of the page: without its XML declaration and doctype.
  static func inlineSVG(_ svg: String) -> String {
    let scalars = Array(svg.unicodeScalars)
    let tag = Array("<svg".unicodeScalars)
    guard scalars.count >= tag.count, let start = (0...(scalars.count - tag.count)).first(where: { Array(scalars[$0..<$0 + tag.count]) == tag }) else {
      return ""
    }
    var out = String.UnicodeScalarView()
    out.append(contentsOf: scalars[start...])
    return String(out)
  }

  /// Text for HTML content or a quoted attribute.
  public static func html(_ s: String) -> String { Escaping.html(s, apostrophe: true) }
}
