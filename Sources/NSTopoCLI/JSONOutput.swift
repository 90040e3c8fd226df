import Foundation

/// Pretty, key-sorted JSON: the same input gives the same bytes.
func encodeJSON<T: Encodable>(_ value: T) throws -> String {
  let e = JSONEncoder()
  e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  e.dateEncodingStrategy = .iso8601
  return String(decoding: try e.encode(value), as: UTF8.self)
}
