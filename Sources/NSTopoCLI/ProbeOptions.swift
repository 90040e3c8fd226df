import ArgumentParser
import TopologyModel

/// `--proto`, `--port` and `--family`, shared by `test` and `predict` so that both accept, and refuse,
/// the same values (exit 64).
struct ProbeOptions: ParsableArguments {
  @Option(help: "Protocols to probe, comma-separated: tcp, udp.")
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
      throw ValidationError("unknown protocol '\(p)': use tcp, udp or tcp,udp")
    }
    if protocols.isEmpty { throw ValidationError("--proto needs tcp, udp or tcp,udp") }
    if !["4", "6", "all", "ipv4", "ipv6"].contains(family) {
      throw ValidationError("unknown family '\(family)': use 4, 6 or all")
    }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
  }
}
