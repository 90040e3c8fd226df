import TopologyDSL
import TopologyModel
import Yams

/// `nstopo import FILE.clab.yml`: a containerlab topology file as an equivalent `.topo`.
///
/// Read as containerlab reads it: a node's settings come from the node, else its group, else
/// its kind's entry under `kinds`, else `defaults`. `kind: linux` nodes become nodes,
/// `kind: bridge` bridges, `host:IF` endpoints host ends. `exec:` lines are read for what
/// they mean (addresses, routes, forwarding); any other line becomes a `run` line. What has
/// no equivalent (images, binds, management network…) is dropped with one located warning
/// each, and a node of another kind (a router OS) is an empty namespace, with a warning.
public enum ClabImport {
  public struct Result: Sendable {
    /// The `.topo` text; nil when the file has errors.
    public var text: String?
    /// Errors and warnings, located in the YAML file.
    public var diagnostics: [Diagnostic]
  }

  /// Settings nstopo reads; every other key of a node is dropped with a warning.
  static let read: Set<String> = ["kind", "group", "exec", "cpu", "sysctls"]

  /// What `nstopo import` does with a file, against its contract: text and no error, or
  /// errors and no text; what it writes loads. The problems found (none: kept). For the
  /// importer's fuzzer (`nstopo-fuzz --import`) and its regression tests.
  public static func contractProblems(_ bytes: [UInt8]) -> (problems: [String], diagnostics: Int) {
    let r = convert(yaml: String(decoding: bytes, as: UTF8.self), fileName: "fuzz.clab.yml")
    var problems: [String] = []
    if let text = r.text {
      if r.diagnostics.hasErrors { problems.append("text despite errors") }
      _ = TopologyLoader.load(text: text, fileName: "imported.topo").rendered
    } else if !r.diagnostics.hasErrors {
      problems.append("no text and no error")
    }
    return (problems, r.diagnostics.count)
  }

  public static func convert(yaml: String, fileName: String) -> Result {
    var c = Converter(fileName: fileName)
    let text = c.run(yaml)
    return Result(text: c.diagnostics.hasErrors ? nil : text, diagnostics: c.diagnostics)
  }
}

/// One end of a link as containerlab names it.
struct ClabEnd: Hashable {
  var node: String
  var interface: String
}

/// What the exec lines and settings of one node say.
struct ClabNode {
  var name: String
  var kind: String
  var forward = false
  var cpuPercent: Int?
  /// Addresses per interface, in order.
  var addresses: [String: [InterfaceAddress]] = [:]
  var routes: [String] = []
  var run: [String] = []
  /// Link properties the exec lines set on an interface, as `.topo` tail words
  /// (`mtu 1400`, `rate 20mbit`, `down`).
  var properties: [String: [String]] = [:]
  var line: Int
}

struct Converter {
  let fileName: String
  var diagnostics: [Diagnostic] = []
  /// Warnings already given, so a setting of a group or kind warns once, not per node.
  var warned = Set<String>()
  /// Lines where a warning's message came again, by the warning's index.
  var repeats: [Int: [Int]] = [:]

  init(fileName: String) { self.fileName = fileName }

  mutating func error(_ message: String, _ node: Yams.Node?, hint: String? = nil) {
    // What the file says goes into messages (keys, names): never raw control characters,
    // which would start lines of their own in the `.topo`'s header or in a terminal.
    let message = Escaping.commentText(message)
    let hint = hint.map(Escaping.commentText)
    let m = node?.mark
    diagnostics.append(Diagnostic(.error, message, line: m?.line ?? 0, column: m?.column ?? 1, length: length(node), hint: hint))
  }

  /// One warning per message: the same message again (`image` on every node) adds its line
  /// to the first one's note.
  mutating func warning(_ message: String, _ node: Yams.Node?, hint: String? = nil) {
    let message = Escaping.commentText(message)
    let hint = hint.map(Escaping.commentText)
    let m = node?.mark
    let key = "\(m?.line ?? 0):\(m?.column ?? 0):\(message)"
    guard warned.insert(key).inserted else { return }
    if let i = diagnostics.firstIndex(where: { $0.severity == .warning && $0.message == message }), let line = m?.line {
      repeats[i, default: []].append(line)
      let lines = repeats[i]!
      diagnostics[i].note = "also on line\(lines.count == 1 ? "" : "s") \(lines.map(String.init).joined(separator: ", "))"
      return
    }
    diagnostics.append(Diagnostic(.warning, message, line: m?.line ?? 0, column: m?.column ?? 1, length: length(node), hint: hint))
  }

  func length(_ node: Yams.Node?) -> Int {
    if let s = node?.scalar { return max(1, s.string.count) }
    return 1
  }

  mutating func run(_ yaml: String) -> String {
    // An alias as a mapping key makes the YAML reader hash the whole expansion to find
    // duplicate keys: exponential for an alias of aliases (a 431-byte file never finished).
    // Looked for first in a copy whose aliases are plain words, which reads in linear time.
    // A file that copy cannot be read as is not read further either: the reader's errors
    // are the same, and reading the aliases could take forever before them.
    guard let neutral = compose(Self.aliasesAsWords(yaml)) else { return "" }
    if let n = neutral, let key = Self.aliasKey(n) {
      error("an alias (`*name`) as a mapping key has no place in a containerlab topology", key,
        hint: "write the key out; aliases are for values (`<<: *defaults`)")
      return ""
    }
    guard let composed = compose(yaml) else { return "" }
    guard let root = composed else {
      error("the file is empty: a containerlab topology has `name:` and `topology:`", nil)
      return ""
    }
    // Aliases make a tree of their own size grow without bound when expanded (a key that is
    // an alias of an alias…): every later look-up would walk it. Refused past a bound.
    var budget = Self.maxExpandedNodes
    guard Self.fits(root, &budget) else {
      error("the file expands to more than \(Self.maxExpandedNodes) YAML nodes through its aliases (`*name`)", root,
        hint: "a containerlab topology is far smaller: write the repeated parts out, or use `<<: *defaults` merges sparingly")
      return ""
    }
    guard let top = root.mapping else {
      error("a containerlab topology is a mapping with `name:` and `topology:`", root)
      return ""
    }
    for (k, v) in top where !["name", "topology"].contains(k.string ?? "") {
      warning("'\(k.string ?? "?")' has no equivalent in nstopo (\(what(k.string ?? ""))); dropped", k)
      _ = v
    }
    guard let nameNode = top["name"], let name = nameNode.string, !name.isEmpty else {
      error("the topology has no `name:`", root, hint: "containerlab requires one; nstopo keeps it as the topology's name")
      return ""
    }
    if let problem = NameRules.topologyProblem(name) {
      error("'\(name)' is not a topology name for nstopo: it \(problem)", nameNode)
    }
    guard let topology = top["topology"]?.mapping else {
      error("no `topology:` mapping with `nodes:`", top["topology"] ?? root)
      return ""
    }
    for (k, _) in topology where !["nodes", "links", "defaults", "kinds", "groups"].contains(k.string ?? "") {
      warning("topology.\(k.string ?? "?") has no equivalent in nstopo; dropped", k)
    }
    let defaults = topology["defaults"]?.mapping
    let kinds = topology["kinds"]?.mapping
    let groups = topology["groups"]?.mapping
    guard let nodesNode = topology["nodes"], let nodes = nodesNode.mapping else {
      error("no `topology.nodes:` mapping", topology["nodes"] ?? root)
      return ""
    }
    // Nodes, each resolved through group, kind and defaults.
    var clabNodes: [ClabNode] = []
    var bridges: [String] = []
    // `NAME|PARENT`: a bridge containerlab creates inside PARENT's namespace.
    var namespacedBridges: [String: String] = [:]
    for (k, v) in nodes {
      guard let n = k.string else { continue }
      let parts = n.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
      if parts.count == 2, ["bridge", "ovs-bridge"].contains(v.mapping?["kind"]?.string ?? ""), NameRules.nodeProblem(parts[0]) == nil {
        let taken = Set(nodes.compactMap { $0.key.string }).union(namespacedBridges.values)
        let name = taken.contains(parts[0]) ? "\(parts[0])-\(parts[1])" : parts[0]
        if NameRules.nodeProblem(name) == nil {
          warning(
            "bridge '\(n)' lives inside \(parts[1])'s namespace in containerlab: imported as bridge '\(name)' in a namespace of its own (\(parts[1]) is not a port of it; link it to give it an address there)",
            k)
          namespacedBridges[n] = name
          bridges.append(name)
          continue
        }
      }
      // A name reaches the `.topo` as it is: only names the language takes.
      if let problem = NameRules.nodeProblem(n) {
        error("'\(n)' is not a node name for nstopo: it \(problem)", k, hint: "rename the node in the containerlab file")
        continue
      }
      let settings = v.mapping ?? Yams.Node.Mapping([])
      // The node's group, or the one `defaults:` gives every node.
      let groupNode = settings["group"] ?? defaults?["group"]
      let group = groupNode?.string.flatMap { g -> Yams.Node.Mapping? in
        guard let m = groups?[g]?.mapping else {
          error("node '\(n)' is in group '\(g)', which `topology.groups` does not define", groupNode)
          return nil
        }
        return m
      }
      func lookup(_ key: String, kind: String?) -> Yams.Node? {
        settings[key] ?? group?[key] ?? kind.flatMap { kinds?[$0]?.mapping?[key] } ?? defaults?[key]
      }
      let kind = lookup("kind", kind: nil)?.string ?? ""
      routingDaemon(node: n, binds: lookup("binds", kind: kind), image: lookup("image", kind: kind))
      let layers: [Yams.Node.Mapping?] = [settings, group, kinds?[kind]?.mapping, defaults]
      for layer in layers {
        for (key, _) in layer ?? Yams.Node.Mapping([]) where !ClabImport.read.contains(key.string ?? "") {
          warning("'\(key.string ?? "?")' has no equivalent in nstopo (\(what(key.string ?? ""))); dropped", key)
        }
      }
      switch kind {
      case "bridge", "ovs-bridge":
        if kind == "ovs-bridge" { warning("node '\(n)': an Open vSwitch bridge is imported as a Linux bridge", settings["kind"] ?? k) }
        bridges.append(n)
        continue
      case "linux":
        break
      case "":
        error("node '\(n)' has no kind (in the node, its group, or `topology.defaults`)", k, hint: "containerlab needs one; `kind: linux` is a plain namespace")
        continue
      default:
        warning(
          "node '\(n)' is of kind '\(kind)', not plain Linux: imported as an empty namespace (its configuration has no equivalent in nstopo)",
          lookup("kind", kind: nil) ?? k)
      }
      var node = ClabNode(name: n, kind: kind, line: k.mark?.line ?? 0)
      if kind == "linux" {
        for line in lookup("exec", kind: kind)?.sequence ?? [] {
          guard let text = line.string else { continue }
          exec(text, into: &node, at: line)
        }
        if let cpu = lookup("cpu", kind: kind) {
          if let v = cpu.string.flatMap(Double.init), v > 0 {
            node.cpuPercent = Int((v * 100).rounded())
          } else {
            error("cpu must be a number of CPUs, such as 1.5", cpu)
          }
        }
        for (key, value) in lookup("sysctls", kind: kind)?.mapping ?? Yams.Node.Mapping([]) {
          if isForwarding(key.string ?? ""), value.string == "1" {
            node.forward = true
          } else {
            warning("sysctl \(key.string ?? "?") has no equivalent in nstopo; dropped", key)
          }
        }
      }
      clabNodes.append(node)
    }
    // Links.
    var pairs: [(ClabEnd, ClabEnd, Yams.Node, Int?)] = []
    let (nodeNames, bridgeNames) = (Set(clabNodes.map(\.name)), Set(bridges))
    for item in topology["links"]?.sequence ?? [] {
      if var p = link(item, nodes: nodeNames, bridges: bridgeNames, renamed: namespacedBridges) {
        p.0.node = namespacedBridges[p.0.node] ?? p.0.node
        p.1.node = namespacedBridges[p.1.node] ?? p.1.node
        pairs.append(p)
      }
    }
    return render(name: name, nodes: clabNodes, bridges: bridges, links: pairs)
  }

  static let aliasWord = "nstopo-alias--"

  /// `yaml` with every alias (`*name` where a node starts) written as the plain word
  /// `nstopo-alias--name`: the same structure, nothing to expand.
  static func aliasesAsWords(_ yaml: String) -> String {
    var out = ""
    out.reserveCapacity(yaml.utf8.count)
    var previous: Character = "\n"
    var iterator = yaml.makeIterator()
    var next = iterator.next()
    while let c = next {
      next = iterator.next()
      if c == "*", " \t\n[{,:-?".contains(previous), let n = next, !" \t\n,[]{}".contains(n) {
        out += aliasWord
      } else {
        out.append(c)
      }
      previous = c
    }
    return out
  }

  /// The first mapping key (in a tree read by `aliasesAsWords`) that is or holds an alias.
  static func aliasKey(_ node: Yams.Node) -> Yams.Node? {
    func holdsAlias(_ n: Yams.Node) -> Bool {
      if let s = n.scalar { return s.string.hasPrefix(aliasWord) }
      if let m = n.mapping { return m.contains { holdsAlias($0.key) || holdsAlias($0.value) } }
      return n.sequence?.contains(where: holdsAlias) ?? false
    }
    if let m = node.mapping {
      for (k, v) in m {
        if holdsAlias(k) { return k }
        if let found = aliasKey(v) { return found }
      }
    } else if let q = node.sequence {
      for v in q { if let found = aliasKey(v) { return found } }
    }
    return nil
  }

  /// Most YAML nodes a file may expand to, aliases followed.
  static let maxExpandedNodes = 200_000

  /// Whether `node`, aliases expanded, has at most `budget` nodes (counted down as it goes,
  /// so a bomb stops at the bound instead of being walked).
  static func fits(_ node: Yams.Node, _ budget: inout Int) -> Bool {
    budget -= 1
    if budget < 0 { return false }
    if let m = node.mapping {
      for (k, v) in m where !fits(k, &budget) || !fits(v, &budget) { return false }
    } else if let q = node.sequence {
      for v in q where !fits(v, &budget) { return false }
    }
    return true
  }

  /// `Yams.compose`: the document (nil inside: an empty file), or nil after its error,
  /// located, was reported.
  mutating func compose(_ text: String) -> Yams.Node?? {
    do {
      return .some(try Yams.compose(yaml: text))
    } catch let e as YamlError {
      located(e)
    } catch {
      self.error("not YAML: \(error)", nil)
    }
    return nil
  }

  /// A located error from the YAML parser itself.
  mutating func located(_ e: YamlError) {
    switch e {
    case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
      diagnostics.append(Diagnostic(.error, "malformed YAML: \(problem)", line: mark.line, column: mark.column))
    default:
      diagnostics.append(Diagnostic(.error, "malformed YAML: \(e)", line: 0, column: 1))
    }
  }

  /// A node whose routing lived in a daemon's configuration (FRR, BIRD) that a bind brings
  /// in: one located warning per such bind, or one at the image, since the node imports
  /// without the routes the daemon would have learned.
  mutating func routingDaemon(node n: String, binds: Yams.Node?, image: Yams.Node?) {
    let daemons = ["frr": "FRR", "bird": "BIRD", "gobgp": "GoBGP", "exabgp": "ExaBGP"]
    func daemon(_ text: String) -> String? { daemons.first { text.lowercased().contains($0.key) }?.value }
    var said = false
    for b in binds?.sequence ?? [] {
      guard let text = b.string, let d = daemon(text) else { continue }
      warning("node '\(n)' binds '\(text)': its routing lived in that \(d) configuration, which nstopo does not read; the node imports without the routes \(d) would learn (give it `route` lines)", b)
      said = true
    }
    if !said, let i = image, let text = i.string, let d = daemon(text) {
      warning("node '\(n)' runs \(d) (image \(text)): its routing has no equivalent in nstopo yet; the node imports without the routes \(d) would learn (give it `route` lines)", i)
    }
  }

  /// Why a key has no equivalent, in a few words.
  func what(_ key: String) -> String {
    switch key {
    case "image": return "nodes are namespaces of this machine, not containers"
    case "mgmt", "mgmt-ipv4", "mgmt-ipv6", "network-mode": return "there is no management network"
    case "binds", "env", "ports", "publish", "cmd", "entrypoint", "user", "labels": return "a container setting"
    case "startup-config", "license", "enforce-startup-config", "type": return "a network OS's setting"
    default: return "not a namespace, link, address or route"
    }
  }

  /// A sysctl setting nstopo makes itself where it matters: addresses usable at once (no
  /// DAD, no autoconfiguration), IPv6 on, addresses kept on a down link, no ICMP rate limit,
  /// conntrack's short TCP close.
  func isImplied(_ setting: String) -> Bool {
    let kv = setting.split(separator: "=", maxSplits: 1).map(String.init)
    guard kv.count == 2 else { return false }
    let (key, value) = (kv[0], kv[1])
    let parts = key.split(separator: ".")
    if parts.count == 5, parts[0] == "net", parts[1] == "ipv6", parts[2] == "conf" {
      switch parts[4] {
      case "accept_dad", "accept_ra", "autoconf": return value == "0"
      case "keep_addr_on_down": return value == "1"
      case "disable_ipv6": return value == "0"
      default: return false
      }
    }
    return ["net.ipv4.icmp_ratemask=0", "net.ipv6.icmp.ratelimit=0", "net.netfilter.nf_conntrack_tcp_timeout_close=1"].contains(setting)
  }

  func isForwarding(_ key: String) -> Bool {
    ["net.ipv4.ip_forward", "net.ipv4.conf.all.forwarding", "net.ipv6.conf.all.forwarding"].contains(key)
  }

  /// One `exec:` line: addresses, routes and forwarding are read; `ip link set … up` is what
  /// nstopo does anyway; everything else runs as it is.
  mutating func exec(_ line: String, into node: inout ClabNode, at source: Yams.Node) {
    if line.contains("\n") {
      warning("an exec line of several lines (a script, a firewall ruleset) has no equivalent in nstopo: a `run` line is one line; dropped", source)
      return
    }
    if line.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || (0x7F...0x9F).contains($0.value) || $0.value == 0x2028 || $0.value == 0x2029 }) {
      warning("an exec line with a control character has no equivalent in nstopo (a `run` line is plain text); dropped", source)
      return
    }
    // A `run` line as `nstopo export` writes it (in the background): the line itself.
    if let command = ClabExport.foreground(line) {
      node.run.append(command)
      return
    }
    let w = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    var words = w
    var family: IPAddress.Family?
    if words.first == "ip" {
      words.removeFirst()
      while let f = words.first, f.hasPrefix("-") {
        if f == "-4" { family = .ipv4 } else if f == "-6" { family = .ipv6 }
        words.removeFirst()
      }
      let object = words.first ?? ""
      let verb = words.count > 1 ? words[1] : ""
      if ["a", "addr", "address"].contains(object), ["add", "replace"].contains(verb), words.count >= 5, words[3] == "dev",
        let a = InterfaceAddress(words[2]), family == nil || a.family == family
      {
        node.addresses[words[4], default: []].append(a)
        return
      }
      // What an nstopo export writes first: containerlab's management default routes removed
      // (an nstopo node has none).
      if ["r", "ro", "route"].contains(object), verb == "flush", words.count == 4, words[2] == "exact", ["0.0.0.0/0", "::/0", "default"].contains(words[3]) {
        return
      }
      if ["r", "ro", "route"].contains(object), ["add", "replace"].contains(verb), words.count >= 3 {
        let destination = words[2]
        if let via = words.firstIndex(of: "via"), via + 1 < words.count, IPAddress(words[via + 1]) != nil,
          destination == "default" || IPPrefix(destination) != nil || IPAddress(destination) != nil
        {
          let d = destination == "default" && (family == .ipv6 || IPAddress(words[via + 1])?.family == .ipv6) ? "::/0" : destination
          node.routes.append("\(d) via \(words[via + 1])")
          return
        }
        if ["blackhole", "unreachable", "prohibit"].contains(destination), words.count >= 4,
          words[3] == "default" || IPPrefix(words[3]) != nil || IPAddress(words[3]) != nil
        {
          node.routes.append("\(words[3]) \(destination)")
          return
        }
        warning("'\(line)' is a route nstopo cannot model (no `via`): kept as a `run` line, which the model cannot see", source)
      }
      if object == "link", verb == "set", words.count >= 4 {
        let rest = Array(words[2...].filter { $0 != "dev" })
        let interface = rest[0]
        if rest.count == 2 && rest[1] == "up" { return }
        if rest.count == 2 && rest[1] == "down" {
          node.properties[interface, default: []].append("down")
          return
        }
        if rest.count == 3 && rest[1] == "mtu", Int(rest[2]) != nil {
          node.properties[interface, default: []].append("mtu \(rest[2])")
          return
        }
      }
    }
    // `tc qdisc add|replace dev IF root|parent … tbf rate R …` or `… netem delay D [J] loss P`.
    if w.first == "tc", w.count > 5, w[1] == "qdisc", ["add", "replace"].contains(w[2]), w[3] == "dev" {
      let interface = w[4]
      var tail: [String] = []
      func value(after key: String) -> String? { w.firstIndex(of: key).flatMap { $0 + 1 < w.count ? w[$0 + 1] : nil } }
      if w.contains("tbf"), let r = value(after: "rate") { tail.append("rate \(r)") }
      if w.contains("netem") {
        if let i = w.firstIndex(of: "delay"), i + 1 < w.count {
          tail.append("delay \(w[i + 1])")
          if i + 2 < w.count, w[i + 2].first?.isNumber == true { tail.append("jitter \(w[i + 2])") }
        }
        if let l = value(after: "loss") { tail.append("loss \(l)") }
      }
      if !tail.isEmpty {
        node.properties[interface, default: []] += tail
        return
      }
    }
    if w.first == "sysctl" {
      let settings = w.dropFirst().filter { !$0.hasPrefix("-") }
      if !settings.isEmpty, settings.allSatisfy({ s in
        let kv = s.split(separator: "=", maxSplits: 1).map(String.init)
        return kv.count == 2 && isForwarding(kv[0]) && kv[1] == "1"
      }) {
        node.forward = true
        return
      }
      // What nstopo sets in every node of its own (an export writes them out): dropped.
      if !settings.isEmpty, settings.allSatisfy({ isImplied(String($0)) }) { return }
    }
    node.run.append(line)
  }

  /// One item of `links:`: the short form (`endpoints: ["a:eth1", "b:eth1"]`) or the extended
  /// one (`type: veth` with `endpoints: [{node, interface}]`, `type: host`).
  mutating func link(_ item: Yams.Node, nodes: Set<String>, bridges: Set<String>, renamed: [String: String] = [:]) -> (ClabEnd, ClabEnd, Yams.Node, Int?)? {
    guard let m = item.mapping else {
      error("a link is a mapping with `endpoints:`", item)
      return nil
    }
    let type = m["type"]?.string ?? "veth"
    var ends: [ClabEnd] = []
    var sources: [Yams.Node] = []
    switch type {
    case "veth":
      for e in m["endpoints"]?.sequence ?? [] {
        if let s = e.string {
          let parts = s.split(separator: ":", maxSplits: 1).map(String.init)
          guard parts.count == 2 else {
            error("endpoint '\(s)' is not NODE:INTERFACE", e)
            return nil
          }
          ends.append(ClabEnd(node: parts[0], interface: parts[1]))
          sources.append(e)
        } else if let em = e.mapping, let n = em["node"]?.string, let i = em["interface"]?.string {
          ends.append(ClabEnd(node: n, interface: i))
          sources.append(em["node"]!)
          for (key, _) in em where !["node", "interface"].contains(key.string ?? "") {
            let why = key.string == "mac" ? "nstopo gives every interface a MAC of its own, derived from the topology's name" : "an endpoint is a node and an interface"
            warning("endpoint setting '\(key.string ?? "?")' has no equivalent in nstopo (\(why)); dropped", key)
          }
        } else {
          error("an endpoint is NODE:INTERFACE or {node, interface}", e)
          return nil
        }
      }
    case "host":
      guard let em = m["endpoint"]?.mapping, let n = em["node"]?.string, let i = em["interface"]?.string,
        let hostIF = m["host-interface"]?.string
      else {
        error("a host link has `endpoint: {node, interface}` and `host-interface:`", item)
        return nil
      }
      ends = [ClabEnd(node: n, interface: i), ClabEnd(node: "host", interface: hostIF)]
    default:
      warning("a link of type '\(type)' has no equivalent in nstopo (only veth pairs, to nodes, bridges and the host); dropped", m["type"])
      return nil
    }
    for (k, _) in m where !["endpoints", "endpoint", "type", "mtu", "host-interface"].contains(k.string ?? "") {
      warning("link setting '\(k.string ?? "?")' has no equivalent in nstopo; dropped", k)
    }
    guard ends.count == 2 else {
      error("a link has exactly two endpoints", m["endpoints"] ?? item)
      return nil
    }
    for (k, e) in ends.enumerated() {
      guard let problem = NameRules.interfaceProblem(e.interface) else { continue }
      let at = k < sources.count ? sources[k] : (m["endpoints"] ?? m["endpoint"] ?? item)
      error("'\(e.interface)' is not an interface name for nstopo: it \(problem)", at, hint: "an interface is one word of at most 15 bytes, such as eth1")
      return nil
    }
    for (k, e) in ends.enumerated() where e.node != "host" && !nodes.contains(e.node) && !bridges.contains(renamed[e.node] ?? e.node) {
      let at = k < sources.count ? sources[k] : (m["endpoints"] ?? item)
      if ["mgmt-net", "macvlan"].contains(e.node) {
        warning("an endpoint on '\(e.node)' has no equivalent in nstopo (there is no management network); the link is dropped", at)
        return nil
      }
      error("endpoint '\(e.node):\(e.interface)' names no node", at,
        hint: Spelling.closest(e.node, among: Array(nodes) + Array(bridges)).map { "did you mean '\($0)'?" } ?? "nodes are declared under topology.nodes")
      return nil
    }
    var mtu: Int?
    if let mNode = m["mtu"] {
      guard let v = mNode.string.flatMap(Int.init) else {
        error("mtu must be a number of bytes", mNode)
        return nil
      }
      mtu = v
    }
    return (ends[0], ends[1], item, mtu)
  }
}
