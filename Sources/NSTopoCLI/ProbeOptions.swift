import ArgumentParser
import Matrix
import TopologyModel

/// `--proto`, `--port` and `--family`, shared by `test` and `predict` so that both accept, and refuse,
/// the same values (exit 64).
struct ProbeOptions: ParsableArguments {
  @Option(help: "Protocols to probe, comma-separated: tcp, udp, icmp (ICMP echo: ping, to no port).")
  var proto = "tcp"

  @Option(help: "Probe port.")
  var port: UInt16 = 4444

  @Option(help: "Address families to probe: 4, 6 or all (each pair once per family both ends have).")
  var family = "all"

  var families: [IPAddress.Family] {
    switch family {
    case "4", "ipv4": return [.ipv4]
    case "6", "ipv6": return [.ipv6]
    default: return IPAddress.Family.allCases
    }
  }

  var protocols: [TransportProtocol] { proto.split(separator: ",").compactMap { TransportProtocol(rawValue: String($0)) } }

  func validate() throws {
    for p in proto.split(separator: ",") where TransportProtocol(rawValue: String(p)) == nil {
      throw ValidationError("unknown protocol '\(p)': use tcp, udp, icmp or a list (tcp,udp,icmp)")
    }
    if protocols.isEmpty { throw ValidationError("--proto needs tcp, udp, icmp or a list (tcp,udp,icmp)") }
    if !["4", "6", "all", "ipv4", "ipv6"].contains(family) {
      throw ValidationError("unknown family '\(family)': use 4, 6 or all")
    }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
  }
}

/// `--scenario X` (repeatable) and `--all-scenarios`, shared by `test` and `predict`.
struct ScenarioOptions: ParsableArguments {
  @Option(name: .customLong("scenario"), help: "After the base matrix, the matrix under this scenario of the file, and what it changed (repeatable).")
  var scenarios: [String] = []

  @Flag(help: "After the base matrix, every scenario of the file in turn.")
  var allScenarios = false

  /// The scenarios asked for, in the file's order; an unknown name is a usage error (64).
  func chosen(_ t: Topology) throws -> [Scenario] {
    if allScenarios { return t.scenarios }
    for name in scenarios where t.scenario(named: name) == nil {
      let hint = Spelling.closest(name, among: t.scenarios.map(\.name)).map { " (did you mean '\($0)'?)" }
        ?? (t.scenarios.isEmpty ? " (the topology declares none)" : " (it has: \(t.scenarios.map(\.name).joined(separator: ", ")))")
      throw Failure("no scenario '\(name)' in topology \(t.name)\(hint)", code: Exit.usage)
    }
    return t.scenarios.filter { scenarios.contains($0.name) }
  }
}

/// `scenario uplink-down (line 28): link core edge down`, then the matrix and what changed.
func printScenario(_ s: ScenarioReport, topology: Topology, color: Bool) {
  print("\nscenario \(s.name) (line \(s.line)): \(s.changes.joined(separator: "; "))")
  print(MatrixText.render(s.report, topology: topology, color: color, width: Terminal.width()), terminator: "")
  print("against the base matrix: " + s.differential.text(), terminator: "")
}
