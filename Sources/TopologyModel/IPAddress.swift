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

  public enum Family: String, Hashable, Sendable, CaseIterable {
    case ipv4
    case ipv6

    /// Bits in an address.
    public var width: Int { self == .ipv4 ? 32 : 128 }
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
    guard (1...3).contains(digits.count), digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    let length = digits.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    guard length <= address.family.width else { return nil }
    return (address, length)
  }

  public var family: IPAddress.Family { network.family }

  public func contains(_ address: IPAddress) -> Bool {
    address.family == family && IPPrefix(address: address, length: length).network == network
  }

  public var description: String { "\(network)/\(length)" }

  public static func < (a: IPPrefix, b: IPPrefix) -> Bool { (a.network, a.length) < (b.network, b.length) }
}
