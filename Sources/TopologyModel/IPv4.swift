/// An IPv4 address as a host-order integer, so that ranges and masks are plain arithmetic.
public struct IPv4Address: Hashable, Comparable, Sendable, CustomStringConvertible {
  public var value: UInt32

  public init(_ value: UInt32) { self.value = value }

  /// Parses a strict dotted quad: four decimal octets, no leading `+`, no empty parts.
  public init?<S: StringProtocol>(_ text: S) {
    var octets: [UInt32] = []
    var current: UInt32 = 0
    var digits = 0
    for ch in text.utf8 {
      if ch == UInt8(ascii: ".") {
        guard digits > 0, octets.count < 3 else { return nil }
        octets.append(current)
        current = 0
        digits = 0
      } else if ch >= UInt8(ascii: "0") && ch <= UInt8(ascii: "9") {
        current = current * 10 + UInt32(ch - UInt8(ascii: "0"))
        digits += 1
        guard digits <= 3, current <= 255 else { return nil }
      } else {
        return nil
      }
    }
    guard digits > 0, octets.count == 3 else { return nil }
    octets.append(current)
    value = octets[0] << 24 | octets[1] << 16 | octets[2] << 8 | octets[3]
  }

  public var description: String {
    "\(value >> 24).\(value >> 16 & 0xff).\(value >> 8 & 0xff).\(value & 0xff)"
  }

  public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }
}

/// A network: an address with its host bits cleared and a prefix length (0...32).
public struct IPv4Prefix: Hashable, Comparable, Sendable, CustomStringConvertible {
  public let network: IPv4Address
  public let length: Int

  /// Masks `address` down to its network.
  public init(address: IPv4Address, length: Int) {
    precondition((0...32).contains(length), "prefix length out of range")
    self.length = length
    self.network = IPv4Address(address.value & IPv4Prefix.mask(length))
  }

  /// Parses `a.b.c.d/len`; nil when malformed. Host bits are allowed here: see `hasHostBits`.
  public init?<S: StringProtocol>(_ text: S) {
    guard let parsed = IPv4Prefix.parse(text) else { return nil }
    self.init(address: parsed.0, length: parsed.1)
  }

  /// Splits `a.b.c.d/len` without masking, so a caller can complain about host bits.
  public static func parse<S: StringProtocol>(_ text: S) -> (IPv4Address, Int)? {
    // Byte by byte: validation parses every address of a large file, often more than once.
    let text = Substring(text)
    let utf8 = text.utf8
    guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return nil }
    var length = 0
    var digits = 0
    for b in utf8[utf8.index(after: slash)...] {
      guard b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9"), digits < 2 else { return nil }
      length = length * 10 + Int(b - UInt8(ascii: "0"))
      digits += 1
    }
    guard digits > 0, length <= 32, let addr = IPv4Address(text[..<slash]) else { return nil }
    return (addr, length)
  }

  public static func mask(_ length: Int) -> UInt32 {
    length == 0 ? 0 : UInt32.max << UInt32(32 - length)
  }

  public var mask: UInt32 { IPv4Prefix.mask(length) }
  public var broadcast: IPv4Address { IPv4Address(network.value | ~mask) }
  /// Number of addresses in the prefix, as UInt64 so that /0 fits.
  public var size: UInt64 { UInt64(1) << UInt64(32 - length) }
  public var isDefault: Bool { length == 0 }

  public func contains(_ address: IPv4Address) -> Bool { address.value & mask == network.value }

  public func overlaps(_ other: IPv4Prefix) -> Bool {
    let shorter = min(length, other.length)
    let m = IPv4Prefix.mask(shorter)
    return network.value & m == other.network.value & m
  }

  /// Whether `address` may be given to an interface: not the network or broadcast address,
  /// except in /31 and /32 where every address is usable (RFC 3021).
  public func isUsableHost(_ address: IPv4Address) -> Bool {
    guard contains(address) else { return false }
    if length >= 31 { return true }
    return address != network && address != broadcast
  }

  public var description: String { "\(network)/\(length)" }

  public static func < (a: IPv4Prefix, b: IPv4Prefix) -> Bool {
    (a.network, a.length) < (b.network, b.length)
  }
}

/// Values that are written as a string in JSON (`"10.0.0.1"`, `"10.0.0.0/24"`).
public protocol TextCodable: Codable, CustomStringConvertible {
  init?(parsing text: String)
}

extension TextCodable {
  public init(from decoder: Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    guard let v = Self(parsing: text) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "bad \(Self.self): \(text)"))
    }
    self = v
  }

  public func encode(to encoder: Encoder) throws {
    var c = encoder.singleValueContainer()
    try c.encode(description)
  }
}

extension IPv4Address: TextCodable {
  public init?(parsing text: String) { self.init(text) }
}

extension IPv4Prefix: TextCodable {
  public init?(parsing text: String) { self.init(text) }
}

