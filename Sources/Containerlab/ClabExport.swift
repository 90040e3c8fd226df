import Planner
import TopologyModel

/// `nstopo export FILE --format containerlab`: the topology as a containerlab file, for a
/// machine with containerlab, or Kubernetes through clabernetes (`clabverter`).
///
/// Each node is `kind: linux` with `image` (one with iproute2, sysctl, tc and nft) and
/// `exec:` lines that give it its addresses, routes, forwarding, link properties and firewall,
/// as nstopo does through netlink; bridges are `kind: bridge` (containerlab expects them to
/// exist on the machine), host ends `host:IF` endpoints, CPU caps `cpu`. containerlab's
/// `eth0` is a node's management interface: a node that uses `eth0` has its `ethN`
/// interfaces moved up by one (`eth0` becomes `eth1`). What has no equivalent (chroot,
/// expectations, scenarios, host addresses) is listed in comments.
public enum ClabExport {
  /// An image with iproute2, procps (sysctl), tc and nft: containerlab's own multitool.
  public static let defaultImage = "ghcr.io/srl-labs/network-multitool"

  /// The management subnets containerlab gives its nodes by default (`mgmt:`), which a lab's
  /// own prefixes should not overlap.
  static let managementPrefixes = ["172.20.20.0/24", "3fff:172:20:20::/64"].compactMap(IPPrefix.init)

  public static func render(_ original: Topology, image: String = defaultImage, source: String) -> String {
    let rename = interfaceNames(original)
    // The file's interfaces as containerlab names them, in links, rules and NAT alike.
    let t = renamed(original, rename)
    var header = ""
    if !t.bridges.isEmpty {
      header += "# containerlab does not create bridges: create \(t.bridges.map(\.name).joined(separator: ", ")) first (ip link add NAME type bridge; ip link set NAME up).\n"
    }
    if rename.values.contains(where: { !$0.isEmpty }) {
      header += "# containerlab's eth0 is a node's management interface: nodes that used eth0 have their ethN moved up by one\n"
      header += "# (in addresses, routes, firewall rules and NAT too).\n"
    }
    return lab(t, image: image, source: source, header: header, bridgePorts: [:], interfaceMaps: rename)
  }

  /// The file for `t`, whose interfaces already have containerlab's names: `header` after the
  /// common one; `bridgePorts`: nodes that are LANs (clabernetes), with their ports.
  static func lab(
    _ t: Topology, image: String, source: String, header: String, bridgePorts: [String: [String]], interfaceMaps: [String: [String: String]] = [:]
  ) -> String {
    var notes: [String] = []
    var out = "# Exported by `nstopo export` from \(Escaping.commentText(source)). A node is a container of \(Escaping.commentText(image)),\n"
    out += "# given its addresses, routes and settings by its exec lines, as nstopo does through netlink.\n"
    out += "# Each node's exec lines first remove the default routes containerlab gives it through management (eth0):\n"
    out += "# the lab routes as the file says, as `nstopo predict` says; eth0's own subnet stays reachable (docker exec, ssh).\n"
    out += "# The lines can run again (replace, flush). `run` lines start in the background, their output in \(runLog).\n"
    out += header
    let overlapping = t.subnets.filter { s in managementPrefixes.contains { $0.overlaps(s.prefix) } }
    for s in overlapping {
      out += "# Subnet \(Escaping.commentText(s.name)) (\(s.prefix)) overlaps containerlab's default management subnet: set `mgmt:` to another.\n"
    }
    out += "name: \(yaml(t.name))\n"
    out += "topology:\n"
    out += "  nodes:\n"
    let plan = Planner.plan(t)
    var byNamespace: [String: [NetworkStep]] = [:]
    for s in plan.steps {
      if case .network(let n) = s.step, let ns = n.namespace { byNamespace[ns, default: []].append(n) }
    }
    let names = KernelNames(topology: t.name)
    for n in t.nodes {
      out += "    \(yaml(n.name)):\n"
      out += "      kind: linux\n"
      out += "      image: \(yaml(image))\n"
      if let c = n.cpuPercent { out += "      cpu: \(Double(c) / 100)\n" }
      let steps = byNamespace[names.namespace(node: n.name)] ?? []
      let lines = bridgePorts[n.name].map { [ClabernetesExport.bridgeExec($0)] } ?? exec(node: n, in: t, steps: steps)
      out += lines.map { "        - \(yaml($0))\n" }.reduce("      exec:\n", +)
      if n.chroot != nil { notes.append("node \(n.name): chroot \(n.chroot!) (a container has its own root)") }
      if !t.allLinksUp {
        let connected = t.upPrefixes()[.node(n.name)] ?? []
        for r in n.routes where !r.isLive(connected: connected) {
          notes.append("node \(n.name): route \(r.text) (its gateway is only behind a link that is down; add it when the link is up)")
        }
      }
      if !n.run.isEmpty, let map = interfaceMaps[n.name], map.contains(where: { $0.key != $0.value }) {
        notes.append("node \(n.name): its run lines are as the file wrote them, with the file's interface names (\(map.sorted { $0.key < $1.key }.map { "\($0.key) is now \($0.value)" }.joined(separator: ", ")))")
      }
    }
    for b in t.bridges {
      out += "    \(yaml(b.name)):\n"
      out += "      kind: bridge\n"
    }
    out += "  links:\n"
    for l in t.links {
      func endpoint(_ e: LinkEnd) -> String {
        switch e.owner {
        case .node(let n): return "\(n):\(e.interface)"
        case .bridge(let b): return "\(b):\(e.interface)"
        case .host: return "host:\(e.interface)"
        }
      }
      out += "    - endpoints: [\(yaml(endpoint(l.a))), \(yaml(endpoint(l.b)))]\n"
      for e in [l.a, l.b] where e.owner == .host && !e.addresses.isEmpty {
        notes.append("host end \(e.interface): \(e.addresses.map(\.description).joined(separator: ", ")) (containerlab leaves the host's side to you)")
      }
    }
    if !t.expectations.isEmpty {
      notes.append("\(t.expectations.count) expect line\(t.expectations.count == 1 ? "" : "s") (`nstopo test` checks them; see the README's *Beyond one machine*)")
    }
    for s in t.scenarios { notes.append("scenario \(s.name): \(s.changes.map(\.text).joined(separator: "; "))") }
    if !notes.isEmpty {
      out += "# Not exported (no equivalent in containerlab):\n"
      for n in notes { out += "#   \(Escaping.commentText(n))\n" }
    }
    return out
  }

  /// A node's exec lines: the management default routes gone, then what nstopo's plan does in
  /// its namespace (addresses, link properties, IPv6 and ICMP settings, forwarding, routes,
  /// firewall), then its `run` lines through a shell (containerlab runs exec lines without
  /// one).
  static func exec(node n: Node, in t: Topology, steps: [NetworkStep]) -> [String] {
    var exec = ["ip -4 route flush exact 0.0.0.0/0", "ip -6 route flush exact ::/0"]
    let ends = t.ends(of: .node(n.name))
    // Addresses usable at once, as in nstopo: no duplicate detection, no autoconfiguration
    // (the interfaces exist before exec lines run, so per interface, not `default`).
    let v6 = ends.filter { $0.addresses.contains { $0.family == .ipv6 } }.map(\.interface)
    if !v6.isEmpty {
      exec.append("sysctl -w net.ipv6.conf.all.disable_ipv6=0")
      exec.append("sysctl -w " + v6.map { "net.ipv6.conf.\($0).accept_dad=0 net.ipv6.conf.\($0).accept_ra=0 net.ipv6.conf.\($0).autoconf=0" }.joined(separator: " "))
    }
    for e in ends {
      for a in e.addresses { exec.append("ip addr replace \(a) dev \(e.interface)") }
    }
    for l in t.links where l.a.owner == .node(n.name) || l.b.owner == .node(n.name) {
      let e = l.a.owner == .node(n.name) ? l.a : l.b
      if let m = l.properties.mtu { exec.append("ip link set \(e.interface) mtu \(m)") }
      if let s = Shaping(l.properties) {
        for args in s.tcArguments { exec.append("tc qdisc replace dev \(e.interface) \(args)") }
      }
      if e.down {
        if steps.contains(where: { if case .keepAddressesOnDown(_, e.interface) = $0 { return true } else { return false } }) {
          exec.append("sysctl -w net.ipv6.conf.\(e.interface).keep_addr_on_down=1")
        }
        exec.append("ip link set \(e.interface) down")
      }
    }
    if steps.contains(where: { if case .setICMPRateLimit(_, false) = $0 { return true } else { return false } }) {
      exec.append("sysctl -w net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratelimit=0")
    }
    if n.forward { exec.append("sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1") }
    // A route whose gateway is only behind a down link is refused by the kernel ("Nexthop has
    // invalid gateway"): held back, as nstopo holds it back (`render` notes it).
    let connected = t.allLinksUp ? nil : t.upPrefixes()[.node(n.name)] ?? []
    for r in n.routes where connected.map({ r.isLive(connected: $0) }) ?? true {
      switch r.nextHop {
      case .gateway(let gw, _): exec.append("ip \(r.destination.family == .ipv6 ? "-6 " : "")route replace \(r.destination.routeText) via \(gw)")
      case .blackhole: exec.append("ip route replace blackhole \(r.destination.routeText)")
      case .unreachable: exec.append("ip route replace unreachable \(r.destination.routeText)")
      case .prohibit: exec.append("ip route replace prohibit \(r.destination.routeText)")
      }
    }
    for case .loadFirewall(_, let ruleset) in steps {
      // Flushed first, so the lines can run again; conntrack's short close timeout, as nstopo sets it.
      exec.append("sh -c " + shellQuote("nft delete table inet nstopo 2>/dev/null; nft -f - <<'EOF'\n\(ruleset)EOF"))
      exec.append("sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=1")
    }
    for r in n.run { exec.append(background(r)) }
    return exec
  }

  /// Where a `run` line's output goes in the container.
  static let runLog = "/tmp/nstopo-run.log"

  /// A `run` line as an exec line: through a shell, in the background, its output in
  /// `runLog`. containerlab waits for each exec line to end, and a service (`nc -lk`) never
  /// does: nstopo starts it and goes on, and so does this.
  static func background(_ command: String) -> String {
    "sh -c " + shellQuote("(\(command)) </dev/null >>\(runLog) 2>&1 &")
  }

  /// The `run` line inside an exec line that `background` wrote, else nil.
  public static func foreground(_ exec: String) -> String? {
    let head = "sh -c '(", tail = ") </dev/null >>\(runLog) 2>&1 &'"
    guard exec.hasPrefix(head), exec.hasSuffix(tail), exec.count >= head.count + tail.count else { return nil }
    let inner = String(exec.dropFirst(head.count).dropLast(tail.count))
    // shellQuote's only escape: a quote as '\''; any other quote means another author.
    let unquoted = inner.replacingOccurrences(of: "'\\''", with: "'")
    guard background(unquoted) == exec else { return nil }
    return unquoted
  }

  /// `t` with each node's interfaces named by `rename`: link ends, `in`/`out` of rules,
  /// `masquerade`.
  static func renamed(_ t: Topology, _ rename: [String: [String: String]], linksDone: Bool = false) -> Topology {
    guard rename.values.contains(where: { !$0.isEmpty }) else { return t }
    var r = t
    func fix(_ e: inout LinkEnd) {
      if case .node(let n) = e.owner, let new = rename[n]?[e.interface] { e.interface = new }
    }
    for i in r.links.indices where !linksDone {
      fix(&r.links[i].a)
      fix(&r.links[i].b)
    }
    for i in r.nodes.indices {
      guard let map = rename[r.nodes[i].name], var fw = r.nodes[i].firewall else { continue }
      for k in fw.rules.indices {
        if let x = fw.rules[k].inInterface { fw.rules[k].inInterface = map[x] ?? x }
        if let x = fw.rules[k].outInterface { fw.rules[k].outInterface = map[x] ?? x }
      }
      for k in fw.masquerade.indices { fw.masquerade[k].interface = map[fw.masquerade[k].interface] ?? fw.masquerade[k].interface }
      r.nodes[i].firewall = fw
    }
    return r
  }

  /// Per node, its `ethN` interfaces moved up by one when it uses `eth0` (containerlab's
  /// management interface); other names are kept.
  static func interfaceNames(_ t: Topology) -> [String: [String: String]] {
    var out: [String: [String: String]] = [:]
    for n in t.nodes {
      let ifs = t.ends(of: .node(n.name)).map(\.interface)
      guard ifs.contains("eth0") else { continue }
      var map: [String: String] = [:]
      for i in ifs where i.hasPrefix("eth") {
        if let k = Int(i.dropFirst(3)) { map[i] = "eth\(k + 1)" }
      }
      out[n.name] = map
    }
    return out
  }

  /// A YAML scalar: bare when plainly safe, else double-quoted with JSON escapes (a double-
  /// quoted YAML string is a JSON string).
  static func yaml(_ s: String) -> String {
    let safe = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./".unicodeScalars.contains(c)
    } && !["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"].contains(s.lowercased()) && Double(s) == nil
    return safe ? s : Escaping.yamlString(s)
  }

  static func shellQuote(_ s: String) -> String {
    "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }
}

