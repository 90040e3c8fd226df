import DOT
import Foundation
import TopologyDSL
import TopologyModel
import XCTest

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func example(_ name: String) throws -> Topology {
  let data = try Data(contentsOf: root.appendingPathComponent("topologies/\(name).topo"))
  let r = TopologyLoader.load(bytes: [UInt8](data), fileName: "\(name).topo")
  return try XCTUnwrap(r.topology, r.rendered)
}

/// Runs `dot -Tsvg`; nil when Graphviz is not installed (make test installs it).
private func dotExitCode(_ text: String) throws -> Int32? {
  guard FileManager.default.isExecutableFile(atPath: "/usr/bin/dot") else { return nil }
  let p = Process()
  p.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
  p.arguments = ["-Tsvg", "-o", "/dev/null"]
  let input = Pipe()
  p.standardInput = input
  p.standardError = FileHandle.nullDevice
  try p.run()
  input.fileHandleForWriting.write(text.data(using: .utf8)!)
  try input.fileHandleForWriting.close()
  p.waitUntilExit()
  return p.terminationStatus
}

final class DOTTests: XCTestCase {
  func testExamplesMatchTheirSnapshotsAndRender() throws {
    for name in ["seed", "lab", "two-lans", "leaf-spine", "star-100", "showcase", "v6-lans", "dual-stack", "firewall", "links"] {
      let dot = DOTRenderer.render(try example(name))
      let url = root.appendingPathComponent("Tests/DOTTests/Snapshots/\(name).dot")
      if ProcessInfo.processInfo.environment["NSTOPO_RECORD"] == "1" {
        try dot.write(to: url, atomically: true, encoding: .utf8)
      } else {
        XCTAssertEqual(dot, try String(contentsOf: url, encoding: .utf8), "\(name).dot differs (NSTOPO_RECORD=1 to re-record after review)")
      }
      if let code = try dotExitCode(dot) { XCTAssertEqual(code, 0, "dot rejects \(name)") }
    }
  }

  func testOutputIsDeterministic() throws {
    let t = try example("leaf-spine")
    XCTAssertEqual(DOTRenderer.render(t), DOTRenderer.render(t))
  }

  func testLargeRangesCollapseUnlessExpanded() throws {
    let t = try example("star-100")
    let grouped = DOTRenderer.render(t)
    XCTAssertTrue(grouped.contains("\"node:h[1..100]\""))
    XCTAssertEqual(grouped.components(separatedBy: " -- ").count - 1, 1)
    let expanded = DOTRenderer.render(t, options: .init(expand: true))
    XCTAssertEqual(expanded.components(separatedBy: " -- ").count - 1, 100)
  }

  func testAnyNameGivesValidDOT() throws {
    let names = ["a.b", "c-d", "q\"uote", "ünïcode", "back\\slash", "<html>&amp;", "new\nline", "sp ace", "{brace}", "--"]
    var t = Topology(name: "weird \"names\"")
    t.bridges = [Bridge(name: "br.-\"x")]
    for (i, n) in names.enumerated() {
      t.nodes.append(Node(name: n, forward: i == 0, cpuPercent: i == 1 ? 20 : nil, chroot: i == 2 ? "/srv/<root>" : nil, run: i == 3 ? ["echo \"hi\" & <x>"] : []))
      t.links.append(
        Link(
          a: LinkEnd(owner: .node(n), interface: "e\"th\(i)", address: InterfaceAddress("10.0.0.\(i + 1)/24")),
          b: LinkEnd(owner: .bridge("br.-\"x"), interface: "p\(i)")))
    }
    t.links.append(Link(a: LinkEnd(owner: .host, interface: "v<1>"), b: LinkEnd(owner: .node("a.b"), interface: "v0")))
    let overlay = Overlay(failed: [.init(source: "q\"uote", target: "host", detail: "tcp/1: \"odd\" <detail>")], perNode: ["q\"uote": (1, 2)])
    let dot = DOTRenderer.render(t, options: .init(overlay: overlay))
    XCTAssertTrue(dot.hasPrefix("graph \"weird \\\"names\\\"\" {"))
    if let code = try dotExitCode(dot) { XCTAssertEqual(code, 0, dot) }
  }

  func testOverlayWithOneFailedExpectationHasExactlyOneRedEdge() throws {
    let t = try example("two-lans")
    let overlay = Overlay(failed: [.init(source: "a1", target: "b2", detail: "tcp/4444: expected reach, got timed-out")], perNode: ["a1": (1, 3), "b2": (1, 3)])
    let dot = DOTRenderer.render(t, options: .init(overlay: overlay))
    let red = dot.split(separator: "\n").filter { $0.contains(" -- ") && $0.contains("#d0021b") }
    XCTAssertEqual(red.count, 1, dot)
    XCTAssertTrue(red[0].contains("\"node:a1\" -- \"node:b2\""), String(red[0]))
    XCTAssertTrue(red[0].contains("style=dashed"))
    XCTAssertTrue(dot.contains("\"legend\""))
    XCTAssertTrue(dot.contains("\"node:a1\" [label=") && dot.contains("fillcolor=\"#f9a99f\""), "a1 coloured by its failures")
  }

  func testQuoteEscapes() {
    XCTAssertEqual(DOTRenderer.quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"")
    XCTAssertEqual(DOTRenderer.html("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;")
  }
}
