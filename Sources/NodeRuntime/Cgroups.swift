import CShim
import Foundation
import Glibc

/// Where the CPU controller lives on this machine, detected at run time: cgroup v2
/// (`cpu.max`, `cpu.stat`) or v1 (`cpu.cfs_quota_us`, and `cpuacct.usage` for accounting,
/// possibly in a hierarchy of its own).
public struct CgroupSystem: Sendable, CustomStringConvertible {
  public enum Version: Sendable, Equatable {
    case v2(root: String)
    case v1(cpu: String, cpuacct: String?)
  }

  public let version: Version

  public init(version: Version) { self.version = version }

  public var description: String {
    switch version {
    case .v2(let root): return "cgroup v2 at \(root)"
    case .v1(let cpu, let acct): return "cgroup v1 (cpu at \(cpu)\(acct.map { ", cpuacct at \($0)" } ?? ""))"
    }
  }

  /// `statfs("/sys/fs/cgroup")` says cgroup2 → v2; otherwise the v1 `cpu` mount from
  /// /proc/self/mountinfo.
  public static func detect() throws -> CgroupSystem {
    if nstopo_statfs_type("/sys/fs/cgroup") == 0x6367_7270 { return CgroupSystem(version: .v2(root: "/sys/fs/cgroup")) }
    let info = (try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) ?? ""
    var cpu: String?
    var acct: String?
    var unified: String?
    for line in info.split(separator: "\n") {
      let halves = line.components(separatedBy: " - ")
      guard halves.count == 2 else { continue }
      let left = halves[0].split(separator: " ")
      let right = halves[1].split(separator: " ")
      guard left.count >= 5, right.count >= 3 else { continue }
      let mountPoint = String(left[4])
      if right[0] == "cgroup2" { unified = mountPoint }
      guard right[0] == "cgroup" else { continue }
      let options = right[2].split(separator: ",")
      if options.contains("cpu") { cpu = mountPoint }
      if options.contains("cpuacct") { acct = mountPoint }
    }
    if let cpu { return CgroupSystem(version: .v1(cpu: cpu, cpuacct: acct)) }
    if let unified, let controllers = try? String(contentsOfFile: "\(unified)/cgroup.controllers", encoding: .utf8),
      controllers.split(separator: " ").contains(where: { $0.hasPrefix("cpu") })
    {
      return CgroupSystem(version: .v2(root: unified))
    }
    throw CgroupError("no cgroup with the cpu controller is mounted (looked at /sys/fs/cgroup and /proc/self/mountinfo)")
  }

  /// Every directory that makes up cgroup `path` (one per hierarchy used). `path` is relative
  /// to each mount and never climbs out of it: a path with an empty, `.` or `..` component
  /// traps (callers check names with the language's rules first).
  public func directories(_ path: String) -> [String] {
    precondition(
      !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == "." || $0 == ".." },
      "cgroup path '\(path)' leaves its hierarchy")
    switch version {
    case .v2(let root): return ["\(root)/\(path)"]
    case .v1(let cpu, let acct):
      guard let acct, acct != cpu else { return ["\(cpu)/\(path)"] }
      return ["\(cpu)/\(path)", "\(acct)/\(path)"]
    }
  }

  /// The cgroup.procs files a process writes its pid to, to join cgroup `path`.
  public func procsFiles(_ path: String) -> [String] { directories(path).map { "\($0)/cgroup.procs" } }

  /// Equivalent to `mkdir /sys/fs/cgroup/.../PATH` and, with a cap, `echo Q 100000 > cpu.max`
  /// (v2) or `echo 100000 > cpu.cfs_period_us; echo Q > cpu.cfs_quota_us` (v1),
  /// where Q = percent × 1000.
  public func create(_ path: String, cpuPercent: Int?) throws {
    if case .v2(let root) = version {
      // Delegate the cpu controller down to the node's cgroup.
      try? enableCPU(root)
      let parent = path.components(separatedBy: "/").dropLast().joined(separator: "/")
      if !parent.isEmpty { try? enableCPU("\(root)/\(parent)") }
    }
    // Exclusive, like a namespace: a cgroup that exists already is someone else's (or left by
    // a topology nstopo could not finish removing), and its processes are not ours to kill.
    var made: [String] = []
    for dir in directories(path) {
      if mkdir(dir, 0o755) != 0 {
        let e = errno
        for m in made.reversed() { rmdir(m) }
        if e == EEXIST { throw CgroupError("cgroup \(dir) already exists; nstopo never takes over a cgroup it did not create") }
        throw CgroupError("mkdir \(dir): \(String(cString: strerror(e)))")
      }
      made.append(dir)
    }
    try configure(path, cpuPercent: cpuPercent)
  }

  /// The cap of an existing cgroup: what `create` does after the `mkdir`.
  public func configure(_ path: String, cpuPercent: Int?) throws {
    guard let pct = cpuPercent else { return }
    let quota = pct * 1000
    switch version {
    case .v2(let root):
      try write("\(quota) 100000", to: "\(root)/\(path)/cpu.max")
    case .v1(let cpu, _):
      try write("100000", to: "\(cpu)/\(path)/cpu.cfs_period_us")
      try write("\(quota)", to: "\(cpu)/\(path)/cpu.cfs_quota_us")
    }
  }

  private func enableCPU(_ dir: String) throws {
    let current = (try? String(contentsOfFile: "\(dir)/cgroup.subtree_control", encoding: .utf8)) ?? ""
    if current.split(separator: " ").contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines) == "cpu" }) { return }
    try write("+cpu", to: "\(dir)/cgroup.subtree_control")
  }

  /// Pids in cgroup `path` (empty when it does not exist).
  public func pids(_ path: String) -> [pid_t] {
    guard let first = directories(path).first,
      let text = try? String(contentsOfFile: "\(first)/cgroup.procs", encoding: .utf8)
    else { return [] }
    return text.split(separator: "\n").compactMap { pid_t($0) }
  }

  public func exists(_ path: String) -> Bool { directories(path).contains { access($0, F_OK) == 0 } }

  /// CPU time used by cgroup `path`, in seconds.
  public func cpuSeconds(_ path: String) -> Double? {
    switch version {
    case .v2(let root):
      guard let text = try? String(contentsOfFile: "\(root)/\(path)/cpu.stat", encoding: .utf8) else { return nil }
      for line in text.split(separator: "\n") where line.hasPrefix("usage_usec ") {
        return Double(line.split(separator: " ")[1]).map { $0 / 1e6 }
      }
      return nil
    case .v1(let cpu, let acct):
      let dir = acct ?? cpu
      guard let text = try? String(contentsOfFile: "\(dir)/\(path)/cpuacct.usage", encoding: .utf8) else { return nil }
      return Double(text.trimmingCharacters(in: .whitespacesAndNewlines)).map { $0 / 1e9 }
    }
  }

  /// The CPU controller's bandwidth counters of cgroup `path`: periods that had runnable
  /// work, periods in which the group hit its quota and was stopped, and how long it was
  /// stopped. What the kernel counts, whatever else the machine runs. Equivalent to `cat
  /// cpu.stat` (v2: `throttled_usec`; v1: `throttled_time` in ns).
  public func throttling(_ path: String) -> (periods: Int, throttled: Int, seconds: Double)? {
    let file: String
    switch version {
    case .v2(let root): file = "\(root)/\(path)/cpu.stat"
    case .v1(let cpu, _): file = "\(cpu)/\(path)/cpu.stat"
    }
    guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
    var values: [String: Double] = [:]
    for line in text.split(separator: "\n") {
      let parts = line.split(separator: " ")
      if parts.count == 2, let v = Double(parts[1]) { values[String(parts[0])] = v }
    }
    guard let periods = values["nr_periods"], let throttled = values["nr_throttled"] else { return nil }
    let seconds = values["throttled_usec"].map { $0 / 1e6 } ?? values["throttled_time"].map { $0 / 1e9 } ?? 0
    return (Int(periods), Int(throttled), seconds)
  }

  /// Stops every process in cgroup `path`, children included: SIGTERM, then SIGKILL after
  /// `grace` seconds. Loops because a process may fork while it is being killed. `reap` is
  /// called between rounds so that the caller can collect its own children.
  public func killAll(_ path: String, grace: Double = 2, reap: () -> Void = {}) -> Bool {
    let deadline = Date().addingTimeInterval(grace)
    var signalled = Set<pid_t>()
    while Date() < deadline {
      let pids = pids(path)
      if pids.isEmpty { return true }
      for p in pids where !signalled.contains(p) {
        kill(p, SIGTERM)
        signalled.insert(p)
      }
      reap()
      usleep(10_000)
    }
    let hard = Date().addingTimeInterval(5)
    while Date() < hard {
      let pids = pids(path)
      if pids.isEmpty { return true }
      for p in pids { kill(p, SIGKILL) }
      reap()
      usleep(10_000)
    }
    return pids(path).isEmpty
  }

  /// Equivalent to `rmdir` of the cgroup in every hierarchy; missing is fine.
  public func remove(_ path: String) throws {
    for dir in directories(path) where rmdir(dir) != 0 && errno != ENOENT {
      throw CgroupError("rmdir \(dir): \(String(cString: strerror(errno)))")
    }
  }

  private func write(_ value: String, to file: String) throws {
    let fd = open(file, O_WRONLY | O_CLOEXEC)
    guard fd >= 0 else { throw CgroupError("open \(file): \(String(cString: strerror(errno)))") }
    defer { close(fd) }
    let bytes = Array(value.utf8)
    guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
      throw CgroupError("write \(value) to \(file): \(String(cString: strerror(errno)))")
    }
  }
}

public struct CgroupError: Error, CustomStringConvertible {
  public var description: String
  init(_ d: String) { description = d }
}
