/// A node's packet filter, as the language declares it: three chains, each a policy and rules
/// evaluated in file order, the first match deciding. Stateful: replies of an accepted
/// connection (and the ICMP errors about it) always pass, and so does loopback traffic.
/// Built as one nftables table per node (`table inet nstopo`).
public struct Firewall: Hashable, Sendable, Codable {
  public enum Chain: String, Hashable, Sendable, Codable, CaseIterable {
    case input
    case forward
    case output
  }

  public enum Action: String, Hashable, Sendable, Codable {
    case accept
    /// Silently: the sender hears nothing.
    case drop
    /// With an answer: a TCP reset, or ICMP port unreachable.
    case reject
  }

  public enum Proto: String, Hashable, Sendable, Codable {
    case tcp
    case udp
    case icmp
  }

  /// A chain's policy and the line that set it (nil: accept, from no line).
  public struct Policy: Hashable, Sendable, Codable {
    public var action: Action
    public var line: Int

    public init(action: Action, line: Int) {
      self.action = action
      self.line = line
    }
  }

  /// One `allow|deny|reject` line.
  public struct Rule: Hashable, Sendable, Codable {
    public var chain: Chain
    public var action: Action
    public var proto: Proto?
    /// Destination ports, `lo...hi` (tcp and udp only); nil: any.
    public var portLow: Int?
    public var portHigh: Int?
    /// Source and destination prefixes; nil: any.
    public var from: [IPPrefix]?
    public var to: [IPPrefix]?
    public var inInterface: String?
    public var outInterface: String?
    public var line: Int
    /// The line as written, for reasons (`deny forward from office to db`).
    public var text: String

    public init(
      chain: Chain, action: Action, proto: Proto? = nil, ports: ClosedRange<Int>? = nil, from: [IPPrefix]? = nil,
      to: [IPPrefix]? = nil, inInterface: String? = nil, outInterface: String? = nil, line: Int, text: String
    ) {
      self.chain = chain
      self.action = action
      self.proto = proto
      self.portLow = ports?.lowerBound
      self.portHigh = ports?.upperBound
      self.from = from
      self.to = to
      self.inInterface = inInterface
      self.outInterface = outInterface
      self.line = line
      self.text = text
    }

    public var ports: ClosedRange<Int>? {
      guard let l = portLow, let h = portHigh else { return nil }
      return l...h
    }
  }

  /// `masquerade IF`: what leaves through IF takes IF's address as its source (and the
  /// replies are translated back).
  public struct Masquerade: Hashable, Sendable, Codable {
    public var interface: String
    public var line: Int

    public init(interface: String, line: Int) {
      self.interface = interface
      self.line = line
    }
  }

  /// `dnat tcp|udp PORT to NODE|ADDRESS[:PORT]`: what arrives for any address of this node
  /// at PORT goes to the target instead (its address of the packet's family).
  public struct Dnat: Hashable, Sendable, Codable {
    public var proto: Proto
    public var port: Int
    /// One per family the target has.
    public var to: [IPAddress]
    public var toPort: Int?
    /// The node the file named, if it named one.
    public var toNode: String?
    public var line: Int
    public var text: String

    public init(proto: Proto, port: Int, to: [IPAddress], toPort: Int?, toNode: String?, line: Int, text: String) {
      self.proto = proto
      self.port = port
      self.to = to
      self.toPort = toPort
      self.toNode = toNode
      self.line = line
      self.text = text
    }

    /// `web:80`, or the address.
    public var targetText: String {
      let t = toNode ?? to.first.map(\.description) ?? "?"
      return toPort.map { "\(t):\($0)" } ?? t
    }
  }

  public var input: Policy?
  public var forward: Policy?
  public var output: Policy?
  public var rules: [Rule]
  public var masquerade: [Masquerade]
  public var dnat: [Dnat]

  public init(
    input: Policy? = nil, forward: Policy? = nil, output: Policy? = nil, rules: [Rule] = [], masquerade: [Masquerade] = [],
    dnat: [Dnat] = []
  ) {
    self.input = input
    self.forward = forward
    self.output = output
    self.rules = rules
    self.masquerade = masquerade
    self.dnat = dnat
  }

  /// Documents from before NAT have no `masquerade`.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    input = try c.decodeIfPresent(Policy.self, forKey: .input)
    forward = try c.decodeIfPresent(Policy.self, forKey: .forward)
    output = try c.decodeIfPresent(Policy.self, forKey: .output)
    rules = try c.decodeIfPresent([Rule].self, forKey: .rules) ?? []
    masquerade = try c.decodeIfPresent([Masquerade].self, forKey: .masquerade) ?? []
    dnat = try c.decodeIfPresent([Dnat].self, forKey: .dnat) ?? []
  }

  /// Whether what leaves through `interface` is masqueraded, and by which line.
  public func masquerades(_ interface: String) -> Masquerade? { masquerade.first { $0.interface == interface } }

  public func policy(_ chain: Chain) -> Policy? {
    switch chain {
    case .input: return input
    case .forward: return forward
    case .output: return output
    }
  }

  public mutating func setPolicy(_ chain: Chain, _ policy: Policy) {
    switch chain {
    case .input: input = policy
    case .forward: forward = policy
    case .output: output = policy
    }
  }

  /// A packet as a chain sees it (new connections only: replies never reach a decision).
  public struct Packet: Sendable {
    public var source: IPAddress
    public var destination: IPAddress
    public var proto: Proto
    public var port: Int
    public var inInterface: String?
    public var outInterface: String?

    public init(source: IPAddress, destination: IPAddress, proto: Proto, port: Int, inInterface: String? = nil, outInterface: String? = nil) {
      self.source = source
      self.destination = destination
      self.proto = proto
      self.port = port
      self.inInterface = inInterface
      self.outInterface = outInterface
    }
  }

  /// What decided a packet: a rule, or the chain's policy (nil line: the default accept).
  public enum Decision: Hashable, Sendable {
    case rule(Rule)
    case policy(Chain, Action, line: Int?)

    public var action: Action {
      switch self {
      case .rule(let r): return r.action
      case .policy(_, let a, _): return a
      }
    }
  }

  public func matches(_ r: Rule, _ p: Packet) -> Bool {
    if let proto = r.proto, proto != p.proto { return false }
    if let ports = r.ports, !ports.contains(p.port) { return false }
    if let from = r.from, !from.contains(where: { $0.contains(p.source) }) { return false }
    if let to = r.to, !to.contains(where: { $0.contains(p.destination) }) { return false }
    if let i = r.inInterface, i != p.inInterface { return false }
    if let o = r.outInterface, o != p.outInterface { return false }
    return true
  }

  /// The index of the first rule of `chain` that matches `p`: no rule is copied, which a
  /// million pairs notice.
  public func firstMatch(_ chain: Chain, _ p: Packet) -> Int? {
    rules.withUnsafeBufferPointer { b in
      for i in b.indices where b[i].chain == chain && matches(b[i], p) { return i }
      return nil
    }
  }

  /// What `chain` does with `p`: `decide`'s action, without building the decision.
  public func action(_ chain: Chain, _ p: Packet) -> Action {
    if let i = firstMatch(chain, p) { return rules[i].action }
    return policy(chain)?.action ?? .accept
  }

  /// The first rule of `chain` that matches, else the policy.
  public func decide(_ chain: Chain, _ p: Packet) -> Decision {
    if let i = firstMatch(chain, p) { return .rule(rules[i]) }
    let policy = self.policy(chain)
    // Line 0: a policy read back from the kernel that no line of the file set.
    return .policy(chain, policy?.action ?? .accept, line: policy.flatMap { $0.line > 0 ? $0.line : nil })
  }

  /// Whether a chain can decide anything but accept (else no need to build it).
  public func isTrivial(_ chain: Chain) -> Bool {
    (policy(chain)?.action ?? .accept) == .accept && !rules.contains { $0.chain == chain }
  }
}
