import ArgumentParser
import Foundation
import NSTopoKit
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
      First the walk predicted from the model (forward, then the way back), each hop as typed steps (route, filter, nat, session, deliver), then, when the topology is up, the same walk over what the kernel has (addresses, routes, forwarding and nstopo's nftables table, read back), and where they disagree. With --probe, the pair is also probed once with a real socket, which catches what both walks miss. --json - writes it all as JSON to stdout instead.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up.", completion: .custom(topologyNamesOrFiles))
  var topology: String

  @Argument(help: "Source node (or host).", completion: .custom(nodeNames))
  var source: String

  @Argument(help: "Target node (or host).", completion: .custom(nodeNames))
  var target: String

  @Option(help: "Protocol (tcp, udp or icmp): each needs the way back; icmp is an echo, to no port.")
  var proto = "tcp"

  @Option(help: "Port: routing does not depend on it, firewall rules and dnat may.")
  var port: UInt16 = 4444

  @Option(help: "Target address (default: its primary address).")
  var address: String?

  @Flag(help: "Also probe the pair once with a real socket (root, topology up).")
  var probe = false

  @Option(help: "Seconds the probe may take (with --probe).")
  var timeout = 1.0

  @OptionGroup var display: DisplayOptions

  @OptionGroup var quietOption: QuietOption

  @Option(help: "Write the walks as JSON to this file (- for stdout, instead of the text).")
  var json: String?

  func validate() throws {
    if TransportProtocol(rawValue: proto) == nil { throw ValidationError("unknown protocol '\(proto)': use tcp, udp or icmp") }
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
      } ?? Explain.defaultAddress(t, from: source, to: target)
      _ = try OutputFile.checked(json, option: "--json")
      let transport = TransportProtocol(rawValue: proto) ?? .tcp
      let flow = Flow(from: source, to: target, address: dst, proto: transport, port: transport.hasPorts ? Int(port) : 0)
      var out = WhyOutput(
        topology: name, source: source, target: target, address: dst, proto: proto,
        port: Int(port), model: Explain.model(t, flow, timeout: timeout))
      let text = json != "-"
      defer { if let json { try? emit(out, to: json) } }
      if text {
        print("\(source) -> \(target)\(out.address.map { " (\($0))" } ?? "") \(transport.label(Int(port)))")
        print("model:  " + describe(out.model))
        print(steps(out.model), terminator: "")
      }
      guard StateStore.document(name) != nil, Capabilities.admin else {
        out.kernelNotChecked = Capabilities.admin ? "the topology is not up" : "needs CAP_NET_ADMIN and CAP_SYS_ADMIN (root)"
        if text { print("kernel: not checked (\(out.kernelNotChecked!))") }
        if probe { throw Failure("--probe needs \(Capabilities.admin ? "the topology up" : "root")", code: Capabilities.admin ? Exit.noInput : Exit.noPermission) }
        return out.model.reached ? Exit.ok : Exit.mismatch
      }
      let plan = Planner.plan(t)
      try requireDescriptors(namespaces: plan.namespaces.count, for: "why")
      let side = Explain.kernel(t, flow, model: out.model, timeout: timeout)
      let kernel = side.walk
      out.kernel = kernel
      if text {
        print("kernel: " + describe(kernel))
        if kernel.path.map(\.steps) != out.model.path.map(\.steps) || kernel.returnPath.map(\.steps) != out.model.returnPath.map(\.steps) {
          print(steps(kernel), terminator: "")
        }
      }
      out.differences = side.differences
      out.outside = side.outside
      if text {
        if out.differences.isEmpty {
          print(out.model.verdict == kernel.verdict ? "the kernel agrees with the model" : "the kernel differs from the model")
        } else {
          print("the kernel differs from the model (changed by hand?):")
          for d in out.differences { print("  - \(d)") }
        }
        if let o = out.outside { print("note: \(o) (the model cannot see them)") }
      }
      guard probe else { return kernel.reached ? Exit.ok : Exit.mismatch }
      // One real probe: the walks read the tables, the probe asks the kernel itself.
      let measured = try measure(t, names: plan.names, flow: flow, address: out.address)
      out.probe = measured
      if text {
        print("probe:  \(measured.rawValue)")
        if measured != kernel.verdict {
          print("the probe differs from the walk of the kernel's tables (\(kernel.verdict.rawValue)): \(out.outside ?? "something outside the model, e.g. a firewall in a `run` line,") decides")
        } else if measured != out.model.verdict {
          print("the probe agrees with the kernel's tables, not with the model (\(out.model.verdict.rawValue))")
        }
      }
      return measured.reached ? Exit.ok : Exit.mismatch
    }
  }

  func emit(_ out: WhyOutput, to path: String) throws {
    let text = try encodeJSON(out) + "\n"
    if path == "-" {
      print(text, terminator: "")
    } else {
      do { try text.write(toFile: path, atomically: true, encoding: .utf8) } catch {
        throw Failure("cannot write \(path): \(error.localizedDescription)", code: Exit.cannotCreate)
      }
    }
  }

  /// Each hop's steps, one a line, under the one-line walk:
  /// `        gw   filter   forward: line 15 drops (`deny forward from office to db`)`.
  func steps(_ p: Prediction) -> String {
    let hops = p.path + p.returnPath
    guard hops.contains(where: { !$0.steps.isEmpty }) else { return "" }
    let width = hops.map(\.node.count).max() ?? 0
    var out = ""
    func list(_ hs: [Hop]) {
      for h in hs {
        let name = h.node + String(repeating: " ", count: width - h.node.count)
        if h.steps.isEmpty { out += "        \(name)\n" }
        for (k, step) in h.steps.enumerated() {
          let type = step.type + String(repeating: " ", count: max(0, 8 - step.type.count))
          out += "        \(k == 0 ? name : String(repeating: " ", count: width))  \(type)\(step)\n"
        }
      }
    }
    list(p.path)
    if !p.returnPath.isEmpty {
      out += "        back:\n"
      list(p.returnPath)
    }
    return out
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
    // Listen where a dnat makes the probe land, as `test` does.
    Predictor(t, probeTimeout: timeout).placeLandings(&set)
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

/// `why --json` (format 1): the flow, the model's walk, the kernel's (when up, as root),
/// their differences, and the probe's outcome (with --probe).
struct WhyOutput: Encodable {
  var format = 1
  var kind = "why"
  var topology: String
  var source: String
  var target: String
  var address: IPAddress?
  var proto: String
  var port: Int
  var model: Prediction
  var kernel: Prediction?
  var kernelNotChecked: String?
  var differences: [String] = []
  var outside: String?
  var probe: Outcome?

  enum CodingKeys: String, CodingKey {
    case format, kind, topology, source, target, address, family, proto, port, model, kernel, kernelNotChecked, differences, outside, probe
  }

  func encode(to encoder: Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(format, forKey: .format)
    try c.encode(kind, forKey: .kind)
    try c.encode(topology, forKey: .topology)
    try c.encode(source, forKey: .source)
    try c.encode(target, forKey: .target)
    try c.encodeIfPresent(address?.description, forKey: .address)
    try c.encodeIfPresent(address?.family.rawValue, forKey: .family)
    try c.encode(proto, forKey: .proto)
    try c.encode(port, forKey: .port)
    try c.encode(model, forKey: .model)
    try c.encodeIfPresent(kernel, forKey: .kernel)
    try c.encodeIfPresent(kernelNotChecked, forKey: .kernelNotChecked)
    try c.encode(differences, forKey: .differences)
    try c.encodeIfPresent(outside, forKey: .outside)
    try c.encodeIfPresent(probe?.rawValue, forKey: .probe)
  }
}
