import TopologyModel

/// What the model says about one direction of traffic or one pair.
public struct Prediction: Hashable, Sendable {
  /// The model's outcome: one of the probe's (`Outcome`), never refused, wrong-responder,
  /// not-probed or error.
  public typealias Verdict = Outcome

  public var verdict: Verdict
  /// One sentence: where and why it stops ("forwarding is off in r2"); nil when reached.
  public var reason: String?
  /// The nodes the packet visits, source first.
  public var path: [Hop]
  /// The nodes the reply visits, target first (when the forward path arrives).
  public var returnPath: [Hop]
  /// Where a `dnat` sent the probe: the node and port it lands on (nstopo listens there).
  public var landedNode: String?
  public var landedPort: Int?

  public init(verdict: Verdict, reason: String?, path: [Hop], returnPath: [Hop], landedNode: String? = nil, landedPort: Int? = nil) {
    self.verdict = verdict
    self.reason = reason
    self.path = path
    self.returnPath = returnPath
    self.landedNode = landedNode
    self.landedPort = landedPort
  }

  public var reached: Bool { verdict == .reached }
}

/// One node on a predicted path and how the packet leaves it.
public struct Hop: Hashable, Sendable, CustomStringConvertible {
  public var node: String
  /// Outgoing interface and the next hop's address, or nil where the packet ends.
  public var interface: String?
  public var nextHop: IPAddress?
  /// The source this node masqueraded the packet as, if it did.
  public var masqueradedAs: IPAddress?
  /// What the node did with it, in order (recorded walks only).
  public var steps: [HopStep]

  public init(node: String, interface: String? = nil, nextHop: IPAddress? = nil, masqueradedAs: IPAddress? = nil, steps: [HopStep] = []) {
    self.node = node
    self.interface = interface
    self.nextHop = nextHop
    self.masqueradedAs = masqueradedAs
    self.steps = steps
  }

  public var description: String {
    guard let i = interface else { return node }
    return "\(node) (\(i)\(nextHop.map { " via \($0)" } ?? "")\(masqueradedAs.map { ", masquerade as \($0)" } ?? ""))"
  }
}

/// Predicts reachability from the model alone: L2 segments (bridges, direct veths),
/// connected routes, static routes by longest prefix match, default routes, `forward` on
/// every router on the way, and the way back. Loops and black holes end the walk.
/// One flow: from an endpoint to one of another's addresses (nil: its primary address),
/// with a protocol and port, as `nstopo test` sends it.
public struct Flow: Hashable, Sendable {
  public var source: String
  public var target: String
  public var address: IPAddress?
  public var proto: TransportProtocol
  public var port: Int

  public init(from source: String, to target: String, address: IPAddress? = nil, proto: TransportProtocol = .tcp, port: Int = 4444) {
    self.source = source
    self.target = target
    self.address = address
    self.proto = proto
    self.port = port
  }
}
