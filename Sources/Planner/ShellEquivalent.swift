import TopologyModel

/// Words as a POSIX shell reads them: bare when they hold only safe characters, else in
/// single quotes (each `'` inside written `'\''`), so every line can be pasted as it is.
public enum Shell {
  public static func quote(_ word: String) -> String {
    let safe = !word.isEmpty && word.unicodeScalars.allSatisfy { c in
      (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "-_./:=,+%@".unicodeScalars.contains(c)
    }
    if safe { return word }
    return "'" + word.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
  }
}

private func q(_ w: String) -> String { Shell.quote(w) }

extension Step {
  /// The iproute2 (or cgroup and shell) command that does the same thing, for `nstopo plan`
  /// and the docs.
  public var shellEquivalent: String {
    switch self {
    case .network(let n): return n.shellEquivalent
    case .node(let p): return p.shellEquivalent
    }
  }
}

extension NetworkStep {
  public var shellEquivalent: String {
    func ip(_ ns: String?) -> String { ns.map { "ip -n \(q($0))" } ?? "ip" }
    switch self {
    case .createNamespace(let n): return "ip netns add \(q(n))"
    case .deleteNamespace(let n): return "ip netns del \(q(n))"
    case .createBridge(let ns, let name, let mac):
      return "ip -n \(q(ns)) link add \(q(name)) address \(mac) up type bridge mcast_snooping 0"
    case .createVeth(let v):
      var s = "\(ip(v.ns)) link add \(q(v.name)) address \(v.mac)"
      if let m = v.master { s += " master \(q(m))" }
      if let m = v.mtu { s += " mtu \(m)" }
      s += " up"
      if let a = v.alias { s += " alias \(q(a))" }
      s += " type veth peer name \(q(v.peerName)) address \(v.peerMAC)"
      if let m = v.mtu { s += " mtu \(m)" }
      if let p = v.peerNamespace { s += " netns \(q(p))" }
      return s
    case .deleteLink(let ns, let name): return "\(ip(ns)) link del \(q(name))"
    case .setLinkUp(let ns, let name): return "\(ip(ns)) link set \(q(name)) up"
    case .setLinkDown(let ns, let name): return "\(ip(ns)) link set \(q(name)) down"
    case .addAddress(let ns, let link, let a): return "\(ip(ns)) addr add \(a) dev \(q(link))\(a.family == .ipv6 ? " nodad" : "")"
    case .deleteAddress(let ns, let link, let a): return "\(ip(ns)) addr del \(a) dev \(q(link))"
    case .addRoute(let ns, let r): return "ip -n \(q(ns)) route add \(r.shellArguments)"
    case .deleteRoute(let ns, let r): return "ip -n \(q(ns)) route del \(r.shellArguments)"
    case .addNeighbours(let s):
      return "# \(s.entryCount) permanent neighbours on \(s.segment), each like: \(ip(s.members.first?.ns)) neigh add ADDR lladdr MAC dev IF nud permanent"
    case .deleteNeighbours(let s):
      return "# delete the \(s.entryCount) permanent neighbours on \(s.segment)"
    case .setForwarding(let ns, let on):
      return "ip netns exec \(q(ns)) sysctl -w net.ipv4.ip_forward=\(on ? 1 : 0) net.ipv6.conf.all.forwarding=\(on ? 1 : 0)"
    case .setBridgeNetfilter(let ns, let on):
      let v = on ? 1 : 0
      return "ip netns exec \(q(ns)) sysctl -w net.bridge.bridge-nf-call-iptables=\(v) net.bridge.bridge-nf-call-ip6tables=\(v) net.bridge.bridge-nf-call-arptables=\(v)"
    case .setICMPRateLimit(let ns, let on):
      return on
        ? "ip netns exec \(q(ns)) sysctl -w net.ipv4.icmp_ratemask=6168 net.ipv6.icmp.ratemask=0-1,3-127 net.ipv6.icmp.ratelimit=1000"
        : "ip netns exec \(q(ns)) sysctl -w net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratemask='' net.ipv6.icmp.ratelimit=0"
    case .setShaping(let ns, let link, let shaping):
      let tc = ns.map { "tc -n \(q($0))" } ?? "tc"
      return shaping.tcArguments.map { "\(tc) qdisc replace dev \(q(link)) \($0)" }.joined(separator: " && ")
    case .clearShaping(let ns, let link):
      return "\(ns.map { "tc -n \(q($0))" } ?? "tc") qdisc del dev \(q(link)) root"
    case .setMTU(let ns, let link, let mtu): return "\(ip(ns)) link set \(q(link)) mtu \(mtu)"
    case .keepAddressesOnDown(let ns, let link): return "ip netns exec \(q(ns)) sysctl -w net.ipv6.conf.\(link).keep_addr_on_down=1"
    case .loadFirewall(let ns, let ruleset):
      return "ip netns exec \(q(ns)) nft -f - <<'EOF'\n\(ruleset)EOF\nip netns exec \(q(ns)) sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=1"
    case .setIPv6(let ns, let on, let linkLocal):
      let v = on ? 0 : 1
      let addresses = linkLocal ? "accept_dad=0" : "addr_gen_mode=1"
      let noLinkLocal = on ? " net.ipv6.conf.default.\(addresses) net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.autoconf=0" : ""
      return "ip netns exec \(q(ns)) sysctl -w net.ipv6.conf.all.disable_ipv6=\(v) net.ipv6.conf.default.disable_ipv6=\(v)\(noLinkLocal)"
    }
  }
}

extension NodeStep {
  public var shellEquivalent: String {
    switch self {
    case .createCgroup(let path, let cpu):
      var s = "mkdir \(q("/sys/fs/cgroup/cpu/" + path))"
      if let c = cpu { s += " && echo \(c * 1000) > \(q("/sys/fs/cgroup/cpu/" + path + "/cpu.cfs_quota_us"))  # \(c)% of one CPU (v2: cpu.max)" }
      return s
    case .deleteCgroup(let path):
      return "kill $(cat \(q("/sys/fs/cgroup/cpu/" + path + "/cgroup.procs"))); rmdir \(q("/sys/fs/cgroup/cpu/" + path))"
    case .startProcesses(let launches):
      return launches.map { l in
        let argv = Step.argv(for: l.command)
        let cmd = argv.first == "/bin/sh" ? "/bin/sh -c \(q(l.command))" : argv.map(q).joined(separator: " ")
        return "cgexec -g \(q("cpu:" + l.cgroup)) ip netns exec \(q(l.ns)) \(l.root.map { "unshare -m chroot \(q($0)) " } ?? "")\(cmd) &"
      }.joined(separator: " ")
    case .stopProcesses(let cgroups):
      return cgroups.map { "kill $(cat \(q("/sys/fs/cgroup/cpu/" + $0 + "/cgroup.procs")))" }.joined(separator: "; ")
    }
  }
}

extension Step.KernelRoute {
  var shellArguments: String { route.text }

  /// The model's route this kernel route installs.
  public var route: Route {
    switch kind {
    case .unicast: return Route(destination: destination, nextHop: .gateway(gateway!, node: nil))
    case .blackhole: return Route(destination: destination, nextHop: .blackhole)
    case .unreachable: return Route(destination: destination, nextHop: .unreachable)
    case .prohibit: return Route(destination: destination, nextHop: .prohibit)
    }
  }
}
