import ArgumentParser
import Foundation
import NSTopoKit
import Probe
import Realizer
import TopologyModel

/// `nstopo perf NAME A B`: throughput each way, with nstopo's own sender and receiver.
struct PerfCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "perf",
    abstract: "Measure the throughput between two nodes, each way (no iperf needed).",
    discussion: """
      A TCP stream (or, with --udp, datagrams sent as fast as the socket takes them) from inside A's namespace to B's address for --seconds, then the other way; the receiver counts. Beside each figure, the narrowest `rate` the model finds on the way (each hop's link, and across a bridge the next node's port), and how far the measurement is from it. Exit 0 when every direction with a shaped link on its way is within --tolerance percent of its rate (or has none), else 1.
      """)

  @Argument(help: "The topology's name.", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "One node.", completion: .custom(nodeNames))
  var a: String

  @Argument(help: "The other node.", completion: .custom(nodeNames))
  var b: String

  @Flag(help: "UDP datagrams instead of a TCP stream.")
  var udp = false

  @Option(help: "Seconds each way (default 3).")
  var seconds = 3.0

  @Option(help: "IPv4 or IPv6 only: 4 or 6 (default: the first family both have).")
  var family: String?

  @Option(help: "How far from a link's rate a measurement may be, in percent (default 10).")
  var tolerance = 10.0

  func validate() throws {
    if seconds < 0.5 || seconds > 60 { throw ValidationError("--seconds must be between 0.5 and 60") }
    if let family, !["4", "6", "ipv4", "ipv6"].contains(family) { throw ValidationError("--family must be 4 or 6") }
    if tolerance <= 0 || tolerance >= 100 { throw ValidationError("--tolerance must be between 0 and 100 (percent)") }
  }

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("perf")
      let name = try topologyName(topology)
      let doc = try requireUp(name, hint: "see `nstopo status`")
      for n in [a, b] where doc.topology.node(named: n) == nil {
        throw Failure("topology '\(name)' has no node '\(n)'", code: Exit.usage)
      }
      if a == b { throw Failure("perf needs two nodes", code: Exit.usage) }
      let f: IPAddress.Family? = family.map { $0.hasSuffix("6") ? .ipv6 : .ipv4 }
      let directions: [Perf.Direction]
      do {
        directions = try Perf.run(doc.topology, a, b, udp: udp, seconds: seconds, family: f)
      } catch let e as Throughput.Failure {
        throw Failure("perf: \(e.description)", code: Exit.mismatch)
      }
      var held = true
      for d in directions {
        var line = "\(d.source) -> \(d.target) (\(d.address)) \(udp ? "udp" : "tcp"): \(String(format: "%.1f", d.measured.megabitsPerSecond)) Mbit/s"
        if let b = d.bottleneck {
          let ratio = d.measured.megabitsPerSecond * 1_000_000 / Double(b.bits)
          let within = abs(ratio - 1) * 100 <= tolerance
          held = held && within
          line += String(format: "; the model: %@ (%.0f %% of it%@)", b.link, ratio * 100, within ? "" : ", off by more than \(Int(tolerance)) %")
        } else {
          line += "; no `rate` on the way"
        }
        print(line)
      }
      return held ? Exit.ok : Exit.mismatch
    }
  }
}
