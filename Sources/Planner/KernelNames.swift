import TopologyModel

/// How model names map to kernel names. Documented in the README ("Kernel names").
public struct KernelNames: Hashable, Sendable {
  public let topology: String

  public init(topology: String) { self.topology = topology }

  /// `<topology>-<node>`: the file under /run/netns, so `ip netns exec lab-h1 ...` works.
  public func namespace(node: String) -> String { "\(topology)-\(node)" }

  /// `<topology>`: the private namespace that holds the bridges and their ports.
  public var bridgeNamespace: String { topology }

  /// The namespace an end lives in; nil is the root namespace.
  public func namespace(of owner: Owner) -> String? {
    switch owner {
    case .node(let n): return namespace(node: n)
    case .bridge: return bridgeNamespace
    case .host: return nil
    }
  }

  /// `nstopo-<topology>`: the cgroup that holds the topology's node cgroups.
  public var topologyCgroup: String { "nstopo-\(topology)" }

  /// `nstopo-<topology>/<node>`: every process of the node runs in it.
  public func cgroup(node: String) -> String { "\(topologyCgroup)/\(node)" }

  /// `nstopo:<topology>`: the alias nstopo puts on the root-namespace ends it creates, so that
  /// `down` can prove an interface is its own before deleting it.
  public var hostAlias: String { "nstopo:\(topology)" }
}

/// A MAC address. nstopo's are locally administered (02:…) and derived from the topology
/// name and the interface's position, so the same file always gives the same MACs.
public struct MACAddress: Hashable, Sendable, CustomStringConvertible, Codable {
  public var bytes: [UInt8]

  public init(bytes: [UInt8]) {
    precondition(bytes.count == 6)
    self.bytes = bytes
  }

  /// `02:TT:TT:II:II:II`: TT = FNV-1a of the topology name, I = a 24-bit index.
  public init(topology: String, index: Int) {
    var hash: UInt32 = 2_166_136_261
    for b in topology.utf8 {
      hash ^= UInt32(b)
      hash = hash &* 16_777_619
    }
    self.bytes = [
      0x02, UInt8(hash >> 8 & 0xff), UInt8(hash & 0xff),
      UInt8(index >> 16 & 0xff), UInt8(index >> 8 & 0xff), UInt8(index & 0xff),
    ]
  }

  public var description: String {
    bytes.map { b in
      let h = String(b, radix: 16)
      return h.count == 1 ? "0" + h : h
    }.joined(separator: ":")
  }

  public init(from decoder: Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    let parts = text.split(separator: ":").compactMap { UInt8($0, radix: 16) }
    guard parts.count == 6 else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad MAC \(text)"))
    }
    self.bytes = parts
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}
