import Foundation
import Glibc
import Netlink
import Planner
import Realizer
import TestSupport
import TopologyModel
import XCTest

/// Fails the Nth step of a real backend: the seam for rollback tests on the kernel.
final class FailingBackend: KernelBackend {
  let real: KernelBackend
  let failAt: Int
  var calls = 0

  init(_ real: KernelBackend, failAt: Int) {
    self.real = real
    self.failAt = failAt
  }

  func apply(_ step: Step) throws {
    defer { calls += 1 }
    if calls == failAt { throw SystemError("injected failure at", "step \(failAt)", errno: EIO) }
    try real.apply(step)
  }
}

final class SafetyTests: KernelTestCase {
  func testRollbackAtEveryStepLeavesNothing() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let t = topology(Fixtures.twoLANs(name: nil, b: ["cpu 30%", "run sleep 60"], extra: ["link host:\(host) \(net).1/24 -- a:eth1 \(net).2/24"]))
    let plan = Planner.plan(t)
    for n in 0..<plan.steps.count {
      let backend = SystemBackend(net: try NetlinkBackend(bridgeNamespace: plan.names.bridgeNamespace), logDirectory: nil)
      do {
        try Realizer.up(plan, backend: FailingBackend(backend, failAt: n), journal: nil)
        XCTFail("step \(n) should fail")
      } catch {
        XCTAssertEqual(error.index, n)
        XCTAssertEqual(error.rollbackFailures, [], "step \(n)")
      }
      XCTAssertEqual(leftovers(t.name), [], "after a failure at step \(n + 1): \(plan.steps[n].step.shellEquivalent)")
      XCTAssertNil(try NetlinkSocket(namespaceFD: nil, name: "root").link(named: host), "host link after step \(n + 1)")
    }
  }

  func testKernelErrorIsReportedWithStepAndObjectAndRolledBack() throws {
    let t = topology("subnet p2p 10.44.0.0/24\nnode a\n  link b p2p\nnode b\n")
    var plan = Planner.plan(t)
    // A gateway on no connected subnet: the kernel itself refuses it.
    let bad = Step.addRoute(
      ns: plan.names.namespace(node: "a"),
      route: Step.KernelRoute(destination: IPPrefix("10.99.0.0/16")!, gateway: IPAddress("198.51.100.1")!, kind: .unicast))
    plan.steps.append(PlannedStep(bad))
    let backend = SystemBackend(net: try NetlinkBackend(), logDirectory: nil)
    XCTAssertThrowsError(try Realizer.up(plan, backend: backend, journal: nil)) { error in
      let text = "\(error)"
      XCTAssertTrue(text.hasPrefix("step \(plan.steps.count) of \(plan.steps.count) failed: ip -n \(plan.names.namespace(node: "a")) route add 10.99.0.0/16 via 198.51.100.1"), text)
      XCTAssertTrue(text.contains("add route 10.99.0.0/16 via 198.51.100.1 in \(plan.names.namespace(node: "a")): Network is unreachable"), text)
      XCTAssertTrue(text.contains("rolled back"), text)
    }
    XCTAssertEqual(leftovers(t.name), [])
  }

  func testForeignNamespaceIsRefusedAndLeftAlone() throws {
    let t = topology("node a\nnode b\n")
    let plan = Planner.plan(t)
    let foreign = plan.names.namespace(node: "b")
    let fd = try NetworkNamespace.create(foreign)
    close(fd)
    defer { try? NetworkNamespace.delete(foreign) }
    XCTAssertThrowsError(try Lifecycle.up(t, file: "test")) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("namespace '\(foreign)' already exists"), text)
      XCTAssertTrue(text.contains("nothing was created"), text)
    }
    XCTAssertFalse(NetworkNamespace.exists(plan.names.namespace(node: "a")), "nothing of the refused topology was created")
    XCTAssertTrue(NetworkNamespace.exists(foreign), "the foreign namespace is left alone")
    XCTAssertNil(try Lifecycle.down(t.name))
    XCTAssertTrue(NetworkNamespace.exists(foreign), "down does not touch what it did not create")
  }

  /// Namespaces are created two at a time; one of them taken by someone else (after the
  /// preflight, say) fails only its own group: the error names it, every namespace this run
  /// made is removed, and the foreign one is left alone. No anchor file remains.
  func testConcurrentNamespaceCreationRollsBackAroundAForeignNamespace() throws {
    let t = topology("node n[1..40]\n")
    let plan = Planner.plan(t)
    let foreign = plan.names.namespace(node: "n17")
    close(try NetworkNamespace.create(foreign))
    NetworkNamespace.releaseAnchor()
    defer { try? NetworkNamespace.delete(foreign) }
    let backend = SystemBackend(net: try NetlinkBackend(), logDirectory: nil)
    do {
      try Realizer.up(plan, backend: backend, journal: nil)
      XCTFail("creating \(foreign) should fail")
    } catch {
      XCTAssertEqual(error.step, .createNamespace(foreign))
      XCTAssertTrue("\(error)".contains("File exists"), "\(error)")
      XCTAssertEqual(error.rollbackFailures, [])
    }
    NetworkNamespace.releaseAnchor()
    XCTAssertTrue(NetworkNamespace.exists(foreign), "the foreign namespace is left alone")
    XCTAssertEqual(leftovers(t.name).filter { !$0.contains(foreign) }, [])
    XCTAssertEqual(anchors(), [])
  }

  func testHostOverlapAndNameCollisionsAreRefused() throws {
    let host = hostLinkName()
    let net = hostSubnet().dropLast(2)
    let a = topology("node x\nlink host:\(host) \(net).1/24 -- x:eth0 \(net).2/24\n")
    try Lifecycle.up(a, file: "test")
    let b = topology("node y\nlink host:\(host)b \(net).9/24 -- y:eth0 \(net).10/24\n")
    XCTAssertThrowsError(try Lifecycle.up(b, file: "test")) { error in
      XCTAssertTrue("\(error)".contains("overlaps the root namespace's route \(net).0/24"), "\(error)")
    }
    XCTAssertEqual(leftovers(b.name), [])
    let c = topology("node z\nlink host:\(host) 10.125.\(KernelTestCase.counter % 250).1/24 -- z:eth0 10.125.\(KernelTestCase.counter % 250).2/24\n")
    XCTAssertThrowsError(try Lifecycle.up(c, file: "test")) { error in
      XCTAssertTrue("\(error)".contains("interface '\(host)' already exists in the root namespace"), "\(error)")
    }
    XCTAssertEqual(leftovers(c.name), [])
    XCTAssertThrowsError(try Lifecycle.up(a, file: "test")) { error in
      XCTAssertTrue("\(error)".contains("is already up"), "\(error)")
    }
  }

  func testKillDuringUpThenDownLeavesNothing() throws {
    for delay in [0, 3000, 10_000, 30_000, 80_000] {
      let name = uniqueName()
      let path = try tempFile(name, "topology \(name)\nsubnet lan 10.60.0.0/16\nbridge sw lan\nnode h[1..300]\n  link sw\n")
      let p = Process()
      p.executableURL = URL(fileURLWithPath: binary)
      p.arguments = ["up", path]
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      usleep(useconds_t(delay))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      // Killed before it made anything, there is nothing to take down: --missing-ok.
      let (code, _, err) = try runNstopo(binary, ["down", name, "--missing-ok"])
      XCTAssertEqual(code, 0, err)
      XCTAssertEqual(leftovers(name), [], "after SIGKILL at \(delay) µs")
    }
  }

  /// `kill -9` of `up` at seeded random moments over a star large enough to use every
  /// namespace-creation thread, then `down`: nothing of the topology's is left, and `down`
  /// never says ok while it leaves anything. NSTOPO_KILLS sets the count (the issue's figure
  /// is 100); NSTOPO_KILL_SEED the seed.
  func testKillAtRandomMomentsOfAStarThenDownLeavesNothing() throws {
    let env = ProcessInfo.processInfo.environment
    let kills = Int(env["NSTOPO_KILLS"] ?? "") ?? 6
    var rng = SplitMix(seed: UInt64(env["NSTOPO_KILL_SEED"] ?? "") ?? 30)
    // How long a whole up takes here: the kills fall anywhere inside it.
    let name0 = uniqueName()
    let text = { (n: String) in "topology \(n)\nsubnet lan 10.63.0.0/16\nbridge sw lan\nnode h[1..600]\n  link sw\n" }
    let path0 = try tempFile(name0, text(name0))
    let t0 = Date()
    let (up0, _, upErr) = try runNstopo(binary, ["up", path0])
    let span = Date().timeIntervalSince(t0)
    XCTAssertEqual(up0, 0, upErr)
    XCTAssertEqual(try runNstopo(binary, ["down", name0]).0, 0)
    var outcomes: [String] = []
    for k in 0..<kills {
      let name = uniqueName()
      let path = try tempFile(name, text(name))
      let delay = Double(rng.next() % 1_000_000) / 1_000_000 * span
      let p = Process()
      p.executableURL = URL(fileURLWithPath: binary)
      p.arguments = ["up", path]
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      try p.run()
      usleep(useconds_t(delay * 1_000_000))
      kill(p.processIdentifier, SIGKILL)
      p.waitUntilExit()
      let (code, _, err) = try runNstopo(binary, ["down", name, "--missing-ok"])
      let left = leftovers(name)
      outcomes.append("kill \(k) at \(Int(delay * 1000)) ms of \(Int(span * 1000)): down \(code), \(left.count) left")
      XCTAssertEqual(left.filter { $0.hasPrefix("netns") }.count, 0, "kill \(k) at \(delay) s: \(left.prefix(3)), \(err.prefix(600))")
      if !left.isEmpty { XCTAssertNotEqual(code, 0, "down said ok and left \(left.prefix(3)): \(err.prefix(600))") }
      // Whatever this run left must not fail every later test's leak check.
      if !left.isEmpty {
        for ns in left where ns.hasPrefix("netns ") { _ = try? runProcess("/usr/sbin/ip", ["netns", "del", String(ns.dropFirst(6))]) }
        _ = try? runNstopo(binary, ["down", name, "--forget"])
      }
    }
    print(outcomes.joined(separator: "\n"))
  }

  func testCtrlCDuringUpRollsBackWithoutDown() throws {
    let name = uniqueName()
    let path = try tempFile(name, "topology \(name)\nsubnet lan 10.62.0.0/16\nbridge sw lan\nnode h[1..300]\n  link sw\n")
    // Interrupt while it builds: once its state exists, well before 300 nodes are done.
    let (status, message) = try interruptNstopo(binary, ["up", path], delay: 0.02) {
      FileManager.default.fileExists(atPath: StateStore.directory(name) + "/journal")
    }
    XCTAssertEqual(status, 130, message)
    XCTAssertTrue(message.contains("interrupted at step") && message.contains("everything was rolled back"), message)
    XCTAssertEqual(leftovers(name), [], "nothing left, without running down")
  }

  func testConcurrentUpOneWinsTheOtherFailsCleanly() throws {
    let name = uniqueName()
    let path = try tempFile(name, "topology \(name)\nsubnet lan 10.61.0.0/16\nbridge sw lan\nnode h[1..50]\n  link sw\n")
    let procs = (0..<2).map { _ -> Process in
      let p = Process()
      p.executableURL = URL(fileURLWithPath: binary)
      p.arguments = ["up", path]
      p.standardOutput = FileHandle.nullDevice
      p.standardError = FileHandle.nullDevice
      return p
    }
    for p in procs { try p.run() }
    for p in procs { p.waitUntilExit() }
    let codes = procs.map(\.terminationStatus).sorted()
    XCTAssertEqual(codes[0], 0, "one up wins: \(codes)")
    XCTAssertTrue([73, 75].contains(codes[1]), "the other fails cleanly: \(codes)")
    let (code, _, _) = try runNstopo(binary, ["down", path])
    XCTAssertEqual(code, 0)
    XCTAssertEqual(leftovers(name), [])
  }

  func testWithoutRootTheCLISaysSoInOneLine() throws {
    guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") else { throw XCTSkip("runuser is not installed") }
    let path = try tempFile(uniqueName(), "node a\n")
    try? FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
    let (code, _, err) = try runNstopo("/usr/sbin/runuser", ["-u", "nobody", "--", binary, "up", path])
    guard code != 126 && code != 127 else { throw XCTSkip("nobody cannot run the binary here: \(err)") }
    XCTAssertEqual(code, 77, err)
    XCTAssertEqual(err.split(separator: "\n").count, 1, err)
    XCTAssertTrue(err.contains("needs CAP_NET_ADMIN and CAP_SYS_ADMIN") && err.contains("as root"), err)
  }
}
