/// A link end's shaping as the kernel takes it: a token bucket for the rate, netem for the
/// delay, jitter and loss (as the bucket's child when there is a rate as well).
public struct Shaping: Hashable, Sendable {
  /// Bits per second.
  public var rate: UInt64?
  /// Microseconds.
  public var delay: UInt64?
  public var jitter: UInt64?
  /// Percent.
  public var loss: Double?
  /// The end's MTU, which sizes the bucket: it must hold one whole frame.
  public var mtu: Int

  public init(rate: UInt64? = nil, delay: UInt64? = nil, jitter: UInt64? = nil, loss: Double? = nil, mtu: Int = 1500) {
    self.rate = rate
    self.delay = delay
    self.jitter = jitter
    self.loss = loss
    self.mtu = mtu
  }

  /// One end of a link with these properties (nil: nothing to shape).
  public init?(_ p: LinkProperties) {
    guard p.shapes else { return nil }
    self.init(rate: p.rate, delay: p.delay, jitter: p.jitter, loss: p.loss, mtu: p.mtu ?? 1500)
  }

  public var needsNetem: Bool { delay != nil || jitter != nil || loss != nil }

  /// `tc`'s arguments: `root handle 1: tbf rate 10mbit burst 15000 limit 77500` and, with a
  /// delay or a loss, `parent 1:1 handle 10: netem delay 20ms 5ms loss 1%` (or netem alone).
  public var tcArguments: [String] {
    var out: [String] = []
    if let r = rate { out.append("root handle 1: tbf rate \(LinkProperties.rateText(r)) burst \(burst) limit \(limit)") }
    if needsNetem {
      var n = rate == nil ? "root handle 1: netem" : "parent 1:1 handle 10: netem"
      if let d = delay { n += " delay \(LinkProperties.durationText(d))" + (jitter.map { " \(LinkProperties.durationText($0))" } ?? "") }
      if let l = loss { n += " loss \(LinkProperties.percentText(l))" }
      out.append(n)
    }
    return out
  }

  /// The bucket: 10 ms at the rate, at least two full frames.
  public var burst: Int {
    guard let rate else { return 0 }
    return max(Int(rate / 8 / 100), 2 * (mtu + 14))
  }

  /// The queue on top of the bucket: 50 ms at the rate, and at least 32 KiB, so that a burst
  /// of probes through a slow link waits rather than drops (at 1mbit, 64 probes in flight
  /// overflowed a 50 ms queue and timed out where the model says reached).
  public var limit: Int {
    guard let rate else { return 0 }
    return burst + max(Int(rate / 8 / 20), 32_768)
  }
}

