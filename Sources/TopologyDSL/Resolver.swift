import TopologyModel

/// Turns statements into a `Topology`: expands ranges, resolves every reference, names
/// interfaces, assigns addresses and checks all of it, collecting every problem.
struct Resolver {
  let fileName: String
  let options: LoadOptions
  var diagnostics: [Diagnostic] = []
  var expander = Expander()
  var suggester = Suggester()
  /// Node body lines and top-level links after expansion, for the file's limit.
  var expandedLines = 0

  var topologyName: String?
  var subnets: [SubnetEntry] = []
  var subnetIndex: [String: Int] = [:]
  var bridges: [BridgeEntry] = []
  var bridgeIndex: [String: Int] = [:]
  var nodes: [NodeEntry] = []
  var nodeIndex: [String: Int] = [:]
  var lines: [LinkLine] = []
  var expects: [ExpectDecl] = []
  var scenarioDecls: [ScenarioDecl] = []

  struct SubnetEntry {
    var name: String
    var token: Token
    var prefix: IPPrefix
    var carve: Int
    /// Who uses it: a bridge's name, or nil when it is a point-to-point pool.
    var bridge: String?
    var pool = false
  }

  struct BridgeEntry {
    var name: String
    var token: Token
    var subnetTokens: [Token]
    /// At most one per family, IPv4 first.
    var subnets: [Int] = []
  }

  struct NodeEntry {
    var name: String
    var token: Token
    var note: String?
    var body: [BodyLine]
  }

  /// A `link` line after expansion, in file order.
  enum LinkLine {
    case body(node: String, keyword: Token, target: Token, args: [Token], properties: [Token], note: String?)
    case general(GeneralLink)
  }

  init(fileName: String, options: LoadOptions) {
    self.fileName = fileName
    self.options = options
  }

  mutating func error(_ message: String, at token: Token, hint: String? = nil, note: String? = nil) {
    add(Diagnostic(.error, message, at: token, hint: hint, note: note))
  }

  /// An error at a place with no token of its own (just after a word that needs another).
  mutating func error(_ message: String, line: Int, column: Int, hint: String? = nil, note: String? = nil) {
    add(Diagnostic(.error, message, line: line, column: column, hint: hint, note: note))
  }

  mutating func warning(_ message: String, at token: Token, hint: String? = nil, note: String? = nil) {
    add(Diagnostic(.warning, message, at: token, hint: hint, note: note))
  }

  /// Where each diagnostic of a shape stands, and how many copies of it were folded in as
  /// they came: a range line that fails 50,000 times keeps one diagnostic, not 50,000
  /// (`TopologyLoader.collapse` words the count).
  struct Place: Hashable {
    var line: Int
    var column: Int
    var severity: Diagnostic.Severity
    var shape: String
  }
  var placed: [Place: Int] = [:]
  var folded: [Int: Int] = [:]

  private mutating func add(_ d: Diagnostic) {
    let place = Place(line: d.line, column: d.column, severity: d.severity, shape: TopologyLoader.shape(of: d.message))
    if let i = placed[place] {
      if diagnostics[i].message != d.message { folded[i, default: 0] += 1 }
      return
    }
    placed[place] = diagnostics.count
    diagnostics.append(d)
  }

  mutating func resolve(_ statements: [Statement]) -> Topology {
    for statement in statements { declare(statement) }
    diagnostics += expander.diagnostics
    expander.diagnostics = []
    if topologyName == nil {
      let name = TopologyLoader.defaultName(for: fileName)
      if let problem = Names.problem(with: name, maxBytes: Names.maxTopology) {
        diagnostics.append(
          Diagnostic(.error, "the topology name '\(name)' taken from the file name \(problem)", line: 1, column: 1,
            hint: "name it explicitly: `topology NAME`"))
      }
      topologyName = name
    }
    if nodes.isEmpty && !statements.isEmpty && !diagnostics.hasErrors {
      diagnostics.append(Diagnostic(.error, "the topology declares no node", line: 1, column: 1, hint: "add `node NAME`"))
    }
    resolveBridgeSubnets()
    checkOverlaps()
    var builder = LinkBuilder(resolver: self)
    builder.build()
    diagnostics = builder.resolver.diagnostics
    placed = builder.resolver.placed
    folded = builder.resolver.folded
    suggester = builder.resolver.suggester
    subnets = builder.resolver.subnets
    let links = builder.links
    let segments = Segments(links: links)
    let resolvedNodes = nodes.map { resolveBody($0, segments: segments) }
    let expectations = expects.compactMap { resolveExpect($0, segments: segments) }
    for b in bridges where !links.contains(where: { $0.bridge == b.name }) {
      warning("bridge '\(b.name)' has no ports", at: b.token, hint: "link a node to it: `link \(b.name)` in a node body")
    }
    for s in subnets where s.bridge == nil && !s.pool {
      warning("subnet '\(s.name)' is never used", at: s.token)
    }
    var t = Topology(
      name: topologyName!,
      subnets: subnets.map { Subnet(name: $0.name, prefix: $0.prefix, carve: $0.carve) },
      bridges: bridges.map { Bridge(name: $0.name, subnets: $0.subnets.map { subnets[$0].name }) },
      nodes: resolvedNodes, links: links, expectations: expectations)
    t.scenarios = scenarioDecls.map { resolveScenario($0, in: t, segments: segments) }
    return t
  }
}

extension String {
  func replacingAll(_ target: String, with replacement: String) -> String {
    components(separatedBy: target).joined(separator: replacement)
  }
}
