import Foundation
import Planner
import TopologyDSL
import TopologyModel
import XCTest

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// `nstopo plan --script`: every example's steps are a script a POSIX shell accepts, with
/// arguments quoted where the shell would split or expand them.
final class ShellScriptTests: XCTestCase {
  func testEveryExamplesScriptParses() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("topologies").path)
      .filter { $0.hasSuffix(".topo") }.sorted()
    XCTAssertGreaterThan(files.count, 5)
    for f in files {
      let data = try Data(contentsOf: root.appendingPathComponent("topologies/\(f)"))
      let r = TopologyLoader.load(bytes: [UInt8](data), fileName: f)
      let t = try XCTUnwrap(r.topology, r.rendered)
      let script = PlanText.script(Planner.plan(t))
      XCTAssertTrue(script.hasPrefix("#!/bin/sh\n"), f)
      XCTAssertEqual(try shellCheck(script), 0, "\(f): sh -n rejects the plan's script:\n\(script)")
    }
  }

  /// Names, paths and commands the shell would split, expand or end early.
  func testHostileWordsAreQuoted() throws {
    XCTAssertEqual(Shell.quote("lab-h1"), "lab-h1")
    XCTAssertEqual(Shell.quote("10.0.0.1/24"), "10.0.0.1/24")
    XCTAssertEqual(Shell.quote("/srv/my root"), "'/srv/my root'")
    XCTAssertEqual(Shell.quote("it's"), "'it'\\''s'")
    XCTAssertEqual(Shell.quote(""), "''")
    XCTAssertEqual(Shell.quote("$(reboot)"), "'$(reboot)'")
    let t = try XCTUnwrap(
      TopologyLoader.load(
        text: "topology q\nnode a\n  chroot /tmp/my;root&x\n  run echo \"it's $HOME\" & sleep 1\n  link b\nnode b\n",
        fileName: "q.topo"
      ).topology)
    let script = PlanText.script(Planner.plan(t))
    XCTAssertTrue(script.contains("chroot '/tmp/my;root&x'"), script)
    XCTAssertEqual(try shellCheck(script), 0, script)
  }

  /// `sh -n`: parses without running.
  private func shellCheck(_ script: String) throws -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sh")
    p.arguments = ["-n"]
    let input = Pipe()
    p.standardInput = input
    p.standardError = FileHandle.nullDevice
    try p.run()
    input.fileHandleForWriting.write(script.data(using: .utf8)!)
    try input.fileHandleForWriting.close()
    p.waitUntilExit()
    return p.terminationStatus
  }
}
