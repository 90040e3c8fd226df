import Containerlab
import Foundation
import Matrix
import NSTopoKit
import Planner
import Predict
import Probe
import TopologyDSL
import TopologyModel
import XCTest
import Yams

/// Every example's export, run as containerlab runs it: namespaces prepared as containerlab
/// prepares containers (a management `eth0` with an address and default routes, the file's
/// links as veths named as it says, bridges and host ends on the "docker host"), then each
/// node's `exec` lines, word-split as containerlab splits them and run in order, each one
/// required to succeed. The data-plane pairs (node to node, TCP, UDP and ICMP echo, every family) are
/// then probed and each held to what `nstopo predict` says of the original file.
///
/// No containerlab here (no docker): this is its preparation, written down from its
/// documentation (management network 172.20.20.0/24 and a default route through it).
final class ContainerlabExportTests: KernelTestCase {
  func testEveryExportedExampleRunsAsPredicted() throws {
    let dir = repo.appendingPathComponent("topologies")
    // star-1000's million pairs are `make bench`'s; NSTOPO_EXPORT_ALL=1 runs it too.
    let skip: Set<String> = ProcessInfo.processInfo.environment["NSTOPO_EXPORT_ALL"] == "1" ? [] : ["star-1000.topo"]
    let only = ProcessInfo.processInfo.environment["NSTOPO_EXPORT_ONLY"]
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".topo") && !skip.contains($0) && (only == nil || only == $0) }.sorted()
    if only == nil { XCTAssertGreaterThan(files.count, 8) }
    var summary: [String] = []
    for f in files {
      let text = try String(contentsOf: dir.appendingPathComponent(f), encoding: .utf8)
      var t = try XCTUnwrap(TopologyLoader.load(text: text, fileName: f).topology, f)
      t.name = uniqueName()
      var start = Date()
      let pairs = try runExport(t, yaml: ClabExport.render(t, source: f), file: f)
      summary.append("\(f): \(pairs.measured) pairs, \(pairs.equal) as predicted (\(Int(Date().timeIntervalSince(start))) s)")
      XCTAssertEqual(pairs.mismatches, [], "\(f): predicted against measured in the exported lab")
      // seed.topo's one node has only the host to talk to.
      if t.nodes.count > 1 { XCTAssertGreaterThan(pairs.measured, 0, f) }
      // The same for clabernetes: LANs as nodes that run a bridge (a host end is refused).
      t.name = uniqueName()
      let k = ClabernetesExport.render(t, source: f)
      guard let yaml = k.text else {
        XCTAssertTrue(t.hasHost, "\(f): \(k.problems)")
        continue
      }
      start = Date()
      let bridged = try runExport(t, yaml: yaml, file: f + " (clabernetes)", label: ClabernetesExport.label)
      summary.append("\(f) for clabernetes: \(bridged.measured) pairs, \(bridged.equal) as predicted (\(Int(Date().timeIntervalSince(start))) s)")
      XCTAssertEqual(bridged.mismatches, [], "\(f): predicted against measured in the lab exported for clabernetes")
    }
    print("containerlab export harness:\n  " + summary.joined(separator: "\n  "))
  }

  /// Builds the lab that `yaml` (an export of `t`) describes, runs its exec lines, probes it.
  /// `label`: a node's name in the YAML.
  func runExport(_ t: Topology, yaml: String, file: String, label: (String) -> String = { $0 }) throws -> (measured: Int, equal: Int, mismatches: [String]) {
    var clock = Date()
    var laps: [String] = []
    func lap(_ what: String) {
      laps.append("\(what) \(String(format: "%.1f", Date().timeIntervalSince(clock)))")
      clock = Date()
    }
    defer { print("\(file): " + laps.joined(separator: ", ")) }
    let doc = try XCTUnwrap(try Yams.compose(yaml: yaml)?.mapping, file)
    let nodesNode = try XCTUnwrap(doc["topology"]?.mapping?["nodes"]?.mapping, file)
    let names = KernelNames(topology: t.name)
    // The "docker host": management bridge, the file's bridges, host ends.
    let host = t.name
    var nodes: [(name: String, kind: String, exec: [String])] = []
    for (k, v) in nodesNode {
      let m = try XCTUnwrap(v.mapping)
      nodes.append((k.string!, m["kind"]?.string ?? "", (m["exec"]?.sequence ?? []).compactMap(\.string)))
    }
    var namespaces = [host]
    addTeardownBlock {
      // Services that `run` lines started, then the namespaces.
      let lines = namespaces.reversed().map { "ip netns pids \(quote($0)) | xargs -r kill -9; ip netns del \(quote($0))" }
      _ = try? bash(lines.joined(separator: "\n"))
    }
    // Commands run by one shell (a process each from here costs 50 ms): each failure is
    // reported on stderr, and the shell keeps no descriptor of this process (Foundation's
    // Process waits for every copy to close, and a `run` line's service would keep one).
    var script: [String] = []
    func ip(_ args: [String]) {
      let line = (["ip"] + args).map(quote).joined(separator: " ")
      script.append("\(line) || echo \(quote("failed: " + (["ip"] + args).joined(separator: " "))) >&2")
    }
    func runScript() throws {
      let closeAll = #"for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done"#
      let (_, out, err) = try bash(([closeAll] + script).joined(separator: "\n"))
      XCTAssertEqual(err, "", "\(file): \(out)")
      script = []
    }
    ip(["netns", "add", host])
    ip(["-n", host, "link", "set", "lo", "up"])
    ip(["-n", host, "link", "add", "mgmt0", "type", "bridge"])
    ip(["-n", host, "addr", "add", "172.20.20.1/24", "dev", "mgmt0"])
    ip(["-n", host, "addr", "add", "3fff:172:20:20::1/64", "dev", "mgmt0", "nodad"])
    ip(["-n", host, "link", "set", "mgmt0", "up"])
    var bridges: Set<String> = []
    for (i, n) in nodes.enumerated() {
      if n.kind == "bridge" {
        bridges.insert(n.name)
        ip(["-n", host, "link", "add", n.name, "type", "bridge"])
        ip(["-n", host, "link", "set", n.name, "up"])
        continue
      }
      // containerlab's management: eth0 on the management bridge, and default routes.
      let ns = names.namespace(node: n.name)
      ip(["netns", "add", ns])
      namespaces.append(ns)
      ip(["-n", ns, "link", "set", "lo", "up"])
      ip(["link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name", "m\(i)", "netns", host])
      ip(["-n", host, "link", "set", "m\(i)", "master", "mgmt0", "up"])
      ip(["-n", ns, "addr", "add", "172.20.20.\(i + 2)/24", "dev", "eth0"])
      ip(["-n", ns, "addr", "add", "3fff:172:20:20::\(i + 2)/64", "dev", "eth0", "nodad"])
      ip(["-n", ns, "link", "set", "eth0", "up"])
      ip(["-n", ns, "route", "add", "default", "via", "172.20.20.1"])
      ip(["-n", ns, "-6", "route", "add", "default", "via", "3fff:172:20:20::1"])
    }
    try runScript()
    lap("nodes")
    // The links, as veths named as the file says; a bridge's or the host's end on the host.
    // The file's L2 segments (a LAN is one, whether a bridge or a node that runs one), with
    // the YAML's names for their members: both exports write the links in the file's order.
    let l2 = L2Segments(t.links)
    let lans = Set(t.bridges.map { label($0.name) })
    var segments = [[(ns: String, interface: String)]](repeating: [], count: l2.members.count)
    let links = doc["topology"]?.mapping?["links"]?.sequence ?? []
    XCTAssertEqual(links.count, t.links.count, file)
    for (index, link) in links.enumerated() {
      let ends = (link.mapping?["endpoints"]?.sequence ?? []).compactMap(\.string).map { $0.split(separator: ":", maxSplits: 1).map(String.init) }
      XCTAssertEqual(ends.count, 2, file)
      let (a, b) = (ends[0], ends[1])
      func place(_ e: [String]) -> String { bridges.contains(e[0]) || e[0] == "host" ? host : names.namespace(node: e[0]) }
      ip(["link", "add", a[1], "netns", place(a), "type", "veth", "peer", "name", b[1], "netns", place(b)])
      for e in [a, b] {
        if bridges.contains(e[0]) {
          ip(["-n", host, "link", "set", e[1], "master", e[0]])
        }
        ip(["-n", place(e), "link", "set", e[1], "up"])
      }
      segments[l2.ofLink[index]] += [a, b].filter { !bridges.contains($0[0]) && !lans.contains($0[0]) && $0[0] != "host" }.map { (ns: place($0), interface: $0[1]) }
    }
    // The host's own addresses, as the export's note leaves them to the user.
    for l in t.links {
      for e in [l.a, l.b] where e.owner == .host {
        for a in e.addresses { ip(["-n", host, "addr", "add", a.description, "dev", e.interface] + (a.family == .ipv6 ? ["nodad"] : [])) }
      }
    }
    try runScript()
    try runScript()
    lap("links")
    // Each node's exec lines, in order, as containerlab runs them (no shell; split into words).
    for n in nodes where n.kind == "linux" {
      for line in n.exec {
        let words = try XCTUnwrap(shellWords(line), "\(file): \(line)")
        let command = (["timeout", "20", "nsenter", "--net=/run/netns/" + names.namespace(node: n.name), "--"] + words).map(quote).joined(separator: " ")
        script.append("\(command) </dev/null >/dev/null || echo \(quote("\(n.name): exec failed: \(line)")) >&2")
      }
    }
    try runScript()
    lap("exec")
    try permanentNeighbours(segments, file: file)
    lap("neighbours")
    // The data-plane pairs: node to node, TCP and UDP, every family.
    var set = ProbeSet(topology: t, namespace: { names.namespace(node: label($0)) }, options: ProbeSet.Options(protocols: [.tcp, .udp, .icmp]))
    Predictor(t).placeLandings(&set)
    let indices = set.probes.indices.filter { set.endpoints[Int(set.probes[$0].source)].namespace != nil && set.endpoints[Int(set.probes[$0].target)].namespace != nil }
    let pairs = set.subset(indices)
    let model = predictedOutcomes(t, pairs)
    let measured = try ProbeEngine.measure(pairs, model: model, options: ProbeEngine.Options()).outcomes
    lap("probes")
    var mismatches: [String] = []
    for (i, p) in pairs.probes.enumerated() where measured[i] != model[i].outcome {
      mismatches.append(
        "\(pairs.endpoints[Int(p.source)].name) -> \(pairs.endpoints[Int(p.target)].name) \(pairs.address(of: p)) \(p.proto.rawValue)/\(p.port): predicted \(model[i].outcome.rawValue), measured \(measured[i].rawValue)")
    }
    return (pairs.probes.count, pairs.probes.count - mismatches.count, mismatches)
  }

  /// A permanent neighbour entry in each member of a segment for every address of every
  /// other member, as `nstopo test` gives its nodes: the kernel's neighbour table holds 1,024
  /// entries for all namespaces together, fewer than star-100's full mesh needs at once.
  /// Addresses nobody has are still resolved, and still fail.
  func permanentNeighbours(_ segments: [[(ns: String, interface: String)]], file: String) throws {
    struct Link: Decodable {
      struct Address: Decodable {
        var family: String
        var local: String
        var scope: String?
      }
      var ifname: String
      var address: String?
      var addr_info: [Address]
    }
    var links: [String: [String: Link]] = [:]
    let spaces = Set(segments.flatMap { $0.map(\.ns) }).sorted()
    let (_, out, _) = try bash(spaces.map { "ip -j -n \(quote($0)) addr show" }.joined(separator: "\n"))
    // One JSON array per line, in order.
    for (ns, json) in zip(spaces, out.split(separator: "\n")) {
      let list = try JSONDecoder().decode([Link].self, from: Data(json.utf8))
      links[ns] = Dictionary(list.map { ($0.ifname, $0) }, uniquingKeysWith: { a, _ in a })
    }
    var batches: [String: String] = [:]
    for members in segments {
      for m in members {
        for o in members where !(o.ns == m.ns && o.interface == m.interface) {
          guard let peer = links[o.ns]?[o.interface], let mac = peer.address else { continue }
          for a in peer.addr_info where a.scope == "global" {
            batches[m.ns, default: ""] += "neigh replace \(a.local) lladdr \(mac) dev \(m.interface) nud permanent\n"
          }
        }
      }
    }
    // -force: an entry of a family the interface lacks is refused, and skipped.
    let script = batches.map { "ip -n \(quote($0.key)) -force -batch - >/dev/null 2>&1 <<'EOF'\n\($0.value)EOF" }
    _ = try bash(script.joined(separator: "\n"))
  }

  /// Words as containerlab splits an exec line (POSIX shell quoting, no expansion): nil for
  /// an unterminated quote.
  func shellWords(_ line: String) -> [String]? {
    var words: [String] = []
    var word = ""
    var inWord = false
    var quote: Character?
    var escaped = false
    for c in line {
      if escaped {
        word.append(c)
        escaped = false
        continue
      }
      switch quote {
      case "'":
        if c == "'" { quote = nil } else { word.append(c) }
      case "\"":
        if c == "\"" { quote = nil } else if c == "\\" { escaped = true } else { word.append(c) }
      default:
        if c == " " || c == "\t" || c == "\n" {
          if inWord { words.append(word) }
          word = ""
          inWord = false
        } else {
          inWord = true
          if c == "'" || c == "\"" { quote = c } else if c == "\\" { escaped = true } else { word.append(c) }
        }
      }
    }
    if quote != nil || escaped { return nil }
    if inWord { words.append(word) }
    return words
  }

  /// The word splitter, on what the export writes: quotes inside quotes, newlines.
  func testShellWords() {
    XCTAssertEqual(shellWords("ip route replace default via 10.0.0.1"), ["ip", "route", "replace", "default", "via", "10.0.0.1"])
    XCTAssertEqual(shellWords("sh -c 'a '\\''b'\\'' c\nd'"), ["sh", "-c", "a 'b' c\nd"])
    XCTAssertEqual(shellWords("echo \"x \\\" y\" ''"), ["echo", "x \" y", ""])
    XCTAssertNil(shellWords("echo 'open"))
  }
}

/// `s` as one shell word.
private func quote(_ s: String) -> String {
  "'" + s.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
}

/// Runs `script` with bash from a file (it can be longer than an argument), for at most ten
/// minutes.
private func bash(_ script: String) throws -> (Int32, String, String) {
  let path = NSTemporaryDirectory() + "nstt-script-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sh"
  try script.write(toFile: path, atomically: true, encoding: .utf8)
  defer { try? FileManager.default.removeItem(atPath: path) }
  return try runProcess("/usr/bin/timeout", ["600", "/bin/bash", path])
}
