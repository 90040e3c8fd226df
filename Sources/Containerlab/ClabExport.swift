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

  public static func render(_ t: Topology, image: String = defaultImage, source: String) -> String {
    let rename = interfaceNames(t)
    func name(_ e: LinkEnd) -> String {
      if case .node(let n) = e.owner { return rename[n]?[e.interface] ?? e.interface }
      return e.interface
    }
    var notes: [String] = []
    var out = "# Exported by `nstopo export` from \(Escaping.commentText(source)). A node is a container of \(Escaping.commentText(image)),\n"
    out += "# given its addresses, routes and settings by its exec lines, as nstopo does through netlink.\n"
    if !t.bridges.isEmpty {
      out += "# containerlab does not create bridges: create \(t.bridges.map(\.name).joined(separator: ", ")) first (ip link add NAME type bridge; ip link set NAME up).\n"
    }
    if rename.values.contains(where: { !$0.isEmpty }) {
      out += "# containerlab's eth0 is a node's management interface: nodes that used eth0 have their ethN moved up by one.\n"
    }
    out += "name: \(yaml(t.name))\n"
    out += "topology:\n"
    out += "  nodes:\n"
    let firewalls = Dictionary(
      Planner.plan(t).steps.compactMap { s -> (String, String)? in
        if case .network(.loadFirewall(let ns, let ruleset)) = s.step { return (ns, ruleset) }
        return nil
      }, uniquingKeysWith: { a, _ in a })
    let names = KernelNames(topology: t.name)
    for n in t.nodes {
      out += "    \(yaml(n.name)):\n"
      out += "      kind: linux\n"
      out += "      image: \(yaml(image))\n"
      if let c = n.cpuPercent { out += "      cpu: \(Double(c) / 100)\n" }
      var exec: [String] = []
      let ends = t.ends(of: .node(n.name))
      for e in ends {
        for a in e.addresses { exec.append("ip addr add \(a) dev \(name(e))") }
      }
      for l in t.links where l.a.owner == .node(n.name) || l.b.owner == .node(n.name) {
        let e = l.a.owner == .node(n.name) ? l.a : l.b
        if let m = l.properties.mtu { exec.append("ip link set \(name(e)) mtu \(m)") }
        if let s = Shaping(l.properties) {
          for args in s.tcArguments { exec.append("tc qdisc replace dev \(name(e)) \(args)") }
        }
        if e.down { exec.append("ip link set \(name(e)) down") }
      }
      if n.forward { exec.append("sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1") }
      for r in n.routes {
        switch r.nextHop {
        case .gateway(let gw, _): exec.append("ip \(r.destination.family == .ipv6 ? "-6 " : "")route add \(r.destination.routeText) via \(gw)")
        case .blackhole: exec.append("ip route add blackhole \(r.destination.routeText)")
        case .unreachable: exec.append("ip route add unreachable \(r.destination.routeText)")
        case .prohibit: exec.append("ip route add prohibit \(r.destination.routeText)")
        }
      }
      if let ruleset = firewalls[names.namespace(node: n.name)] {
        exec.append("sh -c 'nft -f - <<EOF\n\(ruleset)EOF'")
      }
      // containerlab runs exec lines without a shell: `run` lines go through one.
      for r in n.run { exec.append("sh -c \(shellQuote(r))") }
      if n.chroot != nil { notes.append("node \(n.name): chroot \(n.chroot!) (a container has its own root)") }
      if !exec.isEmpty {
        out += "      exec:\n"
        for x in exec { out += "        - \(yaml(x))\n" }
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
        case .node(let n): return "\(n):\(name(e))"
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

