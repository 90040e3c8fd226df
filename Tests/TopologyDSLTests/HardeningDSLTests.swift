import TopologyDSL
import TopologyModel
import XCTest

/// Inputs that once crashed, hung or misled the loader, each checked as the user sees it.
final class HardeningDSLTests: XCTestCase {
  func testHugeRangeBoundIsADiagnosticNotATrap() {
    XCTAssertEqual(rendered("node h[0..9223372036854775807]\n"), """
      test.topo:1:7: error: range '[0..9223372036854775807]' has a bound above 999999999
       1 | node h[0..9223372036854775807]
         |       ^~~~~~~~~~~~~~~~~~~~~~~~
         = hint: range bounds go from 0 to 999999999
      test.topo: 1 error

      """)
    XCTAssertTrue(rendered("node h[1..99999999999999999999999]\n").contains("has a bound above 999999999"))
  }

  /// A bridge takes 1,023 ports; the 1,024th used to pass validate and fail `up` with
  /// "Exchange full".
  func testABridgeWithMoreThan1023PortsIsALocatedError() {
    XCTAssertFalse(load("subnet lan 10.0.0.0/16\nbridge sw lan\nnode h[1..1023]\n  link sw\n").diagnostics.hasErrors)
    XCTAssertEqual(rendered("subnet lan 10.0.0.0/16\nbridge sw lan\nnode h[1..1024]\n  link sw\n"), """
      test.topo:4:8: error: bridge 'sw' would get its 1024th port here: a Linux bridge takes at most 1023
       4 |   link sw
         |        ^~
         = note: in node 'h1024' from 'h[1..1024]'
         = hint: split the LAN over two bridges joined by a router, or over two subnets
      test.topo: 1 error

      """)
  }

  func testPointToPointBlocksAtTheTopOfTheAddressSpace() {
    let t30 = model("subnet p 255.255.255.252/30\nnode a\n  link b p\nnode b\n")
    XCTAssertEqual(address(t30, "a", "eth0"), "255.255.255.253/30")
    XCTAssertEqual(address(t30, "b", "eth0"), "255.255.255.254/30")
    let t31 = model("subnet p 255.255.255.254/31 /31\nnode a\n  link b p\nnode b\n")
    XCTAssertEqual(address(t31, "a", "eth0"), "255.255.255.254/31")
    XCTAssertEqual(address(t31, "b", "eth0"), "255.255.255.255/31")
    // The next block would start at 2^32: the pool is full, said once.
    let full = rendered("subnet p 255.255.255.252/30\nnode a\n  link b p\n  link c p\nnode b\nnode c\n")
    XCTAssertTrue(full.contains("error: pool 'p' (255.255.255.252/30) has no free /30 left"), full)
  }

  /// 20,000 references to one unknown bridge: one collapsed error with its hint, and the
  /// suggestion computed once (this took over 100 s).
  func testManyUnknownReferencesAreCollapsedWithOneHint() {
    let text = rendered("subnet lan 10.0.0.0/8\nbridge sw lan\nnode h[1..20000]\n  link sx\n")
    XCTAssertEqual(text, """
      test.topo:2:8: warning: bridge 'sw' has no ports
       2 | bridge sw lan
         |        ^~
         = hint: link a node to it: `link sw` in a node body
      test.topo:4:8: error: unknown bridge or node 'sx'
       4 |   link sx
         |        ^~
         = note: in node 'h1' from 'h[1..20000]'
         = hint: did you mean 'sw'?
      test.topo: 1 error, 1 warning

      """)
  }

  func testStrayCarriageReturnsDoNotShiftExcerpts() {
    let bytes = Array("node a\r\r\nnode b\r\nnode a\r\n".utf8)
    XCTAssertEqual(TopologyLoader.load(bytes: bytes, fileName: "cr.topo").rendered, """
      cr.topo:3:6: error: duplicate name 'a'
       3 | node a
         |      ^
         = note: a node named 'a' is declared on line 1
         = hint: rename one of them
      cr.topo: 1 error

      """)
    // A lone CR inside a line is blank space.
    let t = model("node a\rnode_b\n".replacingOccurrences(of: "node_b", with: ""))
    XCTAssertEqual(t.nodes.map(\.name), ["a"])
  }

  /// A bad byte and another problem at one place are two diagnostics, not one hidden note.
  func testDifferentProblemsAtOnePlaceAreAllShown() {
    let r = TopologyLoader.load(bytes: Array("node ".utf8) + [0xff, 0xfe, 0x0a], fileName: "u.topo")
    XCTAssertEqual(r.rendered, """
      u.topo:1:6: error: the file is not valid UTF-8
       1 | node \u{FFFD}\u{FFFD}
         |      ^
         = hint: save the file as UTF-8
      u.topo:1:6: error: node name '\u{FFFD}\u{FFFD}' contains '\u{FFFD}'; use letters, digits, '_', '-' and '.'
       1 | node \u{FFFD}\u{FFFD}
         |      ^~
      u.topo: 2 errors

      """)
    XCTAssertFalse(r.rendered.contains("more like it"))
  }

  func testHashInsideQuotesOfARunLineIsText() {
    let t = model("node a\n  run sh -c 'echo hello # x' > f   # a comment\n  run echo \\# not a comment\n")
    XCTAssertEqual(t.nodes[0].run, ["sh -c 'echo hello # x' > f", "echo \\# not a comment"])
    // Outside `run`, quotes mean nothing and # still starts a comment.
    XCTAssertEqual(model("node a # it's a node\n").nodes.map(\.name), ["a"])
    XCTAssertEqual(rendered("node a\n  run echo \"open # x\n"), """
      test.topo:2:12: warning: this `run` line has an unclosed double quote
       2 |   run echo "open # x
         |            ^
         = hint: the shell will refuse it at `up`; close the quote
      test.topo: 1 warning

      """)
  }
}

/// `expect` lines as rules: the last line covering a pair decides it, for its protocol and port.
final class ExpectationIndexTests: XCTestCase {
  func testLastCoveringLineDecidesAndSelfPairsAreNotCovered() {
    let t = model("""
      node a
      node b
      node c
      expect * -> * reach
      expect a -> b blocked
      expect a -> b udp reach
      expect a -> b tcp 80 blocked

      """)
    let rules = ExpectationIndex(t.expectations, defaultPort: 4444)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 4444, family: .ipv4)?.outcome, .blocked)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 4444, family: .ipv4)?.line, 5)
    XCTAssertEqual(rules.lookup(source: "b", target: "a", proto: .tcp, port: 4444, family: .ipv4)?.line, 4)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .udp, port: 4444, family: .ipv4)?.outcome, .reach)
    XCTAssertEqual(rules.lookup(source: "a", target: "b", proto: .tcp, port: 80, family: .ipv4)?.outcome, .blocked)
    XCTAssertNil(rules.lookup(source: "a", target: "c", proto: .tcp, port: 80, family: .ipv4))
    XCTAssertNil(rules.lookup(source: "a", target: "a", proto: .tcp, port: 4444, family: .ipv4))
    XCTAssertEqual(rules.pairBound, 9 + 1 + 1 + 1)
    var pairs: [String] = []
    rules.forEachPair { pairs.append("\($0.source)->\($0.target) \($0.proto) \($0.port.map(String.init) ?? "-") \($0.outcome) @\($0.line)"); return true }
    XCTAssertEqual(pairs, [
      "a->c tcp - reach @4", "b->a tcp - reach @4", "b->c tcp - reach @4", "c->a tcp - reach @4", "c->b tcp - reach @4",
      "a->b tcp - blocked @5", "a->b udp - reach @6", "a->b tcp 80 blocked @7",
    ])
  }

  /// The expanded list `plan` prints is what it was before the rules: every example.
  func testExpectedPairsOfTheExamplesAreUnchanged() throws {
    for name in ["lab", "two-lans", "leaf-spine", "seed", "showcase"] {
      let r = TopologyLoader.load(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: repoFile("topologies/\(name).topo")))), fileName: "\(name).topo")
      let t = try XCTUnwrap(r.topology, name)
      // The old expansion: a table keyed by pair, protocol and port, later lines overriding.
      var table: [String: String] = [:]
      for e in t.expectations {
        for s in e.sources {
          for d in e.targets where s != d { table["\(s) \(d) \(e.proto) \(e.port ?? 0)"] = "\(e.outcome) \(e.line)" }
        }
      }
      XCTAssertEqual(Set(t.expectedPairs().map { "\($0.source) \($0.target) \($0.proto) \($0.port ?? 0) \($0.outcome) \($0.line)" }),
        Set(table.map { "\($0.key) \($0.value)" }), name)
    }
  }

  /// A 100-byte file naming every pair of 16,000 nodes (on 16 LANs: a bridge takes at most
  /// 1,023 ports) loads as two name lists.
  func testEveryPairOfSixteenThousandNodesIsOneRule() {
    let t = model("subnet lan[1..16] 10.$i.0.0/16\nbridge sw[1..16] lan$i\nnode h[1..16]x[1..1000]\n  link sw$i\nexpect * -> * reach\n")
    XCTAssertEqual(t.expectations.count, 1)
    let rules = ExpectationIndex(t.expectations)
    XCTAssertEqual(rules.pairBound, 16000 * 16000)
    XCTAssertEqual(rules.lookup(source: "h1x1", target: "h16x1000", proto: .tcp, port: nil, family: .ipv4)?.outcome, .reach)
  }
}
