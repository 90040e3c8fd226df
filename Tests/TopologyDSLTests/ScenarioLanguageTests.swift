import TopologyDSL
import TopologyModel
import XCTest

/// `scenario` blocks: resolved against the topology (the links each change names, what it
/// does), with their own expectations, and every problem located.
final class ScenarioLanguageTests: XCTestCase {
  func testTheExampleScenariosResolve() throws {
    let text = try String(contentsOfFile: repoFile("topologies/links.topo"), encoding: .utf8)
    let t = try XCTUnwrap(load(text).topology)
    XCTAssertEqual(t.scenarios.map(\.name), ["uplink-down", "backup-up", "slow-uplink"])
    let down = t.scenarios[0]
    XCTAssertEqual(down.changes.map(\.text), ["link core edge down"])
    XCTAssertEqual(down.changes[0].links.map { t.links[$0].text }, ["core:eth1 -- edge:eth1"])
    XCTAssertEqual(down.changes[0].action, .down)
    XCTAssertEqual(down.expectations.map(\.line), [40, 41])
    XCTAssertEqual(t.scenarios[2].changes[0].action, .set(LinkProperties(rate: 1_000_000)))
    // In force: the link is down, the scenario's expectations replace the base ones.
    let u = t.applying(down)
    XCTAssertFalse(u.links[down.changes[0].links[0]].isUp)
    XCTAssertEqual(u.expectations, down.expectations)
    XCTAssertEqual(u.applying(t.scenarios[1]).links.filter { !$0.isUp }.count, 1)
  }

  /// An MTU below 1280 on a link with IPv6 is refused in a scenario, as on a declared link
  /// (the kernel takes IPv6 off the interface and the revert did not bring it back).
  func testAnMTUBelowIPv6sMinimumIsRefusedInAScenario() {
    XCTAssertEqual(rendered("""
      subnet l6 fd00:1::/64
      bridge sw l6
      node a
        link sw
      scenario small
        link a sw set mtu 1000
      """), """
      test.topo:6:21: error: MTU 1000 is below IPv6's minimum of 1280, and a:eth0 -- sw:a-eth0 has IPv6 addresses
       6 |   link a sw set mtu 1000
         |                     ^~~~
         = hint: use mtu 1280 or more: the kernel takes IPv6 off a smaller interface
      test.topo: 1 error

      """)
    XCTAssertFalse(load("subnet l fd00:1::/64\nbridge sw l\nnode a\n  link sw\nscenario ok\n  link a sw set mtu 1280\n").diagnostics.hasErrors)
  }

  func testEveryScenarioDiagnosticAsFullText() {
    let text = """
      subnet l 10.1.1.0/24
      bridge sw l
      node a
        link sw
      node b
        link sw
        link a
        link a
      scenario x
        node c down
        link a b down
        link a sw dwn
        link a sw set rate 10mbps
        nod a down
        node a sideways
        link a sw down now
        expect a -> q reach
      scenario x
        link a:eth9 sw down
      scenario empty
        expect a -> b reach

      """
    XCTAssertEqual(rendered(text), #"""
      test.topo:10:8: error: no node 'c' in topology test
       10 |   node c down
          |        ^
      test.topo:11:8: error: a and b share 2 links
       11 |   link a b down
          |        ^
          = hint: name one end: a:eth1 or a:eth2
      test.topo:12:13: error: unknown action 'dwn' for a link
       12 |   link a sw dwn
          |             ^~~
          = hint: did you mean 'down'?
      test.topo:13:22: error: tc reads 'mbps' as bytes per second
       13 |   link a sw set rate 10mbps
          |                      ^~~~~~
          = hint: write 80mbit for 10mbps, or use a bit unit: kbit, mbit, gbit
      test.topo:14:3: error: unknown keyword 'nod' in a scenario
       14 |   nod a down
          |   ^~~
          = hint: did you mean 'node'?
      test.topo:15:10: error: unknown action 'sideways' for a node
       15 |   node a sideways
          |          ^~~~~~~~
          = hint: a node goes down or up
      test.topo:16:18: error: unexpected 'now'
       16 |   link a sw down now
          |                  ^~~
          = hint: `down` takes nothing after it
      test.topo:17:15: error: unknown node 'q'
       17 |   expect a -> q reach
          |               ^
          = hint: expectations name nodes, ranges of nodes, `*` or `host`
      test.topo:18:10: error: scenario 'x' is already declared
       18 | scenario x
          |          ^
          = note: first declared on line 9
          = hint: give each scenario its own name
      test.topo: 9 errors

      """#)
    XCTAssertEqual(rendered("node a\nnode b\nlink a:e0 10.1.2.1/30 -- b:e0 10.1.2.2/30\nscenario quiet\n  expect a -> b reach\n"), #"""
      test.topo:4:10: warning: scenario 'quiet' changes nothing
       4 | scenario quiet
         |          ^~~~~
         = hint: add `node N down` or `link A B down` to its body
      test.topo: 1 warning

      """#)
  }
}
