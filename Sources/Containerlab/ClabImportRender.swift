import TopologyDSL
import TopologyModel
import Yams

extension Converter {
  /// The `.topo` text: a header with what was dropped, a subnet per addressed bridge (from
  /// its ports' addresses), the bridges, each node with its body (forwarding, CPU cap, links
  /// to bridges, routes, run lines), then the links between nodes and to the host.
  mutating func render(name: String, nodes: [ClabNode], bridges: [String], links: [(ClabEnd, ClabEnd, Yams.Node, Int?)]) -> String {
    let bridgeSet = Set(bridges)
    var byName = Dictionary(uniqueKeysWithValues: nodes.map { ($0.name, $0) })
    var used = Set<ClabEnd>()
    var bodyLinks: [String: [String]] = [:]
    var topLinks: [String] = []
    // Each bridge's subnet per family: the prefix of the first address on one of its ports.
    var subnets: [String: [IPAddress.Family: IPPrefix]] = [:]
    func addresses(_ e: ClabEnd) -> [InterfaceAddress] {
      let all = byName[e.node]?.addresses[e.interface] ?? []
      return [IPAddress.Family.ipv4, .ipv6].compactMap { f in all.first { $0.family == f } }
    }
    for (a, b, _, _) in links {
      for (e, other) in [(a, b), (b, a)] where bridgeSet.contains(other.node) {
        for addr in addresses(e) where subnets[other.node]?[addr.family] == nil {
          subnets[other.node, default: [:]][addr.family] = addr.prefix
        }
      }
    }
    func subnetName(_ bridge: String, _ f: IPAddress.Family) -> String { "\(bridge)-net\(f == .ipv6 ? "6" : "")" }
    for (a, b, source, mtu) in links {
      for e in [a, b] where e.node != "host" && !bridgeSet.contains(e.node) {
        if !used.insert(e).inserted {
          error("interface \(e.node):\(e.interface) is on two links", source.mapping?["endpoints"] ?? source)
        }
        if let all = byName[e.node]?.addresses[e.interface], all.count > addresses(e).count {
          warning("\(e.node):\(e.interface) has more than one address of a family; nstopo keeps the first of each", source)
        }
      }
      // The link's properties: the link's own mtu, then what either end's exec lines set,
      // each keyword once (an export sets them on both ends).
      var words = mtu.map { ["mtu \($0)"] } ?? []
      for e in [a, b] {
        for p in byName[e.node]?.properties[e.interface] ?? [] where !words.contains(where: { $0.split(separator: " ").first == p.split(separator: " ").first }) {
          words.append(p)
        }
      }
      let tail = words.map { " " + $0 }.joined()
      let (aBridge, bBridge) = (bridgeSet.contains(a.node), bridgeSet.contains(b.node))
      if aBridge && bBridge || (a.node == "host" && bBridge) || (b.node == "host" && aBridge) {
        warning("a link between \(a.node) and \(b.node) has no equivalent in nstopo (a bridge's ports are nodes); dropped", source)
        continue
      }
      if aBridge || bBridge {
        let (bridge, end) = aBridge ? (a, b) : (b, a)
        var addressWords: [String] = []
        for f in [IPAddress.Family.ipv4, .ipv6] {
          guard let subnet = subnets[bridge.node]?[f] else { continue }
          if let addr = addresses(end).first(where: { $0.family == f }) {
            if addr.prefix == subnet {
              addressWords.append(addr.address.description)
            } else {
              warning(
                "\(end.node):\(end.interface)'s \(addr) is not in \(subnet), the subnet of \(bridge.node)'s other ports: it takes the next free address of \(subnet)",
                source)
            }
          } else {
            warning("\(end.node):\(end.interface) has no \(f.name) address; on \(bridge.node) it takes the next free one of \(subnet)", source)
          }
        }
        bodyLinks[end.node, default: []].append("link \(bridge.node) \(end.interface)\(addressWords.map { " " + $0 }.joined())\(tail)")
      } else {
        func side(_ e: ClabEnd) -> String {
          "\(e.node):\(e.interface)" + addresses(e).map { " \($0)" }.joined()
        }
        topLinks.append("link \(side(a)) -- \(side(b))\(tail)")
      }
    }
    // Addresses of interfaces no link has.
    for n in nodes {
      for (interface, addrs) in n.addresses.sorted(by: { $0.key < $1.key }) where !used.contains(ClabEnd(node: n.name, interface: interface)) {
        let what = interface == "eth0" ? " (containerlab's management interface)" : ""
        warning("node '\(n.name)' gives \(interface)\(what) the address \(addrs[0]), but no link has \(interface); dropped", nil)
      }
    }
    byName = [:]
    var out = "# Imported from \(Escaping.commentText(fileName)) by `nstopo import`; containerlab's names are kept.\n"
    for d in diagnostics where d.severity == .warning {
      out += "# dropped: " + Escaping.commentText("\(fileName)\(d.line > 0 ? ":\(d.line):\(d.column)" : ""): \(d.message)\(d.note.map { " (\($0))" } ?? "")") + "\n"
    }
    out += "topology \(name)\n\n"
    for b in bridges {
      for f in [IPAddress.Family.ipv4, .ipv6] {
        if let p = subnets[b]?[f] { out += "subnet \(subnetName(b, f)) \(p)\n" }
      }
    }
    for b in bridges {
      let names = [IPAddress.Family.ipv4, .ipv6].compactMap { f in subnets[b]?[f].map { _ in subnetName(b, f) } }
      out += "bridge \(b)\(names.map { " " + $0 }.joined())\n"
    }
    if !bridges.isEmpty { out += "\n" }
    for n in nodes {
      out += "node \(n.name)\(n.kind == "linux" ? "" : "   # kind \(n.kind) in containerlab")\n"
      if n.forward { out += "  forward\n" }
      if let c = n.cpuPercent { out += "  cpu \(c)%\n" }
      for l in bodyLinks[n.name] ?? [] { out += "  \(l)\n" }
      for r in n.routes { out += "  route \(r)\n" }
      for r in n.run { out += "  run \(r)\n" }
      out += "\n"
    }
    for l in topLinks { out += "\(l)\n" }
    return out
  }
}
