import Glibc

/// Seconds on the monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`): every deadline and
/// duration in nstopo, from `up`'s readiness wait to a probe's time-out, reads this one.
public func monotonicSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
