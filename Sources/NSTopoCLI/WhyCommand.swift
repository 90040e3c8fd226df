import ArgumentParser
import Foundation
import Planner
import Predict
import Realizer
import TopologyModel

struct Why: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Explain, hop by hop, whether SRC reaches DST and where it stops.",
    discussion: """
      First the walk predicted from the model (forward, then the way back), then, when the topology is up, the same walk over what the kernel has (addresses, routes and forwarding read through netlink), and the first place where they disagree.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up.")
  var topology: String

  @Argument(help: "Source node (or host).")
  var source: String

  @Argument(help: "Target node (or host).")
  var target: String

  @Option(help: "Protocol (tcp or udp): both need the way back.")
  var proto = "tcp"

  @Option(help: "Port (routing does not depend on it; shown for reference).")
  var port: UInt16 = 4444

  @Option(help: "Target address (default: its primary address).")
  var address: String?

  func validate() throws {
    if TransportProtocol(rawValue: proto) == nil { throw ValidationError("unknown protocol '\(proto)': use tcp or udp") }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
  }

  func run() throws {
    try NSTopoCLI.run {
      let t = try TopologyFile.resolve(topology)
      let name = t.name
      let endpoints = t.nodes.map(\.name) + (t.hasHost ? ["host"] : [])
      for n in [source, target] where !endpoints.contains(n) {
        throw Failure("topology \(name) has no node '\(n)'", code: Exit.usage)
      }
      let dst = try address.map { a -> IPAddress in
        guard let v = IPAddress(a) else { throw Failure("bad address '\(a)'", code: Exit.usage) }
        return v
      }
      let flow = Flow(from: source, to: target, address: dst, proto: TransportProtocol(rawValue: proto) ?? .tcp, port: Int(port))
      let model = Predictor(t).predict(flow)
      let shown = dst ?? Predictor(t).addresses(of: target).first
      print("\(source) -> \(target)\(shown.map { " (\($0))" } ?? "") \(proto)/\(port)")
      print("model:  " + describe(model))
      guard StateStore.document(name) != nil, geteuid() == 0 else {
        print("kernel: not checked (\(geteuid() == 0 ? "the topology is not up" : "needs root"))")
        return model.reached ? Exit.ok : Exit.mismatch
      }
      let plan = Planner.plan(t)
      try requireDescriptors(namespaces: plan.namespaces.count, for: "why")
      let reading = KernelView.read(plan)
      let kernel = Predictor(reading.topology).predict(flow)
      print("kernel: " + describe(kernel))
      let nodes = (model.path + model.returnPath + kernel.path + kernel.returnPath).map(\.node)
      var seen = Set<String>()
      var diffs: [String] = []
      for n in nodes where seen.insert(n).inserted {
        // Sentences that do not name their node get it in front.
        diffs += reading.differences(from: t, forEndpoint: n).map { $0.hasPrefix("\(n) ") || $0.contains(" in \(n) ") ? $0 : "\(n): \($0)" }
      }
      if diffs.isEmpty {
        print(model.reached == kernel.reached ? "the kernel agrees with the model" : "the kernel differs from the model")
      } else {
        print("the kernel differs from the model (changed by hand?):")
        for d in diffs { print("  - \(d)") }
      }
      return kernel.reached ? Exit.ok : Exit.mismatch
    }
  }

  func describe(_ p: Prediction) -> String {
    var s = p.path.map(\.description).joined(separator: " -> ")
    if p.reached {
      s += "; back: " + p.returnPath.map(\.node).joined(separator: " -> ") + "; reached"
    } else {
      s += "\n        stops: \(p.reason ?? p.verdict.rawValue) (\(p.verdict.rawValue))"
    }
    return s
  }
}
