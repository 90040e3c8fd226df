import TopologyModel

/// What the validator may learn about the machine, injected so that the DSL stays pure.
public struct LoadOptions: Sendable {
  /// CPUs on this machine, for the `cpu` warning; nil skips the check.
  public var cpuCount: Int?
  /// Whether a path exists, for the `chroot` warning; nil skips the check.
  public var pathExists: (@Sendable (String) -> Bool)?
  /// Folder that relative `chroot` paths are resolved against (the topology file's folder).
  public var directory: String
  /// Whether this kernel has netem, asked only when a link needs it (a delay, a jitter or a
  /// loss); nil skips the check.
  public var netemAvailable: (@Sendable () -> Bool)?

  public init(
    cpuCount: Int? = nil, pathExists: (@Sendable (String) -> Bool)? = nil, directory: String = "",
    netemAvailable: (@Sendable () -> Bool)? = nil
  ) {
    self.cpuCount = cpuCount
    self.pathExists = pathExists
    self.directory = directory
    self.netemAvailable = netemAvailable
  }
}

/// The outcome of reading a topology file: a model when there are no errors, and every diagnostic.
public struct LoadResult: Sendable {
  public var topology: Topology?
  public var diagnostics: [Diagnostic]
  public var renderer: DiagnosticRenderer

  public var rendered: String { renderer.render(diagnostics) }
}

public enum TopologyLoader {
  /// Most nodes one topology may declare.
  public static let maxNodes = Expander.maxInstances
  /// Most node body lines and top-level links one file may expand to: two lines for each of
  /// 50,000 nodes. Validation time and memory grow with it (about 1 s and 170 MB at 100,000).
  public static let maxExpandedLines = 100_000

  /// Lexes, parses, expands and validates `bytes`. `fileName` names the file in diagnostics and
  /// gives the default topology name.
  public static func load(bytes: [UInt8], fileName: String, options: LoadOptions = LoadOptions()) -> LoadResult {
    let lexer = Lexer(bytes: bytes)
    let parser = Parser(lines: lexer.lines)
    var resolver = Resolver(fileName: fileName, options: options)
    var diagnostics = lexer.diagnostics + parser.diagnostics
    let topology = resolver.resolve(parser.statements)
    let offset = diagnostics.count
    diagnostics += resolver.diagnostics
    diagnostics = collapse(diagnostics, folded: Dictionary(uniqueKeysWithValues: resolver.folded.map { ($0.key + offset, $0.value) }))
    return LoadResult(
      topology: diagnostics.hasErrors ? nil : topology, diagnostics: diagnostics,
      renderer: DiagnosticRenderer(fileName: fileName, source: lexer.source))
  }

  public static func load(text: String, fileName: String, options: LoadOptions = LoadOptions()) -> LoadResult {
    load(bytes: Array(text.utf8), fileName: fileName, options: options)
  }

  /// Sorts by position and folds the copies that one range line produces into the first:
  /// same place, same message but for the names and numbers in it. Different problems at
  /// one place (a bad byte and an unknown keyword) are all kept.
  static func collapse(_ diagnostics: [Diagnostic], folded: [Int: Int] = [:]) -> [Diagnostic] {
    struct Key: Hashable {
      var line: Int
      var column: Int
      var severity: Diagnostic.Severity
      var shape: String
    }
    var order: [Key] = []
    var first: [Key: Diagnostic] = [:]
    var extra: [Key: Int] = [:]
    for (i, d) in diagnostics.enumerated() {
      let k = Key(line: d.line, column: d.column, severity: d.severity, shape: shape(of: d.message))
      if first[k] == nil {
        first[k] = d
        order.append(k)
      } else if first[k]!.message != d.message {
        extra[k, default: 0] += 1
      }
      if let n = folded[i] { extra[k, default: 0] += n }
    }
    return order.enumerated().sorted {
      ($0.element.line, $0.element.column, $0.element.severity == .error ? 0 : 1, $0.offset)
        < ($1.element.line, $1.element.column, $1.element.severity == .error ? 0 : 1, $1.offset)
    }.map(\.element)
      .map { k in
        var d = first[k]!
        if let n = extra[k] {
          let more = "and \(n) more like it from the same range"
          d.note = d.note.map { "\($0); \(more)" } ?? more
        }
        return d
      }
  }

  /// A message without its quoted names and its numbers: what copies from one range share.
  static func shape(of message: String) -> String {
    var out: [UInt8] = []
    out.reserveCapacity(message.utf8.count)
    var quoted = false
    for b in message.utf8 {
      if b == UInt8(ascii: "'") {
        quoted.toggle()
        out.append(b)
      } else if !quoted && !(b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) {
        out.append(b)
      }
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// The file's base name without `.topo`: the default topology name.
  public static func defaultName(for fileName: String) -> String {
    var base = fileName.split(separator: "/").last.map(String.init) ?? fileName
    if base.hasSuffix(".topo") { base.removeLast(5) }
    return base
  }
}

extension TopologyLoader {
  /// The topology's name without validating the rest: the `topology` line if there is one,
  /// else the file name. `down FILE` uses it so that a broken or edited file still works.
  public static func declaredName(bytes: [UInt8], fileName: String) -> String {
    let lexer = Lexer(bytes: bytes)
    for line in lexer.lines where !line.indented && line.tokens.count == 2 && line.tokens[0].text == "topology" {
      return line.tokens[1].text
    }
    return defaultName(for: fileName)
  }
}
