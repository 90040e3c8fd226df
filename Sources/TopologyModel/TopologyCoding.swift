// How a topology is written in state.json and read back, older formats included: each
// change of shape keeps the earlier documents readable (see the README's state format).

extension Topology {
  private enum CodingKeys: String, CodingKey { case name, subnets, bridges, nodes, links, expectations, scenarios }

  /// `scenarios` is absent from documents written before scenarios existed.
  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    name = try c.decode(String.self, forKey: .name)
    subnets = try c.decode([Subnet].self, forKey: .subnets)
    bridges = try c.decode([Bridge].self, forKey: .bridges)
    nodes = try c.decode([Node].self, forKey: .nodes)
    links = try c.decode([Link].self, forKey: .links)
    expectations = try c.decode([Expectation].self, forKey: .expectations)
    scenarios = try c.decodeIfPresent([Scenario].self, forKey: .scenarios) ?? []
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(name, forKey: .name)
    try c.encode(subnets, forKey: .subnets)
    try c.encode(bridges, forKey: .bridges)
    try c.encode(nodes, forKey: .nodes)
    try c.encode(links, forKey: .links)
    try c.encode(expectations, forKey: .expectations)
    if !scenarios.isEmpty { try c.encode(scenarios, forKey: .scenarios) }
  }
}

/// `subnets` is a list; a document of format 3 or older has one `subnet`, read as the list of it.
extension Bridge: Codable {
  private enum Keys: String, CodingKey { case name, subnets, subnet }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    name = try c.decode(String.self, forKey: .name)
    subnets = try c.decodeIfPresent([String].self, forKey: .subnets) ?? []
    if let one = try c.decodeIfPresent(String.self, forKey: .subnet) { subnets.append(one) }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(name, forKey: .name)
    if !subnets.isEmpty { try c.encode(subnets, forKey: .subnets) }
  }
}

/// One string, `node:h1`, `bridge:sw` or `host`: a star-1000's state decodes in half the time
/// of the keyed form (`{"node":{"_0":"h1"}}`) that state documents of format 4 and older have,
/// which is still read.
extension Owner: Codable {
  private enum Keys: String, CodingKey { case node, bridge, host }
  private enum Payload: String, CodingKey { case value = "_0" }

  public init(from decoder: Decoder) throws {
    if let c = try? decoder.singleValueContainer(), let text = try? c.decode(String.self) {
      if text == "host" {
        self = .host
      } else if text.hasPrefix("node:") {
        self = .node(String(text.dropFirst(5)))
      } else if text.hasPrefix("bridge:") {
        self = .bridge(String(text.dropFirst(7)))
      } else {
        throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an owner: \(text)")
      }
      return
    }
    let c = try decoder.container(keyedBy: Keys.self)
    if c.contains(.host) {
      self = .host
    } else if c.contains(.node) {
      self = .node(try c.nestedContainer(keyedBy: Payload.self, forKey: .node).decode(String.self, forKey: .value))
    } else {
      self = .bridge(try c.nestedContainer(keyedBy: Payload.self, forKey: .bridge).decode(String.self, forKey: .value))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    switch self {
    case .node(let n): try c.encode("node:" + n)
    case .bridge(let b): try c.encode("bridge:" + b)
    case .host: try c.encode("host")
    }
  }
}

/// `addresses` is written as a list when there is any; a document of format 1 or 2 has one
/// `address`, read as the list of it. `down` only when it is.
extension LinkEnd: Codable {
  private enum Keys: String, CodingKey { case owner, interface, addresses, address, down }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    let owner = try c.decode(Owner.self, forKey: .owner)
    let interface = try c.decode(String.self, forKey: .interface)
    var list = try c.decodeIfPresent([InterfaceAddress].self, forKey: .addresses) ?? []
    if let one = try c.decodeIfPresent(InterfaceAddress.self, forKey: .address) { list.append(one) }
    guard Self.onePerFamily(list) else {
      throw DecodingError.dataCorruptedError(forKey: .addresses, in: c, debugDescription: "two addresses of one family")
    }
    self.init(owner: owner, interface: interface, addresses: list, down: try c.decodeIfPresent(Bool.self, forKey: .down) ?? false)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(owner, forKey: .owner)
    try c.encode(interface, forKey: .interface)
    if !addresses.isEmpty { try c.encode(addresses, forKey: .addresses) }
    if down { try c.encode(true, forKey: .down) }
  }
}

/// `subnets` is a list; a document of format 3 or older has one `subnet`. `properties` is
/// written only when the line has any.
extension Link: Codable {
  private enum Keys: String, CodingKey { case a, b, subnets, subnet, properties }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    a = try c.decode(LinkEnd.self, forKey: .a)
    b = try c.decode(LinkEnd.self, forKey: .b)
    subnets = try c.decodeIfPresent([String].self, forKey: .subnets) ?? []
    if let one = try c.decodeIfPresent(String.self, forKey: .subnet) { subnets.append(one) }
    properties = try c.decodeIfPresent(LinkProperties.self, forKey: .properties) ?? LinkProperties()
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encode(a, forKey: .a)
    try c.encode(b, forKey: .b)
    if !subnets.isEmpty { try c.encode(subnets, forKey: .subnets) }
    if !properties.isEmpty { try c.encode(properties, forKey: .properties) }
  }
}
