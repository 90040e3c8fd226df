import Containerlab
import Foundation
import TopologyDSL
import TopologyModel
import XCTest
import Yams

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// containerlab files in, `.topo` out, checked field by field on the resolved model; every
/// example out and in again, to the same model.
final class ContainerlabTests: XCTestCase {
  private func fixture(_ name: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent("Tests/ContainerlabTests/Fixtures/\(name)"), encoding: .utf8)
  }

  /// Imports a fixture and loads the result; fails on any error of either step.
  private func imported(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> (Topology, ClabImport.Result) {
    let r = ClabImport.convert(yaml: try fixture(name), fileName: name)
    let text = try XCTUnwrap(r.text, "\(r.diagnostics)", file: file, line: line)
    let loaded = TopologyLoader.load(text: text, fileName: "imported.topo")
    return (try XCTUnwrap(loaded.topology, loaded.rendered + "\n" + text, file: file, line: line), r)
  }

  private func end(_ t: Topology, _ owner: String, _ interface: String) -> LinkEnd? {
    t.ends(of: owner == "host" ? .host : .node(owner)).first { $0.interface == interface }
  }

  private func addresses(_ t: Topology, _ owner: String, _ interface: String) -> [String] {
    end(t, owner, interface)?.addresses.map(\.description) ?? ["(no end)"]
  }

  func testBridgeAndExecAddresses() throws {
    let (t, r) = try imported("bridge.clab.yml")
    XCTAssertEqual(t.name, "br01")
    XCTAssertEqual(t.bridges.map(\.name), ["br-clab"])
    XCTAssertEqual(t.subnets.map(\.prefix.description), ["192.168.0.0/24"])
    XCTAssertEqual(t.nodes.map(\.name), ["client1", "client2"])
    XCTAssertEqual(addresses(t, "client1", "eth1"), ["192.168.0.11/24"])
    XCTAssertEqual(addresses(t, "client2", "eth1"), ["192.168.0.12/24"])
    XCTAssertTrue(t.nodes.allSatisfy { $0.run.isEmpty }, "ip link set … up is what nstopo does anyway")
    // `image` twice: one warning, the second line in its note.
    XCTAssertEqual(r.diagnostics.map(\.message), ["'image' has no equivalent in nstopo (nodes are namespaces of this machine, not containers); dropped"])
    XCTAssertEqual(r.diagnostics[0].line, 9)
    XCTAssertEqual(r.diagnostics[0].note, "also on line 15")
    XCTAssertTrue(r.text!.contains("# dropped: bridge.clab.yml:9:7: 'image'"))
  }

  func testHostLinksBothForms() throws {
    let (t, _) = try imported("host-links.clab.yml")
    XCTAssertEqual(t.links.count, 2)
    XCTAssertEqual(Set(t.ends(of: .host).map(\.interface)), ["clab-n1-eth1", "n1-eth2"])
    XCTAssertEqual(addresses(t, "n1", "eth1"), ["172.20.20.2/30"])
    XCTAssertEqual(t.node(named: "n1")?.routes.map(\.text), ["10.0.0.0/8 via 172.20.20.1"])
  }

  /// The node, else its group, else its kind, else the defaults; the exec of a level
  /// replaces the one below, as containerlab does.
  func testGroupsKindsAndDefaults() throws {
    let (t, _) = try imported("groups.clab.yml")
    let r = try XCTUnwrap(t.node(named: "r"))
    XCTAssertTrue(r.forward, "sysctls of the group")
    XCTAssertEqual(r.cpuPercent, 200, "cpu of the group over the kind's")
    XCTAssertEqual(t.node(named: "a")?.cpuPercent, 50, "cpu of the kind")
    XCTAssertEqual(t.node(named: "b")?.cpuPercent, 150, "cpu 1.5 is 150%")
    XCTAssertEqual(addresses(t, "r", "eth1"), ["10.9.0.1/24"])
    XCTAssertEqual(addresses(t, "r", "eth2"), ["10.9.1.1/24"])
    XCTAssertEqual(addresses(t, "a", "eth1"), ["10.9.0.2/24"], "the node's exec over the kind's")
    XCTAssertEqual(addresses(t, "c", "eth1"), ["10.9.0.254/24"], "the kind's exec")
    XCTAssertEqual(t.node(named: "b")?.routes.map(\.text), ["default via 10.9.1.1"])
  }

  /// The group `defaults:` names, for nodes that name none; a node with nothing under it;
  /// the short form's mtu; endpoint MACs, link vars and mgmt-net links dropped.
  func testDefaultGroupAndEmptyNodes() throws {
    let (t, r) = try imported("default-group.clab.yml")
    XCTAssertEqual(t.nodes.map(\.name), ["gw", "client", "idle"])
    let gw = try XCTUnwrap(t.node(named: "gw"))
    XCTAssertTrue(gw.forward, "conf.all.forwarding of its own group")
    XCTAssertEqual(gw.cpuPercent, 150)
    XCTAssertEqual(addresses(t, "gw", "eth1"), ["10.40.0.1/24"])
    XCTAssertEqual(addresses(t, "client", "eth1"), ["10.40.0.2/24"], "the node's exec over the default group's")
    XCTAssertEqual(t.node(named: "client")?.routes.map(\.text), ["10.41.0.0/16 via 10.40.0.1"])
    XCTAssertNil(t.node(named: "client")?.cpuPercent, "the default group has no cpu")
    XCTAssertEqual(t.links.count, 2)
    XCTAssertEqual(t.links.first { $0.a.owner == .node("client") }?.properties.mtu, 1400)
    let messages = r.diagnostics.map(\.message)
    for key in ["memory", "mgmt-ipv4", "network-mode"] { XCTAssertTrue(messages.contains { $0.hasPrefix("'\(key)' has no equivalent") }, key) }
    XCTAssertTrue(messages.contains { $0.hasPrefix("link setting 'vars'") })
    XCTAssertTrue(messages.contains { $0.contains("type 'mgmt-net'") })
  }

  /// Forwarding from sysctl, IPv6 addresses, routes with `replace`, a route the model cannot
  /// hold and a service, both kept as run lines.
  func testRoutedLANs() throws {
    let (t, r) = try imported("routed.clab.yml")
    XCTAssertEqual(t.node(named: "router")?.forward, true)
    XCTAssertEqual(addresses(t, "router", "eth1"), ["10.1.1.1/24", "fd00:1:1::1/64"])
    XCTAssertEqual(addresses(t, "pc", "eth1"), ["10.1.1.10/24", "fd00:1:1::10/64"])
    XCTAssertEqual(t.node(named: "web")?.routes.map(\.text), ["default via 10.1.2.1"])
    XCTAssertEqual(t.node(named: "pc")?.run, ["ip route add 192.0.2.0/24 dev eth1"])
    XCTAssertEqual(t.node(named: "web")?.run, ["nginx -g 'daemon on;'"])
    XCTAssertTrue(r.diagnostics.contains { $0.message.contains("a route nstopo cannot model") && $0.line == 24 })
  }

  /// A network OS is an empty namespace and says so; container settings, the management
  /// network and macvlan links are dropped, each with a located warning; the extended link
  /// format's mtu is kept.
  func testOtherKindsAndDroppedSettings() throws {
    let (t, r) = try imported("mixed-kinds.clab.yml")
    XCTAssertEqual(t.nodes.map(\.name), ["srl", "h1", "h2"])
    XCTAssertEqual(t.links.count, 2)
    XCTAssertEqual(t.links.first { $0.a.owner == .node("h2") }?.properties.mtu, 9000)
    let messages = r.diagnostics.map(\.message)
    XCTAssertTrue(messages.contains { $0.hasPrefix("node 'srl' is of kind 'nokia_srlinux', not plain Linux") })
    for key in ["mgmt", "binds", "env", "ports", "startup-config"] {
      XCTAssertTrue(messages.contains { $0.hasPrefix("'\(key)' has no equivalent") }, key)
    }
    XCTAssertTrue(messages.contains { $0.contains("type 'macvlan'") })
    XCTAssertTrue(messages.contains { $0.contains("eth0 (containerlab's management interface)") })
    XCTAssertTrue(r.diagnostics.allSatisfy { $0.severity == .warning })
    XCTAssertTrue(r.text!.contains("node srl   # kind nokia_srlinux in containerlab"))
  }

  /// Malformed YAML and unknown structure: located errors, no output.
  func testErrorsAreLocatedAndWriteNothing() throws {
    let broken = ClabImport.convert(yaml: try fixture("malformed.clab.yml"), fileName: "malformed.clab.yml")
    XCTAssertNil(broken.text)
    XCTAssertEqual(broken.diagnostics.map { "\($0.line):\($0.column) \($0.message)" }, ["8:6 malformed YAML: did not find expected key"])
    let typo = ClabImport.convert(yaml: try fixture("unknown-node.clab.yml"), fileName: "unknown-node.clab.yml")
    XCTAssertNil(typo.text)
    XCTAssertEqual(typo.diagnostics.first?.message, "endpoint 'clinet2:eth1' names no node")
    XCTAssertEqual(typo.diagnostics.first?.hint, "did you mean 'client2'?")
    XCTAssertEqual(typo.diagnostics.first?.line, 9)
    for (yaml, message) in [
      ("", "the file is empty"), ("- a\n- b\n", "a containerlab topology is a mapping"), ("topology:\n  nodes: {}\n", "the topology has no `name:`"),
      ("name: x\ntopology:\n  nodes:\n    a: {}\n", "node 'a' has no kind"), ("name: x\ntopology:\n  nodes:\n    a:\n      kind: linux\n      group: g\n", "which `topology.groups` does not define"),
    ] {
      let r = ClabImport.convert(yaml: yaml, fileName: "x.clab.yml")
      XCTAssertNil(r.text, yaml)
      XCTAssertTrue(r.diagnostics.contains { $0.severity == .error && $0.message.contains(message) }, "\(yaml): \(r.diagnostics)")
    }
  }

  /// Every example, exported and imported again, is the same network: nodes, forwarding, CPU
  /// caps, each node's addresses, the links (by their ends' owners and addresses), the routes
  /// (by destination and next-hop address) and the link properties.
  func testRoundTripOfEveryExample() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("topologies").path).filter { $0.hasSuffix(".topo") }.sorted()
    XCTAssertGreaterThan(files.count, 5)
    for f in files {
      let original = try XCTUnwrap(
        TopologyLoader.load(bytes: Array(try Data(contentsOf: root.appendingPathComponent("topologies/\(f)"))), fileName: f).topology, f)
      let yaml = ClabExport.render(original, source: f)
      let back = ClabImport.convert(yaml: yaml, fileName: "\(f).clab.yml")
      let text = try XCTUnwrap(back.text, "\(f): \(back.diagnostics)")
      let loaded = TopologyLoader.load(text: text, fileName: f)
      let t = try XCTUnwrap(loaded.topology, "\(f): \(loaded.rendered)\n\(text)")
      XCTAssertEqual(t.name, original.name, f)
      XCTAssertEqual(t.nodes.map(\.name), original.nodes.map(\.name), f)
      XCTAssertEqual(t.bridges.map(\.name), original.bridges.map(\.name), f)
      XCTAssertEqual(t.nodes.map(\.forward), original.nodes.map(\.forward), f)
      XCTAssertEqual(t.nodes.map(\.cpuPercent), original.nodes.map(\.cpuPercent), f)
      XCTAssertEqual(t.nodes.map(\.run.count), original.nodes.map(\.run.count), f)
      func addressesByNode(_ t: Topology) -> [String: [String]] {
        Dictionary(uniqueKeysWithValues: t.nodes.map { n in (n.name, t.ends(of: .node(n.name)).flatMap { $0.addresses.map(\.description) }.sorted()) })
      }
      XCTAssertEqual(addressesByNode(t), addressesByNode(original), f)
      func links(_ t: Topology) -> [String] {
        t.links.map { l in
          [l.a, l.b].map { "\($0.owner)\($0.owner == .host ? "" : " " + $0.addresses.map(\.description).joined(separator: ","))" }.sorted().joined(separator: " -- ")
            + " \(l.properties.text)\(l.isUp ? "" : " down")"
        }.sorted()
      }
      XCTAssertEqual(links(t), links(original), f)
      // A route the kernel refuses while its link is down is not exported (a comment says so).
      let up = original.upPrefixes()
      func routes(_ t: Topology) -> [String] {
        t.nodes.flatMap { n in
          n.routes.filter { original.allLinksUp || $0.isLive(connected: up[.node(n.name)] ?? []) }.map { r -> String in
            switch r.nextHop {
            case .gateway(let gw, _): return "\(n.name) \(r.destination) via \(gw)"
            default: return "\(n.name) \(r.text)"
            }
          }
        }.sorted()
      }
      XCTAssertEqual(routes(t), routes(original), f)
    }
  }

  /// The export: kinds, images, exec lines, bridges and host ends, eth0 moved up, notes.
  func testExportOfTheLab() throws {
    let lab = try XCTUnwrap(
      TopologyLoader.load(bytes: Array(try Data(contentsOf: root.appendingPathComponent("topologies/lab.topo"))), fileName: "lab.topo").topology)
    let yaml = ClabExport.render(lab, image: "alpine:3", source: "lab.topo")
    XCTAssertTrue(yaml.contains("name: lab\ntopology:\n  nodes:\n    h1:\n      kind: linux\n      image: \"alpine:3\"\n"), yaml)
    XCTAssertTrue(yaml.contains("        - \"ip addr replace 10.10.1.2/24 dev eth1\"\n"), "eth0 moved to eth1: \(yaml)")
    XCTAssertTrue(yaml.contains("        - \"sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1\"\n"))
    XCTAssertTrue(yaml.contains("      cpu: 0.2\n"))
    XCTAssertTrue(yaml.contains("        - \"sh -c '(nc -lk -p 8080) </dev/null >>/tmp/nstopo-run.log 2>&1 &'\"\n"), yaml)
    XCTAssertTrue(yaml.contains("    s1:\n      kind: bridge\n"))
    XCTAssertTrue(yaml.contains("\"host:veth1\""))
    XCTAssertTrue(yaml.contains("#   node h7: chroot"))
    XCTAssertTrue(yaml.contains("expect lines"))
  }
  /// containerlab's eth0 is management: a node's ethN move up by one everywhere the file
  /// names them (addresses, rules' `in`/`out`, `masquerade`), and the management default
  /// routes go first, so the file's own default can be added.
  func testExportRenamesInterfacesInRulesAndNATAndReplacesTheManagementDefault() throws {
    let text = """
      topology t
      subnet lan 10.1.0.0/24
      subnet wan 100.64.0.0/24
      bridge sw wan
      node gw
        forward
        link sw
        link pc eth1 lan
        firewall forward drop
        allow forward in eth1 out eth0
        masquerade eth0
      node pc
        route default via gw

      """
    let t = try XCTUnwrap(TopologyLoader.load(text: text, fileName: "t.topo").topology)
    let yaml = ClabExport.render(t, source: "t.topo")
    XCTAssertTrue(yaml.contains("oifname \\\"eth1\\\" masquerade"), yaml)
    XCTAssertFalse(yaml.contains("oifname \\\"eth0\\\""), yaml)
    XCTAssertTrue(yaml.contains("iifname \\\"eth2\\\" oifname \\\"eth1\\\""), yaml)
    XCTAssertTrue(yaml.contains("      exec:\n        - \"ip -4 route flush exact 0.0.0.0/0\"\n        - \"ip -6 route flush exact ::/0\"\n"), yaml)
    XCTAssertTrue(yaml.contains("- \"ip route replace default via 10.1.0.1\""), yaml)
    XCTAssertFalse(yaml.contains("route add"), yaml)
    // What the export adds of nstopo's own settings is read back as nothing new.
    let back = try XCTUnwrap(ClabImport.convert(yaml: yaml, fileName: "t.clab.yml").text)
    XCTAssertFalse(back.contains("run ip") || back.contains("run sysctl"), back)
  }

  /// Every example exported for clabernetes, read back as YAML, breaks none of clabernetes'
  /// rules (`ClabernetesExport.Rules`, from its source): linux nodes only, veth endpoints
  /// between nodes, Kubernetes names, pod-side interface names that fit. An example with a
  /// host end is refused, naming it.
  func testClabernetesExportOfEveryExampleKeepsClabernetesRules() throws {
    let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent("topologies").path).filter { $0.hasSuffix(".topo") }.sorted()
    var exported = 0
    for f in files {
      let t = try XCTUnwrap(TopologyLoader.load(bytes: Array(try Data(contentsOf: root.appendingPathComponent("topologies/\(f)"))), fileName: f).topology, f)
      let r = ClabernetesExport.render(t, source: f)
      guard let yaml = r.text else {
        XCTAssertTrue(t.hasHost, "\(f): \(r.problems)")
        XCTAssertTrue(r.problems.contains { $0.message.hasPrefix("host end host:") && $0.token?.hasPrefix("host:") == true }, "\(f): \(r.problems)")
        continue
      }
      exported += 1
      let doc = try XCTUnwrap(try Yams.compose(yaml: yaml)?.mapping, f)
      let nodes = try XCTUnwrap(doc["topology"]?.mapping?["nodes"]?.mapping, f).map { ($0.key.string!, $0.value.mapping?["kind"]?.string ?? "") }
      let endpoints = (doc["topology"]?.mapping?["links"]?.sequence ?? []).map { ($0.mapping?["endpoints"]?.sequence ?? []).compactMap(\.string) }
      XCTAssertEqual(ClabernetesExport.Rules.violations(name: doc["name"]?.string ?? "", nodes: nodes, endpoints: endpoints), [], f)
      // Each LAN is a node of its own, and nothing is left of `kind: bridge`.
      for b in t.bridges {
        XCTAssertTrue(nodes.contains { $0.0 == ClabernetesExport.label(b.name) && $0.1 == "linux" }, "\(f): \(b.name)")
      }
    }
    XCTAssertGreaterThan(exported, 8)
    // The rules themselves refuse what clabernetes refuses.
    let bad = ClabernetesExport.Rules.violations(
      name: "Lab_1", nodes: [("sw", "bridge"), ("R1", "linux"), ("a", "linux")], endpoints: [["sw:e1", "R1:eth0"], ["a:eth1", "host:x"], ["a:et/1", "R1:eth2"]])
    for message in [
      "topology name 'Lab_1' is not a DNS-1035 label", "node sw is of kind bridge", "node name 'R1' is not a DNS-1035 label",
      "endpoint 'R1:eth0' is the management interface eth0", "endpoint 'host:x' is not a veth between two nodes", "interface 'et/1' is not in [a-z0-9-]",
    ] {
      XCTAssertTrue(bad.contains { $0.hasPrefix(message) }, "\(message): \(bad)")
    }
  }

  /// Names that Kubernetes refuses are mapped, and the mapping is said; two names that map to
  /// one are an error at the second node's line.
  func testClabernetesNames() throws {
    let t = try XCTUnwrap(TopologyLoader.load(text: "topology My_Lab\nnode Web.1\n  link db\nnode db\nnode web-1\n", fileName: "t.topo").topology)
    let r = ClabernetesExport.render(t, source: "t.topo")
    XCTAssertNil(r.text)
    XCTAssertEqual(r.problems.map(\.line), [5], "\(r.problems)")
    XCTAssertTrue(r.problems.first?.message.contains("'web-1' and 'Web.1' are both 'web-1'") == true, "\(r.problems)")
    let ok = try XCTUnwrap(TopologyLoader.load(text: "topology My_Lab\nnode Web.1\n  link db\nnode db\n", fileName: "t.topo").topology)
    let yaml = try XCTUnwrap(ClabernetesExport.render(ok, source: "t.topo").text)
    XCTAssertTrue(yaml.contains("name: my-lab\n") && yaml.contains("    web-1:\n"), yaml)
    XCTAssertTrue(yaml.contains("# Kubernetes names: My_Lab is my-lab, Web.1 is web-1.") || yaml.contains("# Kubernetes names: Web.1 is web-1"), yaml)
  }

  /// A bridge inside a node's namespace (`NAME|PARENT`, containerlab's namespaced bridge) is
  /// a bridge of its own, with a located warning; an FRR lab says, bind by bind, that its
  /// routing is not imported; an endpoint's `mac:` is named as dropped.
  func testNamespacedBridgeRoutingDaemonsAndEndpointMACs() throws {
    func fixture(_ name: String) throws -> ClabImport.Result {
      let yaml = try String(contentsOf: root.appendingPathComponent("Tests/ContainerlabTests/Fixtures/\(name)"), encoding: .utf8)
      return ClabImport.convert(yaml: yaml, fileName: name)
    }
    let bridge = try fixture("bridge-ns.clab.yml")
    let text = try XCTUnwrap(bridge.text, "\(bridge.diagnostics)")
    XCTAssertTrue(text.contains("bridge br01 br01-net\n") && text.contains("node c1\n  link br01 eth1 10.0.0.1\n"), text)
    XCTAssertTrue(bridge.diagnostics.contains { $0.line == 4 && $0.message.hasPrefix("bridge 'br01|bp1' lives inside bp1's namespace") }, "\(bridge.diagnostics)")
    XCTAssertNotNil(TopologyLoader.load(text: text, fileName: "b.topo").topology)
    let frr = try fixture("frr.clab.yml")
    XCTAssertNotNil(frr.text)
    let lines = frr.diagnostics.filter { $0.message.contains("FRR would learn") }.map(\.line)
    XCTAssertEqual(lines, [8, 9, 12], "\(frr.diagnostics)")
    XCTAssertTrue(frr.diagnostics.contains { $0.line == 22 && $0.message.hasPrefix("endpoint setting 'mac' has no equivalent") }, "\(frr.diagnostics)")
  }

  /// Nothing from the YAML reaches the `.topo` unchecked: a newline in a node name or in a
  /// dropped key, a control character in an exec line, an address inside an endpoint's
  /// interface. Each used to add nodes, `run` lines or addresses to the output.
  func testImportInjectsNothing() throws {
    func convert(_ yaml: String) -> ClabImport.Result { ClabImport.convert(yaml: yaml, fileName: "x.clab.yml") }
    let name = convert("name: t\ntopology:\n  nodes:\n    \"a\\nnode evil\\n  run touch /pwned\":\n      kind: linux\n")
    XCTAssertNil(name.text)
    XCTAssertTrue(name.diagnostics.contains { $0.message.hasPrefix("'a\\u000anode evil") && $0.message.contains("is not a node name for nstopo") }, "\(name.diagnostics)")
    let key = convert("name: t\ntopology:\n  nodes:\n    a:\n      kind: linux\n      \"im\\nnode evil\": x\n")
    let text = try XCTUnwrap(key.text, "\(key.diagnostics)")
    XCTAssertFalse(text.contains("\nnode evil"), text)
    XCTAssertTrue(text.contains("# dropped: x.clab.yml:6:7: 'im\\u000anode evil' has no equivalent"), text)
    XCTAssertEqual(TopologyLoader.load(text: text, fileName: "i.topo").topology?.nodes.map(\.name), ["a"])
    let exec = convert("name: t\ntopology:\n  nodes:\n    a:\n      kind: linux\n      exec: [\"echo one\\rnode evil\"]\n")
    XCTAssertEqual(TopologyLoader.load(text: try XCTUnwrap(exec.text), fileName: "i.topo").topology?.nodes.map(\.run), [[]])
    let endpoint = convert(
      "name: t\ntopology:\n  nodes:\n    a:\n      kind: linux\n    b:\n      kind: linux\n  links:\n    - endpoints: [\"a:eth1 10.200.9.1/24\", \"b:eth1\"]\n")
    XCTAssertNil(endpoint.text)
    XCTAssertTrue(endpoint.diagnostics.contains { $0.message.contains("'eth1 10.200.9.1/24' is not an interface name for nstopo") }, "\(endpoint.diagnostics)")
  }

  /// An alias of aliases as a mapping key hung the reader (it hashes every key); one as a
  /// value is bounded too. Both answer at once with a located error.
  func testYAMLAliasBombsAreRefusedAtOnce() {
    var lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    var previous = "a"
    for n in ["b", "c", "d", "e", "f", "g", "h"] {
      lines.append("\(n): &\(n) [\(Array(repeating: "*" + previous, count: 10).joined(separator: ", "))]")
      previous = n
    }
    let start = Date()
    let key = ClabImport.convert(yaml: (lines + ["? *h", ": 1", "name: t"]).joined(separator: "\n"), fileName: "k.clab.yml")
    XCTAssertNil(key.text)
    XCTAssertTrue(key.diagnostics.contains { $0.message.hasPrefix("an alias (`*name`) as a mapping key") && $0.line == 9 }, "\(key.diagnostics)")
    let value = ClabImport.convert(
      yaml: (lines + ["name: t", "topology:", "  nodes:", "    a1:", "      kind: linux", "      exec: *h"]).joined(separator: "\n"), fileName: "v.clab.yml")
    XCTAssertNil(value.text)
    XCTAssertTrue(value.diagnostics.contains { $0.message.hasPrefix("the file expands to more than 200000 YAML nodes") }, "\(value.diagnostics)")
    XCTAssertLessThan(Date().timeIntervalSince(start), 5, "a hang detector, not a speed figure")
  }

  /// The export escapes what YAML cannot hold raw: control characters in a run line, a
  /// newline in the source path of the header.
  func testExportEscapesControlCharacters() throws {
    let t = try XCTUnwrap(TopologyLoader.load(text: "topology t\nnode a\n  run printf 'a\u{7f}b\u{85}c'\n", fileName: "t.topo").topology)
    let yaml = ClabExport.render(t, source: "x\nname: evil")
    XCTAssertFalse(yaml.contains("\nname: evil"), yaml)
    XCTAssertTrue(yaml.contains("\\u007f") && yaml.contains("\\u0085"), yaml)
    let back = ClabImport.convert(yaml: yaml, fileName: "t.clab.yml")
    let text = try XCTUnwrap(back.text, "\(back.diagnostics)")
    XCTAssertTrue(text.contains("topology t\n"), text)
  }
  /// Every input that once hung, crashed or injected lines (`Fixtures/fuzz`, found by hand
  /// and by `nstopo-fuzz --import`), replayed through what `nstopo import` does.
  func testImporterRegressionFixtures() throws {
    let dir = root.appendingPathComponent("Tests/ContainerlabTests/Fixtures/fuzz")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yml") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 7)
    for name in files {
      let start = Date()
      let outcome = ClabImport.contractProblems([UInt8](try Data(contentsOf: dir.appendingPathComponent(name))))
      XCTAssertEqual(outcome.problems, [], name)
      XCTAssertGreaterThan(outcome.diagnostics, 0, name)
      XCTAssertLessThan(Date().timeIntervalSince(start), 10, "\(name) hangs")
    }
  }
}
