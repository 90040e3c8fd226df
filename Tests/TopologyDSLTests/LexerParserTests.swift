import TopologyDSL
import TopologyModel
import XCTest

final class LexerParserTests: XCTestCase {
  func testCommentsBlankLinesAndIndentationMakeABody() {
    let t = model("""
      # a comment
      topology t   # trailing comment

      node a       # node
        link b     # body line

      node b
      """)
    XCTAssertEqual(t.name, "t")
    XCTAssertEqual(t.nodes.map(\.name), ["a", "b"])
    XCTAssertEqual(t.links.count, 1)
  }

  func testDefaultNameIsTheFileName() {
    let r = TopologyLoader.load(text: "node a\n", fileName: "dir/my-net.topo")
    XCTAssertEqual(r.topology?.name, "my-net")
  }

  func testCRLFLinesParse() {
    let t = model("topology t\r\nnode a\r\n  forward\r\n")
    XCTAssertTrue(t.nodes[0].forward)
  }

  func testTabsOnlyIndentationIsFine() {
    let t = model("node a\n\tforward\n")
    XCTAssertTrue(t.nodes[0].forward)
  }

  func testRunKeepsItsSpacingAndStopsAtComment() {
    let t = model("node a\n  run sh -c 'sleep  1'   # comment\n")
    XCTAssertEqual(t.nodes[0].run, ["sh -c 'sleep  1'"])
  }

  func testRunSubstitutesRangeIndexOnly() {
    let t = model("node a[1..2]\n  run echo $i [x] $HOME\n")
    XCTAssertEqual(t.nodes.map(\.run), [["echo 1 [x] $HOME"], ["echo 2 [x] $HOME"]])
  }

  func testLabParsesWithTheReferenceMeaning() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: repoFile("topologies/lab.topo")))
    let r = TopologyLoader.load(bytes: [UInt8](data), fileName: "lab.topo")
    XCTAssertEqual(r.diagnostics, [], r.rendered)
    let t = try XCTUnwrap(r.topology)
    XCTAssertEqual(t.name, "lab")
    XCTAssertEqual(t.subnets.map(\.name), ["lan1", "lan2", "lan3", "p2p"])
    XCTAssertEqual(t.subnets[2].prefix.description, "10.10.3.0/24")
    XCTAssertEqual(t.bridges.map { "\($0.name):\($0.subnets.first ?? "-")" }, ["s1:lan1", "s2:lan2", "s3:lan3"])
    XCTAssertEqual(t.nodes.map(\.name), ["h1", "h2", "h3", "h4", "h5", "h6", "r1", "r2", "h7", "myns"])
    // h1..h4 on s1 from lan1, skipping r1's explicit 10.10.1.1.
    XCTAssertEqual(address(t, "h1", "eth0"), "10.10.1.2/24")
    XCTAssertEqual(address(t, "h4", "eth0"), "10.10.1.5/24")
    XCTAssertEqual(address(t, "h5", "eth0"), "10.10.2.2/24")
    XCTAssertEqual(address(t, "r1", "eth0"), "10.10.1.1/24")
    XCTAssertEqual(address(t, "r1", "eth2"), "10.20.0.1/30")
    // r2's own `link s3` is eth0; r1's direct link lands on r2's next free name.
    XCTAssertEqual(interfaces(t, "r2"), ["eth1", "eth0"])
    XCTAssertEqual(address(t, "r2", "eth1"), "10.20.0.2/30")
    XCTAssertEqual(address(t, "r2", "eth0"), "10.10.3.1/24")
    XCTAssertEqual(address(t, "h7", "eth0"), "10.10.3.2/24")
    XCTAssertEqual(t.node(named: "h1")?.routes, [Route(destination: IPPrefix("0.0.0.0/0")!, nextHop: .gateway(IPAddress("10.10.1.1")!, node: "r1"))])
    XCTAssertEqual(t.node(named: "r1")?.routes, [Route(destination: IPPrefix("10.10.3.0/24")!, nextHop: .gateway(IPAddress("10.20.0.2")!, node: "r2"))])
    XCTAssertEqual(t.node(named: "r2")?.routes.first?.nextHop, .gateway(IPAddress("10.20.0.1")!, node: "r1"))
    XCTAssertEqual(t.node(named: "h7")?.routes.first?.nextHop, .gateway(IPAddress("10.10.3.1")!, node: "r2"))
    XCTAssertEqual(t.node(named: "r1")?.forward, true)
    let h7 = try XCTUnwrap(t.node(named: "h7"))
    XCTAssertEqual(h7.cpuPercent, 20)
    XCTAssertEqual(h7.chroot, "../rootfs")
    XCTAssertEqual(h7.run, ["nc -lk -p 8080"])
    XCTAssertEqual(address(t, "host", "veth1"), "192.168.1.1/24")
    XCTAssertEqual(address(t, "myns", "veth0"), "192.168.1.2/24")
    XCTAssertTrue(t.hasHost)
    let pairs = t.expectedPairs()
    XCTAssertEqual(pairs.count, 4 * 3 + 2)
    XCTAssertTrue(pairs.contains { $0.source == "h1" && $0.target == "h7" && $0.port == 8080 && $0.outcome == .reach })
    XCTAssertTrue(pairs.contains { $0.source == "h1" && $0.target == "myns" && $0.outcome == .blocked && $0.proto == .tcp })
  }

  func testEveryExampleValidates() throws {
    let dir = repoFile("topologies")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".topo") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 6)
    for f in files {
      let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
      let r = TopologyLoader.load(bytes: [UInt8](data), fileName: f)
      XCTAssertFalse(r.diagnostics.hasErrors, r.rendered)
      XCTAssertNotNil(r.topology, f)
    }
  }
}
