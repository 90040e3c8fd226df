import TopologyModel

/// What one node does with the packet, in the order the kernel does it: the typed steps
/// `why` shows under each hop (route, filter, NAT, session, delivery), the same for the
/// model's walk and the walk of what the kernel has.
public enum HopStep: Hashable, Sendable, CustomStringConvertible {
  /// The route chosen by longest prefix match: its prefix, kind, the interface out and the
  /// gateway. Equivalent to one line of `ip route get DST`.
  case route(prefix: IPPrefix, kind: RouteKind, interface: String?, via: IPAddress?)
  /// A chain of the node's firewall decided a new connection: by a rule or by its policy.
  case filter(chain: Firewall.Chain, decision: Firewall.Decision)
  /// A reply, or an ICMP error about the connection, passing the chain as part of the
  /// connection the probe opened (`ct state established,related accept`).
  case session(chain: Firewall.Chain)
  /// `masquerade IF`: the source rewritten to the interface's address.
  case masquerade(interface: String, from: IPAddress, to: IPAddress)
  /// `dnat`: the destination (and port) rewritten, at the line that says so.
  case dnat(from: IPAddress, fromPort: Int, to: IPAddress, toPort: Int, line: Int)
  /// A reply translated back where the probe was translated: the reply's destination
  /// (masquerade) or source (dnat), from what it was to what it becomes.
  case untranslate(field: Field, from: IPAddress, to: IPAddress)
  /// Delivered to one of the node's addresses (at the probe's port; nil for a reply).
  case deliver(address: IPAddress, port: Int?)

  public enum RouteKind: String, Hashable, Sendable {
    case connected, gateway, blackhole, unreachable, prohibit
  }

  public enum Field: String, Hashable, Sendable {
    case source, destination
  }

  /// The step's type, as `why --json` names it.
  public var type: String {
    switch self {
    case .route: return "route"
    case .filter: return "filter"
    case .session: return "session"
    case .masquerade, .dnat, .untranslate: return "nat"
    case .deliver: return "deliver"
    }
  }

  /// One line, without the type: `100.64.30.0/24 dev eth0`, `forward: line 15 drops (…)`.
  public var description: String {
    switch self {
    case .route(let prefix, let kind, let interface, let via):
      let dest = prefix.length == 0 ? "default" : prefix.description
      switch kind {
      case .connected: return "\(dest) dev \(interface ?? "?") (connected)"
      case .gateway: return "\(dest) via \(via.map(\.description) ?? "?")\(interface.map { " dev \($0)" } ?? "")"
      case .blackhole, .unreachable, .prohibit: return "\(kind.rawValue) \(dest)"
      }
    case .filter(let chain, let decision):
      switch decision {
      case .rule(let r): return "\(chain.rawValue): line \(r.line) \(verb(r.action)) (`\(r.text)`)"
      case .policy(_, let a, let line): return "\(chain.rawValue): policy \(a.rawValue)\(line.map { " (line \($0))" } ?? "")"
      }
    case .session(let chain): return "\(chain.rawValue): part of the probe's connection, passes"
    case .masquerade(let interface, let from, let to): return "masquerade out \(interface): source \(from) -> \(to)"
    case .dnat(let from, let fromPort, let to, let toPort, let line):
      return "dnat \(Self.endpoint(from, fromPort)) -> \(Self.endpoint(to, toPort)) (line \(line))"
    case .untranslate(let field, let from, let to): return "reply \(field.rawValue) \(from) -> \(to) (translated back)"
    case .deliver(let address, let port): return "to \(port.map { Self.endpoint(address, $0) } ?? address.description)"
    }
  }

  func verb(_ a: Firewall.Action) -> String {
    switch a {
    case .accept: return "accepts"
    case .drop: return "drops"
    case .reject: return "rejects"
    }
  }

  /// `10.0.0.1:80`, `[fd00::1]:80`.
  static func endpoint(_ a: IPAddress, _ port: Int) -> String {
    a.family == .ipv6 ? "[\(a)]:\(port)" : "\(a):\(port)"
  }
}

/// `why --json`: each step an object with its `type`, a `text` as `why` prints it, and its
/// fields by name (addresses and prefixes as strings, as `ip -j` writes them).
extension HopStep: Encodable {
  enum Key: String, CodingKey {
    case type, text, prefix, kind, interface, via, chain, action, line, rule, from, to, fromPort, toPort, field, address, port
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(type, forKey: .type)
    try c.encode(description, forKey: .text)
    switch self {
    case .route(let prefix, let kind, let interface, let via):
      try c.encode(prefix.description, forKey: .prefix)
      try c.encode(kind.rawValue, forKey: .kind)
      try c.encodeIfPresent(interface, forKey: .interface)
      try c.encodeIfPresent(via?.description, forKey: .via)
    case .filter(let chain, let decision):
      try c.encode(chain.rawValue, forKey: .chain)
      try c.encode(decision.action.rawValue, forKey: .action)
      switch decision {
      case .rule(let r):
        try c.encode(r.line, forKey: .line)
        try c.encode(r.text, forKey: .rule)
      case .policy(_, _, let line):
        try c.encodeIfPresent(line, forKey: .line)
      }
    case .session(let chain):
      try c.encode(chain.rawValue, forKey: .chain)
      try c.encode("accept", forKey: .action)
    case .masquerade(let interface, let from, let to):
      try c.encode("masquerade", forKey: .kind)
      try c.encode(interface, forKey: .interface)
      try c.encode("source", forKey: .field)
      try c.encode(from.description, forKey: .from)
      try c.encode(to.description, forKey: .to)
    case .dnat(let from, let fromPort, let to, let toPort, let line):
      try c.encode("dnat", forKey: .kind)
      try c.encode("destination", forKey: .field)
      try c.encode(from.description, forKey: .from)
      try c.encode(fromPort, forKey: .fromPort)
      try c.encode(to.description, forKey: .to)
      try c.encode(toPort, forKey: .toPort)
      try c.encode(line, forKey: .line)
    case .untranslate(let field, let from, let to):
      try c.encode("reverse", forKey: .kind)
      try c.encode(field.rawValue, forKey: .field)
      try c.encode(from.description, forKey: .from)
      try c.encode(to.description, forKey: .to)
    case .deliver(let address, let port):
      try c.encode(address.description, forKey: .address)
      try c.encodeIfPresent(port, forKey: .port)
    }
  }
}

extension Hop: Encodable {
  enum Key: String, CodingKey { case node, interface, via, steps }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(node, forKey: .node)
    try c.encodeIfPresent(interface, forKey: .interface)
    try c.encodeIfPresent(nextHop?.description, forKey: .via)
    try c.encode(steps, forKey: .steps)
  }
}

extension Prediction: Encodable {
  enum Key: String, CodingKey { case verdict, reached, reason, path, back, landed }
  enum Landed: String, CodingKey { case node, port }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Key.self)
    try c.encode(verdict.rawValue, forKey: .verdict)
    try c.encode(reached, forKey: .reached)
    try c.encodeIfPresent(reason, forKey: .reason)
    try c.encode(path, forKey: .path)
    try c.encode(returnPath, forKey: .back)
    if let n = landedNode, let p = landedPort {
      var l = c.nestedContainer(keyedBy: Landed.self, forKey: .landed)
      try l.encode(n, forKey: .node)
      try l.encode(p, forKey: .port)
    }
  }
}
