import Glibc
import Netlink
import TopologyModel
import Planner

/// The real backend: one netlink socket per namespace, opened inside it, so every later call
/// acts there from this thread without `setns`. Confine an instance to one thread.
public final class NetlinkBackend: KernelBackend {
  /// A namespace's socket. The namespace's own descriptor is opened only while a call needs
  /// it (a veth's peer, a sysctl): a thousand namespaces then hold a thousand descriptors,
  /// not two thousand. The root namespace keeps its one.
  final class Handle {
    let name: String?
    let socket: NetlinkSocket
    private let rootFD: Int32?
    var indexes: [String: Int32] = [:]
    lazy var raw: Result<RawRouteSocket, Error> = Result {
      try withNamespaceFD { try RawRouteSocket(namespaceFD: $0, name: socket.namespaceName) }
    }

    init(name: String, socket: NetlinkSocket) {
      self.name = name
      self.socket = socket
      rootFD = nil
    }

    init(rootFD: Int32, socket: NetlinkSocket) {
      name = nil
      self.socket = socket
      self.rootFD = rootFD
    }

    deinit { if let rootFD { close(rootFD) } }

    func withNamespaceFD<T>(_ body: (Int32) throws -> T) throws -> T {
      if let rootFD { return try body(rootFD) }
      let fd = try NetworkNamespace.open(name!)
      defer { close(fd) }
      return try body(fd)
    }
  }

  private var handles: [String: Handle] = [:]
  private let root: Handle
  /// Deleted last, once the kernel has released every veth in it.
  public var bridgeNamespace: String?
  /// How long to wait for the kernel to release veths after namespaces are deleted.
  public var releaseTimeout: Double = 10
  /// Things that went wrong without failing the operation (e.g. a namespace still held).
  public private(set) var warnings: [String] = []

  public init(bridgeNamespace: String? = nil, namespaceMarker: String? = nil) throws {
    let fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemError("open", "/proc/thread-self/ns/net", errno: errno) }
    do {
      root = Handle(rootFD: fd, socket: try NetlinkSocket(namespaceFD: nil, name: "the root namespace"))
    } catch {
      close(fd)
      throw error
    }
    self.bridgeNamespace = bridgeNamespace
    self.namespaceMarker = namespaceMarker
  }

  /// Put on the loopback of every namespace this backend creates (`ip link set lo alias
  /// nstopo:<topology>`), inside it and before it has its name: `down` trusts a namespace
  /// whose creation the journal never confirmed only if it carries this mark.
  public let namespaceMarker: String?

  /// Equivalent to `stat -c %i /run/netns/NAME`: the nsfs inode of a namespace just created.
  public func proof(_ kind: JournalEntry.Kind, _ name: String) -> UInt64? {
    kind == .netns ? NetworkNamespace.inode(name) : nil
  }

  deinit { NetworkNamespace.releaseAnchor() }

  /// The handle of a namespace (nil: root), opening it on first use.
  func handle(_ ns: String?) throws -> Handle {
    guard let ns else { return root }
    if let h = handles[ns] { return h }
    let fd = try NetworkNamespace.open(ns)
    defer { close(fd) }
    let h = Handle(name: ns, socket: try NetlinkSocket(namespaceFD: fd, name: ns))
    handles[ns] = h
    return h
  }

  /// A socket in `ns` (nil: root), for reading the kernel back.
  public func socket(_ ns: String?) throws -> NetlinkSocket { try handle(ns).socket }

  func ifindex(_ ns: String?, _ name: String) throws -> Int32 {
    let h = try handle(ns)
    if let i = h.indexes[name] { return i }
    guard let i = try h.socket.linkIndex(name) else {
      throw NetlinkError(operation: "look up link", object: "\(name) in \(ns ?? "the root namespace")", code: 0, errno: ENODEV)
    }
    h.indexes[name] = i
    return i
  }

  /// Seconds and calls per operation, kept when NSTOPO_PROFILE is set.
  public private(set) var profile: [String: (seconds: Double, calls: Int)] = [:]
  private let profiling = getenv("NSTOPO_PROFILE") != nil

  /// Network steps only: a node step (cgroups, processes) is `SystemBackend`'s, and here an
  /// error that names it.
  public func apply(_ step: Step) throws {
    switch step {
    case .network(let n): try apply(n)
    case .node(let p): throw NotANetworkStep(op: p.op)
    }
  }

  public func apply(_ step: NetworkStep) throws {
    guard profiling else { return try perform(step) }
    let start = monotonicSeconds()
    defer {
      let p = profile[step.op, default: (0, 0)]
      profile[step.op] = (p.seconds + monotonicSeconds() - start, p.calls + 1)
    }
    try perform(step)
  }

  public struct NotANetworkStep: Error, CustomStringConvertible {
    public var op: String
    public var description: String { "\(op) is not a network step: it is applied by the system backend (cgroups and processes)" }
  }

  /// Namespace groups (create, then settings inside: IPv6 off, loopback up) on one thread per
  /// core: creating a namespace is mostly work outside the kernel's rtnl lock (namespace
  /// set-up, sysctl tables, the bind mount), so two threads nearly halve it. Veths stay on
  /// one thread: measured, two threads adding bridge ports only wait on each other's rtnl.
  public func applyConcurrently(_ groups: [[Step]]) -> [GroupOutcome] {
    let start = monotonicSeconds()
    let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let count = max(1, min(online, groups.count / 8 + 1))
    // A backend per thread: its own sockets, its own handles, the ordinary `apply`, and the
    // same mark: `down` trusts a namespace whose creation the journal never confirmed by it.
    guard count > 1,
      let workers = try? (0..<count).map({ _ in
        try NetlinkBackend(bridgeNamespace: bridgeNamespace, namespaceMarker: namespaceMarker)
      })
    else { return groups.map { Self.applyGroup($0, with: self) } }
    let results = Slots<GroupOutcome>(groups.count, GroupOutcome(applied: 0, error: nil))
    NetworkNamespace.prepare()
    parallel(count) { worker in
      var k = worker
      while k < groups.count {
        results[k] = Self.applyGroup(groups[k], with: workers[worker])
        k += count
      }
    }
    NetworkNamespace.releaseAnchor()
    // Adopt the new namespaces' handles; the workers' sockets close with them.
    for (k, group) in groups.enumerated() {
      if case .network(.createNamespace(let n)) = group[0], let h = workers[k % count].handles.removeValue(forKey: n) { handles[n] = h }
    }
    if profiling {
      let p = profile["create-namespaces (\(count) threads)", default: (0, 0)]
      profile["create-namespaces (\(count) threads)"] = (p.seconds + monotonicSeconds() - start, p.calls + groups.count)
    }
    return (0..<groups.count).map { results[$0] }
  }

  /// A namespace group: its sysctl and firewall steps that follow the creation are applied
  /// while the thread is still inside the new namespace (a setns pair each cost ~0.2 ms, 20 % of `up` at
  /// star-1000); the rest one by one.
  private static func applyGroup(_ group: [Step], with backend: NetlinkBackend) -> GroupOutcome {
    var k = 0
    if case .network(.createNamespace(let n)) = group.first {
      var inside: [NetworkStep] = []
      for s in group.dropFirst() {
        guard case .network(let x) = s else { break }
        switch x {
        case .setIPv6(n, _, _), .setICMPRateLimit(n, _), .loadFirewall(n, _): inside.append(x)
        default: break
        }
        if inside.last != x { break }
      }
      do { try backend.createNamespace(n, writing: inside) } catch { return GroupOutcome(applied: 0, error: error) }
      k = 1 + inside.count
    }
    while k < group.count {
      do { try backend.apply(group[k]) } catch { return GroupOutcome(applied: k, error: error) }
      k += 1
    }
    return GroupOutcome(applied: group.count, error: nil)
  }

  /// The per-operation profile as lines, slowest first.
  public var profileReport: String {
    profile.sorted { $0.value.seconds > $1.value.seconds }
      .map { "\($0.key): \(String(format: "%.3f", $0.value.seconds)) s in \($0.value.calls) calls" }
      .joined(separator: "\n")
  }

  /// Equivalent to `ip netns add NAME`, then `sysctls` (setIPv6, setICMPRateLimit and
  /// loadFirewall of NAME) applied from inside. The socket is opened inside the new namespace too, before it is
  /// named: no setns later. A failure inside leaves no namespace.
  func createNamespace(_ n: String, writing sysctls: [NetworkStep]) throws {
    var socket: NetlinkSocket?
    let marker = namespaceMarker
    let fd = try NetworkNamespace.create(n) {
      let s = try NetlinkSocket(namespaceFD: nil, name: n)
      if let marker { try s.setAlias("lo", marker) }
      let net = NetSysctls(here: n)
      for x in sysctls {
        switch x {
        case .setIPv6(_, let on, let linkLocal): try Sysctl.setIPv6(on, linkLocal: linkLocal, in: net)
        case .setICMPRateLimit(_, let on): try Sysctl.setICMPRateLimit(on, in: net)
        case .loadFirewall(_, let ruleset): try Self.loadFirewallHere(ruleset, net: net)
        default: preconditionFailure("\(x.op) is not written inside a new namespace")
        }
      }
      socket = s
    }
    close(fd)
    handles[n] = Handle(name: n, socket: socket!)
  }

  /// Equivalent to `ip netns exec NS nft -f -`, in the calling thread's namespace.
  private static func loadFirewallHere(_ ruleset: String, net: NetSysctls) throws {
    try Nftables.run(ruleset, namespace: net.name)
    // The table's `ct` rules load conntrack: this namespace's sysctls exist from now.
    try Sysctl.setConntrackCloseTimeout(in: net)
  }

  private func perform(_ step: NetworkStep) throws {
    switch step {
    case .createNamespace(let n):
      try createNamespace(n, writing: [])
    case .deleteNamespace(let n):
      try deleteNamespace(n)
    case .createBridge(let ns, let name, let mac):
      try handle(ns).raw.get().addBridge(name: name, mac: mac.bytes)
    case .createVeth(let v):
      let master = try v.master.map { try ifindex(v.ns, $0) }
      let node = try handle(v.ns)
      try handle(v.peerNamespace).withNamespaceFD { peerFD in
        try node.socket.addVeth(
          name: v.name, mac: v.mac.bytes, master: master, peerName: v.peerName, peerMAC: v.peerMAC.bytes,
          peerNamespaceFD: peerFD, mtu: v.mtu)
      }
      if let alias = v.alias { try handle(v.ns).socket.setAlias(v.name, alias) }
    case .deleteLink(let ns, let name):
      try handle(ns).socket.deleteLink(name)
      handles[ns ?? ""]?.indexes[name] = nil
    case .setLinkUp(let ns, let name):
      try handle(ns).socket.setLink(name, up: true)
    case .setLinkDown(let ns, let name):
      try handle(ns).socket.setLink(name, up: false)
    case .addAddress(let ns, let link, let a):
      try handle(ns).socket.addAddress(ifindex: try ifindex(ns, link), a, label: "\(a) dev \(link)")
    case .deleteAddress(let ns, let link, let a):
      try handle(ns).socket.deleteAddress(ifindex: try ifindex(ns, link), a, label: "\(a) dev \(link)")
    case .addRoute(let ns, let r):
      try handle(ns).socket.addRoute(destination: r.destination, gateway: r.gateway, kind: r.kind.netlinkKind, label: r.label)
    case .deleteRoute(let ns, let r):
      try handle(ns).socket.deleteRoute(destination: r.destination, gateway: r.gateway, kind: r.kind.netlinkKind, label: r.label)
    case .addNeighbours(let set):
      try StaticNeighbours.install([set])
    case .deleteNeighbours(let set):
      try StaticNeighbours.remove([set])
    case .setForwarding(let ns, let on):
      try handle(ns).withNamespaceFD { try Sysctl.setForwarding(on, namespaceFD: $0, name: ns) }
    case .setIPv6(let ns, let on, let linkLocal):
      try handle(ns).withNamespaceFD { try Sysctl.setIPv6(on, linkLocal: linkLocal, namespaceFD: $0, name: ns) }
    case .setICMPRateLimit(let ns, let on):
      try handle(ns).withNamespaceFD { try Sysctl.setICMPRateLimit(on, namespaceFD: $0, name: ns) }
    case .setBridgeNetfilter(let ns, let on):
      try handle(ns).withNamespaceFD { try Sysctl.setBridgeNetfilter(on, namespaceFD: $0, name: ns) }
    case .setShaping(let ns, let link, let shaping):
      try handle(ns).socket.setShaping(ifindex: try ifindex(ns, link), shaping, label: "\(link) in \(ns ?? "the root namespace")")
    case .setMTU(let ns, let link, let mtu):
      try handle(ns).socket.setMTU(link, mtu)
    case .keepAddressesOnDown(let ns, let link):
      try handle(ns).withNamespaceFD { try Sysctl.keepAddressesOnDown(link, namespaceFD: $0, name: ns) }
    case .clearShaping(let ns, let link):
      try handle(ns).socket.clearShaping(ifindex: try ifindex(ns, link), label: "\(link) in \(ns ?? "the root namespace")")
    case .loadFirewall(let ns, let ruleset):
      _ = try handle(ns).withNamespaceFD { fd in
        try NetworkNamespace.run(in: fd) { () throws in try Self.loadFirewallHere(ruleset, net: NetSysctls(here: ns)) }
      }
    }
  }

  /// Waits until every veth in `namespaces` (nil: the root namespace, where only `names`
  /// count) carries traffic. A link just brought up keeps the `noop` qdisc, which drops every
  /// packet, until the kernel's linkwatch work activates it, asynchronously; a probe sent in
  /// that window is lost. In the namespaces of `ipv6`, also until no IPv6 address of the
  /// topology is tentative: the kernel installs its local route only then, in a work item,
  /// so a packet to it just after `up` is lost. Returns what is still not ready after
  /// `timeout` seconds.
  public func waitUntilReady(
    _ namespaces: [String?], rootLinks: Set<String>, ipv6: Set<String?> = [], timeout: Double = 3,
    shouldStop: () -> Bool = { false }
  ) -> [String] {
    var pending = namespaces
    let deadline = monotonicSeconds() + timeout
    var notReady: [String] = []
    let linkLocal = IPPrefix("fe80::/10")!
    while true {
      notReady = []
      pending = pending.filter { ns in
        guard let s = try? socket(ns), let links = try? s.links() else { return false }
        let ours = links.filter { $0.kind == "veth" && (ns != nil || rootLinks.contains($0.name)) }
        let waiting = ours.filter { $0.isUp && !$0.isReady }
        notReady += waiting.map { "\($0.name) in \(ns ?? "the root namespace")" }
        guard waiting.isEmpty else { return true }
        guard ipv6.contains(ns), let addresses = try? s.addresses(family: .ipv6) else { return false }
        let indexes = Set(ours.filter(\.isUp).map(\.index))
        let tentative = addresses.filter { $0.tentative && indexes.contains($0.ifindex) && !linkLocal.contains($0.address.address) }
        notReady += tentative.map { "\($0.address) (tentative) in \(ns ?? "the root namespace")" }
        return !tentative.isEmpty
      }
      if pending.isEmpty || monotonicSeconds() > deadline || shouldStop() { return notReady }
      usleep(2000)
    }
  }

  /// Equivalent to `ip netns del NAME`. For the bridge namespace, first waits until the kernel
  /// has released every veth in it (their peers' namespaces die asynchronously).
  private func deleteNamespace(_ n: String) throws {
    if n == bridgeNamespace, NetworkNamespace.exists(n) {
      waitForVethRelease(n)
    }
    handles[n] = nil
    try NetworkNamespace.delete(n)
  }

  private func waitForVethRelease(_ n: String) {
    guard let s = try? handle(n).socket else { return }
    let deadline = monotonicSeconds() + releaseTimeout
    var remaining = 0
    repeat {
      remaining = (try? s.links().filter { $0.kind == "veth" }.count) ?? 0
      if remaining == 0 { return }
      usleep(2000)
    } while monotonicSeconds() < deadline
    warnings.append(
      "\(remaining) veth(s) in \(n) were not released after \(Int(releaseTimeout)) s: a process may still hold one of the topology's namespaces")
  }
}


extension Step.KernelRoute.Kind {
  var netlinkKind: RouteInfo.Kind {
    switch self {
    case .unicast: return .unicast
    case .blackhole: return .blackhole
    case .unreachable: return .unreachable
    case .prohibit: return .prohibit
    }
  }
}

extension Step.KernelRoute {
  var label: String { route.text }
}
