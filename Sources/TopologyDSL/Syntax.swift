/// The parsed, not yet expanded, form of a topology file. Every field is a token so that
/// range expansion can rewrite it and diagnostics can point at it.
enum Statement: Sendable {
  case topology(keyword: Token, name: Token)
  case subnet(SubnetDecl)
  case bridge(BridgeDecl)
  case node(NodeDecl)
  case link(GeneralLink)
  case expect(ExpectDecl)
  case scenario(ScenarioDecl)
}

/// `scenario NAME` and its body.
struct ScenarioDecl: Sendable {
  var keyword: Token
  var name: Token
  var body: [ScenarioLine]
}

/// A line of a scenario's body.
enum ScenarioLine: Sendable {
  /// `node NODE down|up`.
  case node(keyword: Token, node: Token, action: Token)
  /// `link A[:IF] B[:IF] down|up|clear`, or `… set PROPERTIES`.
  case link(keyword: Token, a: Token, b: Token, action: Token, properties: [Token])
  case expect(ExpectDecl)
}

struct SubnetDecl: Sendable {
  var name: Token
  var cidr: Token
  /// `/30` or `/31`: block size when carved for point-to-point links.
  var carve: Token?
}

struct BridgeDecl: Sendable {
  var name: Token
  /// At most one per family (checked by the resolver).
  var subnets: [Token]
}

struct NodeDecl: Sendable {
  var keyword: Token
  var name: Token
  var body: [BodyLine]
}

enum BodyLine: Sendable {
  case forward(Token)
  /// `link TARGET [IFNAME] [ADDR|SUBNET [ADDR|SUBNET]] [PROPERTIES]`; the arguments are
  /// classified after expansion. `properties` is the tail from its first keyword on.
  case link(keyword: Token, target: Token, args: [Token], properties: [Token])
  /// `route DEST via NEXTHOP` or `route DEST blackhole|unreachable|prohibit`.
  case route(keyword: Token, destination: Token, kind: Token, nextHop: Token?)
  case cpu(keyword: Token, value: Token)
  case chroot(keyword: Token, path: Token)
  case run(keyword: Token, command: Token)
  /// `firewall input|forward|output accept|drop|reject`.
  case firewall(keyword: Token, chain: Token, action: Token)
  /// `allow|deny|reject CHAIN [PROTO [PORTS]] [from SIDES] [to SIDES] [in IF] [out IF]`; its
  /// words are read by the resolver. Not range-expanded: a side's ranges name its members.
  case rule(keyword: Token, words: [Token])
  /// `masquerade IF`.
  case masquerade(keyword: Token, interface: Token)
  /// `dnat tcp|udp PORT to NODE|ADDRESS[:PORT]`.
  case dnat(keyword: Token, proto: Token, port: Token, to: Token)
}

/// `link A:IF [ADDR [ADDR]] -- B:IF [ADDR [ADDR]] [PROPERTIES]`.
struct GeneralLink: Sendable {
  var keyword: Token
  var left: LinkEndSyntax
  var right: LinkEndSyntax
  /// The tail from its first keyword on (`rate 10mbit down`), read by the resolver.
  var properties: [Token] = []
}

struct LinkEndSyntax: Sendable {
  /// `owner:interface`
  var end: Token
  /// At most one per family (checked by the resolver).
  var addresses: [Token]
}

/// `expect SRC -> DST [ipv4|ipv6] [tcp|udp [PORT]|icmp] reach|blocked`.
struct ExpectDecl: Sendable {
  var keyword: Token
  var source: Token
  var target: Token
  var family: Token?
  var proto: Token?
  var port: Token?
  var outcome: Token
}

extension BodyLine {
  var tokens: [Token] {
    switch self {
    case .forward(let k): return [k]
    case .link(let k, let t, let a, let p): return [k, t] + a + p
    case .route(let k, let d, let kind, let n): return [k, d, kind] + (n.map { [$0] } ?? [])
    case .cpu(let k, let v): return [k, v]
    case .chroot(let k, let p): return [k, p]
    case .run(let k, let c): return [k, c]
    case .firewall(let k, let c, let a): return [k, c, a]
    case .rule(let k, let w): return [k] + w
    case .masquerade(let k, let i): return [k, i]
    case .dnat(let k, let p, let n, let t): return [k, p, n, t]
    }
  }

  /// The same line with every token rewritten by `f` (range expansion).
  func map(_ f: (Token) -> Token) -> BodyLine {
    switch self {
    case .forward(let k): return .forward(k)
    case .link(let k, let t, let a, let p): return .link(keyword: k, target: f(t), args: a.map(f), properties: p.map(f))
    case .route(let k, let d, let kind, let n): return .route(keyword: k, destination: f(d), kind: f(kind), nextHop: n.map(f))
    case .cpu(let k, let v): return .cpu(keyword: k, value: f(v))
    case .chroot(let k, let p): return .chroot(keyword: k, path: f(p))
    case .run(let k, let c): return .run(keyword: k, command: f(c))
    case .firewall(let k, let c, let a): return .firewall(keyword: k, chain: f(c), action: f(a))
    case .rule(let k, let w): return .rule(keyword: k, words: w.map(f))
    case .masquerade(let k, let i): return .masquerade(keyword: k, interface: f(i))
    case .dnat(let k, let p, let n, let t): return .dnat(keyword: k, proto: f(p), port: f(n), to: f(t))
    }
  }
}

enum Keywords {
  /// The words that start a link's tail; each is read with its value (`down` has none).
  static let linkProperties = ["rate", "delay", "jitter", "loss", "mtu", "down"]
  static let topLevel = ["topology", "subnet", "bridge", "node", "link", "expect", "scenario"]
  static let scenarioBody = ["node", "link", "expect"]
  static let body = ["link", "route", "forward", "cpu", "chroot", "run", "firewall", "allow", "deny", "reject", "masquerade", "dnat"]
}
