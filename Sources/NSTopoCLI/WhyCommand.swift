import ArgumentParser
import Foundation
import Planner
import Matrix
import Predict
import Probe
import Realizer
import TopologyModel

struct Why: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Explain, hop by hop, whether SRC reaches DST and where it stops.",
    discussion: """
      First the walk predicted from the model (forward, then the way back), then, when the topology is up, the same walk over what the kernel has (addresses, routes and forwarding read through netlink), and where they disagree. With --probe, the pair is also probed once with a real socket, which catches what both walks miss.
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

  @Flag(help: "Also probe the pair once with a real socket (root, topology up).")
  var probe = false

  @Option(help: "Seconds the probe may take (with --probe).")
  var timeout = 1.0

  func validate() throws {
    if TransportProtocol(rawValue: proto) == nil { throw ValidationError("unknown protocol '\(proto)': use tcp or udp") }
    if port == 0 { throw ValidationError("--port must be between 1 and 65535") }
    if timeout <= 0 || timeout > 60 { throw ValidationError("--timeout must be between 0 and 60 seconds") }
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
      let model = Predictor(t, probeTimeout: timeout).predict(flow)
      let shown = dst ?? Predictor(t).addresses(of: target).first
      print("\(source) -> \(target)\(shown.map { " (\($0))" } ?? "") \(proto)/\(port)")
      print("model:  " + describe(model))
      guard StateStore.document(name) != nil, geteuid() == 0 else {
        print("kernel: not checked (\(geteuid() == 0 ? "the topology is not up" : "needs root"))")
        if probe { throw Failure("--probe needs \(geteuid() == 0 ? "the topology up" : "root")", code: geteuid() == 0 ? Exit.noInput : Exit.noPermission) }
        return model.reached ? Exit.ok : Exit.mismatch
      }
      let plan = Planner.plan(t)
      try requireDescriptors(namespaces: plan.namespaces.count, for: "why")
      let reading = KernelView.read(plan)
      let kernel = Predictor(reading.topology, probeTimeout: timeout).predict(flow)
      print("kernel: " + describe(kernel))
      let nodes = (model.path + model.returnPath + kernel.path + kernel.returnPath).map(\.node)
      var seen = Set<String>()
      var diffs: [String] = []
      for n in nodes where seen.insert(n).inserted {
        // Sentences that do not name their node get it in front.
        diffs += reading.differences(from: t, forEndpoint: n).map { $0.hasPrefix("\(n) ") || $0.contains(" in \(n) ") ? $0 : "\(n): \($0)" }
      }
      if diffs.isEmpty {
        print(model.verdict == kernel.verdict ? "the kernel agrees with the model" : "the kernel differs from the model")
      } else {
        print("the kernel differs from the model (changed by hand?):")
        for d in diffs { print("  - \(d)") }
      }
      guard probe else { return kernel.reached ? Exit.ok : Exit.mismatch }
      // One real probe: the walks read the tables, the probe asks the kernel itself.
      let measured = try measure(t, names: plan.names, flow: flow, address: shown)
      print("probe:  \(measured.rawValue)")
      if measured != kernel.verdict {
        print("the probe differs from the walk of the kernel's tables (\(kernel.verdict.rawValue)): something outside routing, e.g. a firewall in a `run` line, decides")
      } else if measured != model.verdict {
        print("the probe agrees with the kernel's tables, not with the model (\(model.verdict.rawValue))")
      }
      return measured.reached ? Exit.ok : Exit.mismatch
    }
  }

  /// Probes the one pair as `test` would, with the test network (permanent neighbours) in place.
  func measure(_ t: Topology, names: KernelNames, flow: Flow, address: IPAddress?) throws -> Outcome {
    guard let address else { return .notProbed }
    var set = ProbeSet(topology: t, namespace: names.namespace(node:), options: .init(protocols: [flow.proto], port: port))
    guard let s = set.endpoints.firstIndex(where: { $0.name == flow.source }), let d = set.endpoints.firstIndex(where: { $0.name == flow.target })
    else { return .notProbed }
    set.probes = []
    set.append(source: Int32(s), target: Int32(d), address: address, proto: flow.proto, port: port)
    set.unaddressed = []
    installInterruptHandler()
    return try mapKernelErrors {
      try Lifecycle.withTestNetwork(t) {
        do {
          return try ProbeEngine(set, options: .init(timeout: timeout)).run { interrupted != 0 }[0].0
        } catch is ProbeEngine.Cancelled {
          throw Failure("interrupted", code: Exit.interrupted)
        }
      }
    }
  }

  /// The forward path, the way back when the packet got there (also when it is the reply that
  /// fails), and where it stops.
  func describe(_ p: Prediction) -> String {
    var s = p.path.map(\.description).joined(separator: " -> ")
    if p.reached {
      s += "; back: " + p.returnPath.map(\.node).joined(separator: " -> ") + "; reached"
    } else {
      if !p.returnPath.isEmpty { s += "; back: " + p.returnPath.map(\.description).joined(separator: " -> ") }
      s += "\n        stops: \(p.reason ?? p.verdict.rawValue) (\(p.verdict.rawValue))"
    }
    return s
  }
}
