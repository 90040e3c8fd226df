import Glibc
import PropertyBased
import Testing
import TopologyModel

/// IPv6 text against the C library's own `inet_pton`/`inet_ntop`: the oracle for RFC 4291
/// parsing and RFC 5952 printing, on random addresses biased toward zero runs (where the
/// compression rules bite) and embedded IPv4.
@Suite struct IPAddressTests {
  /// inet_ntop(AF_INET6) of 16 bytes.
  static func ntop(_ bytes: [UInt8]) -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    var addr = in6_addr()
    withUnsafeMutableBytes(of: &addr) { $0.copyBytes(from: bytes) }
    _ = inet_ntop(AF_INET6, &addr, &buffer, 64)
    return String(cString: buffer)
  }

  /// inet_pton(AF_INET6) of a string, or nil.
  static func pton(_ text: String) -> [UInt8]? {
    var addr = in6_addr()
    guard inet_pton(AF_INET6, text, &addr) == 1 else { return nil }
    return withUnsafeBytes(of: &addr) { Array($0) }
  }

  /// Eight groups, each zero (half the time), 0xffff, or anything.
  static let groups = Gen.int(in: 0...(4 * 65536 - 1)).map { v -> UInt16 in
    switch v >> 16 {
    case 0, 1: return 0
    case 2: return 0xffff
    default: return UInt16(v & 0xffff)
    }
  }.array(of: 8...8)

  @Test func printingMatchesInetNtop() async {
    await propertyCheck(count: 3000, input: Self.groups) { g in
      let a = IPv6Address(groups: g)
      #expect(a.description == Self.ntop(a.bytes))
    }
  }

  @Test func parsingMatchesInetPtonOnCanonicalAndExpandedText() async {
    await propertyCheck(count: 3000, input: Self.groups) { g in
      let a = IPv6Address(groups: g)
      let canonical = Self.ntop(a.bytes)
      #expect(IPv6Address(canonical) == a)
      // Every group written out, upper case, leading zeros: still the same address.
      let full = g.map { String($0, radix: 16, uppercase: true) }.map { String(repeating: "0", count: 4 - $0.count) + $0 }.joined(separator: ":")
      #expect(Self.pton(full) == a.bytes)
      #expect(IPv6Address(full) == a)
    }
  }

  @Test(arguments: [
    "::", "::1", "1::", "fd00:20:1::1", "2001:db8::8:800:200c:417a", "::ffff:192.0.2.1", "::192.0.2.1",
    "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:1.2.3.4", "FD00::A", "0:0:0:0:0:0:0:0",
    ":", ":1", "1:", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::",
    "::1.2.3.4:5", "::256.1.1.1", "1.2.3.4", "", "fe80::1%eth0", "[::1]",
  ])
  func acceptsExactlyWhatInetPtonAccepts(_ text: String) {
    #expect(IPv6Address(text)?.bytes == Self.pton(text), "\(text)")
  }

  @Test func prefixesMaskAndContainBothFamilies() throws {
    let p6 = try #require(IPPrefix("fd00:20:1::77/64"))
    #expect(p6.description == "fd00:20:1::/64")
    #expect(p6.contains(try #require(IPAddress("fd00:20:1::1"))))
    #expect(!p6.contains(try #require(IPAddress("fd00:20:2::1"))))
    #expect(!p6.contains(try #require(IPAddress("10.0.0.1"))))
    #expect(try #require(IPPrefix("10.20.30.40/16")).description == "10.20.0.0/16")
    #expect(IPPrefix("::/0")?.description == "::/0")
    #expect(IPPrefix("fd00::/129") == nil)
    #expect(IPPrefix("10.0.0.0/33") == nil)
    #expect(IPPrefix("fd00::1/127")?.description == "fd00::/127")
    #expect(IPPrefix.parse("fd00::1/64")?.0 == IPAddress("fd00::1"))
    #expect(try #require(IPAddress("10.0.0.1")) < IPAddress("::")!)
  }
}
