import TopologyModel

/// A node's firewall as nftables text: `table inet nstopo`, one base chain per chain that
/// can refuse anything. Every chain first lets established and related packets (replies and
/// the ICMP errors about them) pass, input and output also loopback and IPv6 neighbour
/// discovery, then the rules in file order, then the policy. Equivalent to what `nft -f -`
/// loads.
public enum Ruleset {
  public static let table = "inet nstopo"

  /// nil when no chain refuses anything (no table needed). `mark` (`nstopo:<topology>`) is the
  /// table's comment: what tells nstopo's table from another program's of the same name.
  public static func text(_ f: Firewall, mark: String? = nil) -> String? {
    let chains = Firewall.Chain.allCases.filter { !f.isTrivial($0) }
    guard !chains.isEmpty || !f.masquerade.isEmpty || !f.dnat.isEmpty else { return nil }
    var out = "table \(table) {\n"
    if let mark { out += "  comment \"\(mark)\"\n" }
    if !f.dnat.isEmpty {
      out += "  chain prerouting {\n"
      out += "    type nat hook prerouting priority dstnat; policy accept;\n"
      for d in f.dnat {
        for a in d.to {
          let (nf, key) = a.family == .ipv4 ? ("ipv4", "ip") : ("ipv6", "ip6")
          let target = a.family == .ipv4 || d.toPort == nil ? "\(a)" : "[\(a)]"
          out += "    meta nfproto \(nf) fib daddr type local \(d.proto.rawValue) dport \(d.port) dnat \(key) to \(target)\(d.toPort.map { ":\($0)" } ?? "") comment \"line \(d.line)\"\n"
        }
      }
      out += "  }\n"
    }
    if !f.masquerade.isEmpty {
      out += "  chain postrouting {\n"
      out += "    type nat hook postrouting priority srcnat; policy accept;\n"
      for m in f.masquerade { out += "    oifname \"\(m.interface)\" masquerade comment \"line \(m.line)\"\n" }
      out += "  }\n"
    }
    for chain in chains {
      let policy = f.policy(chain)?.action ?? .accept
      out += "  chain \(chain.rawValue) {\n"
      out += "    type filter hook \(chain.rawValue) priority filter; policy \(policy == .accept ? "accept" : "drop");\n"
      out += "    ct state established,related accept\n"
      if chain != .forward {
        out += "    \(chain == .input ? "iifname" : "oifname") \"lo\" accept\n"
        out += "    \(neighbourDiscovery)\n"
      }
      for r in f.rules where r.chain == chain {
        for line in lines(r) { out += "    \(line) comment \"line \(r.line)\"\n" }
      }
      if policy == .reject { out += rejectAll.map { "    \($0) comment \"line \(f.policy(chain)!.line)\"\n" }.joined() }
      out += "  }\n"
    }
    return out + "}\n"
  }

  /// IPv6 neighbour discovery and multicast listener reports always pass a node's own input
  /// and output, as in every host firewall: without them a node behind `firewall input drop`
  /// cannot resolve or be resolved over IPv6 (ARP is not IP, and no inet table sees it). The
  /// types in the kernel's order, as `nft list` prints them back. Never forwarded: not in
  /// the forward chain.
  public static let neighbourDiscovery =
    "icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report } accept comment \"neighbour discovery\""

  static let rejectAll = ["meta l4proto tcp reject with tcp reset", "reject with icmpx type port-unreachable"]

  /// One rule as nft rules: one per family combination its sides allow (`ip saddr` and
  /// `ip6 saddr` in one rule would both have to hold), a reject without a protocol as two.
  static func lines(_ r: Firewall.Rule) -> [String] {
    var match: [String] = []
    if let i = r.inInterface { match.append("iifname \"\(i)\"") }
    if let o = r.outInterface { match.append("oifname \"\(o)\"") }
    var l4: String?
    switch r.proto {
    case .tcp?, .udp?:
      let p = r.proto!.rawValue
      l4 = r.ports.map { $0.count == 1 ? "\(p) dport \($0.lowerBound)" : "\(p) dport \($0.lowerBound)-\($0.upperBound)" } ?? "meta l4proto \(p)"
    case .icmp?:
      l4 = "meta l4proto { icmp, ipv6-icmp }"
    case nil:
      break
    }
    // Address matches per family: nil side, any; a side with no prefix of a family cannot
    // match that family.
    var variants: [[String]] = []
    let sideFamilies = [r.from, r.to].compactMap { $0 }.map { Set($0.map(\.family)) }
    let families = IPAddress.Family.allCases.filter { f in sideFamilies.allSatisfy { $0.contains(f) } }
    if sideFamilies.isEmpty {
      variants = [[]]
    } else {
      for f in families {
        let key = f == .ipv4 ? "ip" : "ip6"
        var v: [String] = []
        if let from = r.from { v.append("\(key) saddr \(set(from.filter { $0.family == f }))") }
        if let to = r.to { v.append("\(key) daddr \(set(to.filter { $0.family == f }))") }
        variants.append(v)
      }
    }
    var out: [String] = []
    for v in variants {
      let m = (match + v + (l4.map { [$0] } ?? [])).joined(separator: " ")
      func line(_ verdict: String) -> String { m.isEmpty ? verdict : m + " " + verdict }
      switch r.action {
      case .accept: out.append(line("accept"))
      case .drop: out.append(line("drop"))
      case .reject:
        switch r.proto {
        case .tcp?: out.append(line("reject with tcp reset"))
        case nil:
          out.append(line("meta l4proto tcp reject with tcp reset"))
          out.append(line("reject with icmpx type port-unreachable"))
        default: out.append(line("reject with icmpx type port-unreachable"))
        }
      }
    }
    return out
  }

  static func set(_ prefixes: [IPPrefix]) -> String {
    let items = prefixes.map { $0.length == $0.family.width ? $0.network.description : $0.description }
    return items.count == 1 ? items[0] : "{ " + items.joined(separator: ", ") + " }"
  }
}

extension Ruleset {
  /// One base chain of a listing: its policy and rule lines, as nft prints them.
  public struct ListedChain: Hashable, Sendable {
    public var policy: String?
    public var rules: [String]
  }

  /// A table's text (what `nft list table inet nstopo` prints, or what `text` writes) by chain:
  /// for comparing what the kernel has with what the model builds, rule by rule, by the
  /// `comment "line N"` each rule carries.
  public static func parse(_ listing: String) -> [String: ListedChain] {
    var chains: [String: ListedChain] = [:]
    var current: String?
    for raw in listing.split(separator: "\n") {
      let line = raw.trimmingSpaces()
      if line.hasPrefix("chain "), line.hasSuffix("{") {
        current = String(line.dropFirst(6).dropLast()).trimmingSpaces()
        chains[current!] = ListedChain(policy: nil, rules: [])
      } else if line == "}" {
        current = nil
      } else if let c = current {
        if line.hasPrefix("type ") {
          if let rest = line.after("policy ") { chains[c]!.policy = String(rest.prefix { $0 != ";" }) }
        } else if !line.isEmpty {
          chains[c]!.rules.append(line)
        }
      }
    }
    return chains
  }

  /// The firewall that a listing of nstopo's table enforces, in the model's terms: the model's
  /// rules whose `line N` a chain still has, in the kernel's order, with the kernel's policies
  /// and NAT. What the walk of the kernel (`why`, `test`) filters with. nil: no table. A rule
  /// without nstopo's comment (added by hand) has no meaning here; `differences` names it.
  public static func readBack(_ listing: String?, model f: Firewall) -> Firewall? {
    guard let listing else { return nil }
    let chains = parse(listing)
    var out = Firewall()
    func lines(_ chain: String) -> [Int] {
      var seen = Set<Int>()
      return (chains[chain]?.rules ?? []).compactMap(line(of:)).filter { seen.insert($0).inserted }
    }
    for chain in Firewall.Chain.allCases {
      guard let listed = chains[chain.rawValue] else { continue }
      let have = lines(chain.rawValue)
      let declared = f.policy(chain)
      for l in have {
        if let r = f.rules.first(where: { $0.chain == chain && $0.line == l }) { out.rules.append(r) }
      }
      // A reject policy is a drop policy behind catch-all rejects that carry its line.
      if listed.policy == "drop" {
        let reject = declared?.action == .reject && have.contains(declared!.line)
        let line = declared.map { $0.action == .accept ? 0 : $0.line } ?? 0
        out.setPolicy(chain, .init(action: reject ? .reject : .drop, line: line))
      } else if let d = declared, d.action == .accept {
        out.setPolicy(chain, d)
      }
    }
    let masquerades = lines("postrouting")
    out.masquerade = f.masquerade.filter { masquerades.contains($0.line) }
    let dnats = lines("prerouting")
    out.dnat = f.dnat.filter { dnats.contains($0.line) }
    return out
  }

  /// The table's own comment in a listing (`comment "nstopo:lab"` before its first chain):
  /// nstopo's mark, or nil.
  public static func mark(of listing: String) -> String? {
    for raw in listing.split(separator: "\n") {
      let line = raw.trimmingSpaces()
      if line.hasPrefix("chain ") { return nil }
      if line.hasPrefix("comment \""), line.hasSuffix("\"") { return String(line.dropFirst(9).dropLast()) }
    }
    return nil
  }

  /// The `line N` of a listed rule, if it carries one.
  public static func line(of rule: String) -> Int? {
    guard let rest = rule.after("comment \"line ") else { return nil }
    return Int(rest.prefix { $0.isNumber })
  }
}

extension String {
  /// What follows the first `needle`, without Foundation.
  func after(_ needle: String) -> Substring? {
    var i = startIndex
    while i < endIndex {
      if self[i...].hasPrefix(needle) { return self[index(i, offsetBy: needle.count)...] }
      i = index(after: i)
    }
    return nil
  }
}

extension StringProtocol {
  func trimmingSpaces() -> String {
    var s = Substring(self)
    while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
    while let l = s.last, l == " " || l == "\t" { s.removeLast() }
    return String(s)
  }
}
