import TopologyDSL
import TopologyModel
import XCTest

/// IPv6 in the language, one family per segment: subnets on bridges, point-to-point pools of
/// /64, /126 or /127 blocks, explicit addresses, routes and their gateways' family.
final class IPv6LanguageTests: XCTestCase {
  func testIPv6SubnetsPoolsAddressesAndRoutes() {
    let t = model("""
      subnet lan6 fd00:20:1::/64
      subnet core6 fd00:20:ff00::/56 /64
      subnet tiny6 fd00:21::/120 /127
      bridge sw1 lan6
      node r1
        forward
        link sw1
        link r2 core6
        link r3 tiny6
      node r2
        forward
        route fd00:20:1::/64 via r1
      node r3
        route ::/0 via fd00:21::
      node h
        link sw1 fd00:20:1::99
        route ::/0 via r1
      """)
    XCTAssertEqual(address(t, "r1", "eth0"), "fd00:20:1::1/64")
    XCTAssertEqual(address(t, "r1", "eth1"), "fd00:20:ff00::1/64")
    XCTAssertEqual(address(t, "r2", "eth0"), "fd00:20:ff00::2/64")
    XCTAssertEqual(address(t, "r1", "eth2"), "fd00:21::/127")
    XCTAssertEqual(address(t, "r3", "eth0"), "fd00:21::1/127")
    XCTAssertEqual(address(t, "h", "eth0"), "fd00:20:1::99/64")
    XCTAssertEqual(t.node(named: "r2")?.routes.map(\.text), ["fd00:20:1::/64 via fd00:20:ff00::1"])
    XCTAssertEqual(t.node(named: "h")?.routes.map(\.text), ["::/0 via fd00:20:1::1"])
    XCTAssertEqual(t.node(named: "r3")?.routes.map(\.text), ["::/0 via fd00:21::"])
  }

  func testIPv6Diagnostics() {
    let text = """
      subnet lan6 fd00:20:1::/64 /30
      subnet lan fd00:20:2::1/64
      bridge sw1 lan6
      node a
        link sw1
        route 10.9.0.0/16 via fd00:20:1::5
        route fd00:9::/48 via b
      node b
        link sw1

      """
    XCTAssertEqual(rendered(text), #"""
      test.topo:1:28: error: expected '/64', '/126' or '/127', found '/30'
       1 | subnet lan6 fd00:20:1::/64 /30
         |                            ^~~
         = hint: the block size for point-to-point links carved from this IPv6 subnet
      test.topo:2:12: error: 'fd00:20:2::1/64' has host bits set
       2 | subnet lan fd00:20:2::1/64
         |            ^~~~~~~~~~~~~~~
         = hint: did you mean fd00:20:2::/64?
      test.topo:6:25: error: next hop fd00:20:1::5 is IPv6, but 10.9.0.0/16 is IPv4
       6 |   route 10.9.0.0/16 via fd00:20:1::5
         |                         ^~~~~~~~~~~~
         = hint: a route's gateway is of its destination's family
      test.topo: 3 errors

      """#)
  }
}
