import Netlink
import Planner
import TopologyModel

/// What of a journal `down` may touch. The journal is a claim, not a proof: every name in it
/// must be one of the topology's own derived names (`<topology>-<node>`, the bridge namespace
/// `<topology>`, `nstopo-<topology>[/<node>]`), a single path component by the language's
/// rules, and, with the topology's state.json at hand, a node it declares. Anything else is
/// refused with a warning and left alone.
struct Ownership {
  let names: KernelNames
  /// The declared nodes, when state.json could be read.
  let nodes: Set<String>?

  init(names: KernelNames, topology: Topology?) {
    self.names = names
    nodes = topology.map { Set($0.nodes.map(\.name)) }
  }

  /// Why namespace `ns` is not the topology's, or nil.
  func namespaceProblem(_ ns: String) -> String? {
    if ns == names.bridgeNamespace { return nil }
    let prefix = names.topology + "-"
    guard ns.hasPrefix(prefix) else { return "it is not named \(prefix)<node>" }
    return nodeProblem(String(ns.dropFirst(prefix.count)))
  }

  /// Why cgroup `path` is not the topology's, or nil.
  func cgroupProblem(_ path: String) -> String? {
    if path == names.topologyCgroup { return nil }
    let prefix = names.topologyCgroup + "/"
    guard path.hasPrefix(prefix) else { return "it is not \(names.topologyCgroup) or inside it" }
    return nodeProblem(String(path.dropFirst(prefix.count)))
  }

  /// Why a root-namespace link name is not one nstopo could have made, or nil. (`down` also
  /// requires the topology's alias on it.)
  func linkProblem(_ name: String) -> String? {
    NameRules.interfaceProblem(name).map { "its name \($0)" }
  }

  private func nodeProblem(_ node: String) -> String? {
    if let problem = NameRules.nodeProblem(node) { return "its node part '\(node)' \(problem)" }
    if let nodes, !nodes.contains(node) { return "the topology has no node '\(node)'" }
    return nil
  }

  /// The summary with every entry that is not the topology's removed, and a warning for each.
  func filter(_ summary: JournalSummary) -> (JournalSummary, [String]) {
    var s = summary
    var warnings: [String] = []
    func keep(_ items: [String], _ what: String, _ problem: (String) -> String?) -> [String] {
      items.filter { item in
        guard let p = problem(item) else { return true }
        warnings.append("left \(what) '\(item)' alone: the journal lists it, but \(p), so it is not topology \(names.topology)'s")
        return false
      }
    }
    s.namespaces = keep(s.namespaces, "namespace", namespaceProblem)
    s.cgroups = keep(s.cgroups, "cgroup", cgroupProblem)
    s.hostLinks = keep(s.hostLinks, "interface", linkProblem)
    if let b = s.bridgeNamespace, b != names.bridgeNamespace {
      warnings.append("left namespace '\(b)' alone: the journal names it the bridge namespace, but topology \(names.topology)'s is '\(names.bridgeNamespace)'")
      s.bridgeNamespace = nil
    }
    return (s, warnings)
  }

  /// Whether the namespace now at /run/netns/NS is the one `up` created. Recorded inode: it
  /// must match. Journaled as created without one (state from before proofs): trusted, as
  /// then. Intent only (`up` died between the intent and the outcome): only if it carries
  /// nstopo's mark on its loopback, set inside it before it had a name (journals from before
  /// the mark, without a `format` line, are trusted as they were). A plain empty file
  /// (`up` died between creating the file and mounting the namespace on it) holds nothing and
  /// is removed. Returns why not, or nil.
  func unproven(_ ns: String, _ summary: JournalSummary, socket: (String) throws -> NetlinkSocket) -> String? {
    if let recorded = summary.proofs[ns] {
      guard let now = NetworkNamespace.inode(ns), now != recorded else { return nil }
      return "it is not the namespace up created (inode \(now), journaled \(recorded)): someone made another with its name"
    }
    guard summary.isUnconfirmed(.netns, ns) else { return nil }
    // Written before namespaces were marked: nothing to prove it by, trusted as it was then.
    guard summary.format >= 2 else { return nil }
    guard NetworkNamespace.isNamespace(ns) else { return nil }
    let alias = try? socket(ns).link(named: "lo")?.alias
    if alias == names.hostAlias { return nil }
    return "up was stopped before it could record creating it, and it lacks nstopo's mark (lo alias \(names.hostAlias)), so it may be someone else's"
  }
}
