/// A fully resolved topology: every name, interface, address and next hop is explicit.
/// The DSL produces it; the planner, prober and renderer consume it. It never touches the kernel.
public struct Topology: Hashable, Sendable, Codable {
  public var name: String
  public var subnets: [Subnet]
  public var bridges: [Bridge]
  public var nodes: [Node]
  /// Every veth, in declaration order. The single source of truth for interfaces.
  public var links: [Link]
  public var expectations: [Expectation]
  /// Failure scenarios, in file order: changes and the expectations that hold under them.
  public var scenarios: [Scenario]

  public init(
    name: String, subnets: [Subnet] = [], bridges: [Bridge] = [], nodes: [Node] = [],
    links: [Link] = [], expectations: [Expectation] = [], scenarios: [Scenario] = []
  ) {
    self.name = name
    self.subnets = subnets
    self.bridges = bridges
    self.nodes = nodes
    self.links = links
    self.expectations = expectations
    self.scenarios = scenarios
  }

  /// Whether any link has an end in the root namespace.
  public var hasHost: Bool { links.contains { $0.a.owner == .host || $0.b.owner == .host } }

  /// Every interface end owned by `owner`, in link order.
  public func ends(of owner: Owner) -> [LinkEnd] {
    var result: [LinkEnd] = []
    for link in links {
      if link.a.owner == owner { result.append(link.a) }
      if link.b.owner == owner { result.append(link.b) }
    }
    return result
  }

  /// Every owner's ends in one pass, in link order: for callers that ask `ends(of:)` of every
  /// node, which is a scan of all links each time.
  public func endsByOwner() -> [Owner: [LinkEnd]] {
    var result: [Owner: [LinkEnd]] = [:]
    for link in links {
      result[link.a.owner, default: []].append(link.a)
      result[link.b.owner, default: []].append(link.b)
    }
    return result
  }

  public func node(named name: String) -> Node? { nodes.first { $0.name == name } }
}

/// A named address pool. A bridge's subnet is one L2 segment; a point-to-point pool is carved
/// into one block per direct link.
public struct Subnet: Hashable, Sendable, Codable {
  public var name: String
  public var prefix: IPPrefix
  /// Block size for point-to-point links carved from this pool (30 or 31).
  public var carve: Int

  public init(name: String, prefix: IPPrefix, carve: Int = 30) {
    self.name = name
    self.prefix = prefix
    self.carve = carve
  }
}

/// A Linux bridge: one L2 segment, living in the topology's private bridge namespace.
public struct Bridge: Hashable, Sendable {
  public var name: String
  /// Its subnets, at most one per family, IPv4 first: every port gets an address of each.
  public var subnets: [String]

  public init(name: String, subnets: [String] = []) {
    self.name = name
    self.subnets = subnets
  }

  public init(name: String, subnet: String?) {
    self.init(name: name, subnets: subnet.map { [$0] } ?? [])
  }
}

/// A network namespace and what runs in it.
public struct Node: Hashable, Sendable, Codable {
  public var name: String
  /// `net.ipv4.ip_forward=1` inside this node only.
  public var forward: Bool
  public var routes: [Route]
  /// CPU cap in percent of one CPU (150 = one and a half CPUs).
  public var cpuPercent: Int?
  /// Root filesystem, absolute (resolved against the topology file's folder).
  public var chroot: String?
  /// Shell command lines started inside the node at `up`.
  public var run: [String]
  /// Line of the `node` declaration, for diagnostics about the node.
  public var line: Int?
  /// `firewall`, `allow`, `deny` and `reject` lines; nil: none (no table is built).
  public var firewall: Firewall?

  public init(
    name: String, forward: Bool = false, routes: [Route] = [], cpuPercent: Int? = nil,
    chroot: String? = nil, run: [String] = [], line: Int? = nil, firewall: Firewall? = nil
  ) {
    self.name = name
    self.firewall = firewall
    self.line = line
    self.forward = forward
    self.routes = routes
    self.cpuPercent = cpuPercent
    self.chroot = chroot
    self.run = run
  }
}

/// Who owns one end of a veth.
public enum Owner: Hashable, Sendable, CustomStringConvertible {
  case node(String)
  case bridge(String)
  /// The root network namespace.
  case host

  public var isNode: Bool {
    if case .node = self { return true }
    return false
  }

  public var description: String {
    switch self {
    case .node(let n): return n
    case .bridge(let b): return b
    case .host: return "host"
    }
  }
}

/// One end of a veth: its owner, its interface name there, and its addresses (at most one
/// per family, IPv4 first).
public struct LinkEnd: Hashable, Sendable {
  public var owner: Owner
  public var interface: String
  public var addresses: [InterfaceAddress]
  /// Administratively down (`ip link set X down`): it keeps its addresses, which stay local
  /// to its node, but has no connected route and carries nothing. A `link … down` line
  /// puts both ends down.
  public var down: Bool

  public init(owner: Owner, interface: String, addresses: [InterfaceAddress] = [], down: Bool = false) {
    precondition(Self.onePerFamily(addresses), "two addresses of one family on \(owner):\(interface)")
    self.owner = owner
    self.interface = interface
    self.down = down
    // Without allocating for the usual zero or one address: a large file has tens of thousands.
    if addresses.count == 2 && addresses[0].family == .ipv6 {
      self.addresses = [addresses[1], addresses[0]]
    } else {
      self.addresses = addresses
    }
  }

  static func onePerFamily(_ a: [InterfaceAddress]) -> Bool {
    a.count < 2 || (a.count == 2 && a[0].family != a[1].family)
  }

  /// An end with at most one address.
  public init(owner: Owner, interface: String, address: InterfaceAddress?) {
    self.init(owner: owner, interface: interface, addresses: address.map { [$0] } ?? [])
  }

  /// Its address of `family`, if any.
  public func address(_ family: IPAddress.Family) -> InterfaceAddress? {
    addresses.first { $0.family == family }
  }

  /// Sets (or, with nil, removes) its address of `family`.
  public mutating func setAddress(_ family: IPAddress.Family, _ address: InterfaceAddress?) {
    addresses.removeAll { $0.family == family }
    if let address {
      precondition(address.family == family)
      addresses.append(address)
      addresses.sort { $0.family == .ipv4 && $1.family == .ipv6 }
    }
  }
}

/// A veth pair. `a` is a node or the host; `b` is a node, a bridge port or the host.
public struct Link: Hashable, Sendable {
  public var a: LinkEnd
  public var b: LinkEnd
  /// The subnets the addresses came from (a bridge's, or point-to-point pools), at most one
  /// per family, IPv4 first.
  public var subnets: [String]
  /// Its shaping, MTU and state (the tail of its `link` line).
  public var properties: LinkProperties

  public init(a: LinkEnd, b: LinkEnd, subnets: [String] = [], properties: LinkProperties = LinkProperties()) {
    self.a = a
    self.b = b
    self.subnets = subnets
    self.properties = properties
  }

  public init(a: LinkEnd, b: LinkEnd, subnet: String?) {
    self.init(a: a, b: b, subnets: subnet.map { [$0] } ?? [])
  }

  /// Whether both ends are up: only then does the link carry anything.
  public var isUp: Bool { !a.down && !b.down }

  /// The L2 segment this link belongs to: its bridge, or the link itself.
  public var bridge: String? {
    if case .bridge(let name) = b.owner { return name }
    return nil
  }
}

/// A static route in one node; the gateway, if any, is of the destination's family.
public struct Route: Hashable, Sendable, Codable {
  public enum NextHop: Hashable, Sendable, Codable {
    /// `via ADDR`; `node` names the neighbour when the file said `via NODE`.
    case gateway(IPAddress, node: String?)
    case blackhole
    case unreachable
    case prohibit
  }

  public var destination: IPPrefix
  public var nextHop: NextHop

  public init(destination: IPPrefix, nextHop: NextHop) {
    self.destination = destination
    self.nextHop = nextHop
  }
}

public enum TransportProtocol: String, Hashable, Sendable, Codable, CaseIterable {
  case tcp
  case udp
  /// ICMP echo (ping): no port, no listener; the target's kernel answers.
  case icmp

  /// Whether a port means anything (TCP and UDP).
  public var hasPorts: Bool { self != .icmp }

  /// `tcp/4444`, `udp/53`, `icmp`: how messages name a probe's service.
  public func label(_ port: Int) -> String { hasPorts ? "\(rawValue)/\(port)" : rawValue }
}

/// One `expect` line: the cross product of `sources` and `targets` (self pairs excluded).
public struct Expectation: Hashable, Sendable, Codable {
  /// Written `reach` or `blocked` in the language; in JSON `reached` or `blocked`, the
  /// spelling of the measured outcome (JSON of format 1 and state files said `reach`, which
  /// is still read).
  public enum Outcome: String, Hashable, Sendable, Codable {
    case reach
    case blocked

    /// The JSON spelling.
    public var json: String { self == .reach ? "reached" : "blocked" }

    public init(from decoder: Decoder) throws {
      let text = try decoder.singleValueContainer().decode(String.self)
      switch text {
      case "reach", "reached": self = .reach
      case "blocked": self = .blocked
      default:
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "'\(text)' is not reached or blocked"))
      }
    }

    public func encode(to encoder: Encoder) throws {
      var c = encoder.singleValueContainer()
      try c.encode(json)
    }
  }

  public var sources: [String]
  public var targets: [String]
  /// nil: every family both ends of a pair have.
  public var family: IPAddress.Family?
  public var proto: TransportProtocol
  /// nil: the probe port chosen at test time.
  public var port: Int?
  public var outcome: Outcome
  /// 1-based line in the topology file.
  public var line: Int

  public init(
    sources: [String], targets: [String], family: IPAddress.Family? = nil, proto: TransportProtocol = .tcp, port: Int? = nil,
    outcome: Outcome, line: Int
  ) {
    self.sources = sources
    self.targets = targets
    self.family = family
    self.proto = proto
    self.port = port
    self.outcome = outcome
    self.line = line
  }
}

/// One ordered pair that an expectation covers.
public struct ExpectedPair: Hashable, Sendable, Codable {
  public var source: String
  public var target: String
  /// nil: every family both ends have.
  public var family: IPAddress.Family?
  public var proto: TransportProtocol
  public var port: Int?
  public var outcome: Expectation.Outcome
  public var line: Int
}

extension Topology {
  /// Every expected pair; a later line overrides an earlier one for the same pair, protocol and port.
  /// Sorted by source, target, protocol and port, so the result is stable. This expands the
  /// lines: `plan` lists them (capped); everything else asks `ExpectationIndex` pair by pair.
  public func expectedPairs() -> [ExpectedPair] {
    var pairs: [ExpectedPair] = []
    ExpectationIndex(expectations).forEachPair { pairs.append($0); return true }
    let order = Dictionary(
      uniqueKeysWithValues: (["host"] + nodes.map(\.name)).enumerated().map { ($1, $0) })
    return pairs.sorted {
      let a = (order[$0.source] ?? 0, order[$0.target] ?? 0, $0.proto.rawValue, $0.port ?? 0, $0.family?.rawValue ?? "")
      let b = (order[$1.source] ?? 0, order[$1.target] ?? 0, $1.proto.rawValue, $1.port ?? 0, $1.family?.rawValue ?? "")
      return a < b
    }
  }
}

extension IPPrefix {
  /// `default` for IPv4's /0 (as the language writes it), else the prefix (`::/0` for IPv6's).
  public var routeText: String { isDefault && family == .ipv4 ? "default" : description }
}

extension Route {
  /// The route as `ip route` writes it: `DEST via GW`, or `blackhole|unreachable|prohibit DEST`.
  /// The one text of a route: plans, status, drift and diagnostics all use it.
  public var text: String {
    let d = destination.routeText
    switch nextHop {
    case .gateway(let gw, _): return "\(d) via \(gw)"
    case .blackhole: return "blackhole \(d)"
    case .unreachable: return "unreachable \(d)"
    case .prohibit: return "prohibit \(d)"
    }
  }
}
