import TopologyModel

/// One direction of `test --perf`: what a shaped link carried, against its `rate`.
public struct ThroughputCheck: Sendable, Hashable {
  public var source: String
  public var target: String
  public var address: IPAddress
  public var megabitsPerSecond: Double
  /// The narrowest `rate` on the way, in bits a second (nil: none).
  public var rate: UInt64?
  public var held: Bool

  public init(source: String, target: String, address: IPAddress, megabitsPerSecond: Double, rate: UInt64?, held: Bool) {
    self.source = source
    self.target = target
    self.address = address
    self.megabitsPerSecond = megabitsPerSecond
    self.rate = rate
    self.held = held
  }

  /// `r1 -> r2: 19.2 Mbit/s of 20mbit (96 %)`.
  public var text: String {
    let mbps = (megabitsPerSecond * 10).rounded() / 10
    guard let r = rate else { return "\(source) -> \(target): \(mbps) Mbit/s" }
    return "\(source) -> \(target): \(mbps) Mbit/s of \(LinkProperties.rateText(r)) (\(Int((megabitsPerSecond * 1e6 / Double(r) * 100).rounded())) %)"
  }
}
