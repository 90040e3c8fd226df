import Foundation
import Glibc
import Matrix
import Netlink
import Realizer
import TopologyModel
import XCTest

/// Failure scenarios on the real kernel: every scenario of the example run by `test`, the
/// kernel read back after the run equal to before (qdiscs included); Ctrl-C during a scenario
/// puts it back; `kill -9` during one leaves a state that `status` reports and `down` removes.
final class ScenarioTests: KernelTestCase {
  private func upExample() throws -> String {
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/links.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology links", with: "topology \(name)")
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    return name
  }

  func testAllScenariosOfTheExampleLeaveTheKernelAsTheyFoundIt() throws {
    let name = try upExample()
    let before = try snapshot(name)
    let json = NSTemporaryDirectory() + "\(name)-scenarios.json"
    defer { try? FileManager.default.removeItem(atPath: json) }
    let (code, out, err) = try runNstopo(binary, ["test", name, "--all-scenarios", "--proto", "tcp,udp", "--json", json, "--no-color"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("scenario uplink-down (line 38): link core edge down"), out)
    XCTAssertTrue(out.contains("against the base matrix: 36 pairs lost, 0 gained"), out)
    XCTAssertTrue(out.contains("against the base matrix: 0 pairs lost, 8 gained"), out)
    let doc = try JSONDecoder().decode(TestDocument.self, from: try Data(contentsOf: URL(fileURLWithPath: json)))
    XCTAssertEqual(doc.scenarios?.map(\.name), ["uplink-down", "backup-up", "slow-uplink"])
    XCTAssertEqual(doc.scenarios?.map(\.passed), [true, true, true])
    XCTAssertEqual(try snapshot(name), before)
    XCTAssertNil(StateStore.scenarioInForce(name))
    XCTAssertTrue(try runNstopo(binary, ["status", name]).1.contains("no drift"))
    // predict agrees on what each scenario does, without the kernel.
    let p = try runNstopo(binary, ["predict", name, "--scenario", "uplink-down", "--no-color"])
    XCTAssertEqual(p.0, 0, p.1 + p.2)
    XCTAssertTrue(p.1.contains("against the base matrix: 18 pairs lost, 0 gained"), p.1)
    let bad = try runNstopo(binary, ["test", name, "--scenario", "uplink-dwn"])
    XCTAssertEqual(bad.0, 64)
    XCTAssertTrue(bad.2.contains("no scenario 'uplink-dwn' in topology \(name) (did you mean 'uplink-down'?)"), bad.2)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// A LAN whose scenario takes h3 down: its pairs then time out, so the scenario is in force
  /// for seconds with a long deadline.
  private func upLAN() throws -> String {
    let name = uniqueName()
    let path = try tempFile(name, """
      topology \(name)
      subnet lan 10.77.7.0/24
      bridge sw lan
      node h[1..3]
        link sw
      scenario h3-fails
        node h3 down
      """)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    return name
  }

  /// Starts `test NAME --scenario h3-fails --timeout 5`, waits until the scenario is in force,
  /// and sends `signal`.
  private func interruptDuringTheScenario(_ name: String, signal: Int32) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["test", name, "--scenario", "h3-fails", "--timeout", "5", "--no-color"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    let deadline = monotonicSeconds() + 20
    while monotonicSeconds() < deadline, StateStore.scenarioInForce(name) == nil { usleep(20_000) }
    XCTAssertEqual(StateStore.scenarioInForce(name), "h3-fails")
    usleep(500_000)
    kill(p.processIdentifier, signal)
    p.waitUntilExit()
    return p.terminationStatus
  }

  func testCtrlCDuringAScenarioPutsItBack() throws {
    let name = try upLAN()
    let before = try snapshot(name)
    XCTAssertEqual(try interruptDuringTheScenario(name, signal: SIGINT), 130)
    XCTAssertEqual(try snapshot(name), before)
    XCTAssertNil(StateStore.scenarioInForce(name))
    XCTAssertEqual(StateStore.document(name)?.topology.links.allSatisfy(\.isUp), true)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// `kill -9` during a scenario: `status` says it is in force; the next `test` puts it back
  /// first and says so (it used to take the scenario for the topology); `down` removes all.
  func testKillDuringAScenarioIsReportedAndTheNextTestRevertsIt() throws {
    let name = try upLAN()
    let before = try snapshot(name)
    let code = try interruptDuringTheScenario(name, signal: SIGKILL)
    XCTAssertNotEqual(code, 0)
    let (_, out, _) = try runNstopo(binary, ["status", name])
    XCTAssertTrue(out.contains("scenario h3-fails is still in force"), out)
    let (testCode, testOut, testErr) = try runNstopo(binary, ["test", name, "--no-color"])
    XCTAssertEqual(testCode, 0, testOut + testErr)
    XCTAssertTrue(testErr.contains("scenario h3-fails was still in force (the test that applied it was killed): reverted it before testing"), testErr)
    XCTAssertTrue(testOut.contains("6 pairs: 6 reached"), testOut)
    XCTAssertNil(StateStore.scenarioInForce(name))
    XCTAssertEqual(StateStore.document(name)?.topology.links.allSatisfy(\.isUp), true)
    XCTAssertEqual(try snapshot(name), before)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
    XCTAssertEqual(leftovers(name), [])
  }

  /// Another nstopo holding the topology's lock when a scenario is to be reverted (a
  /// `link` command being refused, say): the test waits for it, and the scenario never stays
  /// in force. It used to exit 75 with no results and the scenario in force.
  func testAScenarioWaitsForTheLockAndIsAlwaysReverted() throws {
    let name = try upLAN()
    let before = try snapshot(name)
    let journal = StateStore.directory(name) + "/journal"
    let holder = Process()
    holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
    holder.arguments = ["-x", journal, "-c", "sleep 1.5"]
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["test", name, "--scenario", "h3-fails", "--timeout", "1", "--no-color"]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = out
    // The lock is taken once the scenario is in force: held while the test wants to revert it.
    try p.run()
    let deadline = monotonicSeconds() + 20
    while monotonicSeconds() < deadline, StateStore.scenarioInForce(name) == nil { usleep(5_000) }
    try holder.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    holder.waitUntilExit()
    XCTAssertEqual(p.terminationStatus, 0, text)
    XCTAssertTrue(text.contains("scenario h3-fails"), text)
    XCTAssertNil(StateStore.scenarioInForce(name))
    XCTAssertEqual(try snapshot(name), before)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }
}
