import Foundation
import Glibc
import NodeRuntime
import Planner
import Realizer
import TopologyModel
import XCTest

final class NodeTests: KernelTestCase {
  /// The caps hold by what the kernel counts, not by shares of a core that a busy machine
  /// would change: over one window, side by side, a capped group never uses more than its
  /// quota (one period of slack), the 20 % group is throttled (it wants a whole core), the
  /// uncapped one never is, and the uncapped one gets at least what the 20 % group gets.
  func testCPUCapsAreEnforcedByTheCgroup() throws {
    let busy = "run sh -c 'while :; do :; done'"
    let t = topology("node c20\n  cpu 20%\n  \(busy)\nnode c50\n  cpu 50%\n  \(busy)\nnode free\n  \(busy)\n")
    try Lifecycle.up(t, file: "test")
    let names = KernelNames(topology: t.name)
    let cg = try CgroupSystem.detect()
    usleep(300_000)
    let paths = ["c20", "c50", "free"].map { names.cgroup(node: $0) }
    let before = paths.map { cg.cpuSeconds($0)! }
    let counted = paths.map { cg.throttling($0)! }
    let start = Date()
    usleep(2_000_000)
    let elapsed = Date().timeIntervalSince(start)
    let used = zip(paths, before).map { cg.cpuSeconds($0)! - $1 }
    let throttling = zip(paths, counted).map { (p, c) -> (periods: Int, throttled: Int, seconds: Double) in
      let now = cg.throttling(p)!
      return (now.periods - c.periods, now.throttled - c.throttled, now.seconds - c.seconds)
    }
    let report = "used \(used.map { String(format: "%.3f", $0) }) s in \(String(format: "%.3f", elapsed)) s; throttling \(throttling) (\(cg))"
    // The quota bounds use from above, however busy the machine: 20 ms (50 ms) per 100 ms
    // period, plus one period's quota of slack at the window's edges.
    XCTAssertLessThanOrEqual(used[0], 0.20 * (elapsed + 0.1) + 0.02, report)
    XCTAssertLessThanOrEqual(used[1], 0.50 * (elapsed + 0.1) + 0.05, report)
    // The 20 % group wants a whole core: the kernel stopped it in most of its periods.
    XCTAssertGreaterThan(throttling[0].throttled, 0, report)
    XCTAssertGreaterThan(throttling[0].seconds, 0, report)
    XCTAssertGreaterThan(Double(throttling[0].throttled), 0.5 * Double(throttling[0].periods), report)
    // No quota, never throttled; and it gets at least what the capped group gets.
    XCTAssertEqual(throttling[2].throttled, 0, report)
    XCTAssertGreaterThanOrEqual(used[2] + 0.02, used[0], report)
    let status = Readback.status(Planner.plan(t), sample: 0.5)
    XCTAssertEqual(status.first { $0.node == "c20" }?.cpuCapPercent, 20)
    XCTAssertGreaterThanOrEqual(status.first { $0.node == "c20" }?.processes.count ?? 0, 1)
    let use = status.first { $0.node == "c20" }?.cpuUsePercent ?? -1
    XCTAssertTrue(use > 0 && use <= 30, "status: c20 uses \(use) %")
  }

  func testChrootedNodeSeesOnlyItsRootfsAndExecPassesStdinAndExitCodes() throws {
    let root = try rootfs()
    let name = uniqueName()
    let path = try tempFile(name, "topology \(name)\nnode n\n  chroot \(root)\nnode m\n")
    var (code, _, err) = try runNstopo(binary, ["up", path])
    XCTAssertEqual(code, 0, err)
    let (lsCode, ls, lsErr) = try runNstopo(binary, ["exec", name, "n", "--", "ls", "/"])
    XCTAssertEqual(lsCode, 0, lsErr)
    let expected = try FileManager.default.contentsOfDirectory(atPath: root).sorted()
    XCTAssertEqual(ls.split(separator: "\n").map(String.init).sorted(), expected)
    // /proc is mounted for the chrooted process only (its own mount namespace).
    XCTAssertEqual(try runNstopo(binary, ["exec", name, "n", "--", "cat", "/proc/self/comm"]).1, "cat\n")
    XCTAssertFalse(try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8).contains(root + "/proc"))
    XCTAssertEqual(try runNstopo(binary, ["exec", name, "n", "--", "sh", "-c", "exit 7"]).0, 7)
    XCTAssertEqual(try runNstopo(binary, ["exec", name, "m", "--", "cat"], input: "through stdin\n").1, "through stdin\n")
    (code, _, err) = try runNstopo(binary, ["exec", name, "nope", "--", "true"])
    XCTAssertEqual(code, 64)
    XCTAssertTrue(err.contains("has no node 'nope'"), err)
    (code, _, err) = try runNstopo(binary, ["exec", name, "m", "--", "/no/such/program"])
    XCTAssertEqual(code, 127, err)
    XCTAssertTrue(err.contains("No such file or directory"), err)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// The tutorial, end to end: a chrooted, capped node listens on 4444; the host's loopback
  /// does not have it, the node's address (through the host's veth) does.
  func testTheTutorialsIsolation() throws {
    let root = try rootfs()
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let t = topology("""
      node myns
        cpu 20%
        chroot \(root)
        run nc -l -p 4444
      link host:\(host) \(net).1/24 -- myns:veth0 \(net).2/24
      """)
    try Lifecycle.up(t, file: "test")
    usleep(200_000)
    let (code, ss, _) = try runNstopo("/usr/bin/ss", ["-ltnH"])
    XCTAssertEqual(code, 0)
    XCTAssertFalse(ss.contains(":4444 "), "the root namespace does not listen on 4444: \(ss)")
    XCTAssertEqual(try connectErrno(from: nil, to: "127.0.0.1", port: 4444), ECONNREFUSED)
    XCTAssertEqual(try connectErrno(from: nil, to: "\(net).2", port: 4444), 0, "the node answers on its address")
  }

  func testDownStopsEveryProcessEvenForkedAndTermIgnoringOnes() throws {
    let t = topology("""
      node a
        run sh -c 'trap "" TERM; sleep 1000 & sleep 1000 & while :; do sleep 1; done'
        run sleep 1000
      """)
    try Lifecycle.up(t, file: "test")
    let cg = try CgroupSystem.detect()
    let path = KernelNames(topology: t.name).cgroup(node: "a")
    usleep(200_000)
    let pids = cg.pids(path)
    XCTAssertGreaterThanOrEqual(pids.count, 4, "shell, two background sleeps, its loop's sleep, and the second run")
    let start = Date()
    let report = try XCTUnwrap(try Lifecycle.down(t.name))
    XCTAssertEqual(report.failures, [])
    XCTAssertLessThan(Date().timeIntervalSince(start), 8)
    for p in pids { XCTAssertFalse(alive(p), "process \(p) survived down") }
    XCTAssertFalse(cg.exists(path))
  }

  func testARunLineThatFailsAtOnceRollsBackWithItsLog() throws {
    let t = topology("node a\n  run sleep 1000\nnode b\n  run sh -c 'echo $NSTOPO_TOPOLOGY/$NSTOPO_NODE cannot start >&2; exit 3'\n")
    XCTAssertThrowsError(try Lifecycle.up(t, file: "test")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("`run sh -c 'echo $NSTOPO_TOPOLOGY/$NSTOPO_NODE cannot start >&2; exit 3'` in node b exited with code 3"), text)
      XCTAssertTrue(text.contains("| \(t.name)/b cannot start"), "a service knows its node and topology: " + text)
      XCTAssertTrue(text.contains("rolled back"), text)
    }
    XCTAssertEqual(leftovers(t.name), [])
  }

  /// `nstopo up FILE | cat` ends: a service started by `up` holds none of nstopo's
  /// descriptors, so the pipe closes when nstopo exits (it used to wait on the service).
  func testUpThroughAPipeEndsWhileItsServicesRun() throws {
    let name = uniqueName()
    let path = try tempFile(name, "topology \(name)\nnode a\n  run sleep 1000\n  run sh -c 'exec sleep 1000'\n")
    defer { _ = try? runNstopo(binary, ["down", name]) }
    let output = path + ".out"
    defer { unlink(output) }
    // cat writes to a file, so a hung pipe cannot hold this test's own pipes.
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-c", "'\(binary)' up '\(path)' 2>&1 | cat > '\(output)'"]
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = Date().addingTimeInterval(20)
    while p.isRunning && Date() < deadline { usleep(20_000) }
    let ended = !p.isRunning
    if !ended { p.terminate() }
    let out = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
    XCTAssertTrue(ended, "`up | cat` did not end in 20 s: \(out)")
    XCTAssertTrue(out.contains(name), out)
    let pids = try CgroupSystem.detect().pids(KernelNames(topology: name).cgroup(node: "a"))
    XCTAssertGreaterThanOrEqual(pids.count, 2, "both services still run after nstopo ended")
    for pid in pids {
      let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? []
      XCTAssertEqual(Set(fds), ["0", "1", "2"], "service \(pid) holds only stdio")
    }
  }

  func testAOneShotRunLineThatSucceedsIsFine() throws {
    let t = topology("node a\n  run true\n  run sleep 1000\n")
    try Lifecycle.up(t, file: "test")
    XCTAssertEqual(try CgroupSystem.detect().pids(KernelNames(topology: t.name).cgroup(node: "a")).count, 1)
  }
}

/// Running (not gone, not a zombie).
func alive(_ pid: pid_t) -> Bool {
  guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
    let close = stat.lastIndex(of: ")")
  else { return false }
  return stat[stat.index(close, offsetBy: 2)] != "Z"
}
