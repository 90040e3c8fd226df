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
          icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report } accept comment "neighbour discovery"
          ip saddr 10.0.1.2 tcp dport 80 accept comment "line 7"
          ip6 saddr fd00:1::2 tcp dport 80 accept comment "line 7"
          udp dport 53 reject with icmpx type port-unreachable comment "line 8"
        }
        chain output {
          type filter hook output priority filter; policy accept;
          ct state established,related accept
          oifname "lo" accept
          icmpv6 type { mld-listener-query, mld-listener-report, mld-listener-done, nd-router-solicit, nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report } accept comment "neighbour discovery"
          ip daddr 10.9.0.0/16 drop comment "line 9"
        }
      }

      """)
  }

  /// `plan --json` carries each node's rules resolved (sides as prefixes), its policies, NAT
  /// and the nftables text, marked, for tools other than nstopo.
  func testPlanJSONCarriesTheResolvedRules() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let text = try String(contentsOf: root.appendingPathComponent("topologies/firewall.topo"), encoding: .utf8)
    let plan = Planner.plan(model(text))
    let e = JSONEncoder()
    e.outputFormatting = [.sortedKeys]
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: try e.encode(PlanDocument(plan))) as? [String: Any])
    let gw = try XCTUnwrap((doc["nodes"] as? [[String: Any]])?.first { $0["name"] as? String == "gw" })
    let f = try XCTUnwrap(gw["firewall"] as? [String: Any])
    let rule = try XCTUnwrap((f["rules"] as? [[String: Any]])?.first)
    XCTAssertEqual(rule["chain"] as? String, "forward")
    XCTAssertEqual(rule["action"] as? String, "drop")
    XCTAssertEqual(rule["from"] as? [String], ["10.30.1.0/24"])
    XCTAssertEqual(rule["to"] as? [String], ["10.30.2.20/32"])
    XCTAssertEqual(rule["line"] as? Int, 15)
    let dnat = try XCTUnwrap((f["dnat"] as? [[String: Any]])?.first)
    XCTAssertEqual(dnat["to"] as? [String], ["10.30.2.10"])
    XCTAssertEqual(dnat["toPort"] as? Int, 80)
    XCTAssertEqual((f["masquerade"] as? [[String: Any]])?.first?["interface"] as? String, "eth0")
    XCTAssertTrue((f["ruleset"] as? String)?.hasPrefix("table inet nstopo {\n  comment \"nstopo:fw\"\n") ?? false, "\(f)")
    let pc = try XCTUnwrap((doc["nodes"] as? [[String: Any]])?.first { $0["name"] as? String == "pc1" })
    XCTAssertNil(pc["firewall"])
  }

  /// What the kernel still has, in the model's terms: the rules by their line comments, the
  /// kernel's policies (a reject policy is drop plus its catch-alls), the NAT rules.
  func testReadBack() throws {
    let t = model("""
      subnet lan 10.0.1.0/24
      bridge sw lan
      node a
        link sw
        firewall input reject
        allow input tcp 80 from b
        reject input udp 53
        masquerade eth0
        dnat tcp 8080 to b:80
      node b
        link sw
      """)
    let f = t.node(named: "a")!.firewall!
    let listing = Ruleset.text(f)!
    XCTAssertEqual(Ruleset.readBack(listing, model: f), f)
    XCTAssertNil(Ruleset.readBack(nil, model: f))
    // A rule deleted, a policy changed to accept, a rule added by hand (without a line).
    let edited = listing.replacingOccurrences(of: "    udp dport 53 reject with icmpx type port-unreachable comment \"line 7\"\n", with: "")
      .replacingOccurrences(of: "policy drop;", with: "policy accept;")
      .replacingOccurrences(of: "    ct state established,related accept\n", with: "    ct state established,related accept\n    tcp dport 22 accept\n")
    let back = try XCTUnwrap(Ruleset.readBack(edited, model: f))
    XCTAssertEqual(back.rules.map(\.line), [6])
    XCTAssertNil(back.input)
    XCTAssertEqual(back.masquerade, f.masquerade)
    XCTAssertEqual(back.dnat, f.dnat)
    // The policy dropped instead of rejecting: drop, at the policy's line.
    let dropping = listing.replacingOccurrences(of: "comment \"line 5\"", with: "")
    XCTAssertEqual(Ruleset.readBack(dropping, model: f)?.input, Firewall.Policy(action: .drop, line: 5))
  }

  /// A node's rules load inside its namespace group, before its loopback and any of its links
  /// exist: the realizer applies them while it is still in the new namespace.
  func testRulesLoadAsTheNamespaceIsBornBeforeAnyLink() throws {
    let t = model("""
      subnet lan 10.0.1.0/24
      bridge sw lan
      node gw
        forward
        link sw
        deny forward tcp 22
      node a
        link sw
        firewall input drop
      node b
        link sw
      """)
    let steps = Planner.plan(t).steps.map(\.step)
    let names = KernelNames(topology: t.name)
    for node in ["gw", "a"] {
      let ns = names.namespace(node: node)
      let load = try XCTUnwrap(steps.firstIndex { if case .network(.loadFirewall(ns, _)) = $0 { return true } else { return false } }, node)
      let born = try XCTUnwrap(steps.firstIndex { $0 == .network(.createNamespace(ns)) })
      XCTAssertTrue(steps[born + 1..<load].allSatisfy { $0.op == "set-ipv6" || $0.op == "set-icmp-ratelimit" }, node)
      XCTAssertEqual(steps[load + 1], .network(.setLinkUp(ns: ns, name: "lo")), node)
      let firstLink = try XCTUnwrap(steps.firstIndex { $0.op == "create-veth" && $0.namespaces.contains(ns) })
      XCTAssertLessThan(load, firstLink, node)
    }
    let forward = try XCTUnwrap(steps.firstIndex { $0.op == "set-forwarding" })
    XCTAssertGreaterThan(forward, steps.firstIndex { $0.op == "load-firewall" }!)
    XCTAssertFalse(steps.contains { if case .network(.loadFirewall(names.namespace(node: "b"), _)) = $0 { return true } else { return false } })
  }

  /// The ICMP budget is lifted where a reject answers with ICMP, not where every reject is
  /// TCP's (a reset, which no ICMP budget limits).
  func testICMPBudgetLiftedOnlyWhereARejectSendsICMP() throws {
    let t = model("""
      subnet lan 10.0.1.0/24
      bridge sw lan
      node tcponly
        link sw
        reject input tcp 23
      node udp
        link sw
        reject input udp 53
      node any
        link sw
        reject input from 10.9.0.0/16
      node policy
        link sw
        firewall input reject
      """)
    let lifted = Set(Planner.plan(t).steps.compactMap { s -> String? in
      if case .network(.setICMPRateLimit(let ns, false)) = s.step { return ns }
      return nil
    })
    let names = KernelNames(topology: t.name)
    XCTAssertEqual(lifted, Set(["udp", "any", "policy"].map { names.namespace(node: $0) }))
  }
}
