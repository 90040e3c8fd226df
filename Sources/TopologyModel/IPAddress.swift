/// An IPv6 address as two host-order 64-bit halves, so that prefixes and masks are plain
/// arithmetic, as for `IPv4Address`. Text per RFC 4291 §2.2 in, RFC 5952 out.
public struct IPv6Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var high: UInt64
  public var low: UInt64

  public init(high: UInt64, low: UInt64) {
    self.high = high
    self.low = low
  }

  /// The eight 16-bit groups, most significant first.
  public init(groups: [UInt16]) {
    precondition(groups.count == 8)
    var h: UInt64 = 0
    var l: UInt64 = 0
    for g in groups[0..<4] { h = h << 16 | UInt64(g) }
    for g in groups[4..<8] { l = l << 16 | UInt64(g) }
    self.init(high: h, low: l)
  }

  public var groups: [UInt16] {
    (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - 16 * UInt64($0))) }
      + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - 16 * UInt64($0))) }
  }

  /// The 16 bytes in network order (what a `sockaddr_in6` and netlink carry).
  public var bytes: [UInt8] {
    (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - 8 * UInt64($0))) }
      + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * UInt64($0))) }
  }

  public init(bytes: [UInt8]) {
    precondition(bytes.count == 16)
    self.init(high: bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) }, low: bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
  }

  /// Parses the RFC 4291 text forms: eight groups of one to four hex digits, at most one `::`
  /// for a run of zero groups, and an embedded dotted IPv4 address in the last 32 bits
  /// (`::ffff:192.0.2.1`). No zone index (`%eth0`) and no brackets: a topology names
  /// interfaces itself.
  public init?<S: StringProtocol>(_ text: S) {
    let utf8 = Array(text.utf8)
    guard !utf8.isEmpty, utf8.count <= 45 else { return nil }
    var head: [UInt16] = []
    var tail: [UInt16] = []
    var sawGap = false
    var i = 0
    if utf8.starts(with: [0x3a, 0x3a]) {
      sawGap = true
      i = 2
      if i == utf8.count { self.init(groups: [UInt16](repeating: 0, count: 8)); return }
    } else if utf8[0] == 0x3a {
      return nil
    }
    while i < utf8.count {
      // One group, or the dotted IPv4 tail.
      var j = i
      while j < utf8.count && utf8[j] != 0x3a { j += 1 }
      let word = utf8[i..<j]
      if word.contains(0x2e) {
        guard j == utf8.count, let v4 = IPv4Address(String(decoding: word, as: UTF8.self)) else { return nil }
        let parts = [UInt16(v4.value >> 16), UInt16(v4.value & 0xffff)]
        if sawGap { tail += parts } else { head += parts }
        i = j
        break
      }
      guard (1...4).contains(word.count) else { return nil }
      var value: UInt16 = 0
      for b in word {
        guard let d = Self.hexValue(b) else { return nil }
        value = value << 4 | UInt16(d)
      }
      if sawGap { tail.append(value) } else { head.append(value) }
      if j == utf8.count {
        i = j
        break
      }
      // A colon: another group follows, or "::".
      if j + 1 < utf8.count && utf8[j + 1] == 0x3a {
        guard !sawGap else { return nil }
        sawGap = true
        i = j + 2
        if i == utf8.count { break }
        guard utf8[i] != 0x3a else { return nil }
      } else {
        guard j + 1 < utf8.count else { return nil }
        i = j + 1
      }
    }
    let count = head.count + tail.count
    if sawGap {
      guard count <= 7 else { return nil }
      self.init(groups: head + [UInt16](repeating: 0, count: 8 - count) + tail)
    } else {
      guard count == 8 else { return nil }
      self.init(groups: head)
    }
  }

  private static func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case 0x30...0x39: return b - 0x30
    case 0x61...0x66: return b - 0x61 + 10
    case 0x41...0x46: return b - 0x41 + 10
    default: return nil
    }
  }

  /// RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as
  /// `::` (the first of equal runs), and, as inet_ntop writes them, IPv4-mapped
  /// (`::ffff:a.b.c.d`) and IPv4-compatible (`::a.b.c.d`) addresses with a dotted tail.
  public var description: String {
    let g = groups
    var best = (start: -1, length: 0)
    var k = 0
    while k < 8 {
      guard g[k] == 0 else {
        k += 1
        continue
      }
      var e = k
      while e < 8 && g[e] == 0 { e += 1 }
      if e - k > best.length { best = (k, e - k) }
      k = e
    }
    if best.length < 2 { best = (-1, 0) }
    if best.start == 0 && (best.length == 6 || (best.length == 5 && g[5] == 0xffff)) {
      let v4 = IPv4Address(UInt32(g[6]) << 16 | UInt32(g[7]))
      return best.length == 6 ? "::\(v4)" : "::ffff:\(v4)"
    }
    var out = ""
    var i = 0
    while i < 8 {
      if i == best.start {
        out += "::"
        i += best.length
        continue
      }
      if !out.isEmpty && !out.hasSuffix(":") { out += ":" }
      out += String(g[i], radix: 16)
      i += 1
    }
    return out
  }

  public static func < (a: IPv6Address, b: IPv6Address) -> Bool { (a.high, a.low) < (b.high, b.low) }

  /// The mask of a prefix length, as two halves.
  public static func mask(_ length: Int) -> (UInt64, UInt64) {
    func half(_ bits: Int) -> UInt64 { bits <= 0 ? 0 : bits >= 64 ? .max : UInt64.max << UInt64(64 - bits) }
    return (half(length), half(length - 64))
  }
}

/// An address of either family: what a topology, a route and a probe carry.
public enum IPAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
  case v4(IPv4Address)
  case v6(IPv6Address)

  public enum Family: String, Hashable, Sendable, CaseIterable, Codable {
    case ipv4
    case ipv6

    /// Bits in an address.
    public var width: Int { self == .ipv4 ? 32 : 128 }
    /// `IPv4` or `IPv6`, for sentences.
    public var name: String { self == .ipv4 ? "IPv4" : "IPv6" }
    public var other: Family { self == .ipv4 ? .ipv6 : .ipv4 }
  }

  /// A dotted quad is IPv4, anything with a colon IPv6.
  public init?<S: StringProtocol>(_ text: S) {
    if text.utf8.contains(0x3a) {
      guard let a = IPv6Address(text) else { return nil }
      self = .v6(a)
    } else {
      guard let a = IPv4Address(text) else { return nil }
      self = .v4(a)
    }
  }

  public var family: Family {
    switch self {
    case .v4: return .ipv4
    case .v6: return .ipv6
    }
  }

  /// Network-order bytes: 4 or 16.
  public var bytes: [UInt8] {
    switch self {
    case .v4(let a): return [UInt8(a.value >> 24), UInt8(a.value >> 16 & 0xff), UInt8(a.value >> 8 & 0xff), UInt8(a.value & 0xff)]
    case .v6(let a): return a.bytes
    }
  }

  public var description: String {
    switch self {
    case .v4(let a): return a.description
    case .v6(let a): return a.description
    }
  }

  /// The value alone: tables keyed by address are mostly of one family, and equality still
  /// tells the families apart.
  public func hash(into hasher: inout Hasher) {
    switch self {
    case .v4(let a): hasher.combine(a.value)
    case .v6(let a):
      hasher.combine(a.high)
      hasher.combine(a.low)
    }
  }

  /// IPv4 before IPv6, then by value.
  public static func < (a: IPAddress, b: IPAddress) -> Bool {
    switch (a, b) {
    case (.v4(let x), .v4(let y)): return x < y
    case (.v6(let x), .v6(let y)): return x < y
    case (.v4, .v6): return true
    case (.v6, .v4): return false
    }
  }
}

/// A network of either family: the address with its host bits cleared, and a length.
public struct IPPrefix: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let network: IPAddress
  public let length: Int

  /// Masks `address` to `length` bits (0...32 or 0...128 by family).
  public init(address: IPAddress, length: Int) {
    precondition(length >= 0 && length <= address.family.width, "prefix length \(length) for \(address.family)")
    self.length = length
    switch address {
    case .v4(let a): network = .v4(IPv4Address(a.value & IPv4Prefix.mask(length)))
    case .v6(let a):
      let (h, l) = IPv6Address.mask(length)
      network = .v6(IPv6Address(high: a.high & h, low: a.low & l))
    }
  }

  /// `ADDRESS/LEN`, host bits cleared; nil when malformed. `parse` keeps the host bits, so a
  /// caller can complain about them.
  public init?<S: StringProtocol>(_ text: S) {
    guard let (a, l) = Self.parse(text) else { return nil }
    self.init(address: a, length: l)
  }

  public static func parse<S: StringProtocol>(_ text: S) -> (IPAddress, Int)? {
    let text = Substring(text)
    guard let slash = text.utf8.firstIndex(of: UInt8(ascii: "/")), let address = IPAddress(text[..<slash]) else { return nil }
    let digits = text.utf8[text.utf8.index(after: slash)...]
    // At most two digits for IPv4 and three for IPv6, as the IPv4 parser always took.
    guard (1...(address.family == .ipv4 ? 2 : 3)).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
      return nil
    }
    let length = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    guard length <= address.family.width else { return nil }
    return (address, length)
  }

  public var family: IPAddress.Family { network.family }

  public func contains(_ address: IPAddress) -> Bool {
    switch (network, address) {
    case (.v4(let n), .v4(let a)): return a.value & IPv4Prefix.mask(length) == n.value
    case (.v6(let n), .v6(let a)):
      let (h, l) = IPv6Address.mask(length)
      return a.high & h == n.high && a.low & l == n.low
    default: return false
    }
  }

  public var description: String { "\(network)/\(length)" }

  public static func < (a: IPPrefix, b: IPPrefix) -> Bool { (a.network, a.length) < (b.network, b.length) }
}

extension IPAddress {
  /// The IPv4 address, if this is one.
  public var v4: IPv4Address? {
    if case .v4(let a) = self { return a }
    return nil
  }

  /// The address as an unsigned integer of its family's width, so that hosts, blocks and
  /// masks are arithmetic for both families alike.
  public var integer: UInt128 {
    switch self {
    case .v4(let a): return UInt128(a.value)
    case .v6(let a): return UInt128(a.high) << 64 | UInt128(a.low)
    }
  }

  /// The address of `family` with integer value `integer` (truncated to the family's width).
  public init(_ family: Family, integer: UInt128) {
    switch family {
    case .ipv4: self = .v4(IPv4Address(UInt32(truncatingIfNeeded: integer)))
    case .ipv6: self = .v6(IPv6Address(high: UInt64(truncatingIfNeeded: integer >> 64), low: UInt64(truncatingIfNeeded: integer)))
    }
  }

  /// Inverse of `bytes`: 4 bytes are IPv4, 16 IPv6, anything else nil.
  public init?(bytes: some Collection<UInt8>) {
    switch bytes.count {
    case 4: self = .v4(IPv4Address(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    case 16: self = .v6(IPv6Address(bytes: Array(bytes)))
    default: return nil
    }
  }
}

extension IPPrefix {
  public init(_ v4: IPv4Prefix) { self.init(address: .v4(v4.network), length: v4.length) }

  /// The IPv4 prefix, if this is one.
  public var v4: IPv4Prefix? {
    guard case .v4(let a) = network else { return nil }
    return IPv4Prefix(address: a, length: length)
  }

  /// The mask as an integer of the family's width.
  public var mask: UInt128 {
    let width = family.width
    guard length > 0 else { return 0 }
    let all: UInt128 = width == 128 ? .max : UInt128(UInt32.max)
    return all << UInt128(width - length) & all
  }

  /// The last address of the prefix (the IPv4 broadcast address).
  public var last: IPAddress { IPAddress(family, integer: network.integer | ~mask & (family == .ipv4 ? UInt128(UInt32.max) : .max)) }

  /// Addresses in the prefix, saturating at `UInt128.max` for ::/0.
  public var size: UInt128 { length == 0 && family == .ipv6 ? .max : UInt128(1) << UInt128(family.width - length) }

  public var isDefault: Bool { length == 0 }

  public func overlaps(_ other: IPPrefix) -> Bool {
    guard family == other.family else { return false }
    let shorter = IPPrefix(address: network, length: min(length, other.length))
    return shorter.contains(other.network)
  }

  /// Whether `address` may be given to an interface. IPv4: not the network or broadcast
  /// address, except in /31 and /32 (RFC 3021). IPv6: not the subnet-router anycast address
  /// (the network, RFC 4291 §2.6.1), except in /127 and /128 (RFC 6164).
  public func isUsableHost(_ address: IPAddress) -> Bool {
    guard contains(address) else { return false }
    switch family {
    case .ipv4: return length >= 31 || (address != network && address != last)
    case .ipv6: return length >= 127 || address != network
    }
  }
}

/// An address configured on an interface, with the prefix length of its subnet:
/// what `ip addr add 10.0.0.1/24 dev eth0` (or `2001:db8::1/64`) takes.
public struct InterfaceAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var address: IPAddress
  public var length: Int

  public init(address: IPAddress, length: Int) {
    precondition(length >= 0 && length <= address.family.width, "prefix length \(length) for \(address.family)")
    self.address = address
    self.length = length
  }

  public init(address: IPv4Address, length: Int) { self.init(address: .v4(address), length: length) }

  public init?<S: StringProtocol>(_ text: S) {
    guard let (addr, len) = IPPrefix.parse(text) else { return nil }
    self.init(address: addr, length: len)
  }

  public var family: IPAddress.Family { address.family }
  public var prefix: IPPrefix { IPPrefix(address: address, length: length) }
  public var description: String { "\(address)/\(length)" }

  public static func < (a: InterfaceAddress, b: InterfaceAddress) -> Bool {
    (a.address, a.length) < (b.address, b.length)
  }
}

extension IPAddress: TextCodable {
  public init?(parsing text: String) { self.init(text) }
}

extension IPPrefix: TextCodable {
  public init?(parsing text: String) { self.init(text) }
}

extension InterfaceAddress: TextCodable {
  public init?(parsing text: String) { self.init(text) }
}
