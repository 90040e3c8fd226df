import Glibc

/// The process's file-descriptor limit (RLIMIT_NOFILE). A namespace costs nstopo one
/// descriptor (its netlink socket) while it builds or reads it, and a probe one more while in
/// flight, so a large topology needs more than the usual soft limit of 1,024.
public enum Descriptors {
  /// Equivalent to `ulimit -Sn $(ulimit -Hn)`: raises the soft limit to the hard one, which
  /// needs no privilege. Called once at start-up. Returns the new soft limit.
  @discardableResult
  public static func raiseSoftLimit() -> Int {
    var r = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return 1024 }
    if r.rlim_cur < r.rlim_max {
      var raised = r
      raised.rlim_cur = r.rlim_max
      if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { r = raised }
    }
    return Int(clamping: r.rlim_cur)
  }

  /// The soft limit now.
  public static var softLimit: Int {
    var r = rlimit()
    guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r) == 0 else { return 1024 }
    return Int(clamping: r.rlim_cur)
  }

  /// Descriptors open now (entries of /proc/self/fd, less the one used to list them).
  public static var inUse: Int {
    guard let dir = opendir("/proc/self/fd") else { return 0 }
    defer { closedir(dir) }
    var n = 0
    while readdir(dir) != nil { n += 1 }
    return max(0, n - 3)  // ".", ".." and the directory's own descriptor
  }

  /// Nil when `needed` more descriptors fit under the limit; otherwise what to tell the user.
  public static func shortfall(_ needed: Int, for what: String) -> String? {
    let limit = softLimit
    let total = inUse + needed
    guard total > limit else { return nil }
    return "\(what) needs about \(total) file descriptors, and the limit is \(limit); raise it (e.g. `ulimit -n \(max(total * 2, 4096))`, or LimitNOFILE= for a service) and run it again"
  }
}
