import Planner
import TopologyDSL
import TopologyModel
import XCTest

/// A node's rules as the nftables text `up` loads (and `plan` prints).
final class RulesetTests: XCTestCase {
  func model(_ text: String) -> Topology {
    let r = TopologyLoader.load(text: text, fileName: "t.topo")
    XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
    return r.topology!
  }

  func testRulesetText() throws {
    let t = model("""
      subnet lan 10.0.1.0/24
      subnet lan6 fd00:1::/64
      bridge sw lan lan6
      node a
        link sw
        firewall input drop
        allow input tcp 80 from b
        reject input udp 53
        deny output to 10.9.0.0/16
      node b
        link sw
      """)
    XCTAssertEqual(Ruleset.text(t.node(named: "a")!.firewall!), """
      table inet nstopo {
        chain input {
          type filter hook input priority filter; policy drop;
          ct state established,related accept
          iifname "lo" accept
          ip saddr 10.0.1.2 tcp dport 80 accept comment "line 7"
          ip6 saddr fd00:1::2 tcp dport 80 accept comment "line 7"
          udp dport 53 reject with icmpx type port-unreachable comment "line 8"
        }
        chain output {
          type filter hook output priority filter; policy accept;
          ct state established,related accept
          oifname "lo" accept
          ip daddr 10.9.0.0/16 drop comment "line 9"
        }
      }

      """)
  }

}
