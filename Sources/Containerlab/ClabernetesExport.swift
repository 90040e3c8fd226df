import TopologyModel

/// `nstopo export FILE --for clabernetes`: a containerlab file that clabernetes accepts, for
/// `clabverter | kubectl apply`.
///
/// clabernetes runs each node in a pod of its own and stitches links between pods with
/// tunnels: it takes only `kind: linux`-style nodes and point-to-point veths (`Rules`). So each
/// bridge becomes a small Linux node that runs a Linux bridge over its ports (exec lines), every
/// node's interfaces are `eth1`, `eth2`… in the file's order, names are Kubernetes names, and
/// host ends are refused.
public enum ClabernetesExport {
  /// What clabernetes accepts, written down from its source (srl-labs/clabernetes):
  /// - `controllers/topology/definitioncontainerlab.go` (commit 044ce2359f37): an endpoint is
  ///   split on `:` into exactly two parts; each node is a sub-topology of its own named
  ///   `clabernetes-<node>`, and its end of a link to another pod is `host:<node>-<interface>`
  ///   in the launcher pod, a Linux interface name (at most 15 bytes);
  /// - `controllers/topology/resolve.go`, `resolveConnectivityDestination`: a tunnel's peer is
  ///   the Service `<topology>-<node>-vx`, a DNS-1035 label (at most 63 bytes, lowercase
  ///   letters, digits and `-`, starting with a letter);
  /// - `../shared/containerlab/CLABERNETES.md` (the project's notes from its source and issues):
  ///   no `bridge`, `ovs-bridge` or `host` nodes, no management-network endpoints, veth links
  ///   only; interface names in `[a-z0-9-]`; exec lines that can run again.
  public enum Rules {
    public static let maxLabel = 63
    public static let maxInterface = 15
    public static let refusedKinds: Set<String> = ["bridge", "ovs-bridge", "host"]

    /// Lowercase letters, digits and `-`, starting with a letter, ending with a letter or a
    /// digit, at most 63 bytes.
    public static func isLabel(_ s: String) -> Bool {
      guard let first = s.unicodeScalars.first, let last = s.unicodeScalars.last, s.utf8.count <= maxLabel else { return false }
      func ok(_ c: Unicode.Scalar) -> Bool { (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" }
      return first >= "a" && first <= "z" && last != "-" && s.unicodeScalars.allSatisfy(ok)
    }

    /// What clabernetes refuses in a containerlab file's nodes and links, by reading the file
    /// as nstopo writes it (kinds, endpoints, names): empty when it accepts it.
    public static func violations(name: String, nodes: [(name: String, kind: String)], endpoints: [[String]]) -> [String] {
      var out: [String] = []
      if !isLabel(name) { out.append("topology name '\(name)' is not a DNS-1035 label") }
      let names = Set(nodes.map(\.name))
      for n in nodes {
        if refusedKinds.contains(n.kind) { out.append("node \(n.name) is of kind \(n.kind), a pseudo-node clabernetes refuses") }
        if !isLabel(n.name) { out.append("node name '\(n.name)' is not a DNS-1035 label") }
        if "\(name)-\(n.name)-vx".utf8.count > maxLabel { out.append("service '\(name)-\(n.name)-vx' is longer than \(maxLabel) bytes") }
      }
      for e in endpoints {
        guard e.count == 2 else {
          out.append("a link has \(e.count) endpoints")
          continue
        }
        for end in e {
          let parts = end.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
          guard parts.count == 2 else {
            out.append("endpoint '\(end)' is not NODE:INTERFACE")
            continue
          }
          if parts[0] == "host" || parts[0] == "mgmt-net" || parts[0] == "macvlan" { out.append("endpoint '\(end)' is not a veth between two nodes") }
          if !names.contains(parts[0]) { out.append("endpoint '\(end)' names no node") }
          let i = parts[1]
          if i.isEmpty || !i.unicodeScalars.allSatisfy({ ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "-" }) {
            out.append("interface '\(i)' is not in [a-z0-9-]")
          }
          if "\(parts[0])-\(i)".utf8.count > maxInterface { out.append("the pod's end '\(parts[0])-\(i)' is longer than \(maxInterface) bytes") }
          if i == "eth0" { out.append("endpoint '\(end)' is the management interface eth0") }
        }
      }
      return out
    }
  }

  /// Why a topology cannot go to clabernetes as it is: what, and where (a node's line, or the
  /// text to find in the file).
  public struct Problem: Hashable, Sendable {
    public var message: String
    public var line: Int?
    public var token: String?
    public var hint: String?
  }

  public struct Result: Sendable {
    /// The YAML; nil when there are problems.
    public var text: String?
    public var problems: [Problem]
  }

  /// The Kubernetes name for an nstopo name: lowercase, `_` and `.` as `-`, a letter first.
  public static func label(_ name: String) -> String {
    var s = String(name.lowercased().map { $0 == "_" || $0 == "." ? "-" : $0 })
    if let f = s.unicodeScalars.first, !(f >= "a" && f <= "z") { s = "n" + s }
    while s.hasSuffix("-") { s.removeLast() }
    return s
  }

  public static func render(_ t: Topology, image: String = ClabExport.defaultImage, source: String) -> Result {
    var problems: [Problem] = []
    // Host ends: a pod has no host to reach.
    for l in t.links {
      for (e, other) in [(l.a, l.b), (l.b, l.a)] where e.owner == .host {
        problems.append(
          Problem(
            message: "host end host:\(e.interface) (linked to \(other.owner)): a clabernetes pod has no host side to link to",
            token: "host:\(e.interface)", hint: "export without it, or keep this topology on one machine"))
      }
    }
    // Kubernetes names, and no two alike.
    let topology = label(t.name)
    var labels: [String: String] = [:]
    var taken: [String: String] = [:]
    for (name, line) in t.nodes.map({ ($0.name, $0.line) }) + t.bridges.map({ ($0.name, Int?.none) }) {
      let l = label(name)
      if let first = taken[l] {
        problems.append(Problem(message: "'\(name)' and '\(first)' are both '\(l)' as Kubernetes names", line: line, token: line == nil ? name : nil, hint: "rename one"))
      }
      taken[l] = name
      labels[name] = l
      if "\(topology)-\(l)-vx".utf8.count > Rules.maxLabel {
        problems.append(
          Problem(
            message: "'\(l)' makes the Service name '\(topology)-\(l)-vx' longer than 63 bytes", line: line, token: line == nil ? name : nil,
            hint: "a shorter node or topology name"))
      }
    }
    // The pods' ends: `<node>-ethN` must fit an interface name.
    var k = t
    k.name = topology
    var ports: [String: Int] = [:]
    var bridgePorts: [String: [String]] = [:]
    func end(_ e: inout LinkEnd) {
      let owner = e.owner.description
      guard e.owner != .host, let l = labels[owner] else { return }
      let n = ports[owner, default: 0] + 1
      ports[owner] = n
      if case .bridge = e.owner { bridgePorts[l, default: []].append("eth\(n)") }
      e.owner = .node(l)
      e.interface = "eth\(n)"
    }
    var interfaceMaps: [String: [String: String]] = [:]
    for i in k.links.indices {
      for side in [\Link.a, \Link.b] {
        var e = k.links[i][keyPath: side]
        let (owner, old) = (e.owner, e.interface)
        end(&e)
        if case .node(let n) = owner { interfaceMaps[n, default: [:]][old] = e.interface }
        k.links[i][keyPath: side] = e
      }
    }
    for (owner, n) in ports where "\(labels[owner]!)-eth\(n)".utf8.count > Rules.maxInterface {
      let line = t.nodes.first { $0.name == owner }?.line
      problems.append(
        Problem(
          message: "clabernetes names a pod's end of a link '<node>-<interface>', and '\(labels[owner]!)-eth\(n)' is longer than 15 bytes",
          line: line, token: line == nil ? owner : nil, hint: "a node name of at most \(Rules.maxInterface - 1 - "eth\(n)".count) characters"))
    }
    guard problems.isEmpty else { return Result(text: nil, problems: problems) }
    // Rules and NAT follow the interfaces; nodes take their Kubernetes names.
    k = ClabExport.renamed(k, interfaceMaps, linksDone: true)
    for i in k.nodes.indices { k.nodes[i].name = labels[k.nodes[i].name]! }
    for b in t.bridges { k.nodes.append(Node(name: labels[b.name]!)) }
    k.bridges = []
    var header = "# For clabernetes (clabverter --topologyFile FILE | kubectl apply -f -): each node a pod, links tunnels between pods.\n"
    header += "# Each LAN is a Linux node running a bridge over its ports; every node's interfaces are eth1, eth2, ... in the file's order.\n"
    header += "# Links cross VXLAN: their MTU must stay 50 below the cluster's.\n"
    let renamed = labels.filter { $0.key != $0.value }.sorted { $0.key < $1.key }
    if !renamed.isEmpty {
      header += "# Kubernetes names: \(renamed.map { "\(Escaping.commentText($0.key)) is \($0.value)" }.joined(separator: ", ")).\n"
    }
    let text = ClabExport.lab(k, image: image, source: source, header: header, bridgePorts: bridgePorts)
    return Result(text: text, problems: [])
  }

  /// A bridge node's exec line: a Linux bridge `br0` over its ports, which can run again.
  /// Bridged frames skip the pod's netfilter, as in nstopo's bridge namespace.
  static func bridgeExec(_ ports: [String]) -> String {
    let script =
      "ip link show br0 >/dev/null 2>&1 || ip link add br0 type bridge; ip link set br0 up; "
      + "for p in \(ports.joined(separator: " ")); do ip link set $p master br0 up; done; "
      + "sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 2>/dev/null; true"
    return "sh -c " + ClabExport.shellQuote(script)
  }
}
