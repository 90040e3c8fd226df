import TopologyModel

/// A topology built in Swift: each call adds a line of the `.topo` language, and ``build()``
/// reads them with every check of the language, so a topology written in code means what
/// the same file would.
///
/// ```swift
/// var b = TopologyBuilder("twolans")
/// b.subnet("lan[1..2]", "10.1.$i.0/24")
/// b.bridge("sw[1..2]", subnets: ["lan$i"])
/// b.node("r1") { $0.forward(); $0.link("sw1", interface: "eth0"); $0.link("sw2", interface: "eth1") }
/// b.node("a[1..2]") { $0.link("sw1"); $0.route("default", via: "r1") }
/// b.expect("a1", "a2", .reach)
/// let topology = try b.build()
/// ```
public struct TopologyBuilder: Sendable {
  public private(set) var lines: [String]

  public init(_ name: String) { lines = ["topology \(name)"] }

  /// `subnet NAME CIDR [/LEN]`.
  public mutating func subnet(_ name: String, _ cidr: String, carve: Int? = nil) {
    lines.append("subnet \(name) \(cidr)" + (carve.map { " /\($0)" } ?? ""))
  }

  /// `bridge NAME [SUBNET [SUBNET6]]`.
  public mutating func bridge(_ name: String, subnets: [String] = []) {
    lines.append((["bridge", name] + subnets).joined(separator: " "))
  }

  /// `node NAME` and its body.
  public mutating func node(_ name: String, _ body: (inout NodeBody) -> Void = { _ in }) {
    var b = NodeBody()
    body(&b)
    lines.append("node \(name)")
    lines += b.lines.map { "  " + $0 }
  }

  /// `link A:IF [ADDR] -- B:IF [ADDR] [PROPERTIES]`, the general form.
  public mutating func link(_ a: String, _ b: String, properties: String = "") {
    lines.append("link \(a) -- \(b)" + (properties.isEmpty ? "" : " " + properties))
  }

  /// `expect SOURCES -> TARGETS [PROTO [PORT]] reach|blocked`.
  public mutating func expect(_ sources: String, _ targets: String, _ outcome: Expectation.Outcome, proto: TransportProtocol? = nil, port: Int? = nil) {
    var words = ["expect", sources, "->", targets]
    if let proto { words.append(proto.rawValue) }
    if let port { words.append(String(port)) }
    words.append(outcome.rawValue)
    lines.append(words.joined(separator: " "))
  }

  /// `scenario NAME` and its body, one line each (`node r1 down`, `link a b set rate 1mbit`,
  /// `expect …`). Write scenarios after the nodes, as a file does.
  public mutating func scenario(_ name: String, _ body: [String]) {
    lines.append("scenario \(name)")
    lines += body.map { "  " + $0 }
  }

  /// The lines as a `.topo` file would have them.
  public var text: String { lines.joined(separator: "\n") + "\n" }

  /// The topology, checked as `nstopo validate` checks a file.
  /// Diagnostics name the builder's text (``text``), not a file: there is none.
  public func build() throws -> Topology { try Topology.parse(text, name: "TopologyBuilder(\"\(lines[0].dropFirst(9))\").text") }

  /// The lines of one node's body.
  public struct NodeBody: Sendable {
    public private(set) var lines: [String] = []

    /// `link TARGET [IFNAME] [ADDRESS...] [PROPERTIES]`.
    public mutating func link(_ target: String, interface: String? = nil, addresses: [String] = [], properties: String = "") {
      lines.append((["link", target] + (interface.map { [$0] } ?? []) + addresses + (properties.isEmpty ? [] : [properties])).joined(separator: " "))
    }

    /// `route DEST via NODE|ADDRESS`.
    public mutating func route(_ destination: String, via: String) { lines.append("route \(destination) via \(via)") }

    /// `forward`.
    public mutating func forward() { lines.append("forward") }

    /// `cpu N%`.
    public mutating func cpu(_ percent: Int) { lines.append("cpu \(percent)%") }

    /// `run COMMAND`.
    public mutating func run(_ command: String) { lines.append("run \(command)") }

    /// Any other body line, as the language writes it (`firewall input drop`).
    public mutating func line(_ text: String) { lines.append(text) }
  }
}
