import TopologyDSL
import TopologyModel
import XCTest

/// The tail of a `link` line: read by keyword in both forms, through range expansion, with
/// every problem located.
final class LinkPropertiesLanguageTests: XCTestCase {
  func testTailInBothFormsAndThroughRanges() {
    let t = model("""
      subnet lan 10.9.1.0/24
      subnet p2p 10.9.9.0/24
      bridge sw lan
      node r1
        link sw rate 100mbit delay 5ms
        link r2 p2p loss 2% down
        link sw eth7 10.9.1.77 mtu 1400 jitter 1ms delay 2.5ms
      node r2
      node h[1..2]
        link sw eth$i rate $i0kbit
      link r1:veth9 10.9.8.1/30 -- r2:veth9 10.9.8.2/30 rate 1gbit mtu 9000
      """)
    let byName = Dictionary(uniqueKeysWithValues: t.links.map { ("\($0.a.owner):\($0.a.interface)", $0) })
    XCTAssertEqual(byName["r1:eth0"]?.properties, LinkProperties(rate: 100_000_000, delay: 5_000))
    XCTAssertEqual(byName["r1:eth0"]?.isUp, true)
    XCTAssertEqual(byName["r1:eth1"]?.properties, LinkProperties(loss: 2))
    XCTAssertEqual(byName["r1:eth1"]?.isUp, false)
    XCTAssertEqual(byName["r1:eth1"].map { [$0.a.down, $0.b.down] }, [true, true])
    // An explicit interface and address before the tail, its keywords in any order.
    XCTAssertEqual(byName["r1:eth7"]?.a.addresses.first?.description, "10.9.1.77/24")
    XCTAssertEqual(byName["r1:eth7"]?.properties, LinkProperties(delay: 2_500, jitter: 1_000, mtu: 1400))
    // Ranges reach into the tail.
    XCTAssertEqual(byName["h1:eth1"]?.properties.rate, 10_000)
    XCTAssertEqual(byName["h2:eth2"]?.properties.rate, 20_000)
    XCTAssertEqual(byName["r1:veth9"]?.properties, LinkProperties(rate: 1_000_000_000, mtu: 9000))
    XCTAssertEqual(byName["r1:veth9"]?.properties.text, "rate 1gbit mtu 9000")
    XCTAssertEqual(byName["r1:eth0"]?.properties.shapingText, "100mbit 5ms")
    XCTAssertEqual(byName["r1:eth7"]?.properties.shapingText, "2500us±1ms")
  }

  func testUnitsAsTcSpellsThem() {
    func rate(_ s: String) -> UInt64? {
      model("subnet lan 10.9.1.0/24\nbridge sw lan\nnode a\n  link sw rate \(s)\n").links.first?.properties.rate
    }
    XCTAssertEqual(rate("1kbit"), 1_000)
    XCTAssertEqual(rate("1.5mbit"), 1_500_000)
    XCTAssertEqual(rate("10MBIT"), 10_000_000)
    XCTAssertEqual(rate("10gbit"), 10_000_000_000)
    func delay(_ s: String) -> UInt64? {
      model("subnet lan 10.9.1.0/24\nbridge sw lan\nnode a\n  link sw delay \(s)\n").links.first?.properties.delay
    }
    XCTAssertEqual(delay("250us"), 250)
    XCTAssertEqual(delay("20msec"), 20_000)
    XCTAssertEqual(delay("1s"), 1_000_000)
    XCTAssertEqual(LinkProperties.durationText(1_000_000), "1s")
    XCTAssertEqual(LinkProperties.rateText(1_500_000), "1500kbit")
    XCTAssertEqual(LinkProperties.percentText(0.5), "0.5%")
  }

  func testEveryDiagnosticAsFullText() {
    let text = """
      subnet lan 10.9.1.0/24
      subnet lan6 fd00:9:1::/64
      bridge sw lan lan6
      node r1
        link sw rate 10mbps
        link sw eth1 rate 10 delay 5 loss 1
        link sw eth2 jitter 5ms rate 20gbit mtu
        link sw eth3 dealy 20ms
        link sw eth4 rate 1mbit rate 2mbit down now
        link sw eth5 rate 10mbat loss 150% delay 2min mtu 40
        link sw eth6 mtu 1000

      """
    XCTAssertEqual(rendered(text), #"""
      test.topo:5:16: error: tc reads 'mbps' as bytes per second
       5 |   link sw rate 10mbps
         |                ^~~~~~
         = hint: write 80mbit for 10mbps, or use a bit unit: kbit, mbit, gbit
      test.topo:6:21: error: rate '10' needs a unit
       6 |   link sw eth1 rate 10 delay 5 loss 1
         |                     ^~
         = hint: e.g. 10mbit (units: bit, kbit, mbit, gbit)
      test.topo:6:30: error: delay '5' needs a unit
       6 |   link sw eth1 rate 10 delay 5 loss 1
         |                              ^
         = hint: e.g. 5ms (units: us, ms, s)
      test.topo:6:37: error: loss '1' needs a percent sign
       6 |   link sw eth1 rate 10 delay 5 loss 1
         |                                     ^
         = hint: write it as a percentage: loss 1%
      test.topo:7:16: error: jitter needs a delay
       7 |   link sw eth2 jitter 5ms rate 20gbit mtu
         |                ^~~~~~
         = hint: jitter varies a delay: e.g. delay 20ms jitter 5ms
      test.topo:7:32: error: rate 20gbit is out of range
       7 |   link sw eth2 jitter 5ms rate 20gbit mtu
         |                                ^~~~~~
         = hint: a rate is from 1kbit to 10gbit
      test.topo:7:42: error: 'mtu' needs a value
       7 |   link sw eth2 jitter 5ms rate 20gbit mtu
         |                                          ^
         = hint: e.g. mtu 1400
      test.topo:8:16: error: unknown subnet 'dealy'
       8 |   link sw eth3 dealy 20ms
         |                ^~~~~
         = hint: did you mean 'delay'?
      test.topo:9:27: error: 'rate' is given twice
       9 |   link sw eth4 rate 1mbit rate 2mbit down now
         |                           ^~~~
         = note: first at column 16
         = hint: keep one
      test.topo:9:43: error: unexpected 'now' in the link's properties
       9 |   link sw eth4 rate 1mbit rate 2mbit down now
         |                                           ^~~
         = hint: a link's properties are: rate RATE, delay TIME, jitter TIME, loss PERCENT%, mtu BYTES, down
      test.topo:10:21: error: unknown rate unit 'mbat'
       10 |   link sw eth5 rate 10mbat loss 150% delay 2min mtu 40
          |                     ^~~~~~
          = hint: did you mean 'mbit'?
      test.topo:10:33: error: loss 150% is out of range
       10 |   link sw eth5 rate 10mbat loss 150% delay 2min mtu 40
          |                                 ^~~~
          = hint: a loss is more than 0% and at most 100%
      test.topo:10:44: error: unknown time unit 'min'
       10 |   link sw eth5 rate 10mbat loss 150% delay 2min mtu 40
          |                                            ^~~~
          = hint: units: us, ms, s (20ms)
      test.topo:10:53: error: bad MTU '40'
       10 |   link sw eth5 rate 10mbat loss 150% delay 2min mtu 40
          |                                                     ^~
          = hint: an MTU is a number of bytes from 68 to 65535, e.g. mtu 1400
      test.topo:11:20: error: MTU 1000 is below IPv6's minimum of 1280, and this link has IPv6 addresses
       11 |   link sw eth6 mtu 1000
          |                    ^~~~
          = hint: use mtu 1280 or more (the kernel takes IPv6 off a smaller interface)
      test.topo: 15 errors

      """#)
  }

  func testGeneralFormTailAndItsUsage() {
    XCTAssertEqual(rendered("""
      node a
      node b
      link a:eth0 10.9.8.1/30 -- b:eth0 10.9.8.2/30 mtu 1500 delay
      link a:eth1 10.9.7.1/30 10.9.6.1/30 fd00::1/64 -- b:eth1 down

      """), #"""
      test.topo:3:61: error: 'delay' needs a value
       3 | link a:eth0 10.9.8.1/30 -- b:eth0 10.9.8.2/30 mtu 1500 delay
         |                                                             ^
         = hint: e.g. delay 20ms (units: us, ms, s)
      test.topo:4:37: error: each end of a link is NODE:IFNAME and at most one address per family
       4 | link a:eth1 10.9.7.1/30 10.9.6.1/30 fd00::1/64 -- b:eth1 down
         |                                     ^~~~~~~~~~
         = hint: usage: link NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] -- NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] [PROPERTIES]
      test.topo: 2 errors

      """#)
  }

  /// Where netem is missing, a link that needs it is a warning at `validate` (`up` refuses).
  func testNetemMissingWarnsOncePerLineAndAsksOnlyWhenNeeded() {
    let text = """
      subnet lan 10.9.1.0/24
      bridge sw lan
      node h[1..3]
        link sw delay 20ms loss 1%

      """
    XCTAssertEqual(rendered(text, options: LoadOptions(netemAvailable: { false })), #"""
      test.topo:4:11: warning: this kernel has no netem: `delay 20ms loss 1%` cannot be built here
       4 |   link sw delay 20ms loss 1%
         |           ^~~~~
         = note: in node 'h1' from 'h[1..3]'
         = hint: `up` refuses this file on this machine; rate, mtu and down work without netem (load the kernel's sch_netem module to get it)
      test.topo: 1 warning

      """#)
    XCTAssertEqual(rendered(text, options: LoadOptions(netemAvailable: { true })), "")
    // A file that needs no netem never asks.
    let asked = Box()
    _ = rendered("subnet lan 10.9.1.0/24\nbridge sw lan\nnode a\n  link sw rate 1mbit mtu 1400 down\n", options: LoadOptions(netemAvailable: { asked.set(); return false }))
    XCTAssertFalse(asked.value)
  }
}

private final class Box: @unchecked Sendable {
  var value = false
  func set() { value = true }

  /// A link declared from both of its nodes is two veths: a warning at the second, naming the
  /// first; parallel links declared in one node are not warned about.
  func testALinkDeclaredFromBothEndsIsNamed() {
    let both = load("topology t\nsubnet p2p 10.9.0.0/24 /30\nnode r1\n  link r2 p2p\nnode r2\n  link r1 p2p\n")
    XCTAssertEqual(both.topology?.links.count, 2)
    XCTAssertEqual(both.diagnostics.map(\.line), [6], "\(both.diagnostics)")
    XCTAssertTrue(both.diagnostics.first?.message.contains("the one at line 4 from r1 to r2 are two links") == true, "\(both.diagnostics)")
    let parallel = load("topology t\nsubnet p2p 10.9.0.0/24 /30\nnode r1\n  link r2 p2p\n  link r2 p2p\nnode r2\n")
    XCTAssertEqual(parallel.diagnostics, [])
  }
}
