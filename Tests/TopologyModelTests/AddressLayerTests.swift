import Foundation
import PropertyBased
import Testing
import TopologyModel

/// The family-generic address layer: integers, prefixes, interface addresses, and a link end's
/// `addresses` as documents of every format write them.
@Suite struct AddressLayerTests {
  static let v4 = Gen.uint32().map { IPAddress.v4(IPv4Address($0)) }
  static let v6 = Gen.uint64().array(of: 2...2).map { IPAddress.v6(IPv6Address(high: $0[0], low: $0[1])) }

  @Test func integersAndBytesRoundTripInBothFamilies() async {
    await propertyCheck(count: 1000, input: Gen.oneOf(Self.v4, Self.v6)) { a in
      #expect(IPAddress(a.family, integer: a.integer) == a)
      #expect(IPAddress(bytes: a.bytes) == a)
      #expect(IPAddress(a.description) == a)
    }
  }

  @Test func prefixArithmeticAgreesWithTheIPv4Types() async {
    await propertyCheck(count: 1000, input: Gen.uint32(), Gen.int(in: 0...32)) { value, length in
      let old = IPv4Prefix(address: IPv4Address(value), length: length)
      let new = IPPrefix(address: .v4(IPv4Address(value)), length: length)
      #expect(new == IPPrefix(old))
      #expect(new.v4 == old)
      #expect(new.last == .v4(old.broadcast))
      #expect(new.size == UInt128(old.size))
      #expect(new.mask == UInt128(old.mask))
      for probe in [old.network.value, old.broadcast.value, value, value &+ 1, value &- 1] {
        #expect(new.isUsableHost(.v4(IPv4Address(probe))) == old.isUsableHost(IPv4Address(probe)))
        #expect(new.contains(.v4(IPv4Address(probe))) == old.contains(IPv4Address(probe)))
      }
    }
  }

  @Test func ipv6PrefixesHaveNoBroadcastButASubnetRouterAddress() throws {
    let p = try #require(IPPrefix("2001:db8:1::/64"))
    #expect(p.last == IPAddress("2001:db8:1:0:ffff:ffff:ffff:ffff"))
    #expect(!p.isUsableHost(IPAddress("2001:db8:1::")!))
    #expect(p.isUsableHost(p.last))
    #expect(p.isUsableHost(IPAddress("2001:db8:1::1")!))
    #expect(try #require(IPPrefix("2001:db8::/127")).isUsableHost(IPAddress("2001:db8::")!))
    #expect(p.overlaps(try #require(IPPrefix("2001:db8::/32"))))
    #expect(!p.overlaps(try #require(IPPrefix("2001:db8:2::/64"))))
    #expect(!p.overlaps(try #require(IPPrefix("0.0.0.0/0"))), "families never overlap")
    #expect(try #require(IPPrefix("::/0")).size == .max)
    #expect(try #require(IPPrefix("::/0")).mask == 0)
    #expect(try #require(IPPrefix("2001:db8::/128")).mask == .max)
  }

  @Test(arguments: [
    ("10.0.0.1/24", "10.0.0.1/24"), ("2001:DB8::1/64", "2001:db8::1/64"), ("10.0.0.1/024", nil), ("10.0.0.1/33", nil),
    ("::1/129", nil), ("::1/128", "::1/128"), ("10.0.0.1", nil),
  ] as [(String, String?)])
  func interfaceAddressesParseEitherFamily(text: String, printed: String?) {
    #expect(InterfaceAddress(text)?.description == printed)
  }

  @Test func aLinkEndKeepsOneAddressPerFamilyIPv4First() throws {
    var end = LinkEnd(owner: .node("a"), interface: "eth0", addresses: [InterfaceAddress("fd00::1/64")!, InterfaceAddress("10.0.0.1/24")!])
    #expect(end.addresses.map(\.description) == ["10.0.0.1/24", "fd00::1/64"])
    #expect(end.address(.ipv6)?.description == "fd00::1/64")
    end.setAddress(.ipv4, InterfaceAddress("10.0.0.9/24"))
    #expect(end.addresses.map(\.description) == ["10.0.0.9/24", "fd00::1/64"])
    end.setAddress(.ipv6, nil)
    #expect(end.addresses.map(\.description) == ["10.0.0.9/24"])
  }

  @Test func aLinkEndIsWrittenAsAListAndReadFromEitherForm() throws {
    let end = LinkEnd(owner: .node("a"), interface: "eth0", addresses: [InterfaceAddress("10.0.0.1/24")!, InterfaceAddress("fd00::1/64")!])
    let encoder = JSONEncoder()
    encoder.outputFormatting = .sortedKeys
    let text = String(decoding: try encoder.encode(end), as: UTF8.self)
    #expect(text == #"{"addresses":["10.0.0.1\/24","fd00::1\/64"],"interface":"eth0","owner":"node:a"}"#)
    #expect(try JSONDecoder().decode(LinkEnd.self, from: Data(text.utf8)) == end)
    let old = #"{"address":"10.0.0.1\/24","interface":"eth0","owner":{"node":{"_0":"a"}}}"#
    #expect(try JSONDecoder().decode(LinkEnd.self, from: Data(old.utf8)).addresses == [InterfaceAddress("10.0.0.1/24")!])
    let bare = LinkEnd(owner: .bridge("sw"), interface: "p1")
    #expect(String(decoding: try encoder.encode(bare), as: UTF8.self) == #"{"interface":"p1","owner":"bridge:sw"}"#)
    let twice = #"{"addresses":["10.0.0.1\/24","10.0.0.2\/24"],"interface":"eth0","owner":{"host":{}}}"#
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(LinkEnd.self, from: Data(twice.utf8)) }
  }
}
