import TopologyDSL
import TopologyModel
import XCTest

/// `firewall`, `allow`, `deny`, `reject` in a node body: what they resolve to, and every
/// diagnostic.
final class FirewallLanguageTests: XCTestCase {
  func testRulesResolve() throws {
    let t = model("""
      subnet office 10.30.1.0/24
      subnet servers 10.30.2.0/24
      bridge sw1 office
      bridge sw2 servers
      node gw
        forward
        link sw1
        link sw2
        deny forward from office to db
        reject forward udp 5000-5010 in eth0 out eth1
      node pc[1..3]
        link sw1
      node web
        link sw2 10.30.2.10
        firewall input drop
        allow input tcp 80
        allow input tcp 4444 from office
        allow input icmp from pc[1..2],10.9.0.0/16
      node db
        link sw2 10.30.2.20
        firewall input drop
        firewall output reject
        allow input tcp 5432 from web
        reject input udp
      """)
    let gw = try XCTUnwrap(t.node(named: "gw")?.firewall)
    XCTAssertNil(gw.input)
    XCTAssertEqual(gw.rules.map(\.text), ["deny forward from office to db", "reject forward udp 5000-5010 in eth0 out eth1"])
    XCTAssertEqual(gw.rules[0].from, [IPPrefix("10.30.1.0/24")!])
    XCTAssertEqual(gw.rules[0].to, [IPPrefix("10.30.2.20/32")!])
    XCTAssertEqual(gw.rules[1].ports, 5000...5010)
    XCTAssertEqual(gw.rules[1].inInterface, "eth0")
    XCTAssertEqual(gw.rules[1].outInterface, "eth1")
    XCTAssertEqual(gw.rules[1].action, .reject)
    let web = try XCTUnwrap(t.node(named: "web")?.firewall)
    XCTAssertEqual(web.input, Firewall.Policy(action: .drop, line: 15))
    XCTAssertEqual(web.rules.map(\.proto), [.tcp, .tcp, .icmp])
    XCTAssertEqual(web.rules[2].from, [IPPrefix("10.30.1.2/32")!, IPPrefix("10.30.1.3/32")!, IPPrefix("10.9.0.0/16")!])
    let db = try XCTUnwrap(t.node(named: "db")?.firewall)
    XCTAssertEqual(db.output?.action, .reject)
    XCTAssertNil(t.node(named: "pc1")?.firewall)
  }

  func testFirewallDiagnostics() {
    let text = """
      subnet lan 10.0.1.0/24
      bridge sw lan
      node a
        link sw
        firewall inptu drop
        firewall input dorp
        firewall output drop
        firewall output accept
        allow input tcp 70000
        allow input tcp 90-80
        allow input icmp 8
        deny forward from nobody
        deny forward in eth7
        allow input out eth0
        allow input tcp from b from b
        allow input tcp 80
        allow input tcp 80 from b
        run iptables -A INPUT -j DROP
      node b
        link sw
        allow input xdp

      """
    XCTAssertEqual(rendered(text), #"""
      test.topo:5:12: error: unknown chain 'inptu'
       5 |   firewall inptu drop
         |            ^~~~~
         = hint: did you mean 'input'?
      test.topo:6:18: error: unknown policy 'dorp'
       6 |   firewall input dorp
         |                  ^~~~
         = hint: did you mean 'drop'?
      test.topo:8:3: error: the output policy of 'a' is already set
       8 |   firewall output accept
         |   ^~~~~~~~
         = note: first set on line 7
         = hint: keep one `firewall output` line
      test.topo:9:3: warning: 'a' has rules and `run` lines that change the firewall
       9 |   allow input tcp 70000
         |   ^~~~~
         = hint: rules from `run` lines are invisible to the model: declare them as `allow|deny|reject` lines
      test.topo:9:19: error: bad port '70000'
       9 |   allow input tcp 70000
         |                   ^~~~~
         = hint: a port is a number from 1 to 65535, a range LO-HI (8000-8100)
      test.topo:10:19: error: port range 90-80 is reversed
       10 |   allow input tcp 90-80
          |                   ^~~~~
          = hint: did you mean 80-90?
      test.topo:11:20: error: icmp has no ports
       11 |   allow input icmp 8
          |                    ^
          = hint: drop '8', or write tcp or udp
      test.topo:12:21: error: unknown node or subnet 'nobody'
       12 |   deny forward from nobody
          |                     ^~~~~~
          = hint: a side is a node, a subnet, an address, a CIDR or `host`
      test.topo:13:19: error: 'a' has no interface 'eth7'
       13 |   deny forward in eth7
          |                   ^~~~
          = hint: did you mean 'eth0'?
      test.topo:14:15: error: the input chain has no outgoing interface
       14 |   allow input out eth0
          |               ^~~
          = hint: use `in IF`, or the forward chain
      test.topo:15:26: error: 'from' is given twice in one rule
       15 |   allow input tcp from b from b
          |                          ^~~~
          = note: first at column 19
          = hint: a side takes a comma list: `from a,b`
      test.topo:17:3: warning: this rule can never match: line 16 (`allow input tcp 80`) already decides everything it matches
       17 |   allow input tcp 80 from b
          |   ^~~~~
          = hint: drop it, or move it above line 16
      test.topo:21:15: error: unknown protocol 'xdp'
       21 |   allow input xdp
          |               ^~~
          = hint: did you mean 'udp'?
      test.topo: 11 errors, 2 warnings

      """#)
  }
  /// A rule whose sides share no family matched nothing and was silently left out of the
  /// ruleset, while validate said ok.
  func testARuleWhoseSidesShareNoFamilyIsAWarning() {
    XCTAssertEqual(rendered("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      bridge sw lan lan6
      node a
        link sw
        firewall input drop
        allow input tcp 80 from 10.0.1.0/24 to fd00:1::/64
      """), """
      test.topo:7:3: warning: this rule can never match: its sides share no address family (from is IPv4 only, to is IPv6 only)
       7 |   allow input tcp 80 from 10.0.1.0/24 to fd00:1::/64
         |   ^~~~~
         = hint: a packet is IPv4 or IPv6: give both sides an address of one family
      test.topo: 1 warning

      """)
  }

  /// `expect A -> B icmp reach|blocked`: a ping, with no port (a port after icmp is an
  /// error); the model predicts it through `allow … icmp` rules.
  func testIcmpExpectations() {
    let ok = load("topology t\nsubnet lan 10.1.0.0/24\nbridge s lan\nnode a\n  link s\nnode b\n  link s\n  firewall input drop\n  allow input icmp\nexpect a -> b icmp reach\nexpect a -> b blocked\n")
    XCTAssertEqual(ok.diagnostics.filter { $0.severity == .error }, [])
    XCTAssertEqual(ok.topology?.expectations.map(\.proto), [.icmp, .tcp])
    XCTAssertEqual(ok.topology?.expectations.first?.port, nil)
    let bad = load("topology t\nnode a\nnode b\nexpect a -> b icmp 80 reach\n")
    XCTAssertEqual(bad.diagnostics.map(\.message), ["icmp has no port"])
    let typo = load("topology t\nnode a\nnode b\nexpect a -> b icm reach\n")
    XCTAssertEqual(typo.diagnostics.first?.hint, "did you mean 'icmp'?")
  }
}
