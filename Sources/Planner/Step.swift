import TopologyModel

/// One operation of a plan, by who performs it: the network (netlink and the namespaces' own
/// sysctls) or the node runtime (cgroups and processes). Each backend switches over its own
/// kind; the constructors below build either without naming it.
public enum Step: Hashable, Sendable {
  case network(NetworkStep)
  case node(NodeStep)

  public static func createNamespace(_ n: String) -> Step { .network(.createNamespace(n)) }
  public static func deleteNamespace(_ n: String) -> Step { .network(.deleteNamespace(n)) }
  public static func createBridge(ns: String, name: String, mac: MACAddress) -> Step { .network(.createBridge(ns: ns, name: name, mac: mac)) }
  public static func createVeth(_ v: Veth) -> Step { .network(.createVeth(v)) }
  public static func deleteLink(ns: String?, name: String) -> Step { .network(.deleteLink(ns: ns, name: name)) }
  public static func setLinkUp(ns: String?, name: String) -> Step { .network(.setLinkUp(ns: ns, name: name)) }
  public static func setLinkDown(ns: String?, name: String) -> Step { .network(.setLinkDown(ns: ns, name: name)) }
  public static func addAddress(ns: String?, link: String, address: InterfaceAddress) -> Step {
    .network(.addAddress(ns: ns, link: link, address: address))
  }
  public static func deleteAddress(ns: String?, link: String, address: InterfaceAddress) -> Step {
    .network(.deleteAddress(ns: ns, link: link, address: address))
  }
  public static func addRoute(ns: String, route: KernelRoute) -> Step { .network(.addRoute(ns: ns, route: route)) }
  public static func deleteRoute(ns: String, route: KernelRoute) -> Step { .network(.deleteRoute(ns: ns, route: route)) }
  public static func addNeighbours(_ s: NeighbourSet) -> Step { .network(.addNeighbours(s)) }
  public static func deleteNeighbours(_ s: NeighbourSet) -> Step { .network(.deleteNeighbours(s)) }
  public static func setForwarding(ns: String, enabled: Bool) -> Step { .network(.setForwarding(ns: ns, enabled: enabled)) }
  public static func setIPv6(ns: String, enabled: Bool, linkLocal: Bool = false) -> Step {
    .network(.setIPv6(ns: ns, enabled: enabled, linkLocal: linkLocal))
  }
  public static func setICMPRateLimit(ns: String, enabled: Bool) -> Step { .network(.setICMPRateLimit(ns: ns, enabled: enabled)) }
  public static func setBridgeNetfilter(ns: String, enabled: Bool) -> Step { .network(.setBridgeNetfilter(ns: ns, enabled: enabled)) }
  public static func loadFirewall(ns: String, ruleset: String) -> Step { .network(.loadFirewall(ns: ns, ruleset: ruleset)) }
  public static func setShaping(ns: String?, link: String, shaping: Shaping) -> Step { .network(.setShaping(ns: ns, link: link, shaping: shaping)) }
  public static func clearShaping(ns: String?, link: String) -> Step { .network(.clearShaping(ns: ns, link: link)) }
  public static func setMTU(ns: String?, link: String, mtu: Int) -> Step { .network(.setMTU(ns: ns, link: link, mtu: mtu)) }
  public static func keepAddressesOnDown(ns: String, link: String) -> Step { .network(.keepAddressesOnDown(ns: ns, link: link)) }
  public static func createCgroup(path: String, cpuPercent: Int?) -> Step { .node(.createCgroup(path: path, cpuPercent: cpuPercent)) }
  public static func deleteCgroup(path: String) -> Step { .node(.deleteCgroup(path: path)) }
  public static func startProcesses(_ l: [Launch]) -> Step { .node(.startProcesses(l)) }
  public static func stopProcesses(cgroups: [String]) -> Step { .node(.stopProcesses(cgroups: cgroups)) }

  /// The namespace the step acts in (nil: root, or not a network step).
  public var namespace: String? {
    switch self {
    case .network(let n): return n.namespace
    case .node: return nil
    }
  }

  /// Every namespace the step touches: a veth touches its peer's too.
  public var namespaces: [String?] {
    switch self {
    case .network(let n): return n.namespaces
    case .node: return [nil]
    }
  }

  /// What undoes this step; nil when nothing does (or nothing needs to).
  public var inverse: Step? {
    switch self {
    case .network(let n): return n.inverse.map(Step.network)
    case .node(let p): return p.inverse.map(Step.node)
    }
  }

  /// The network step, if it is one.
  public var networkStep: NetworkStep? {
    if case .network(let n) = self { return n }
    return nil
  }
}

/// A kernel network operation: netlink or a namespace's own sysctl. `ns` nil means the root
/// namespace.
public enum NetworkStep: Hashable, Sendable {
  case createNamespace(String)
  case deleteNamespace(String)
  case createBridge(ns: String, name: String, mac: MACAddress)
  case createVeth(Step.Veth)
  case deleteLink(ns: String?, name: String)
  case setLinkUp(ns: String?, name: String)
  case setLinkDown(ns: String?, name: String)
  case addAddress(ns: String?, link: String, address: InterfaceAddress)
  case deleteAddress(ns: String?, link: String, address: InterfaceAddress)
  case addRoute(ns: String, route: Step.KernelRoute)
  case deleteRoute(ns: String, route: Step.KernelRoute)
  case addNeighbours(Step.NeighbourSet)
  case deleteNeighbours(Step.NeighbourSet)
  case setForwarding(ns: String, enabled: Bool)
  /// IPv4 only: no link-local addresses, DAD or MLD, whose multicast floods every bridge port
  /// and makes large bridges quadratic to build. With IPv6, `linkLocal` gives each interface a
  /// link-local address (no DAD): a node that forwards, or has several interfaces, solicits a
  /// next hop for traffic that is not sourced from the outgoing interface, and the kernel
  /// sends such a solicitation only from a link-local address.
  case setIPv6(ns: String, enabled: Bool, linkLocal: Bool = false)
  /// `net.ipv4.icmp_ratemask` in a node: off, so that routers send every ICMP error and a
  /// probe measures what the kernel answers, not what its rate limit let through.
  case setICMPRateLimit(ns: String, enabled: Bool)
  /// `net.bridge.bridge-nf-call-{iptables,ip6tables,arptables}` in the bridge namespace: nstopo's
  /// bridges are plain switches, and netfilter on bridged frames costs every probe.
  case setBridgeNetfilter(ns: String, enabled: Bool)
  /// A node's `table inet nstopo`, in one transaction (libnftables). Its inverse is the
  /// namespace's deletion: nothing else holds it.
  case loadFirewall(ns: String, ruleset: String)
  /// A link end's egress qdiscs (tbf, netem as its child), replacing what was there.
  case setShaping(ns: String?, link: String, shaping: Shaping)
  /// Back to the device's default qdisc.
  case clearShaping(ns: String?, link: String)
  case setMTU(ns: String?, link: String, mtu: Int)
  /// `net.ipv6.conf.LINK.keep_addr_on_down=1` inside a node: IPv6 keeps the interface's
  /// addresses when it goes down (it flushes them by default), as IPv4 does.
  case keepAddressesOnDown(ns: String, link: String)
}

/// A node runtime operation: cgroups and the processes in them.
public enum NodeStep: Hashable, Sendable {
  /// A cgroup (path relative to the cgroup mount), with an optional CPU cap in percent.
  case createCgroup(path: String, cpuPercent: Int?)
  /// Stops every process in the cgroup, then removes it.
  case deleteCgroup(path: String)
  /// One wave of `run` lines: every node's next line, started together.
  case startProcesses([Step.Launch])
  /// Stops every process in these cgroups (SIGTERM, then SIGKILL).
  case stopProcesses(cgroups: [String])

  public var inverse: NodeStep? {
    switch self {
    case .createCgroup(let path, _): return .deleteCgroup(path: path)
    case .startProcesses(let l): return .stopProcesses(cgroups: l.map(\.cgroup))
    case .deleteCgroup, .stopProcesses: return nil
    }
  }
}

extension Step {
  /// A veth created by a socket in `ns`, with its peer created directly in `peerNamespace`.
  public struct Veth: Hashable, Sendable {
    public var ns: String?
    public var name: String
    public var mac: MACAddress
    /// Bridge to enslave the local end to (a bridge in `ns`).
    public var master: String?
    public var peerNamespace: String?
    public var peerName: String
    public var peerMAC: MACAddress
    /// Alias for the local end (set on root-namespace ends, see `KernelNames.hostAlias`).
    public var alias: String?
    /// Both ends' MTU (nil: the kernel's default, 1500).
    public var mtu: Int? = nil
  }

  /// A route as the kernel takes it.
  public struct KernelRoute: Hashable, Sendable {
    public enum Kind: String, Hashable, Sendable { case unicast, blackhole, unreachable, prohibit }
    public var destination: IPPrefix
    public var gateway: IPAddress?
    public var kind: Kind

    public init(destination: IPPrefix, gateway: IPAddress?, kind: Kind) {
      self.destination = destination
      self.gateway = gateway
      self.kind = kind
    }
  }

  /// Permanent neighbour entries for one L2 segment: every member learns every other
  /// member's MAC, so no ARP is needed (and the global ARP table limit is never hit).
  public struct NeighbourSet: Hashable, Sendable {
    public struct Member: Hashable, Sendable {
      public var ns: String?
      public var link: String
      public var address: IPAddress
      public var mac: MACAddress
    }
    public var segment: String
    public var members: [Member]

    /// k members give k*(k-1) entries.
    public var entryCount: Int { members.count * max(0, members.count - 1) }
  }

  /// A `run` line, started inside its node's namespace, cgroup and chroot.
  public struct Launch: Hashable, Sendable {
    public var node: String
    public var ns: String
    public var cgroup: String
    public var root: String?
    public var command: String
    /// The topology's name: `ns` is `<topology>-<node>` (KernelNames).
    public var topology: String { String(ns.dropLast(node.count + 1)) }

    public init(node: String, ns: String, cgroup: String, root: String?, command: String) {
      self.node = node
      self.ns = ns
      self.cgroup = cgroup
      self.root = root
      self.command = command
    }
  }

  /// How a `run` line is started: split into words and exec'd when it has no shell syntax
  /// (so a PATH lookup finds e.g. the rootfs's `nc` wrapper rather than a busybox applet),
  /// else through `/bin/sh -c`.
  public static func argv(for command: String) -> [String] {
    let shellSyntax = "|&;<>()$`\\\"'*?[]{}~#="
    if command.contains(where: { shellSyntax.contains($0) }) { return ["/bin/sh", "-c", command] }
    let words = command.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    return words.isEmpty ? ["/bin/sh", "-c", command] : words
  }

}

extension NetworkStep {
  /// The namespace the step acts in (nil: root).
  public var namespace: String? {
    switch self {
    case .createNamespace(let n), .deleteNamespace(let n): return n
    case .createBridge(let ns, _, _): return ns
    case .createVeth(let v): return v.ns
    case .deleteLink(let ns, _), .setLinkUp(let ns, _), .setLinkDown(let ns, _): return ns
    case .addAddress(let ns, _, _), .deleteAddress(let ns, _, _): return ns
    case .addRoute(let ns, _), .deleteRoute(let ns, _): return ns
    case .addNeighbours(let s), .deleteNeighbours(let s): return s.members.first?.ns
    case .setForwarding(let ns, _), .setIPv6(let ns, _, _), .setICMPRateLimit(let ns, _), .setBridgeNetfilter(let ns, _): return ns
    case .loadFirewall(let ns, _): return ns
    case .setShaping(let ns, _, _), .clearShaping(let ns, _), .setMTU(let ns, _, _): return ns
    case .keepAddressesOnDown(let ns, _): return ns
    }
  }

  /// Every namespace the step touches: a veth touches its peer's too.
  public var namespaces: [String?] {
    switch self {
    case .createVeth(let v): return [v.ns, v.peerNamespace]
    case .addNeighbours(let s), .deleteNeighbours(let s): return s.members.map(\.ns)
    default: return [namespace]
    }
  }

  /// What undoes this step; nil when nothing does (or nothing needs to).
  public var inverse: NetworkStep? {
    switch self {
    case .createNamespace(let n): return .deleteNamespace(n)
    case .createBridge(let ns, let name, _): return .deleteLink(ns: ns, name: name)
    case .createVeth(let v): return .deleteLink(ns: v.ns, name: v.name)
    case .setLinkUp(let ns, let name): return .setLinkDown(ns: ns, name: name)
    case .setLinkDown(let ns, let name): return .setLinkUp(ns: ns, name: name)
    case .addAddress(let ns, let link, let a): return .deleteAddress(ns: ns, link: link, address: a)
    case .addRoute(let ns, let r): return .deleteRoute(ns: ns, route: r)
    case .addNeighbours(let s): return .deleteNeighbours(s)
    case .setForwarding(let ns, let on): return on ? .setForwarding(ns: ns, enabled: false) : nil
    case .setIPv6(let ns, let on, let linkLocal): return .setIPv6(ns: ns, enabled: !on, linkLocal: linkLocal)
    case .setICMPRateLimit(let ns, let on): return .setICMPRateLimit(ns: ns, enabled: !on)
    case .setBridgeNetfilter(let ns, let on): return .setBridgeNetfilter(ns: ns, enabled: !on)
    case .setShaping(let ns, let link, _): return .clearShaping(ns: ns, link: link)
    case .deleteNamespace, .deleteLink, .deleteAddress, .deleteRoute, .deleteNeighbours, .loadFirewall, .clearShaping, .setMTU,
      .keepAddressesOnDown:
      return nil
    }
  }
}

/// A step and what undoes it.
public struct PlannedStep: Hashable, Sendable {
  public var step: Step
  public var inverse: Step?

  public init(_ step: Step) {
    self.step = step
    self.inverse = step.inverse
  }
}
