import TopologyModel

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
    func ip(_ ns: String?) -> String { ns.map { "ip -n \($0)" } ?? "ip" }
    switch self {
    case .createNamespace(let n): return "ip netns add \(n)"
    case .deleteNamespace(let n): return "ip netns del \(n)"
    case .createBridge(let ns, let name, let mac):
      return "ip -n \(ns) link add \(name) address \(mac) up type bridge mcast_snooping 0"
    case .createVeth(let v):
      var s = "\(ip(v.ns)) link add \(v.name) address \(v.mac)"
      if let m = v.master { s += " master \(m)" }
      if let m = v.mtu { s += " mtu \(m)" }
      s += " up"
      if let a = v.alias { s += " alias \(a)" }
      s += " type veth peer name \(v.peerName) address \(v.peerMAC)"
      if let m = v.mtu { s += " mtu \(m)" }
      if let p = v.peerNamespace { s += " netns \(p)" }
      return s
    case .deleteLink(let ns, let name): return "\(ip(ns)) link del \(name)"
    case .setLinkUp(let ns, let name): return "\(ip(ns)) link set \(name) up"
    case .setLinkDown(let ns, let name): return "\(ip(ns)) link set \(name) down"
    case .addAddress(let ns, let link, let a): return "\(ip(ns)) addr add \(a) dev \(link)\(a.family == .ipv6 ? " nodad" : "")"
    case .deleteAddress(let ns, let link, let a): return "\(ip(ns)) addr del \(a) dev \(link)"
    case .addRoute(let ns, let r): return "ip -n \(ns) route add \(r.shellArguments)"
    case .deleteRoute(let ns, let r): return "ip -n \(ns) route del \(r.shellArguments)"
    case .addNeighbours(let s):
      return "# \(s.entryCount) permanent neighbours on \(s.segment), each like: \(ip(s.members.first?.ns)) neigh add ADDR lladdr MAC dev IF nud permanent"
    case .deleteNeighbours(let s):
      return "# delete the \(s.entryCount) permanent neighbours on \(s.segment)"
    case .setForwarding(let ns, let on):
      return "ip netns exec \(ns) sysctl -w net.ipv4.ip_forward=\(on ? 1 : 0) net.ipv6.conf.all.forwarding=\(on ? 1 : 0)"
    case .setBridgeNetfilter(let ns, let on):
      let v = on ? 1 : 0
      return "ip netns exec \(ns) sysctl -w net.bridge.bridge-nf-call-iptables=\(v) net.bridge.bridge-nf-call-ip6tables=\(v) net.bridge.bridge-nf-call-arptables=\(v)"
    case .setICMPRateLimit(let ns, let on):
      return on
        ? "ip netns exec \(ns) sysctl -w net.ipv4.icmp_ratemask=6168 net.ipv6.icmp.ratemask=0-1,3-127 net.ipv6.icmp.ratelimit=1000"
        : "ip netns exec \(ns) sysctl -w net.ipv4.icmp_ratemask=0 net.ipv6.icmp.ratemask= net.ipv6.icmp.ratelimit=0"
    case .setShaping(let ns, let link, let shaping):
      let tc = ns.map { "tc -n \($0)" } ?? "tc"
      return shaping.tcArguments.map { "\(tc) qdisc replace dev \(link) \($0)" }.joined(separator: " && ")
    case .clearShaping(let ns, let link):
      return "\(ns.map { "tc -n \($0)" } ?? "tc") qdisc del dev \(link) root"
    case .setMTU(let ns, let link, let mtu): return "\(ip(ns)) link set \(link) mtu \(mtu)"
    case .keepAddressesOnDown(let ns, let link): return "ip netns exec \(ns) sysctl -w net.ipv6.conf.\(link).keep_addr_on_down=1"
    case .loadFirewall(let ns, let ruleset):
      return "ip netns exec \(ns) nft -f - <<'EOF'\n\(ruleset)EOF\nip netns exec \(ns) sysctl -w net.netfilter.nf_conntrack_tcp_timeout_close=1"
    case .setIPv6(let ns, let on):
      let v = on ? 0 : 1
      let noLinkLocal = on ? " net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.autoconf=0" : ""
      return "ip netns exec \(ns) sysctl -w net.ipv6.conf.all.disable_ipv6=\(v) net.ipv6.conf.default.disable_ipv6=\(v)\(noLinkLocal)"
    }
  }
}

extension NodeStep {
  public var shellEquivalent: String {
    switch self {
    case .createCgroup(let path, let cpu):
      var s = "mkdir /sys/fs/cgroup/cpu/\(path)"
      if let c = cpu { s += " && echo \(c * 1000) > /sys/fs/cgroup/cpu/\(path)/cpu.cfs_quota_us  # \(c)% of one CPU (v2: cpu.max)" }
      return s
    case .deleteCgroup(let path):
      return "kill $(cat /sys/fs/cgroup/cpu/\(path)/cgroup.procs); rmdir /sys/fs/cgroup/cpu/\(path)"
    case .startProcesses(let launches):
      return launches.map { l in
        let argv = Step.argv(for: l.command)
        // Single-quoted for the shell: each ' inside becomes '\'' so the line can be pasted.
        let quoted = "'" + l.command.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
        let cmd = argv.first == "/bin/sh" ? "/bin/sh -c \(quoted)" : argv.joined(separator: " ")
        return "cgexec -g cpu:\(l.cgroup) ip netns exec \(l.ns) \(l.root.map { "unshare -m chroot \($0) " } ?? "")\(cmd) &"
      }.joined(separator: "; ")
    case .stopProcesses(let cgroups):
      return cgroups.map { "kill $(cat /sys/fs/cgroup/cpu/\($0)/cgroup.procs)" }.joined(separator: "; ")
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
