/// What one probe of a pair can find: the vocabulary of the probe engine (as the kernel
/// reports it), the predictor (the subset a walk of the model can end in: reached, no-route,
/// host-unreachable, prohibited, timed-out) and every report. The raw values are what JSON
/// and the matrix print; the order is the probe engine's encoding (`allCases` index).
public enum Outcome: String, Codable, Sendable, CaseIterable {
  /// Connected and the per-probe nonce came back (TCP/UDP), or a `run` service accepted (TCP).
  case reached
  /// RST or ICMP port unreachable: the host is there, nothing listens.
  case refused
  /// ENETUNREACH: no route (at the source or a router on the way); EINVAL: a blackhole route.
  case noRoute = "no-route"
  /// EHOSTUNREACH: ARP failed, or a router said host unreachable.
  case hostUnreachable = "host-unreachable"
  /// EACCES/EPERM: a firewall rejected it.
  case prohibited
  /// Nothing came back before the deadline (dropped, or blackholed).
  case timedOut = "timed-out"
  /// Something answered, but not with our nonce: another listener.
  case wrongResponder = "wrong-responder"
  /// Not probed: the target has no address.
  case notProbed = "not-probed"
  /// Any other local error.
  case error

  public var reached: Bool { self == .reached }

  /// Classifies a socket errno.
  public static func from(errno e: Int32) -> Outcome {
    switch e {
    case 111: return .refused  // ECONNREFUSED
    case 101, 22: return .noRoute  // ENETUNREACH; EINVAL is what a local blackhole route gives
    case 113: return .hostUnreachable  // EHOSTUNREACH
    case 13, 1: return .prohibited  // EACCES, EPERM
    case 110: return .timedOut  // ETIMEDOUT
    default: return .error
    }
  }
}
