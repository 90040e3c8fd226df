import ArgumentParser
import Foundation
import Planner
import Realizer
import TopologyModel

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "List the topologies that are up, or show one as the kernel has it now.",
    discussion: "With a name: every node's namespace, interfaces, addresses and routes read back through netlink, and any drift from the plan.")

  @Argument(help: "A topology name or file; omit to list all.", completion: .custom(topologyNamesOrFiles))
  var topology: String?

  @Flag(help: "Print JSON.")
  var json = false

  @Option(help: "Seconds over which each node's CPU use is measured (0 to skip).")
  var sample = 0.5

  /// `status --json`: the topologies that are up.
  struct ListDocument: Encodable {
    var format = 1
    var kind = "status"
    var topologies: [Row]
  }

  struct Row: Encodable {
    var topology: String
    var state: String
    var nodes: Int?
    var created: Date?
    var file: String?
    /// Who brought it up, and the pid of that `nstopo up`.
    var user: String?
    var pid: Int32?
  }

  /// `status NAME --json`: one topology as the kernel has it. Names as in `plan --json`:
  /// `name`, `cpuPercent`, structured `addressInfo` and `routes`.
  struct Detail: Encodable {
    var format = 1
    var kind = "status"
    var topology: String
    var state: String
    var file: String
    var nodes: [NodeDoc]
    var drift: Int
    var unfinishedChange: String?
    var scenarioInForce: String?
    /// The links that changes at run time have made differ from the file.
    var changes: [String]?
  }

  struct NodeDoc: Encodable {
    var name: String
    var namespace: String?
    var present: Bool
    var forward: Bool?
    var interfaces: [InterfaceDoc]
    var routes: [RouteEntry]
    var cgroup: String?
    var cpuPercent: Int?
    var cpuUsePercent: Double?
    var processes: [String]
    var drift: [String]

    init(_ n: NodeStatus) {
      name = n.node
      namespace = n.namespace
      present = n.present
      forward = n.forward
      interfaces = n.interfaces.map(InterfaceDoc.init)
      routes = n.routeEntries
      cgroup = n.cgroup
      cpuPercent = n.cpuCapPercent
      cpuUsePercent = n.cpuUsePercent
      processes = n.processes
      drift = n.drift
    }
  }

  struct InterfaceDoc: Encodable {
    var name: String
    var up: Bool
    var mac: String
    var mtu: Int?
    var shaping: String?
    var addresses: [String]
    var addressInfo: [PlanDocument.AddressInfo]

    init(_ i: NodeStatus.Interface) {
      name = i.name
      up = i.up
      mac = i.mac
      mtu = i.mtu
      shaping = i.shaping
      addresses = i.addresses
      addressInfo = i.addresses.compactMap(InterfaceAddress.init).map(PlanDocument.AddressInfo.init)
    }
  }

  func run() throws {
    try NSTopoCLI.run {
      try requireRoot("status")
      guard let topology else {
        let rows = StateStore.names().map { n -> Row in
          let doc = StateStore.document(n)
          return Row(
            topology: n, state: StateStore.phase(n).rawValue, nodes: doc?.topology.nodes.count, created: doc?.created, file: doc?.file, user: doc?.user,
            pid: doc?.pid)
        }
        if json {
          print(try encodeJSON(ListDocument(topologies: rows)))
        } else if rows.isEmpty {
          print("no topology is up")
        } else {
          let f = ISO8601DateFormatter()
          var table = [["TOPOLOGY", "STATE", "NODES", "SINCE", "BY", "FILE"]]
          for r in rows {
            let by = r.user.map { u in r.pid.map { "\(u), pid \($0)" } ?? u } ?? "?"
            table.append([r.topology, r.state, r.nodes.map(String.init) ?? "?", r.created.map { f.string(from: $0) } ?? "?", by, r.file ?? "?"])
          }
          print(formatTable(table))
        }
        return Exit.ok
      }
      let name = try topologyName(topology)
      guard let doc = try mapKernelErrors({ try StateStore.load(name) }) else {
        throw Failure("topology '\(name)' is not up (see `nstopo status`)", code: Exit.noInput)
      }
      let plan = Planner.plan(doc.topology)
      try requireDescriptors(namespaces: plan.namespaces.count, for: "status")
      let nodes = Readback.status(plan, sample: sample)
      let drift = nodes.reduce(0) { $0 + $1.drift.count }
      if json {
        print(
          try encodeJSON(
            Detail(
              topology: name, state: StateStore.phase(name).rawValue, file: doc.file, nodes: nodes.map(NodeDoc.init), drift: drift,
              unfinishedChange: StateStore.unfinishedChange(name), scenarioInForce: StateStore.scenarioInForce(name),
              changes: ((try? StateStore.declared(name)) ?? nil).flatMap { doc.topology.linkDifferences(from: $0) })))
        return Exit.ok
      }
      print("topology \(name) (\(StateStore.phase(name).rawValue)) from \(doc.file)")
      var table = [["NODE", "NAMESPACE", "INTERFACES", "ROUTES", "CPU", "PROCESSES"]]
      for n in nodes {
        let ifs = n.interfaces.filter { $0.name != "lo" }.map { i in
          var words = ["\(i.name)\(i.up ? "" : "(down)")", i.addresses.joined(separator: ",")]
          if let m = i.mtu, m != 1500, i.name != "lo" { words.append("mtu \(m)") }
          if let s = i.shaping { words.append(s) }
          return words.filter { !$0.isEmpty }.joined(separator: " ")
        }
        let routes = n.routes.filter { $0.contains("via") || $0.hasPrefix("default") || $0.hasPrefix("blackhole") || $0.hasPrefix("unreachable") || $0.hasPrefix("prohibit") }
        var cpu: [String] = []
        if n.cgroup != nil {
          cpu.append(n.cpuUsePercent.map { "\($0)%" } ?? "-")
          if let cap = n.cpuCapPercent { cpu.append("cap \(cap)%") }
        }
        let procs = n.processes.prefix(5) + (n.processes.count > 5 ? ["+\(n.processes.count - 5) more"] : [])
        let rows = max(1, ifs.count, routes.count, cpu.count, procs.count)
        for i in 0..<rows {
          table.append([
            i == 0 ? n.node + (n.forward == true ? " (fwd)" : "") : "", i == 0 ? (n.namespace ?? "(root)") : "",
            i < ifs.count ? ifs[i] : "", i < routes.count ? routes[i] : "", i < cpu.count ? cpu[i] : "",
            i < procs.count ? procs[procs.startIndex + i] : "",
          ])
        }
      }
      print(formatTable(table))
      if let c = StateStore.unfinishedChange(name) {
        print("a change did not finish (its nstopo was killed): \(c); the kernel may be part way, as the drift shows")
      }
      if let s = StateStore.scenarioInForce(name) {
        print("scenario \(s) is still in force: the test that applied it did not finish (`nstopo link`/`node` put links back, `nstopo down` removes it all)")
      }
      // Two comparisons: the changes in force against the file, hand edits (drift) against them.
      if let declared = try? StateStore.declared(name), let changes = doc.topology.linkDifferences(from: declared) {
        if changes.isEmpty {
          print("no change in force: the links are as the file declares them")
        } else {
          print("changes in force (\(changes.count), against the file; `nstopo reset \(name)` undoes them):")
          for c in changes { print("  \(c)") }
        }
      }
      if drift == 0 {
        print("no drift: the kernel matches the plan")
      } else {
        print("drift (\(drift)):")
        for n in nodes { for d in n.drift { print("  \(n.node): \(d)") } }
      }
      return Exit.ok
    }
  }
}

/// Left-aligned columns separated by two spaces.
func formatTable(_ rows: [[String]]) -> String {
  guard let first = rows.first else { return "" }
  var widths = [Int](repeating: 0, count: first.count)
  for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
  return rows.map { r in
    r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
      .joined(separator: "  ").trimmingTrailingSpaces()
  }.joined(separator: "\n")
}

extension String {
  func trimmingTrailingSpaces() -> String {
    var s = self
    while s.last == " " { s.removeLast() }
    return s
  }
}
