import TopologyModel

/// One side of a probe: a node, or the host (root namespace).
public struct Endpoint: Hashable, Sendable {
  public var name: String
  /// nil: the root namespace.
  public var namespace: String?
  /// Addresses in link order, IPv4 before IPv6; the first is the primary.
  public var addresses: [IPAddress]

  public init(name: String, namespace: String?, addresses: [IPAddress]) {
    self.name = name
    self.namespace = namespace
    self.addresses = addresses
  }
}

/// One probe: from an endpoint to one address of another, by protocol and port. The address
/// is an index into its set's address table (`ProbeSet.address(of:)`): 16 bytes a probe, as
/// when addresses were IPv4 only, for the million probes of a star-1000.
public struct ProbeSpec: Hashable, Sendable {
  public var source: Int32
  public var target: Int32
  public var addressIndex: UInt32
  public var proto: TransportProtocol
  public var port: UInt16
}

/// Everything one `nstopo test` run probes. Pure: built from the model alone.
public struct ProbeSet: Sendable {
  public var endpoints: [Endpoint]
  public var probes: [ProbeSpec]
  /// Every address a probe goes to, once.
  public private(set) var addressTable: [IPAddress] = []
  private var addressIndex: [IPAddress: UInt32] = [:]

  /// The address `p` goes to.
  public func address(of p: ProbeSpec) -> IPAddress { addressTable[Int(p.addressIndex)] }

  /// The probes at `indices`, in that order, with their landings; no unaddressed pairs.
  public func subset(_ indices: [Int]) -> ProbeSet {
    var one = self
    one.probes = indices.map { probes[$0] }
    one.unaddressed = []
    one.landings = [:]
    for (k, i) in indices.enumerated() { if let l = landings[i] { one.landings[k] = l } }
    return one
  }

  /// Adds a probe to `address` (any address: a route's target need not be the target's own).
  public mutating func append(source: Int32, target: Int32, address: IPAddress, proto: TransportProtocol, port: UInt16) {
    probes.append(ProbeSpec(source: source, target: target, addressIndex: intern(address), proto: proto, port: port))
  }

  private mutating func intern(_ a: IPAddress) -> UInt32 {
    if let i = addressIndex[a] { return i }
    let i = UInt32(addressTable.count)
    addressTable.append(a)
    addressIndex[a] = i
    return i
  }
  /// Probes a `dnat` sends elsewhere, by index: the endpoint and port they land on, where
  /// the listener must be (set by `test` from the model).
  public var landings: [Int: (target: Int32, port: UInt16)] = [:]
  /// Pairs with no address to probe, reported as `notProbed`.
  public var unaddressed: [(source: Int32, target: Int32, proto: TransportProtocol, port: UInt16)]
  /// Host ends: the root-namespace interfaces and their addresses, for SO_BINDTODEVICE.
  public var hostDevices: [(name: String, address: InterfaceAddress)]
  /// `run` ports: (target endpoint, proto, port) the probe may find a service on.
  public var defaultPort: UInt16

  public struct Options: Sendable {
    public var protocols: [TransportProtocol]
    public var port: UInt16
    /// Every address of each target instead of its primary (first) address of each family.
    public var allAddresses: Bool
    /// The families probed (`--family`); a pair with none of them in common is left out.
    public var families: [IPAddress.Family]

    public init(
      protocols: [TransportProtocol] = [.tcp], port: UInt16 = 4444, allAddresses: Bool = false,
      families: [IPAddress.Family] = IPAddress.Family.allCases
    ) {
      self.protocols = protocols
      self.port = port
      self.allAddresses = allAddresses
      self.families = families
    }
  }

  /// Every ordered pair of endpoints (host included when the topology has host ends), for each
  /// protocol at the probe port, plus every (protocol, port) an `expect` line names.
  /// Ordered by source, and for each source by target starting just after it, so that
  /// concurrent probes spread over all targets.
  public init(topology: Topology, namespace: (String) -> String, options: Options) {
    func addresses(_ ends: [LinkEnd]) -> [IPAddress] {
      IPAddress.Family.allCases.flatMap { f in ends.compactMap { $0.address(f)?.address } }
    }
    let ends = topology.endsByOwner()
    var endpoints = topology.nodes.map { n in
      Endpoint(name: n.name, namespace: namespace(n.name), addresses: addresses(ends[.node(n.name)] ?? []))
    }
    if topology.hasHost {
      endpoints.append(Endpoint(name: "host", namespace: nil, addresses: addresses(ends[.host] ?? [])))
    }
    self.endpoints = endpoints
    self.defaultPort = options.port
    hostDevices = topology.ends(of: .host).flatMap { e in e.addresses.map { (e.interface, $0) } }
    let index = Dictionary(uniqueKeysWithValues: endpoints.enumerated().map { ($1.name, Int32($0)) })

    // (proto, port) combinations, and for each the pairs to probe (nil: all pairs).
    struct Key: Hashable {
      var proto: TransportProtocol
      var port: UInt16
    }
    var extra: [Key: Set<Int64>] = [:]
    // ICMP has no port: its probes carry 0.
    let inMesh = { (e: Expectation) in
      options.protocols.contains(e.proto) && (!e.proto.hasPorts || (e.port.map(UInt16.init) ?? options.port) == options.port)
    }
    ExpectationIndex(topology.expectations, defaultPort: Int(options.port)).forEachPair(matching: { !inMesh($0) }) { p in
      let key = Key(proto: p.proto, port: p.proto.hasPorts ? p.port.map(UInt16.init) ?? options.port : 0)
      guard let s = index[p.source], let t = index[p.target] else { return true }
      extra[key, default: []].insert(Int64(s) << 32 | Int64(t))
      return true
    }
    var probes: [ProbeSpec] = []
    var table: [IPAddress] = []
    var tableIndex: [IPAddress: UInt32] = [:]
    var unaddressed: [(Int32, Int32, TransportProtocol, UInt16)] = []
    let n = endpoints.count
    probes.reserveCapacity(n * max(0, n - 1) * options.protocols.count)
    for e in endpoints {
      for a in e.addresses where tableIndex[a] == nil {
        tableIndex[a] = UInt32(table.count)
        table.append(a)
      }
    }
    // Each pair once per family both ends have (the target's families, from a source without
    // an address): its primary address of that family, or every one with allAddresses.
    let families = endpoints.map { e in IPAddress.Family.allCases.filter { f in e.addresses.contains { $0.family == f } } }
    let onlyOne = options.families.count == 1
    func add(_ s: Int, _ t: Int, _ key: Key) {
      let mine = families[s]
      var targets: [IPAddress] = []
      for a in endpoints[t].addresses where mine.isEmpty || mine.contains(a.family) {
        if options.allAddresses || !targets.contains(where: { $0.family == a.family }) { targets.append(a) }
      }
      if onlyOne && !targets.isEmpty {
        // `--family 6`: a pair with only IPv4 in common is not this run's question.
        targets.removeAll { !options.families.contains($0.family) }
        if targets.isEmpty { return }
      }
      if targets.isEmpty {
        unaddressed.append((Int32(s), Int32(t), key.proto, key.port))
        return
      }
      for a in targets {
        probes.append(ProbeSpec(source: Int32(s), target: Int32(t), addressIndex: tableIndex[a]!, proto: key.proto, port: key.port))
      }
    }
    for proto in options.protocols {
      let key = Key(proto: proto, port: proto.hasPorts ? options.port : 0)
      for s in 0..<n {
        for k in 1..<max(1, n) { add(s, (s + k) % n, key) }
      }
    }
    for key in extra.keys.sorted(by: { ($0.proto.rawValue, $0.port) < ($1.proto.rawValue, $1.port) }) {
      for pair in extra[key]!.sorted() { add(Int(pair >> 32), Int(pair & 0xffff_ffff), key) }
    }
    self.probes = probes
    self.addressTable = table
    self.addressIndex = tableIndex
    self.unaddressed = unaddressed
  }
}
