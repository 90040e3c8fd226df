import TopologyModel

/// Reachability to draw over a topology: measured (`nstopo test --json`) or predicted
/// (`nstopo predict --json`).
public struct Overlay: Sendable {
  public struct FailedExpectation: Hashable, Sendable {
    public var source: String
    public var target: String
    public var detail: String

    public init(source: String, target: String, detail: String) {
      self.source = source
      self.target = target
      self.detail = detail
    }
  }

  public var failed: [FailedExpectation]
  /// Per endpoint: failed expectations it is part of, and expectations it is part of.
  public var perNode: [String: (failed: Int, total: Int)]
  /// From `predict --json` (the model alone), not `test --json`: the legend says so.
  public var predicted: Bool
  /// The nodes where the model says the packets of failed pairs stop, with how many pairs:
  /// the culprit (a router with forwarding off), not only its victims.
  public var culprits: [String: Int]

  public init(
    failed: [FailedExpectation], perNode: [String: (failed: Int, total: Int)], predicted: Bool = false, culprits: [String: Int] = [:]
  ) {
    self.failed = failed
    self.perNode = perNode
    self.predicted = predicted
    self.culprits = culprits
  }
}

/// Renders a topology as Graphviz DOT. Pure and deterministic: the same topology and options
/// give byte-identical text. Every identifier is quoted and escaped, so any name is valid DOT.
///
/// Nodes are boxes (routers bold and orange), bridges are ellipses inside a cluster with their
/// subnet, the host is a house. Hosts that differ only by a number (`h1`..`h100`, same links,
/// routes and settings) are drawn as one group node `h[1..100]` unless `expand` is set.
public enum DOTRenderer {
  public struct Options: Sendable {
    /// Draw every node, even in large ranges.
    public var expand: Bool
    /// Smallest run of identical hosts drawn as one group node.
    public var groupThreshold: Int
    public var overlay: Overlay?
    /// `TB` (the core on top, LANs below) or `LR` (the core on the left).
    public var rankdir: String

    public init(expand: Bool = false, groupThreshold: Int = 6, overlay: Overlay? = nil, rankdir: String = "TB") {
      self.expand = expand
      self.groupThreshold = groupThreshold
      self.overlay = overlay
      self.rankdir = rankdir
    }
  }

  /// Hosts per row in a LAN drawn host by host.
  static let rowWidth = 10

  /// `a -- b -- c`: an order within a layer, which dot keeps for flat edges left to right. Left
  /// to right (`rankdir=LR`) dot turns the drawing, and the first would end at the bottom: the
  /// chain runs the other way there, so that the first is on top.
  static func chain(_ ids: [String], _ options: Options) -> String {
    (options.rankdir == "LR" ? ids.reversed() : ids).joined(separator: " -- ")
  }

  public static func render(_ t: Topology, options: Options = Options()) -> String {
    let groups = options.expand ? t.nodes.map { Group(members: [$0.name], label: $0.name) } : group(t, threshold: options.groupThreshold)
    var groupOf: [String: Int] = [:]
    for (i, g) in groups.enumerated() { for m in g.members { groupOf[m] = i } }
    func id(_ owner: Owner) -> String {
      switch owner {
      case .node(let n): return quote("node:" + groups[groupOf[n]!].label)
      case .bridge(let b): return quote("bridge:" + b)
      case .host: return quote("host")
      }
    }
    // Left to right, edges leave from the interface's row in the node's table
    // (`"node:r1":"p2"`); top to bottom, from the node, with the interface's name at the end.
    let ports = options.rankdir == "LR"
    func endpoint(_ e: LinkEnd) -> String {
      if case .bridge = e.owner { return id(e.owner) }
      if !ports { return id(e.owner) }
      let ends = e.owner == .host ? t.ends(of: .host) : t.ends(of: e.owner)
      let index = ends.firstIndex { $0.interface == e.interface } ?? 0
      return id(e.owner) + ":" + quote("p\(index)")
    }

    var out = "graph \(quote(t.name)) {\n"
    out += "  graph [rankdir=\(options.rankdir == "LR" ? "LR" : "TB"), newrank=true, fontname=\"Helvetica\", label=\(quote("topology \(t.name)")), labelloc=t, fontsize=18, nodesep=0.35, ranksep=0.9, pad=0.3];\n"
    out += "  node [fontname=\"Helvetica\", fontsize=11];\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=9, labelfontsize=8, labelfontcolor=\"#5a6b7c\", labeldistance=1.6, color=\"#667788\", fontcolor=\"#334455\"];\n"

    // Hosts whose every link goes to one bridge sit in that bridge's cluster.
    var home: [Int: String] = [:]
    for (i, g) in groups.enumerated() {
      let bridges = Set(t.ends(of: .node(g.members[0])).compactMap { e -> String? in
        t.links.first { ($0.a == e || $0.b == e) }?.bridge
      })
      let links = t.ends(of: .node(g.members[0])).count
      if bridges.count == 1 && links == 1 { home[i] = bridges.first! }
    }

    let subnetOf = Dictionary(uniqueKeysWithValues: t.subnets.map { ($0.name, $0) })
    for b in t.bridges {
      // One line per subnet: a dual-stack LAN shows both prefixes.
      let subnets = b.subnets.compactMap { subnetOf[$0] }
      out += "  subgraph \(quote("cluster:" + b.name)) {\n"
      out += "    label=\(quote(subnets.isEmpty ? b.name : subnets.map { "\($0.name)  \($0.prefix)" }.joined(separator: "\n"))); style=\"rounded,filled\"; fillcolor=\"#f3f6fa\"; color=\"#a9bccf\"; fontsize=12;\n"
      out += "    \(id(.bridge(b.name))) [label=\(quote(b.name)), shape=ellipse, style=filled, fillcolor=\"#d8e4f0\", color=\"#5a7896\"];\n"
      for (i, g) in groups.enumerated() where home[i] == b.name {
        out += "    " + nodeLine(t, g, id: id(.node(g.members[0])), overlay: options.overlay) + "\n"
      }
      // Its hosts in the file's order, in rows of `rowWidth` (see below).
      let members = groups.indices.filter { home[$0] == b.name }.map { id(.node(groups[$0].members[0])) }
      for row in stride(from: 0, to: members.count, by: Self.rowWidth) where min(members.count, row + Self.rowWidth) - row > 1 {
        out += "    \(chain(Array(members[row..<min(members.count, row + Self.rowWidth)]), options)) [style=invis, constraint=false];\n"
      }
      out += "  }\n"
    }
    for (i, g) in groups.enumerated() where home[i] == nil {
      out += "  " + nodeLine(t, g, id: id(.node(g.members[0])), overlay: options.overlay) + "\n"
    }
    if t.hasHost {
      let rows = t.ends(of: .host).enumerated().map { i, e in interfaceRow(i, e.interface, addressText(e)) }.joined()
      let label = "<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\"><tr><td><b>host</b></td></tr><tr><td><font point-size=\"9\" color=\"#445566\">root namespace</font></td></tr>\(rows)</table>>"
      out += "  \(id(.host)) [label=\(label), shape=house, style=filled, fillcolor=\"#e8e8e8\", color=\"#555555\"\(heat(options.overlay, "host"))];\n"
    }

    let rank = Ranks.of(t)
    // Nodes of one layer in the file's order (left to right; top to bottom with LR), not in
    // the order dot's crossing heuristics happen to leave them (leaves 3, 2, 1, 4): an
    // invisible chain in a `rank=same` set. Nodes inside a LAN's cluster are left to it.
    var layers: [Int: [String]] = [:]
    for (i, g) in groups.enumerated() where home[i] == nil {
      layers[rank[.node(g.members[0])] ?? 0, default: []].append(id(.node(g.members[0])))
    }
    for r in layers.keys.sorted() where layers[r]!.count > 1 {
      out += "  { rank=same; \(chain(layers[r]!, options)) [style=invis]; }\n"
    }
    // A LAN of many hosts drawn one by one (`--expand`) wraps into rows of `rowWidth`, not one
    // row 20,000 points wide: each host sits a row below the one `rowWidth` before it.
    for b in t.bridges {
      let members = groups.indices.filter { home[$0] == b.name }.map { id(.node(groups[$0].members[0])) }
      guard members.count > Self.rowWidth else { continue }
      for k in 0..<(members.count - Self.rowWidth) { out += "  \(members[k]) -- \(members[k + Self.rowWidth]) [style=invis];\n" }
    }

    // One edge per link; a group's links are drawn once, with its member count. Each edge
    // runs from the end nearer the core to the other, so that dot layers them by role; links
    // within a layer do not move the layout.
    var drawn = Set<String>()
    for link in t.links {
      let (ra, rb) = (rank[link.a.owner] ?? 0, rank[link.b.owner] ?? 0)
      let (first, second) = ra <= rb ? (link.a, link.b) : (link.b, link.a)
      let a = endpoint(first)
      let b = endpoint(second)
      let key = "\(a)|\(b)"
      let count: Int
      if case .node(let n) = link.a.owner, groups[groupOf[n]!].members.count > 1 {
        guard drawn.insert(key).inserted else { continue }
        count = groups[groupOf[n]!].members.count
      } else {
        count = 1
      }
      var attrs: [String] = []
      // The label: the group's count, the link's shaping and MTU, and a cross when it is down.
      var words: [String] = []
      if count > 1 { words.append("×\(count)") }
      if !link.isUp { words.append("✕ down") }
      if !link.properties.shapingText.isEmpty { words.append(link.properties.shapingText) }
      if let m = link.properties.mtu { words.append("mtu \(m)") }
      if !words.isEmpty { attrs.append("label=\(quote(words.joined(separator: " ")))") }
      if count > 1 { attrs.append("penwidth=2") }
      if ra == rb { attrs.append("constraint=false") }
      if !ports {
        if case .bridge = first.owner {} else { attrs.append("taillabel=\(quote(first.interface))") }
        if case .bridge = second.owner {} else { attrs.append("headlabel=\(quote(second.interface))") }
      }
      if !link.isUp {
        attrs.append("style=dashed")
        attrs.append("color=\"#9b9b9b\"")
        attrs.append("fontcolor=\"#9b9b9b\"")
      } else if link.bridge == nil {
        attrs.append("color=\"#8a5a00\"")
      }
      out += "  \(a) -- \(b)\(attrs.isEmpty ? "" : " [\(attrs.joined(separator: ", "))]");\n"
    }

    if let overlay = options.overlay {
      // Failed expectations: red dashed, not allowed to move the layout; the label says what
      // failed (at most two different details) and is tied to its arrow.
      var seen: [String: (String, String, [String])] = [:]
      var order: [String] = []
      // An endpoint the topology lacks (stale results) has nothing to draw from.
      let drawn = Set(groupOf.keys).union(t.hasHost ? ["host"] : [])
      for f in overlay.failed where drawn.contains(f.source) && drawn.contains(f.target) {
        let s = f.source == "host" ? id(.host) : id(.node(f.source))
        let d = f.target == "host" ? id(.host) : id(.node(f.target))
        let key = "\(s)>\(d)"
        if let e = seen[key] {
          seen[key] = (e.0, e.1, e.2 + [f.detail])
        } else {
          seen[key] = (s, d, [f.detail])
          order.append(key)
        }
      }
      for key in order {
        let (s, d, details) = seen[key]!
        // `tcp/4444 timed-out` and `tcp/8080 timed-out` read as `tcp/4444, tcp/8080: timed-out`.
        var probes: [String: [String]] = [:]
        var outcomes: [String] = []
        for x in details {
          let parts = x.split(separator: " ", maxSplits: 1).map(String.init)
          let (probe, outcome) = parts.count == 2 ? (parts[0].hasSuffix(":") ? String(parts[0].dropLast()) : parts[0], parts[1]) : ("", x)
          if probes[outcome] == nil { outcomes.append(outcome) }
          if !(probes[outcome]?.contains(probe) ?? false) { probes[outcome, default: []].append(probe) }
        }
        let lines = outcomes.map { o in (probes[o]!.filter { !$0.isEmpty }.joined(separator: ", ") + ": " + o) }
        var label = lines.prefix(2).joined(separator: "\n")
        if lines.count > 2 { label += "\n+\(lines.count - 2) more" }
        // At the arrow's head, one line per probe and outcome: several failures from one node
        // land at their own targets instead of on one line over each other, and a head label
        // is no node of the layout (a mid-edge label across clusters made dot lose edges).
        var head = outcomes.prefix(2).map { o in probes[o]!.filter { !$0.isEmpty }.joined(separator: ", ") + ":\n" + o }.joined(separator: "\n")
        if lines.count > 2 { head += "\n+\(lines.count - 2) more" }
        out += "  \(s) -- \(d) [color=\"#d0021b\", style=dashed, penwidth=2, dir=forward, arrowhead=normal, constraint=false, headlabel=\(quote(head)), labeldistance=2.4, labelangle=-30, labelfontcolor=\"#b00016\", labelfontsize=8];\n"
      }
      out += legend(overlay)
    }
    out += "}\n"
    return out
  }

  // MARK: nodes

  struct Group {
    var members: [String]
    var label: String
  }

  /// Runs of hosts that differ only by their trailing number, with identical links (to the
  /// same bridges or nodes), routes (by next-hop node) and settings.
  static func group(_ t: Topology, threshold: Int) -> [Group] {
    func signature(_ n: Node) -> String? {
      if n.forward || n.cpuPercent != nil || n.chroot != nil || !n.run.isEmpty { return nil }
      let ends = t.ends(of: .node(n.name))
      let links = ends.map { e -> String in
        let link = t.links.first { $0.a == e || $0.b == e }!
        let other = link.a == e ? link.b : link.a
        return "\(e.interface)>\(other.owner)\(link.isUp ? "" : " down") \(link.properties.text)"
      }
      let routes = n.routes.map { r -> String in
        switch r.nextHop {
        case .gateway(let gw, let node): return "\(r.destination)>\(node ?? gw.description)"
        default: return "\(r.destination)>\(r.nextHop)"
        }
      }
      // Hosts with the same rules group; rules naming the hosts themselves differ per host.
      let rules = n.firewall.map { f in
        Firewall.Chain.allCases.map { "\($0):\(f.policy($0)?.action.rawValue ?? "-")" }.joined() + f.rules.map(\.text).joined(separator: ";")
      } ?? ""
      return links.joined(separator: ",") + "|" + routes.joined(separator: ",") + "|" + rules
    }
    func split(_ name: String) -> (String, Int)? {
      let digits = name.reversed().prefix { $0.isNumber && $0.isASCII }
      guard !digits.isEmpty, digits.count < name.count, digits.count <= 6, let v = Int(String(digits.reversed())) else { return nil }
      return (String(name.dropLast(digits.count)), v)
    }
    var result: [Group] = []
    var buckets: [String: Int] = [:]
    for n in t.nodes {
      guard let sig = signature(n), let (prefix, _) = split(n.name) else {
        result.append(Group(members: [n.name], label: n.name))
        continue
      }
      let key = prefix + "\u{0}" + sig
      if let i = buckets[key] {
        result[i].members.append(n.name)
      } else {
        buckets[key] = result.count
        result.append(Group(members: [n.name], label: n.name))
      }
    }
    var final: [Group] = []
    for g in result {
      if g.members.count >= threshold {
        let nums = g.members.compactMap { split($0)?.1 }
        let prefix = split(g.members[0])!.0
        let contiguous = nums == Array(nums.first!...nums.first! + nums.count - 1)
        let label = contiguous ? "\(prefix)[\(nums.first!)..\(nums.last!)]" : "\(prefix)* (\(nums.count))"
        final.append(Group(members: g.members, label: label))
      } else {
        final += g.members.map { Group(members: [$0], label: $0) }
      }
    }
    return final
  }

  /// An end's addresses, IPv4 first; nil when it has none.
  static func addressText(_ e: LinkEnd) -> String? {
    e.addresses.isEmpty ? nil : e.addresses.map(\.description).joined(separator: ", ")
  }

  static func nodeLine(_ t: Topology, _ g: Group, id: String, overlay: Overlay?) -> String {
    let n = t.node(named: g.members[0])!
    var details: [String] = []
    if g.members.count > 1 {
      let addrs = g.members.compactMap { t.ends(of: .node($0)).first?.addresses.first?.address }
      if let lo = addrs.min(), let hi = addrs.max() { details.append("\(g.members.count) hosts, \(lo) – \(hi)") }
    }
    if n.forward { details.append("router (forward)") }
    if let c = n.cpuPercent { details.append("cpu \(c)%") }
    if let r = n.chroot { details.append("chroot \(r.split(separator: "/").last.map(String.init) ?? r)") }
    for r in n.run.prefix(2) { details.append("run \(r.count > 28 ? String(r.prefix(27)) + "…" : r)") }
    // A firewall: a shield with the rule count and the policies that refuse; the rules in the
    // tooltip (SVG).
    var tooltip: String?
    var firewallLine: String?
    if let f = n.firewall {
      let policies = Firewall.Chain.allCases.compactMap { c in f.policy(c).flatMap { $0.action == .accept ? nil : "\(c.rawValue) \($0.action.rawValue)" } }
      firewallLine = "firewall: \(f.rules.count) rule\(f.rules.count == 1 ? "" : "s")" + (policies.isEmpty ? "" : ", " + policies.joined(separator: ", "))
      tooltip = (policies.map { "firewall \($0)" } + f.rules.map { "line \($0.line): \($0.text)" }).joined(separator: "\n")
      if f.rules.isEmpty && policies.isEmpty { firewallLine = nil }
      for m in f.masquerade { details.append("masquerade \(m.interface)") }
      for d in f.dnat { details.append("dnat \(d.proto.rawValue) \(d.port) → \(d.targetText)") }
    }
    var label = "<<table border=\"0\" cellborder=\"0\" cellspacing=\"0\"><tr><td><b>\(html(g.label))</b></td></tr>"
    for d in details { label += "<tr><td><font point-size=\"9\" color=\"#445566\">\(html(d))</font></td></tr>" }
    if let f = firewallLine { label += "<tr><td><font point-size=\"9\" color=\"#a02828\"><b>◆</b> \(html(f))</font></td></tr>" }
    for (i, e) in t.ends(of: .node(n.name)).enumerated() {
      var addr = addressText(e)
      if g.members.count > 1 { addr = e.addresses.isEmpty ? nil : e.addresses.map { "/\($0.length)" }.joined(separator: ", ") }
      label += interfaceRow(i, e.interface, addr)
    }
    // The culprit: where the model says the packets of failed pairs stop.
    let stops = g.members.compactMap { overlay?.culprits[$0] }.max()
    if let stops {
      label += "<tr><td><font point-size=\"10\" color=\"#7a0010\"><b>■ \(stops) failed pair\(stops == 1 ? "" : "s") stop here</b></font></td></tr>"
    }
    label += "</table>>"
    var style = "rounded,filled"
    var fill = g.members.count > 1 ? "#eef3e6" : "#ffffff"
    var color = "#446688"
    if n.forward {
      style += ",bold"
      fill = "#ffe7c2"
      color = "#b06b00"
    }
    var attrs = "label=\(label), shape=box, style=\(quote(style)), fillcolor=\(quote(fill)), color=\(quote(color))"
    if g.members.count > 1 { attrs += ", peripheries=2" }
    if let tooltip { attrs += ", tooltip=\(quote(tooltip))" }
    let h = g.members.map { heatValue(overlay, $0) }
    if let worst = h.compactMap({ $0 }).max() { attrs += heatAttributes(worst) }
    if stops != nil {
      attrs += ", color=\"#7a0010\", penwidth=4"
      if h.compactMap({ $0 }).isEmpty { attrs += ", fillcolor=\"#fff1c2\"" }
    }
    return "\(id) [\(attrs)];"
  }

  /// One interface of a node: its name and address, with the port its edge attaches to.
  static func interfaceRow(_ index: Int, _ name: String, _ address: String?) -> String {
    let text = address.map { "\(name)  \($0)" } ?? name
    return "<tr><td port=\"p\(index)\" align=\"left\"><font point-size=\"9\" face=\"monospace\">\(html(text))</font></td></tr>"
  }

  // MARK: overlay

  static func heatValue(_ overlay: Overlay?, _ name: String) -> Double? {
    guard let o = overlay, let p = o.perNode[name], p.failed > 0 else { return nil }
    return Double(p.failed) / Double(max(1, p.total))
  }

  static func heat(_ overlay: Overlay?, _ name: String) -> String {
    heatValue(overlay, name).map(heatAttributes) ?? ""
  }

  /// The share of a node's expectations that failed, as a fill light enough for its text to
  /// stay readable and a border that darkens and thickens with the share.
  static func heatAttributes(_ fraction: Double) -> String {
    let (fill, border, width) = heatColors(fraction)
    return ", fillcolor=\(quote(fill)), color=\(quote(border)), penwidth=\(width)"
  }

  static func heatColors(_ fraction: Double) -> (fill: String, border: String, width: Int) {
    switch fraction {
    case ..<0.25: return ("#fdeceb", "#e8a09a", 1)
    case ..<0.5: return ("#fbd3ce", "#e0605a", 2)
    case ..<0.75: return ("#f8bdb6", "#d0021b", 2)
    default: return ("#f5a69d", "#a00012", 3)
    }
  }

  static func legend(_ o: Overlay) -> String {
    let failedCount = o.failed.count
    var rows = "<tr><td colspan=\"2\"><b>\(o.predicted ? "predicted" : "measured") reachability</b></td></tr>"
    rows += "<tr><td><font color=\"#d0021b\">- - -&gt;</font></td><td align=\"left\">failed expectation (\(failedCount)): probe and outcome</td></tr>"
    for (f, text) in [(0.1, "a few of the node's expectations failed"), (0.6, "half or more failed"), (0.9, "most failed")] {
      let c = heatColors(f)
      rows += "<tr><td bgcolor=\"\(c.fill)\" color=\"\(c.border)\" border=\"\(c.width)\" sides=\"ltrb\">    </td><td align=\"left\">\(text)</td></tr>"
    }
    if !o.culprits.isEmpty {
      rows += "<tr><td><font color=\"#7a0010\"><b>■</b></font></td><td align=\"left\">where the model says the packets stop</td></tr>"
    }
    return "  \(quote("legend")) [shape=plaintext, fontsize=10, label=<<table border=\"1\" cellborder=\"0\" cellspacing=\"2\" color=\"#999999\">\(rows)</table>>];\n"
  }

  // MARK: escaping

  /// A DOT double-quoted string: `"` and `\` escaped, newlines as `\n`.
  public static func quote(_ s: String) -> String {
    var out = "\""
    for c in s.unicodeScalars {
      switch c {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": break
      default: out.unicodeScalars.append(c)
      }
    }
    return out + "\""
  }

  /// Text inside an HTML-like label.
  public static func html(_ s: String) -> String { Escaping.html(s) }
}
