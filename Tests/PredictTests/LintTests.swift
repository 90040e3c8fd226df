import Predict
import TopologyDSL
import TopologyModel
import XCTest

final class LintTests: XCTestCase {
  func findings(_ text: String) -> [LintFinding] {
    let r = TopologyLoader.load(text: "topology t\n" + text, fileName: "t.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
    return Lint.findings(r.topology!)
  }

  func testExpectationTheModelContradicts() {
    let f = findings("""
      subnet lan[1..2] 10.1.$i.0/24
      bridge sw[1..2] lan$i
      node r
        link sw1
        link sw2
      node a
        link sw1
        route default via r
      node b
        link sw2
        route default via r
      expect a -> b reach
      expect a -> r blocked
      """)
    XCTAssertEqual(f.map(\.line), [13, 14])
    XCTAssertEqual(f[0].message, "this expectation cannot hold: a -> b is timed-out in the model")
    XCTAssertEqual(f[0].hint, "forwarding is off in r")
    XCTAssertEqual(f[1].message, "the model says a reaches r (a -> r), yet it is expected blocked")
  }

  /// Many warnings, few causes: lines that fail for one reason, and nodes isolated for one
  /// reason, are one finding each.
  func testFindingsAreGroupedByCause() {
    let f = findings("""
      subnet lan[1..2] 10.1.$i.0/24
      bridge sw[1..2] lan$i
      bridge sw3
      node r
        link sw1
        link sw2
      node a[1..3]
        link sw1
        route default via r
      node b
        link sw2
        route default via r
      node c[1..4]
        link sw3
      expect a1 -> b reach
      expect a2 -> b reach
      expect a3 -> b reach
      """)
    XCTAssertEqual(f.map(\.message), [
      "4 nodes reach no other node for one cause: 'c1', 'c2', 'c3', 'c4'",
      "3 expected pairs on lines 16, 17, 18 cannot hold, for one cause: forwarding is off in r",
    ])
    XCTAssertEqual(f.map(\.line), [14, 16])
    XCTAssertEqual(f[1].hint, "e.g. a1 -> b is timed-out in the model")
  }

  func testIsolatedNodeAndBrokenReturnPath() {
    let f = findings("""
      subnet lan[1..2] 10.1.$i.0/24
      bridge sw[1..2] lan$i
      node r
        forward
        link sw1
        link sw2
      node a
        link sw1
        route default via r
      node b
        link sw2
      node lonely
        link b
      node alone
      """)
    XCTAssertTrue(f.contains { $0.line == 13 && $0.message == "node 'lonely' reaches no other node" }, "\(f)")
    XCTAssertTrue(f.contains { $0.message == "1 pair reaches its target but the reply cannot come back, which breaks TCP: b has no route back to 10.1.1.0/24" }, "\(f)")
    XCTAssertFalse(f.contains { $0.message.contains("'b'") }, "b reaches r's lan2 address: \(f)")
    // Located where the reply stops (node b, line 11), so the warning has a file:line:col.
    XCTAssertTrue(f.contains { $0.line == 11 && $0.message.hasPrefix("1 pair reaches its target") }, "\(f)")
    XCTAssertTrue(f.allSatisfy { $0.line != nil }, "\(f)")
    XCTAssertFalse(f.contains { $0.message.contains("'alone'") }, "a node without links is isolated on purpose: \(f)")
  }

  /// The validation layer turns findings into located warnings, after the language's own.
  func testValidationReportsFindingsAsLocatedWarnings() {
    let text = "subnet lan[1..2] 10.1.$i.0/24\nbridge sw[1..2] lan$i\nnode r\n  forward\n  link sw1\n  link sw2\nnode a\n  link sw1\n  route default via r\nnode b\n  link sw2\n"
    let r = Validation.load(bytes: Array(text.utf8), fileName: "v.topo")
    XCTAssertNotNil(r.topology)
    XCTAssertEqual(r.rendered, """
      v.topo:10:1: warning: 1 pair reaches its target but the reply cannot come back, which breaks TCP: b has no route back to 10.1.1.0/24
       10 | node b
          | ^~~~
          = hint: e.g. a -> b; add the missing route
      v.topo: 1 warning

      """)
  }

  func testCleanTopologyHasNoFindings() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("topologies/two-lans.topo"))
    let t = TopologyLoader.load(bytes: [UInt8](data), fileName: "two-lans.topo").topology!
    XCTAssertEqual(Lint.findings(t), [])
  }

  /// A line without a family that fails in one family says which.
  func testContradictionNamesTheFamily() {
    let f = findings("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      subnet lanb 10.0.2.0/24
      subnet lanb6 fd00:2::/64
      bridge sw lan lan6
      bridge sw2 lanb lanb6
      node r
        forward
        link sw
        link sw2
      node a
        link sw
        route default via r
      node b
        link sw2
        route 10.0.0.0/8 via r
      expect a -> b reach
      """)
    XCTAssertEqual(f.map(\.message), ["this expectation cannot hold: a -> b over IPv6 is timed-out in the model"])
    XCTAssertEqual(f.map(\.hint), ["b has no route back to fd00:1::/64"])
  }
}
