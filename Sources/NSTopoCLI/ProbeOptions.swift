import ArgumentParser
import TopologyModel

/// `--proto` and `--port`, shared by `test` and `predict` so that both accept, and refuse,
/// the same values (exit 64).
struct ProbeOptions: ParsableArguments {
  @Option(help: "Protocols to probe, comma-separated: tcp, udp.")
  var proto = "tcp"

  @Option(help: "Probe port.")
  var port: UInt16 = 4444

  var protocols: [TransportProtocol] { proto.split(separator: ",").compactMap { TransportProtocol(rawValue: String($0)) } }

  func validate() throws {
    for p in proto.split(separator: ",") where TransportProtocol(rawValue: String(p)) == nil {
      throw ValidationError("unknown protocol '\(p)': use tcp, udp or tcp,udp")
    }
    if protocols.isEmpty { throw ValidationError("--proto needs tcp, udp or tcp,udp") }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
  }
}
