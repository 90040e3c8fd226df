import Planner
import Predict
import TopologyDSL
import TopologyModel

/// What `nstopo validate` and `nstopo plan` do with a file, without the file system: load,
/// lint, plan, and render the diagnostics. The fuzzer and the regression tests share it.
public enum FuzzHarness {
  public struct Outcome: Sendable {
    /// Empty when the loader kept its contract: a model and no error, or errors and no model.
    public var problems: [String]
    public var diagnostics: Int
  }

  /// Expected pairs `plan` may list (as the CLI caps it).
  public static let planLimit = 1_000_000

  public static func run(_ bytes: [UInt8]) -> Outcome {
    let r = Validation.load(bytes: bytes, fileName: "fuzz.topo", options: LoadOptions(cpuCount: 2))
    var problems: [String] = []
    if let t = r.topology {
      if r.diagnostics.hasErrors { problems.append("a model despite errors") }
      // Plan what a fuzz input may reasonably plan: its cost grows with the topology, which
      // validate bounds, and is measured by `make bench`, not here.
      if t.nodes.count <= 2_000 && ExpectationIndex(t.expectations).pairBound <= planLimit {
        let plan = Planner.plan(t)
        _ = PlanText.render(plan)
        _ = PlanDocument(plan)
      }
    } else if !r.diagnostics.hasErrors {
      problems.append("no model and no error")
    }
    _ = r.rendered
    return Outcome(problems: problems, diagnostics: r.diagnostics.count)
  }

  /// YAML's indicators and containerlab's words, for the importer's token soups.
  public static let yamlFragments = [
    "name:", "topology:", "nodes:", "links:", "kinds:", "groups:", "defaults:", "kind:", "linux", "bridge", "ovs-bridge", "group:",
    "exec:", "cpu:", "sysctls:", "endpoints:", "endpoint:", "host-interface:", "type:", "veth", "host", "mtu:", "image:",
    "- ", "-", ":", "? ", "&a", "*a", "&b", "*b", "<<: *a", "[", "]", "{", "}", ",", "'", "\"", "|", ">", "#", "!!str", "!!map",
    "a:eth1", "b:eth1", "host:veth1", "ip addr add 10.0.0.1/24 dev eth1", "ip route add default via 10.0.0.254",
    "ip -6 route add ::/0 via fd00::1", "tc qdisc add dev eth1 root tbf rate 1mbit burst 32kbit latency 400ms",
    "sysctl -w net.ipv4.ip_forward=1", "net.ipv4.ip_forward: 1", "\n", "\n  ", "\n    ", "\n      ", "\t", "\r", "\u{0}", "é",
    "999999999999", "~", "null", "true", "0x10", "1.5", "-1",
  ]

  /// Words the language uses, and a few that break things, for token soups.
  public static let fragments = [
    "node", "bridge", "subnet", "link", "route", "expect", "topology", "forward", "cpu", "chroot", "run",
    "h[1..3]", "[", "]", "..", "$i", "$j", "$k", "->", "--", "via", "default", "blackhole", "unreachable", "prohibit",
    "10.0.0.0/24", "0.0.0.0/0", "255.255.255.252/30", "10.0.0.1", "/30", "/31", "host:veth1", "r1:eth0", "#", "'", "\"",
    "\t", "  ", "\n", "\r", "50%", "reach", "blocked", "tcp", "udp", "65535", "0", "s1", "lan1", "p2p", "h1", "r1", "*",
    ",", ":", "é", "\u{0}", "\r\n", "999999999999", "9223372036854775807", "h[0..49999]", "h[1..300][1..300]", "x[1..9]",
    "fd00::/64", "fd00:1::/56", "fd00::1", "fd00::1/64", "::/0", "::", "::1", "/64", "/126", "/127", "ffff::/16", "fd00::/127",
    "fd00:$i::/64", "::ffff:10.0.0.1", "ipv4", "ipv6", "lan6", "p2p6",
  ]

  /// Input number `index` of a run seeded with `seed`: a token soup or a mutated example, the
  /// same every time, so that any failure is replayed from (seed, index) alone.
  public static func input(seed: UInt64, index: UInt64, corpus: [[UInt8]], fragments: [String] = fragments) -> [UInt8] {
    var g = SplitMix64(state: seed &* 0x9E37_79B9_7F4A_7C15 ^ index)
    if corpus.isEmpty || g.next() % 2 == 0 {
      var text = ""
      for _ in 0..<Int.random(in: 1...60, using: &g) {
        text += fragments.randomElement(using: &g)!
        text += Bool.random(using: &g) ? " " : (Bool.random(using: &g) ? "\n  " : "\n")
      }
      return Array(text.utf8)
    }
    var bytes = corpus.randomElement(using: &g)!
    for _ in 0..<Int.random(in: 1...8, using: &g) {
      guard !bytes.isEmpty else { break }
      let i = Int.random(in: 0..<bytes.count, using: &g)
      switch Int.random(in: 0..<6, using: &g) {
      case 0: bytes[i] = UInt8.random(in: 0...255, using: &g)
      case 1: bytes.remove(at: i)
      case 2: bytes.insert(contentsOf: Array(fragments.randomElement(using: &g)!.utf8), at: i)
      case 3:
        let j = min(bytes.count, i + Int.random(in: 1...40, using: &g))
        bytes.insert(contentsOf: bytes[i..<j], at: Int.random(in: 0...bytes.count, using: &g))
      case 4:
        // A number made larger: range bounds, prefix lengths, ports, percentages.
        if let d = bytes[i...].firstIndex(where: { $0 >= 48 && $0 <= 57 }) {
          bytes.insert(contentsOf: Array(String(UInt64.random(in: 0...UInt64.max, using: &g) % 100_000).utf8), at: d)
        }
      default:
        let j = min(bytes.count, i + Int.random(in: 1...40, using: &g))
        bytes.removeSubrange(i..<j)
      }
    }
    return bytes
  }
}

/// SplitMix64: a seeded generator, so every failure is reproducible from its seed.
public struct SplitMix64: RandomNumberGenerator {
  public var state: UInt64
  public init(state: UInt64) { self.state = state }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
