/// The language's rules for names that become kernel objects or file names: one place, used
/// by the DSL for what a file declares and by the realizer and the CLI for every name that
/// arrives from the command line, a file or the state before it becomes part of a path.
public enum NameRules {
  /// Interface names: IFNAMSIZ is 16 bytes with the terminating NUL.
  public static let maxInterface = 15
  public static let maxNode = 64
  public static let maxTopology = 32

  /// Letters, digits, `_`, `-` and `.`; not starting with `-` or `.`, no `..`. Safe as one
  /// path component under /run/netns, /run/nstopo and a cgroup mount, and as an interface
  /// name. Returns what is wrong, or nil.
  public static func problem(with name: String, maxBytes: Int) -> String? {
    if name.isEmpty { return "is empty" }
    if name.utf8.count > maxBytes { return "is \(name.utf8.count) bytes long; the limit is \(maxBytes)" }
    for c in name.unicodeScalars {
      let ok = (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-" || c == "."
      if !ok { return "contains '\(c.escaped(asASCII: false))'; use letters, digits, '_', '-' and '.'" }
    }
    if name.hasPrefix("-") || name.hasPrefix(".") { return "starts with '\(name.first!)'" }
    var previous: UInt8 = 0
    for b in name.utf8 {
      if b == UInt8(ascii: ".") && previous == b { return "contains '..'" }
      previous = b
    }
    return nil
  }

  /// What is wrong with `name` as a topology name, or nil.
  public static func topologyProblem(_ name: String) -> String? { problem(with: name, maxBytes: maxTopology) }

  /// What is wrong with `name` as a node name, or nil.
  public static func nodeProblem(_ name: String) -> String? { problem(with: name, maxBytes: maxNode) }

  /// What is wrong with `name` as an interface name, or nil.
  public static func interfaceProblem(_ name: String) -> String? { problem(with: name, maxBytes: maxInterface) }
}
