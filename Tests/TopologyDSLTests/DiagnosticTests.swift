import TopologyDSL
import XCTest

/// Every diagnostic, compared as the full text a user sees.
/// The inputs mirror real mistakes; the expected text was reviewed by hand.
final class DiagnosticTests: XCTestCase {
  private let options = LoadOptions(cpuCount: 2, pathExists: { _ in false }, directory: "")

  private func check(_ name: String, _ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
    let r = TopologyLoader.load(bytes: bytes, fileName: name, options: options)
    XCTAssertEqual(r.rendered, expected, file: file, line: line)
    if r.diagnostics.hasErrors { XCTAssertNil(r.topology, file: file, line: line) }
  }

  func testBadCidr() {
    let bytes = Array(#"""
      subnet a 10.0.0/24
      subnet b 10.0.0.0/33
      node x

      """#.utf8)
    check("bad-cidr.topo", bytes, #"""
      bad-cidr.topo:1:10: error: bad CIDR '10.0.0/24'
       1 | subnet a 10.0.0/24
         |          ^~~~~~~~~
         = hint: write a network as a.b.c.d/len, e.g. 10.0.1.0/24
      bad-cidr.topo:2:10: error: bad CIDR '10.0.0.0/33'
       2 | subnet b 10.0.0.0/33
         |          ^~~~~~~~~~~
         = hint: write a network as a.b.c.d/len, e.g. 10.0.1.0/24
      bad-cidr.topo: 2 errors

      """#)
  }

  func testBadCpu() {
    let bytes = Array(#"""
      node a
        cpu 0%
      node b
        cpu fast

      """#.utf8)
    check("bad-cpu.topo", bytes, #"""
      bad-cpu.topo:2:7: error: bad CPU percentage '0%'
       2 |   cpu 0%
         |       ^~
         = hint: write the cap as a percentage of one CPU, e.g. `cpu 20%` (150% = one and a half CPUs)
      bad-cpu.topo:4:7: error: bad CPU percentage 'fast'
       4 |   cpu fast
         |       ^~~~
         = hint: write the cap as a percentage of one CPU, e.g. `cpu 20%` (150% = one and a half CPUs)
      bad-cpu.topo: 2 errors

      """#)
  }

  /// A static route with exactly the prefix of a connected one validated, then `up` failed
  /// with "File exists": it is an error of the file now.
  func testRouteWithTheConnectedPrefix() {
    let bytes = Array(#"""
      subnet lan 10.1.1.0/24
      bridge sw lan
      node a
        link sw
        route 10.1.1.0/24 via 10.1.1.9
        route 10.1.1.0/25 via 10.1.1.9
      node b
        link sw eth0 10.1.1.9

      """#.utf8)
    check("connected.topo", bytes, #"""
      connected.topo:5:9: error: route 10.1.1.0/24 has the prefix of eth0's connected route (10.1.1.1/24): the kernel refuses a second route to it
       5 |   route 10.1.1.0/24 via 10.1.1.9
         |         ^~~~~~~~~~~
         = hint: drop the line: 10.1.1.0/24 is reached on-link through eth0; or route a longer prefix
      connected.topo: 1 error

      """#)
  }

  func testBadName() {
    let bytes = Array(#"""
      node a/b
      node ..x

      """#.utf8)
    check("bad-name.topo", bytes, #"""
      bad-name.topo:1:6: error: node name 'a/b' contains '/'; use letters, digits, '_', '-' and '.'
       1 | node a/b
         |      ^~~
      bad-name.topo:2:6: error: node name '..x' starts with '.'
       2 | node ..x
         |      ^~~
      bad-name.topo: 2 errors

      """#)
  }

  func testBridgeLong() {
    let bytes = Array(#"""
      bridge averyverylongbridge
      node a

      """#.utf8)
    check("bridge-long.topo", bytes, #"""
      bridge-long.topo:1:8: error: bridge name 'averyverylongbridge' is 19 bytes long; the limit is 15
       1 | bridge averyverylongbridge
         |        ^~~~~~~~~~~~~~~~~~~
         = hint: a bridge is a kernel interface: at most 15 bytes
      bridge-long.topo: 1 error

      """#)
  }

  func testChrootMissing() {
    let bytes = Array(#"""
      node a
        chroot /nonexistent/rootfs

      """#.utf8)
    check("chroot-missing.topo", bytes, #"""
      chroot-missing.topo:2:10: warning: chroot path '/nonexistent/rootfs' does not exist
       2 |   chroot /nonexistent/rootfs
         |          ^~~~~~~~~~~~~~~~~~~
         = hint: create it (e.g. `nstopo rootfs /nonexistent/rootfs`); `up` refuses a missing path
      chroot-missing.topo: 1 warning

      """#)
  }

  func testCommentsOnly() {
    let bytes = Array(#"""
      # only a comment


      """#.utf8)
    check("comments-only.topo", bytes, #"""
      comments-only.topo:1:1: error: the file has no declarations
       1 | # only a comment
         | ^
         = hint: declare at least one node, e.g. `node h1`
      comments-only.topo: 1 error

      """#)
  }

  func testCpuHigh() {
    let bytes = Array(#"""
      node a
        cpu 300%

      """#.utf8)
    check("cpu-high.topo", bytes, #"""
      cpu-high.topo:2:7: warning: cpu 300% is more than this machine's 2 CPUs (200%)
       2 |   cpu 300%
         |       ^~~~
         = hint: the cap cannot bind; lower it or drop the line
      cpu-high.topo: 1 warning

      """#)
  }

  func testDollar() {
    let bytes = Array(#"""
      node a
        link b$i
      node b[1..2]
        link a$j

      """#.utf8)
    check("dollar.topo", bytes, #"""
      dollar.topo:2:8: error: '$i' has no range here
       2 |   link b$i
         |        ^~~
         = hint: declare a range such as `node h[1..4]` to use $i
      dollar.topo:4:8: error: '$j' has no range here
       4 |   link a$j
         |        ^~~
         = hint: only 1 range in scope: $i
      dollar.topo: 2 errors

      """#)
  }

  func testDupAddr() {
    let bytes = Array(#"""
      subnet lan 10.0.0.0/24
      bridge s lan
      node a
        link s 10.0.0.7
      node b
        link s 10.0.0.7

      """#.utf8)
    check("dup-addr.topo", bytes, #"""
      dup-addr.topo:6:10: error: address 10.0.0.7 is already used by a:eth0
       6 |   link s 10.0.0.7
         |          ^~~~~~~~
         = note: first used on line 4
         = hint: every address in a topology is unique
      dup-addr.topo: 1 error

      """#)
  }

  func testDuplicate() {
    let bytes = Array(#"""
      node a
      bridge a

      """#.utf8)
    check("duplicate.topo", bytes, #"""
      duplicate.topo:2:8: error: duplicate name 'a'
       2 | bridge a
         |        ^
         = note: a node named 'a' is declared on line 1
         = hint: rename one of them
      duplicate.topo: 1 error

      """#)
  }

  func testEmpty() {
    let bytes = Array(#"""
      """#.utf8)
    check("empty.topo", bytes, #"""
      empty.topo:1:1: error: the file is empty
       1 | 
         | ^
         = hint: declare at least one node, e.g. `node h1`
      empty.topo: 1 error

      """#)
  }

  func testHostLink() {
    let bytes = Array(#"""
      node a
        link host
      link a:eth0 -- b:eth0
      link a eth0

      """#.utf8)
    check("host-link.topo", bytes, #"""
      host-link.topo:2:8: error: a link to the host needs the general form
       2 |   link host
         |        ^~~~
         = hint: write it as a top-level line: `link host:veth1 10.0.0.1/24 -- a:eth0 10.0.0.2/24`
      host-link.topo:3:16: error: unknown node 'b'
       3 | link a:eth0 -- b:eth0
         |                ^~~~~~
         = hint: declare it with `node b`
      host-link.topo:4:6: error: a top-level link needs both ends
       4 | link a eth0
         |      ^
         = hint: indent it under a node (`link a`), or use the general form: link NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] -- NODE:IFNAME [ADDRESS/LEN [ADDRESS6/LEN]] [PROPERTIES]
      host-link.topo: 3 errors

      """#)
  }

  func testHostNode() {
    let bytes = Array(#"""
      node host

      """#.utf8)
    check("host-node.topo", bytes, #"""
      host-node.topo:1:6: error: 'host' is the root namespace and cannot be declared as a node
       1 | node host
         |      ^~~~
         = hint: refer to the root namespace as `host:IFNAME` in a `link ... -- ...` line
      host-node.topo: 1 error

      """#)
  }

  func testIfaceTwice() {
    let bytes = Array(#"""
      bridge s
      node a
        link s eth0
        link s eth0

      """#.utf8)
    check("iface-twice.topo", bytes, #"""
      iface-twice.topo:4:10: error: interface 'eth0' is used twice in node 'a'
       4 |   link s eth0
         |          ^~~~
         = note: first used on line 3
         = hint: give each interface of a namespace its own name
      iface-twice.topo: 1 error

      """#)
  }

  func testOutside() {
    let bytes = Array(#"""
      subnet lan 10.0.0.0/24
      bridge s lan
      node a
        link s 10.0.1.1

      """#.utf8)
    check("outside.topo", bytes, #"""
      outside.topo:4:10: error: address 10.0.1.1 is outside subnet 'lan' (10.0.0.0/24)
       4 |   link s 10.0.1.1
         |          ^~~~~~~~
         = hint: bridge 's' takes addresses from 10.0.0.0/24
      outside.topo: 1 error

      """#)
  }

  func testOverlap() {
    let bytes = Array(#"""
      subnet big 10.0.0.0/16
      subnet small 10.0.3.0/24
      bridge s1 big
      bridge s2 small
      node a
        link s1
        link s2

      """#.utf8)
    check("overlap.topo", bytes, #"""
      overlap.topo:2:8: error: subnet 'small' (10.0.3.0/24) overlaps 'big' (10.0.0.0/16)
       2 | subnet small 10.0.3.0/24
         |        ^~~~~
         = note: 'big' is declared on line 1
         = hint: choose prefixes that do not overlap
      overlap.topo: 1 error

      """#)
  }

  func testRanges() {
    let bytes = Array(#"""
      node a[]
      node b[3..1]
      node c[1..60000]
      node d[x..2]

      """#.utf8)
    check("ranges.topo", bytes, #"""
      ranges.topo:1:7: error: empty range
       1 | node a[]
         |       ^~
         = hint: a range is written [FIRST..LAST] with FIRST <= LAST, e.g. h[1..4]
      ranges.topo:2:7: error: reversed range '[3..1]'
       2 | node b[3..1]
         |       ^~~~~~
         = hint: did you mean [1..3]?
      ranges.topo:3:7: error: range '[1..60000]' has 60000 items, more than the limit of 50000
       3 | node c[1..60000]
         |       ^~~~~~~~~~
         = hint: split it into smaller ranges
      ranges.topo:4:7: error: malformed range '[x..2]'
       4 | node d[x..2]
         |       ^~~~~~
         = hint: a range is written [FIRST..LAST] with FIRST <= LAST, e.g. h[1..4]
      ranges.topo: 4 errors

      """#)
  }

  func testSelfLink() {
    let bytes = Array(#"""
      node a
        link a

      """#.utf8)
    check("self-link.topo", bytes, #"""
      self-link.topo:2:8: error: a link from 'a' to itself
       2 |   link a
         |        ^
         = hint: link to a bridge or another node
      self-link.topo: 1 error

      """#)
  }

  func testTabs() {
    let bytes: [UInt8] = [110, 111, 100, 101, 32, 97, 10, 32, 32, 102, 111, 114, 119, 97, 114, 100, 10, 110, 111, 100, 101, 32, 98, 10, 9, 102, 111, 114, 119, 97, 114, 100, 10, 110, 111, 100, 101, 32, 99, 10, 32, 9, 102, 111, 114, 119, 97, 114, 100, 10]
    check("tabs.topo", bytes, #"""
      tabs.topo:4:1: error: indentation uses tabs but line 2 uses spaces
       4 |  forward
         | ^
         = hint: indent with spaces only (or tabs only) throughout the file
      tabs.topo:6:1: error: indentation mixes tabs and spaces
       6 |   forward
         | ^~
         = hint: indent with spaces only (or tabs only) throughout the file
      tabs.topo: 2 errors

      """#)
  }

  func testUnknownKeyword() {
    let bytes = Array(#"""
      nod a

      """#.utf8)
    check("unknown-keyword.topo", bytes, #"""
      unknown-keyword.topo:1:1: error: unknown keyword 'nod'
       1 | nod a
         | ^~~
         = hint: did you mean 'node'?
      unknown-keyword.topo: 1 error

      """#)
  }

  func testUnknownRef() {
    let bytes = Array(#"""
      bridge sw1
      node a
        link sw2

      """#.utf8)
    check("unknown-ref.topo", bytes, #"""
      unknown-ref.topo:1:8: warning: bridge 'sw1' has no ports
       1 | bridge sw1
         |        ^~~
         = hint: link a node to it: `link sw1` in a node body
      unknown-ref.topo:3:8: error: unknown bridge or node 'sw2'
       3 |   link sw2
         |        ^~~
         = hint: did you mean 'sw1'?
      unknown-ref.topo: 1 error, 1 warning

      """#)
  }

  func testUtf8() {
    let bytes: [UInt8] = [110, 111, 100, 101, 32, 97, 255, 10]
    check("utf8.topo", bytes, #"""
      utf8.topo:1:6: error: node name 'a�' contains '�'; use letters, digits, '_', '-' and '.'
       1 | node a�
         |      ^~
      utf8.topo:1:7: error: the file is not valid UTF-8
       1 | node a�
         |       ^
         = hint: save the file as UTF-8
      utf8.topo: 2 errors

      """#)
  }

  func testViaMany() {
    let bytes = Array(#"""
      subnet p2p 10.9.0.0/24
      node a
        link b p2p
        link b p2p
        route default via b
      node b

      """#.utf8)
    check("via-many.topo", bytes, #"""
      via-many.topo:5:21: error: 'a' shares 2 subnets with 'b'
       5 |   route default via b
         |                     ^
         = hint: give the address instead: via 10.9.0.2 or via 10.9.0.6
      via-many.topo: 1 error

      """#)
  }

  func testViaNone() {
    let bytes = Array(#"""
      node a
      node b
        link a
        route default via a
        route 10.0.0.0/8 via c

      """#.utf8)
    check("via-none.topo", bytes, #"""
      via-none.topo:4:21: error: 'b' shares no subnet with 'a'
       4 |   route default via a
         |                     ^
         = hint: link them (e.g. to a common bridge), or give the next hop's address
      via-none.topo:5:24: error: unknown node 'c'
       5 |   route 10.0.0.0/8 via c
         |                        ^
         = hint: name a node or give an address
      via-none.topo: 2 errors

      """#)
  }

}
