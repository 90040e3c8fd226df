@testable import DOT
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
    // 100 links, drawn; the layout's own edges are invisible.
    let visible = expanded.split(separator: "\n").filter { $0.contains(" -- ") && !$0.contains("style=invis") }
    XCTAssertEqual(visible.count, 100)
    // Wrapped into rows of ten, in the file's order: h11 sits below h1, h1 to h10 are one row.
    XCTAssertTrue(expanded.contains("  \"node:h1\" -- \"node:h11\" [style=invis];\n"), expanded)
    XCTAssertTrue(expanded.contains("    \"node:h1\" -- \"node:h2\" -- "), expanded)
    // Left to right, the first of a layer is on top: the chain runs the other way.
    XCTAssertTrue(DOTRenderer.render(t, options: .init(expand: true, rankdir: "LR")).contains("    \"node:h10\" -- \"node:h9\" -- "))
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
    XCTAssertTrue(dot.contains("\"node:a1\" [label=") && dot.contains("fillcolor=\"#fbd3ce\", color=\"#e0605a\", penwidth=2"), "a1 coloured by its failures")
    XCTAssertTrue(red[0].contains("headlabel=\"tcp/4444:\\nexpected reach, got timed-out\""), "the label at the arrow's head: \(red[0])")
  }

  /// Failed pairs between two nodes: one arrow, its probes grouped by outcome.
  func testOverlayLabelGroupsProbesByOutcome() throws {
    let t = try example("two-lans")
    let overlay = Overlay(
      failed: [
        .init(source: "a1", target: "b2", detail: "tcp/4444 timed-out"), .init(source: "a1", target: "b2", detail: "tcp/8080 timed-out"),
        .init(source: "a1", target: "b2", detail: "udp/4444 no-route"),
      ], perNode: ["a1": (3, 3)])
    let dot = DOTRenderer.render(t, options: .init(overlay: overlay))
    let red = dot.split(separator: "\n").filter { $0.contains(" -- ") && $0.contains("#d0021b") }
    XCTAssertEqual(red.count, 1, dot)
    XCTAssertTrue(red[0].contains("headlabel=\"tcp/4444, tcp/8080:\\ntimed-out\\nudp/4444:\\nno-route\""), String(red[0]))
  }

  /// Failures from one node to several, across LANs: each label at its own arrow's head, and
  /// dot lays it out (labels in mid-edge across clusters made dot lose edges and exit 1).
  func testFailuresFromOneNodeToManyRenderApart() throws {
    let t = try example("two-lans")
    let overlay = Overlay(
      failed: ["a2", "b1", "b2", "r1"].map { .init(source: "a1", target: $0, detail: "tcp/4444 reached") }, perNode: ["a1": (4, 4)])
    let dot = DOTRenderer.render(t, options: .init(overlay: overlay))
    let red = dot.split(separator: "\n").filter { $0.contains(" -- ") && $0.contains("#d0021b") }
    XCTAssertEqual(red.count, 4, dot)
    XCTAssertTrue(red.allSatisfy { $0.contains("headlabel=\"tcp/4444:\\nreached\"") && !$0.contains(" label=") }, dot)
    if let code = try dotExitCode(dot) { XCTAssertEqual(code, 0, "dot lays it out") }
  }

  /// The node where the model says the packets stop is marked, even when it has no
  /// expectation of its own (a router with forwarding off).
  func testCulpritIsMarked() throws {
    let t = try example("two-lans")
    let overlay = Overlay(failed: [.init(source: "a1", target: "b2", detail: "tcp/4444 timed-out")], perNode: ["a1": (1, 1)], culprits: ["r1": 1])
    let dot = DOTRenderer.render(t, options: .init(overlay: overlay))
    let r1 = try XCTUnwrap(dot.split(separator: "\n").first { $0.contains("\"node:r1\" [label=") })
    XCTAssertTrue(r1.contains("1 failed pair stop here"), String(r1))
    XCTAssertTrue(r1.contains("penwidth=4"), String(r1))
    XCTAssertTrue(dot.contains("where the model says the packets stop"))
    XCTAssertTrue(DOTRenderer.render(t, options: .init(overlay: Overlay(failed: [], perNode: [:], predicted: true))).contains("predicted reachability"))
  }

  /// Layers by role: the spines on top, the leaves below, each rack below its leaf; every
  /// edge runs from the end nearer the core.
  func testRanksFollowRoles() throws {
    let t = try example("leaf-spine")
    let rank = Ranks.of(t)
    for s in ["spine1", "spine2"] { XCTAssertEqual(rank[.node(s)], 0, s) }
    for l in 1...4 { XCTAssertEqual(rank[.node("leaf\(l)")], 1, "leaf\(l)") }
    for r in 1...4 { XCTAssertEqual(rank[.bridge("tor\(r)")], 2, "tor\(r)") }
    XCTAssertEqual(rank[.node("h1-1")], 3)
    let dot = DOTRenderer.render(t)
    XCTAssertTrue(dot.contains("rankdir=TB"))
    for line in dot.split(separator: "\n") where line.contains("\"node:spine") && line.contains(" -- ") && !line.contains("style=invis") {
      XCTAssertTrue(line.trimmingCharacters(in: .whitespaces).hasPrefix("\"node:spine"), String(line))
    }
    let lab = Ranks.of(try example("lab"))
    XCTAssertEqual(lab[.node("r1")], 0)
    XCTAssertEqual(lab[.node("r2")], 0)
    XCTAssertEqual(lab[.bridge("s1")], 1)
    XCTAssertEqual(lab[.node("h1")], 2)
    // Each layer in the file's order: leaves 1 to 4, left to right.
    XCTAssertTrue(dot.contains("{ rank=same; \"node:leaf1\" -- \"node:leaf2\" -- \"node:leaf3\" -- \"node:leaf4\" [style=invis]; }"), dot)
    // Left to right, edges leave from interface rows as before.
    XCTAssertTrue(DOTRenderer.render(t, options: .init(rankdir: "LR")).contains(":\"p0\""))
  }

  func testQuoteEscapes() {
    XCTAssertEqual(DOTRenderer.quote("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"")
    XCTAssertEqual(DOTRenderer.html("<a & \"b\">"), "&lt;a &amp; &quot;b&quot;&gt;")
  }
}
