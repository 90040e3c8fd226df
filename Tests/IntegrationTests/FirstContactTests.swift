import Foundation
import Glibc
import Realizer
import XCTest

/// What a user meets first, through the binary: every exit code of the README's table
/// provoked, JSON outputs that agree, the matrix under an 80-column terminal, colour rules,
/// and `exec` over several nodes.
final class FirstContactTests: KernelTestCase {
  /// A small topology file named uniquely: a router between two LANs of two hosts.
  private func lanFile(_ name: String, extra: String = "") throws -> String {
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/two-lans.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology two-lans", with: "topology \(name)")
    return try tempFile(name, text + extra)
  }

  func testEveryExitCodeOfTheTableIsProvoked() throws {
    let name = uniqueName()
    let file = try lanFile(name)
    var seen: [Int32: String] = [:]
    func expect(_ code: Int32, _ args: [String], _ what: String, contains: String? = nil, environment: [String: String]? = nil,
      file: StaticString = #filePath, line: UInt = #line) throws {
      let (c, out, err) = try runProcess(binary, args, environment: environment)
      XCTAssertEqual(c, code, "\(what): \(args)\n\(out)\(err)", file: file, line: line)
      if let contains { XCTAssertTrue((out + err).contains(contains), "\(what): \(out)\(err)", file: file, line: line) }
      seen[code] = what
    }
    try expect(0, ["validate", file], "a valid file")
    try expect(65, ["validate", try tempFile(uniqueName(), "node a\n  lnk s1\n")], "an invalid file", contains: "did you mean 'link'?")
    try expect(66, ["validate", "/nonexistent/x.topo"], "a missing file")
    try expect(64, ["down", ".."], "a name that is not one")
    try expect(64, ["graph", file, "--rankdir", "BT"], "a bad option value")
    try expect(73, ["predict", file, "--json", "/nonexistent/dir/x.json"], "an output file that cannot be written", contains: "no directory /nonexistent/dir")
    try expect(73, ["graph", file, "-o", "/nonexistent/x.svg"], "graph -o that cannot be written")
    try expect(69, ["graph", file, "-o", NSTemporaryDirectory() + "\(name).svg"], "Graphviz missing from PATH", contains: "apt-get install graphviz",
      environment: ["PATH": "/nonexistent"])
    try expect(1, ["predict", try lanFile(uniqueName(), extra: "expect a1 -> b1 blocked\n")], "an expect line the model contradicts")
    try expect(2, ["test", try tempFile(uniqueName(), "node a\nnode b\n"), "--up", "--declared-only"], "--declared-only without expect", contains: "nothing to check")
    // A missing chroot path is the file's problem: 65, nothing created.
    try expect(65, ["up", try lanFile(uniqueName(), extra: "node lone\n  chroot /nonexistent/rootfs\n")], "a missing chroot path",
      contains: "chroot path '/nonexistent/rootfs'")
    // Not up: 66, with the name of the closest topology that is.
    try expect(0, ["up", file], "up")
    try expect(66, ["down", String(name.dropLast())], "down of a typo", contains: "did you mean '\(name)'?")
    XCTAssertEqual(StateStore.phase(name), .up, "the typo left the real topology up")
    let (missing, _, _) = try runNstopo(binary, ["down", "nsttnothing", "--missing-ok"])
    XCTAssertEqual(missing, 0, "--missing-ok")
    try expect(73, ["up", file], "already up", contains: "already up")
    try expect(73, ["test", file, "--up"], "test --up of a topology that is up", contains: "without --up")
    try expect(127, ["exec", name, "a1", "--", "/nonexistent/cmd"], "a command that cannot start")
    try expect(3, ["exec", name, "a1", "--", "sh", "-c", "exit 3"], "exec passes the command's code")
    // Busy: another nstopo holds the journal.
    let fd = open(StateStore.directory(name) + "/journal", O_RDONLY)
    XCTAssertEqual(flock(fd, LOCK_EX), 0)
    try expect(75, ["down", name], "busy")
    flock(fd, LOCK_UN)
    close(fd)
    // Without the capabilities: 77, naming them.
    let (denied, _, deniedErr) = try runProcess("/usr/bin/setpriv", ["--bounding-set=-net_admin", "--inh-caps=-all", binary, "status", name])
    XCTAssertEqual(denied, 77, deniedErr)
    XCTAssertTrue(deniedErr.contains("needs CAP_NET_ADMIN"), deniedErr)
    seen[77] = "no CAP_NET_ADMIN"
    // A state written by a newer nstopo: 70, and down still works from the journal.
    let statePath = StateStore.directory(name) + "/state.json"
    let state = try String(contentsOfFile: statePath, encoding: .utf8)
    try state.replacingOccurrences(of: "\"format\":", with: "\"format\":99,\"was\":").write(toFile: statePath, atomically: false, encoding: .utf8)
    try expect(70, ["status", name], "a newer state format", contains: "newer nstopo")
    try state.write(toFile: statePath, atomically: false, encoding: .utf8)
    // Interrupted: a test whose probes wait 20 s, stopped after one.
    let blocked = uniqueName()
    let blockedFile = try tempFile(blocked, "subnet p 10.77.0.0/24\nbridge s p\nnode a\n  link s\nnode b\n  link s\n  firewall input drop\n")
    try expect(0, ["up", blockedFile], "up of the slow one")
    let p = Process()
    p.executableURL = URL(fileURLWithPath: binary)
    p.arguments = ["test", blocked, "--timeout", "20"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    try p.run()
    usleep(1_500_000)
    kill(p.processIdentifier, SIGINT)
    p.waitUntilExit()
    // A pair that times out keeps the test running; a run that ended already is 0 or 1.
    XCTAssertTrue([130, 0, 1].contains(p.terminationStatus), "\(p.terminationStatus)")
    if p.terminationStatus == 130 { seen[130] = "interrupted" }
    try expect(0, ["down", blocked], "down of the slow one")
    // Refused: a state folder that is a link is not nstopo's.
    let refused = uniqueName()
    try FileManager.default.createSymbolicLink(atPath: StateStore.directory(refused), withDestinationPath: "/tmp")
    defer { try? FileManager.default.removeItem(atPath: StateStore.directory(refused)) }
    try expect(78, ["status", refused], "a state that is a link")
    try FileManager.default.removeItem(atPath: StateStore.directory(refused))
    // Too few descriptors for a big topology: 71, nothing changed.
    let big = uniqueName()
    let bigFile = try tempFile(big, "subnet lan 10.79.0.0/16\nbridge sw lan\nnode h[1..200]\n  link sw\n")
    let (fds, _, fdsErr) = try runProcess("/bin/sh", ["-c", "ulimit -n 100; exec \(binary) up \(bigFile)"])
    XCTAssertEqual(fds, 71, fdsErr)
    XCTAssertEqual(leftovers(big), [])
    seen[71] = "too few descriptors"
    try expect(0, ["down", name], "down")
    // Every code of the README's table, but 130 (which depends on timing here and has tests
    // of its own), was provoked.
    let readme = try String(contentsOf: repo.appendingPathComponent("README.md"), encoding: .utf8)
    let table = readme.components(separatedBy: "## Exit codes")[1].components(separatedBy: "\n## ")[0]
    let codes = table.split(separator: "\n").compactMap { line -> Int32? in
      guard line.hasPrefix("| "), let n = Int32(line.dropFirst(2).prefix { $0.isNumber }) else { return nil }
      return n
    }
    XCTAssertGreaterThan(codes.count, 12)
    for c in codes where c != 130 { XCTAssertNotNil(seen[c], "exit code \(c) of the README's table was not provoked") }
  }

  /// Every --json output has `format` and `kind`, names its topology `topology`, and gives
  /// addresses and routes as objects; test and predict write the same pairs.
  func testJSONOutputsAgree() throws {
    let name = uniqueName()
    let file = try lanFile(name, extra: "expect a1 -> b1 reach\n")
    XCTAssertEqual(try runNstopo(binary, ["up", file]).0, 0)
    func json(_ args: [String]) throws -> [String: Any] {
      let (code, out, err) = try runNstopo(binary, args)
      XCTAssertTrue([0, 1].contains(code), "\(args): \(err)")
      return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], "\(args): \(out)")
    }
    let docs: [(String, [String: Any])] = [
      ("plan", try json(["plan", file, "--json"])),
      ("status", try json(["status", name, "--json"])),
      ("test", try json(["test", name, "--json", "-"])),
      ("predict", try json(["predict", file, "--json", "-"])),
      ("why", try json(["why", name, "a1", "b1", "--json", "-"])),
      ("validate", try json(["validate", file, "--json"])),
    ]
    for (kind, d) in docs {
      XCTAssertEqual(d["format"] as? Int, ["plan", "test", "predict"].contains(kind) ? 2 : 1, kind)
      XCTAssertEqual(d["kind"] as? String, kind, kind)
      if kind != "validate" { XCTAssertEqual(d["topology"] as? String, name, kind) }
    }
    let list = try json(["status", "--json"])
    XCTAssertEqual(list["kind"] as? String, "status")
    XCTAssertTrue(((list["topologies"] as? [[String: Any]]) ?? []).contains { $0["topology"] as? String == name })
    // Addresses as `ip -j` gives them, the same in plan and status.
    func firstAddressInfo(_ nodes: Any?) -> [String: Any]? {
      let node = (nodes as? [[String: Any]])?.first { $0["name"] as? String == "a1" }
      return ((node?["interfaces"] as? [[String: Any]])?.first { $0["name"] as? String == "eth0" }?["addressInfo"] as? [[String: Any]])?.first
    }
    let planAddress = try XCTUnwrap(firstAddressInfo(docs[0].1["nodes"]))
    let statusAddress = try XCTUnwrap(firstAddressInfo(docs[1].1["nodes"]))
    XCTAssertEqual(planAddress["local"] as? String, "10.1.1.2")
    XCTAssertEqual(planAddress["prefixlen"] as? Int, 24)
    XCTAssertEqual(planAddress["family"] as? String, "ipv4")
    XCTAssertEqual(statusAddress as NSDictionary, planAddress as NSDictionary)
    let statusNode = try XCTUnwrap((docs[1].1["nodes"] as? [[String: Any]])?.first { $0["name"] as? String == "a1" })
    let route = try XCTUnwrap((statusNode["routes"] as? [[String: Any]])?.first { $0["destination"] as? String == "default" })
    XCTAssertEqual(route["via"] as? String, "10.1.1.1")
    XCTAssertEqual(route["type"] as? String, "unicast")
    // test and predict: the same pairs, the same fields but the measured ones.
    let measured = try XCTUnwrap(docs[2].1["pairs"] as? [[String: Any]])
    let held = try XCTUnwrap(measured.first { $0["source"] as? String == "a1" && $0["target"] as? String == "b1" })
    XCTAssertEqual(held["declared"] as? String, "reached", "one spelling: reached, as the outcome")
    let predicted = try XCTUnwrap(docs[3].1["pairs"] as? [[String: Any]])
    XCTAssertEqual(measured.count, predicted.count)
    XCTAssertEqual(Set(predicted.flatMap(\.keys)).subtracting(measured.flatMap(\.keys)), [])
    XCTAssertNotNil(docs[2].1["wallSeconds"] as? Double, "test gives its whole wall time")
    XCTAssertNil(docs[3].1["wallSeconds"], "a prediction took no time to measure")
    let diagnostics = try XCTUnwrap(((docs[5].1["files"] as? [[String: Any]])?.first?["diagnostics"]) as? [[String: Any]])
    for d in diagnostics {
      for key in ["file", "line", "column", "severity", "message", "notes", "hints"] { XCTAssertNotNil(d[key], key) }
    }
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// Under an 80-column pseudo-terminal a matrix that would not fit becomes the per-subnet
  /// table; one that fits stays a matrix, coloured; NO_COLOR and TERM=dumb take colour away.
  func testTheTerminalDecidesWidthAndColour() throws {
    let wide = try tempFile(uniqueName(), "subnet lan 10.80.0.0/24\nbridge sw lan\nnode host-with-a-long-name[1..30]\n  link sw\n")
    let narrow = try lanFile(uniqueName())
    func underTTY(_ command: String, env: String = "") throws -> String {
      let (code, out, err) = try runProcess(
        "/usr/bin/script", ["-q", "-e", "-c", "stty cols 80 rows 40; \(env) \(binary) \(command)", "/dev/null"],
        environment: ["PATH": "/usr/bin:/bin", "TERM": "xterm"])
      XCTAssertTrue([0, 1, 65].contains(code), out + err)
      // A terminal ends its lines with CR LF.
      return out.replacingOccurrences(of: "\r\n", with: "\n")
    }
    let table = try underTTY("predict \(wide)")
    XCTAssertTrue(table.contains("30 endpoints: reached/probed pairs by subnet"), table)
    for line in table.split(separator: "\n") { XCTAssertLessThanOrEqual(line.count, 80, String(line)) }
    let matrix = try underTTY("predict \(narrow)")
    XCTAssertTrue(matrix.contains("✓ reached as expected") || matrix.contains("+ reached"), matrix)
    XCTAssertTrue(matrix.contains("\u{1B}["), "colour on a terminal")
    XCTAssertFalse(try underTTY("predict \(narrow)", env: "NO_COLOR=1").contains("\u{1B}["), "NO_COLOR")
    XCTAssertTrue(try underTTY("predict \(narrow)", env: "NO_COLOR=").contains("\u{1B}["), "an empty NO_COLOR is no request")
    XCTAssertFalse(try underTTY("predict \(narrow)", env: "TERM=dumb").contains("\u{1B}["), "TERM=dumb")
    XCTAssertFalse(try underTTY("predict \(narrow) --color never").contains("\u{1B}["), "--color never")
    // Not a terminal: no colour unless asked, and the matrix whatever its width.
    let (_, piped, _) = try runNstopo(binary, ["predict", narrow, "--color", "always"])
    XCTAssertTrue(piped.contains("\u{1B}["), "--color always in a CI log")
    let (_, plain, _) = try runNstopo(binary, ["predict", narrow])
    XCTAssertFalse(plain.contains("\u{1B}["))
    // Diagnostics are coloured like a compiler's on a terminal.
    let bad = try tempFile(uniqueName(), "node a\n  lnk s1\n")
    XCTAssertTrue(try underTTY("validate \(bad)").contains("\u{1B}[1;31merror:"), "a red error")
  }

  /// `exec` over a range and a list, one header per node, in order; in parallel; a failure
  /// names its node and makes the exit code 1. Each node's hostname is its name.
  func testExecOverSeveralNodes() throws {
    let name = uniqueName()
    XCTAssertEqual(try runNstopo(binary, ["up", try lanFile(name)]).0, 0)
    var (code, out, err) = try runNstopo(binary, ["exec", name, "a[1..2],r1", "--", "hostname"])
    XCTAssertEqual(code, 0, err)
    XCTAssertEqual(out, "== a1 ==\na1\n== a2 ==\na2\n== r1 ==\nr1\n")
    (code, out, err) = try runNstopo(binary, ["exec", name, "*", "--parallel", "--", "sh", "-c", "hostname; [ $(hostname) != b1 ]"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertEqual(out, "== r1 ==\nr1\n== a1 ==\na1\n== a2 ==\na2\n== b1 ==\nb1\n== b2 ==\nb2\n")
    XCTAssertTrue(err.contains("failed in 1 of 5 nodes: b1 (exit 1)"), err)
    // Every process nstopo starts in a node knows where it runs; the caller's values are replaced.
    (code, out, err) = try runProcess(
      binary, ["exec", name, "a1", "--", "sh", "-c", "echo $NSTOPO_TOPOLOGY/$NSTOPO_NODE"],
      environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "NSTOPO_NODE": "stale"])
    XCTAssertEqual(out, "\(name)/a1\n", err)
    (code, out, err) = try runNstopo(binary, ["exec", name, "a[1..2]", "--", "sh", "-c", "echo $NSTOPO_TOPOLOGY/$NSTOPO_NODE"])
    XCTAssertEqual(out, "== a1 ==\n\(name)/a1\n== a2 ==\n\(name)/a2\n", err)
    // A command missing everywhere (127) is each node's failure; the run goes on to the end.
    for mode in [[], ["--parallel"]] {
      (code, out, err) = try runNstopo(binary, ["exec", name, "a[1..2]"] + mode + ["--", "nstopo-no-such-command"])
      XCTAssertEqual(code, 1, out + err)
      XCTAssertEqual(out, "== a1 ==\n== a2 ==\n")
      XCTAssertTrue(err.contains("failed in 2 of 2 nodes: a1 (exit 127), a2 (exit 127)"), err)
    }
    (code, _, err) = try runNstopo(binary, ["exec", name, "a[1..3]", "--", "true"])
    XCTAssertEqual(code, 64)
    XCTAssertTrue(err.contains("no node 'a3'"), err)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  /// On a terminal, up, test and down show a progress line on stderr and erase it; not with
  /// --quiet, nor when stderr is not a terminal; what goes to stdout is the same either way.
  func testProgressOnATerminalOnly() throws {
    let name = uniqueName()
    // Enough pairs, and a node that drops, for the probing to last a few redraws.
    let file = try tempFile(name, """
      subnet lan 10.82.0.0/24
      bridge sw lan
      node h[1..40]
        link sw
      node quiet
        link sw
        firewall input drop
      """)
    let out = NSTemporaryDirectory() + "\(name).out"
    addTeardownBlock { try? FileManager.default.removeItem(atPath: out) }
    func underTTY(_ args: String) throws -> String {
      let (code, tty, err) = try runProcess(
        "/usr/bin/script", ["-q", "-e", "-c", "stty cols 100; \(binary) \(args) > \(out)", "/dev/null"],
        environment: ["PATH": "/usr/bin:/bin", "TERM": "xterm"])
      XCTAssertEqual(code, 0, tty + err)
      return tty
    }
    let tty = try underTTY("test \(file) --up --timeout 1.5")
    XCTAssertTrue(tty.contains("building "), tty)
    XCTAssertTrue(tty.contains(" pairs"), tty)
    XCTAssertTrue(tty.contains("probing "), tty)
    XCTAssertTrue(tty.contains("taking down "), tty)
    // The phases without a count are named too: nothing is silent for long.
    for phase in ["planning and checking…", "predicting…", "adding permanent neighbour entries…", "removing the neighbour entries…", "comparing with the model…"] {
      XCTAssertTrue(tty.contains(phase), "\(phase): \(tty)")
    }
    XCTAssertTrue(tty.hasSuffix("\r\u{1B}[K"), "the line is erased at the end: \(tty.suffix(80).debugDescription)")
    let withProgress = try String(contentsOfFile: out, encoding: .utf8)
    XCTAssertFalse(withProgress.contains("\u{1B}[K"), "progress never goes to stdout")
    XCTAssertEqual(try underTTY("test \(file) --up --timeout 1.5 --quiet"), "", "--quiet")
    // Not a terminal: nothing on stderr but what the command says, the same stdout.
    let (code, plain, err) = try runNstopo(binary, ["test", file, "--up", "--timeout", "1.5"])
    XCTAssertEqual(code, 0, err)
    XCTAssertFalse(err.contains("probing"), err)
    func timeless(_ s: String) -> String {
      s.replacingOccurrences(of: #"[0-9.]+ s"#, with: "T s", options: .regularExpression).replacingOccurrences(of: "\r\n", with: "\n")
    }
    XCTAssertEqual(timeless(withProgress), timeless(plain))
    XCTAssertEqual(leftovers(name), [])
  }
}
