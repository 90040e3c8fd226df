/// Rules for names that become kernel objects or file names.
enum Names {
  /// Interface names: IFNAMSIZ is 16 bytes with the terminating NUL.
  static let maxInterface = 15
  static let maxNode = 64
  static let maxTopology = 32

  /// Letters, digits, `_`, `-` and `.`; not starting with `-` or `.`. Safe as a file name under
  /// /run/netns and as an interface name.
  static func problem(with name: String, maxBytes: Int) -> String? {
    if name.isEmpty { return "is empty" }
    if name.utf8.count > maxBytes { return "is \(name.utf8.count) bytes long; the limit is \(maxBytes)" }
    for c in name.unicodeScalars {
      let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "."
      if !ok { return "contains '\(c)'; use letters, digits, '_', '-' and '.'" }
    }
    if name.hasPrefix("-") || name.hasPrefix(".") { return "starts with '\(name.first!)'" }
    if name.contains("..") { return "contains '..'" }
    return nil
  }
}
