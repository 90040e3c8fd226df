/// What the tail of a `link` line says of shaping and MTU, the same in both directions (each
/// end's egress; a bridge port counts as an end). Its `down` is each end's (`LinkEnd.down`).
///
/// `rate` is a token bucket (tbf); `delay`, `jitter` and `loss` need netem, which not every
/// kernel has. Equivalent to `ip link set X mtu N`, `ip link set X down`, and `tc qdisc add
/// dev X root tbf rate R …` (with netem as its child when there is a delay or a loss).
public struct LinkProperties: Hashable, Sendable, Codable {
  /// Bits per second.
  public var rate: UInt64?
  /// Microseconds, one way.
  public var delay: UInt64?
  /// Microseconds, around `delay`.
  public var jitter: UInt64?
  /// Percent of the packets dropped, each way (0 < loss <= 100).
  public var loss: Double?
  public var mtu: Int?

  public init(rate: UInt64? = nil, delay: UInt64? = nil, jitter: UInt64? = nil, loss: Double? = nil, mtu: Int? = nil) {
    self.rate = rate
    self.delay = delay
    self.jitter = jitter
    self.loss = loss
    self.mtu = mtu
  }

  private enum Keys: String, CodingKey { case rate, delay, jitter, loss, mtu }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: Keys.self)
    rate = try c.decodeIfPresent(UInt64.self, forKey: .rate)
    delay = try c.decodeIfPresent(UInt64.self, forKey: .delay)
    jitter = try c.decodeIfPresent(UInt64.self, forKey: .jitter)
    loss = try c.decodeIfPresent(Double.self, forKey: .loss)
    mtu = try c.decodeIfPresent(Int.self, forKey: .mtu)
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: Keys.self)
    try c.encodeIfPresent(rate, forKey: .rate)
    try c.encodeIfPresent(delay, forKey: .delay)
    try c.encodeIfPresent(jitter, forKey: .jitter)
    try c.encodeIfPresent(loss, forKey: .loss)
    try c.encodeIfPresent(mtu, forKey: .mtu)
  }

  public var isEmpty: Bool { self == LinkProperties() }

  /// Whether the ends need a qdisc of nstopo's (a rate, a delay or a loss).
  public var shapes: Bool { rate != nil || needsNetem }

  /// Whether netem is needed (a delay, a jitter or a loss).
  public var needsNetem: Bool { delay != nil || jitter != nil || loss != nil }

  /// The properties that need netem, as the file writes them (`delay 20ms`, `loss 1%`).
  public var netemWords: [String] {
    var w: [String] = []
    if let d = delay { w.append("delay \(Self.durationText(d))") }
    if let j = jitter { w.append("jitter \(Self.durationText(j))") }
    if let l = loss { w.append("loss \(Self.percentText(l))") }
    return w
  }

  /// The shaping in `tc`'s spelling, for labels: `10mbit 20ms±5ms 1%`; empty when there is none.
  public var shapingText: String {
    var w: [String] = []
    if let r = rate { w.append(Self.rateText(r)) }
    if let d = delay { w.append(Self.durationText(d) + (jitter.map { "±" + Self.durationText($0) } ?? "")) }
    if let l = loss { w.append(Self.percentText(l)) }
    return w.joined(separator: " ")
  }

  /// The tail as the file writes it: `rate 10mbit delay 20ms jitter 5ms loss 1% mtu 1400`.
  public var text: String {
    var w: [String] = []
    if let r = rate { w.append("rate \(Self.rateText(r))") }
    w += netemWords
    if let m = mtu { w.append("mtu \(m)") }
    return w.joined(separator: " ")
  }

  /// `10mbit`, `1500kbit`, `64bit`: the largest of tc's units that divides it.
  public static func rateText(_ bits: UInt64) -> String {
    for (unit, size) in [("gbit", UInt64(1_000_000_000)), ("mbit", 1_000_000), ("kbit", 1_000)] where bits % size == 0 {
      return "\(bits / size)\(unit)"
    }
    return "\(bits)bit"
  }

  /// `20ms`, `1s`, `250us`.
  public static func durationText(_ us: UInt64) -> String {
    if us != 0 && us % 1_000_000 == 0 { return "\(us / 1_000_000)s" }
    if us % 1_000 == 0 { return "\(us / 1_000)ms" }
    return "\(us)us"
  }

  /// `1%`, `0.5%`.
  public static func percentText(_ p: Double) -> String {
    p == p.rounded() ? "\(Int(p))%" : "\(p)%"
  }
}

extension Topology {
  /// Per owner, the prefixes of its interfaces that are up: its connected routes. An
  /// interface that is down keeps its addresses (and the kernel its local routes) but has no
  /// connected route; one whose peer is down keeps it (`linkdown`, still selected).
  public func upPrefixes() -> [Owner: [IPPrefix]] {
    var result: [Owner: [IPPrefix]] = [:]
    for link in links {
      for end in [link.a, link.b] where !end.down && !end.addresses.isEmpty {
        result[end.owner, default: []] += end.addresses.map(\.prefix)
      }
    }
    return result
  }

  /// Whether every interface is up (no route held back).
  public var allLinksUp: Bool { links.allSatisfy(\.isUp) }
}

extension Route {
  /// Whether the kernel holds this route given the node's connected prefixes: a gateway must
  /// be on one of them (the kernel refuses the route otherwise, "Nexthop has invalid gateway",
  /// and deletes it when the gateway's interface goes down). Measured on kernel 6.18.
  public func isLive(connected: [IPPrefix]) -> Bool {
    guard case .gateway(let gw, _) = nextHop else { return true }
    return connected.contains { $0.contains(gw) }
  }
}
