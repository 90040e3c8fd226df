import ArgumentParser
import Foundation
import XCTest

@testable import NSTopoCLI

/// Every help text, compared whole with `Snapshots/help-<command>.txt` (NSTOPO_RECORD=1
/// rewrites them; review the diff), as swift-argument-parser's own tests do: options,
/// defaults and the exit-code table are what users read first.
final class HelpTests: XCTestCase {
  static let commands: [(String, ParsableCommand.Type)] = [
    ("nstopo", NSTopo.self), ("validate", Validate.self), ("plan", Plan.self), ("up", Up.self), ("down", Down.self),
    ("status", Status.self), ("test", Test.self), ("exec", Exec.self), ("shell", Shell.self), ("rootfs", RootfsCommand.self),
    ("graph", Graph.self), ("predict", Predict.self), ("why", Why.self), ("link", LinkChange.self), ("node", NodeChange.self),
    ("perf", PerfCommand.self), ("diff", Diff.self), ("reset", Reset.self), ("import", Import.self), ("export", Export.self), ("report", Report.self),
  ]

  func testHelpTextsAreUnchanged() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Snapshots")
    for (name, command) in Self.commands {
      let text = (command == NSTopo.self ? NSTopo.helpMessage(columns: 100) : NSTopo.helpMessage(for: command, columns: 100)) + "\n"
      let url = dir.appendingPathComponent("help-\(name).txt")
      if ProcessInfo.processInfo.environment["NSTOPO_RECORD"] == "1" {
        try text.write(to: url, atomically: true, encoding: .utf8)
        continue
      }
      XCTAssertEqual(text, try String(contentsOf: url, encoding: .utf8), "help of \(name) differs (NSTOPO_RECORD=1 to re-record after review)")
    }
  }

  /// The codes the table in `nstopo --help` promises are the ones the code uses.
  func testTheExitCodeTableIsTheCodes() {
    let help = NSTopo.helpMessage(columns: 100)
    for (code, _) in [(Exit.mismatch, ""), (Exit.nothingToCheck, ""), (Exit.usage, ""), (Exit.invalidTopology, ""), (Exit.noInput, ""), (Exit.unavailable, ""),
      (Exit.software, ""), (Exit.kernel, ""), (Exit.alreadyUp, ""), (Exit.busy, ""), (Exit.noPermission, ""), (Exit.refused, ""),
      (Exit.interrupted, "")]
    {
      XCTAssertTrue(help.contains("  \(code)  ") || help.contains("  \(code) "), "exit code \(code) is missing from the help's table")
    }
  }

  /// The completion scripts of bash, zsh and fish ask nstopo for topology and node names
  /// (the custom kinds) and complete .topo files where a file is taken.
  func testCompletionScriptsUseTheCustomKinds() {
    for shell in [CompletionShell.bash, .zsh, .fish] {
      let script = NSTopo.completionScript(for: shell)
      for call in ["---completion down", "---completion exec", "---completion why", "---completion test", "---completion link"] {
        XCTAssertTrue(script.contains(call), "\(shell): no \(call)")
      }
      XCTAssertTrue(script.contains("topo"), "\(shell): .topo files")
    }
  }

  /// No candidate a shell could read as code: bash's `compgen -W` expands its word list.
  func testCompletionCandidatesAreShellSafe() {
    XCTAssertEqual(
      shellSafe(["lab.topo", "dir/x-1_2.topo", "$(touch x).topo", "`id`.topo", "it's.topo", "a b.topo", "a\nb", "~x", "${IFS}", "{a,b}", ""]),
      ["lab.topo", "dir/x-1_2.topo"])
  }

  /// The completion functions themselves: node names from a file, `.topo` files and folders.
  func testCompletionFunctions() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let file = root + "/topologies/two-lans.topo"
    XCTAssertEqual(nodeNames(["nstopo", "why", file, ""], 3, ""), ["r1", "a1", "a2", "b1", "b2"])
    XCTAssertEqual(nodeNames(["nstopo", "why", file, "a"], 3, "a"), ["a1", "a2"])
    XCTAssertEqual(nodeNames(["nstopo", "why", "--json", "-", file, "b"], 5, "b"), ["b1", "b2"])
    XCTAssertEqual(nodeNames(["nstopo", "why"], 2, ""), [])
    // `host` is offered where it is an end, not to `exec` or `shell`.
    let seed = root + "/topologies/seed.topo"
    XCTAssertEqual(nodeNames(["nstopo", "why", seed, "h"], 3, "h"), ["host"])
    XCTAssertEqual(nodeNames(["nstopo", "exec", seed, "h"], 3, "h"), [])
    XCTAssertEqual(nodeNames(["nstopo", "shell", seed, ""], 3, ""), ["myns"])
    XCTAssertEqual(topoFiles(root + "/topologies/two"), [root + "/topologies/two-lans.topo"])
    XCTAssertTrue(topoFiles(root + "/Tes").contains(root + "/Tests/"))
  }
}

/// Exit codes from the commands themselves, run in-process.
final class ExitCodeTests: XCTestCase {
  func exitCode(_ args: [String]) -> Int32? {
    do {
      var command = try NSTopo.parseAsRoot(args)
      try command.run()
      return 0
    } catch let e as ExitCode {
      return e.rawValue
    } catch {
      return nil
    }
  }

  /// An output file that cannot be written is 73 (EX_CANTCREAT), not a kernel error.
  func testAnUnwritableOutputFileIs73() throws {
    let file = NSTemporaryDirectory() + "nstopo-cli-\(getpid()).topo"
    try "topology t\nnode a\nnode b\n  link a\n".write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    XCTAssertEqual(exitCode(["predict", file, "--json", "/nonexistent/dir/x.json"]), Exit.cannotCreate)
    XCTAssertEqual(exitCode(["predict", file]), Exit.ok)
  }

  /// Results that name nodes the topology no longer has (a rename since) are drawn without
  /// those pairs, with a warning: `graph --results` and `report` trapped on them.
  func testStaleResultsAreDrawnWithoutTheUnknownNodes() throws {
    let dir = NSTemporaryDirectory() + "nstopo-stale-\(getpid())"
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let lans = "topology t\nsubnet lan[1..2] 10.1.$i.0/24\nbridge sw[1..2] lan$i\nnode r1\n  forward\n  link sw1\n  link sw2\n"
    try (lans + "node a\n  link sw1\n  route default via r1\nnode b\n  link sw2\n  route default via r1\nexpect a -> b blocked\n")
      .write(toFile: dir + "/old.topo", atomically: true, encoding: .utf8)
    try (lans + "node a\n  link sw1\n  route default via r1\nnode c\n  link sw2\n  route default via r1\n")
      .write(toFile: dir + "/new.topo", atomically: true, encoding: .utf8)
    XCTAssertEqual(exitCode(["predict", dir + "/old.topo", "--json", dir + "/old.json"]), Exit.mismatch)
    XCTAssertEqual(exitCode(["graph", dir + "/new.topo", "--results", dir + "/old.json", "-o", dir + "/g.dot"]), Exit.ok)
    let dot = try String(contentsOfFile: dir + "/g.dot", encoding: .utf8)
    XCTAssertFalse(dot.contains("\"node:b\""), dot)
    XCTAssertEqual(exitCode(["report", dir + "/old.json", "--topology", dir + "/new.topo", "-o", dir + "/r.html"]), Exit.ok)
    XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/r.html"))
  }

  /// `why` of an IPv6-only source walks the target's IPv6 address (it took the IPv4 one and
  /// said "no route").
  func testWhyOfAnIPv6OnlySourceWalksIPv6() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let out = NSTemporaryDirectory() + "nstopo-why6-\(getpid()).json"
    defer { try? FileManager.default.removeItem(atPath: out) }
    XCTAssertEqual(exitCode(["why", root + "/topologies/dual-stack.topo", "v6only", "web", "--json", out]), Exit.ok)
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out))) as? [String: Any])
    XCTAssertEqual(doc["address"] as? String, "fd00:20:2::10")
    XCTAssertEqual(doc["family"] as? String, "ipv6")
    XCTAssertEqual((doc["model"] as? [String: Any])?["verdict"] as? String, "reached")
  }

  /// A topology name that is not one is a usage error before any path is made of it; a
  /// path names the file's topology (here: none is up).
  func testANameThatIsNotOneIs64() {
    XCTAssertEqual(exitCode(["status", ".."]), Exit.usage)
    XCTAssertEqual(exitCode(["status", ""]), Exit.usage)
    XCTAssertEqual(exitCode(["status", "a b"]), Exit.usage)
    XCTAssertEqual(exitCode(["status", "../nstopo-cli-none"]), Exit.noInput)
  }

  /// `nstopo` alone is a usage error (a script that lost its subcommand must not pass).
  func testNoSubcommandIs64() {
    XCTAssertEqual(exitCode([]), Exit.usage)
  }

  /// A results file that is not one is said in a sentence, not Swift's DecodingError dump.
  func testReportOfNotResultsSaysWhy() throws {
    struct Doc: Decodable { var format: String }
    func reason(_ text: String) -> String {
      switch Result(catching: { try JSONDecoder().decode(Doc.self, from: Data(text.utf8)) }) {
      case .success: return ""
      case .failure(let error): return Report.reason(error)
      }
    }
    XCTAssertEqual(reason("hello"), "it is not JSON")
    XCTAssertEqual(reason("{\"x\": 1}"), "it has no 'format' at the top level")
    XCTAssertEqual(reason("{\"format\": 1}"), "the value at format is not what nstopo writes")
  }

  /// `-q` hides a file's warnings (errors still show) in the commands that read one; it is
  /// reset by the next command without it.
  func testQuietHidesTheFilesWarnings() throws {
    _ = try NSTopo.parseAsRoot(["predict", "x.topo", "-q"])
    XCTAssertFalse(TopologyFile.warnings)
    _ = try NSTopo.parseAsRoot(["graph", "x.topo"])
    XCTAssertTrue(TopologyFile.warnings)
  }

  /// The README's first topology (*Your first topology in five minutes*) is valid and the
  /// model holds it to its own `expect` lines: what a new user types first works.
  func testTheREADMEsFirstTopologyPredictsItsExpectations() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let readme = try String(contentsOfFile: root + "/README.md", encoding: .utf8)
    let section = try XCTUnwrap(readme.components(separatedBy: "## Your first topology in five minutes").dropFirst().first)
    let block = try XCTUnwrap(section.components(separatedBy: "```\n").dropFirst().first)
    XCTAssertTrue(block.hasPrefix("topology office\n"), block)
    let file = NSTemporaryDirectory() + "nstopo-office-\(getpid()).topo"
    try block.write(toFile: file, atomically: true, encoding: .utf8)
    defer { try? FileManager.default.removeItem(atPath: file) }
    XCTAssertEqual(exitCode(["validate", file]), Exit.ok)
    XCTAssertEqual(exitCode(["predict", file]), Exit.ok)
  }
}
