import ArgumentParser
import DOT
import Foundation
import HTMLReport
import Matrix
import Predict
import Realizer
import TopologyModel

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write a self-contained HTML report of a `test --json` or `predict --json` file.",
    discussion: """
      One file, with nothing fetched: the summary, the diagram with the results over it (when Graphviz and the topology are at hand: --topology FILE, or the topology if it is up), the matrix as a heat map (hover a cell for its pair, click it for the declared, predicted and measured verdicts, the reason, the latency and the predicted path), the mismatches and surprises with filters by node, outcome, protocol and family, and a tab per scenario. Beyond 150 endpoints the heat map starts as blocks by subnet, reached/probed per block, and a click opens a block.
      """)

  @Argument(help: "The JSON of `nstopo test --json` or `predict --json`.", completion: .file(extensions: ["json"]))
  var results: String

  @Option(name: .shortAndLong, help: "The HTML file to write (default: report.html; - for stdout).", completion: .file(extensions: ["html"]))
  var output = "report.html"

  @Option(help: "The topology file, for the diagram and the predicted paths (default: the topology if it is up).", completion: .file(extensions: ["topo"]))
  var topology: String?

  func run() throws {
    try NSTopoCLI.run {
      let out = try OutputFile.checked(output, option: "-o")!
      guard let data = FileManager.default.contents(atPath: results) else { throw Failure("\(results): no such file", code: Exit.noInput) }
      let doc: TestDocument
      do { doc = try JSONDecoder().decode(TestDocument.self, from: data) } catch {
        throw Failure("\(results) is not the output of `nstopo test --json` or `predict --json`: \(Self.reason(error))", code: Exit.invalidTopology)
      }
      if let problem = HTMLReport.tooLarge(doc) { throw Failure("report: \(problem)", code: Exit.invalidTopology) }
      var model: Topology?
      if let topology {
        model = try TopologyFile.require(topology)
      } else if NameRules.topologyProblem(doc.topology) == nil {
        // The topology if it is up, else its file beside the results or here.
        model = StateStore.document(doc.topology)?.topology
        if model == nil {
          let beside = URL(fileURLWithPath: results).deletingLastPathComponent().appendingPathComponent("\(doc.topology).topo").path
          if let file = [beside, "\(doc.topology).topo", "topologies/\(doc.topology).topo"].first(where: { FileManager.default.fileExists(atPath: $0) }),
            let t = try? TopologyFile.load(file, quiet: true).0, t.name == doc.topology
          {
            model = t
          }
        }
      }
      if let model {
        let unknown = Graph.unknownEndpoints(doc, topology: model)
        if !unknown.isEmpty { printError("nstopo: warning: \(Graph.unknownSentence(results, unknown, model))") }
      }
      let html = HTMLReport.render(doc, context: ReportSupport.context(doc, topology: model, generated: ReportSupport.modified(results)))
      try out.write(html)
      if !out.isStdout {
        printError("report: wrote \(out.path)\(model == nil ? " (no diagram: \(doc.topology) is not up and no \(doc.topology).topo is beside the results; give --topology FILE)" : "")")
      }
      return Exit.ok
    }
  }
}

/// What the HTML report needs besides the results, from the topology and the machine.
enum ReportSupport {
  static func context(_ doc: TestDocument, topology: Topology?, generated: String) -> ReportContext {
    var context = ReportContext(generated: generated, machine: machine(), options: options(doc))
    guard let t = topology else { return context }
    let dot = DOTRenderer.render(t, options: .init(overlay: Graph.overlay(doc, topology: t)))
    context.diagramSVG = Graph.svg(dot)
    // Each scenario's own network, drawn with its own results.
    if context.diagramSVG != nil {
      for s in doc.scenarios ?? [] {
        guard let scenario = t.scenarios.first(where: { $0.name == s.name }) else { continue }
        var tab = doc
        tab.pairs = s.pairs
        let network = t.applying(scenario)
        context.scenarioSVGs[s.name] = Graph.svg(DOTRenderer.render(network, options: .init(overlay: Graph.overlay(tab, topology: network))))
      }
    }
    // Blocks for a large matrix: each endpoint's subnet (its first address's), as the
    // per-subnet table groups them.
    let ends = t.endsByOwner()
    var order: [String] = []
    var members: [String: [String]] = [:]
    for e in doc.endpoints ?? [] {
      let owner: Owner = e == "host" ? .host : .node(e)
      let a = ends[owner]?.flatMap(\.addresses).first
      let name = a.flatMap { a in t.subnets.first { $0.prefix.contains(a.address) }?.name ?? a.prefix.description } ?? "(no address)"
      if members[name] == nil { order.append(name) }
      members[name, default: []].append(e)
    }
    context.groups = order.map { ($0, members[$0]!) }
    // The predicted path of every pair the page lists, in each tab's network.
    let endpoints = Set(t.nodes.map(\.name) + (t.hasHost ? ["host"] : []))
    let detailed = (doc.endpoints?.count ?? 0) <= HTMLReport.maxDetailed
    var tabs: [(String, Topology, [PairResult])] = [("base", t, doc.pairs)]
    for s in doc.scenarios ?? [] {
      if let scenario = t.scenarios.first(where: { $0.name == s.name }) { tabs.append((s.name, t.applying(scenario), s.pairs)) }
    }
    for (tab, network, pairs) in tabs {
      let predictor = Predictor(network, probeTimeout: doc.timeoutSeconds > 0 ? doc.timeoutSeconds : 1)
      let listed = detailed ? pairs : pairs.filter { p in p.holds == false || (p.declared != nil && p.predicted.map { $0.reached != p.outcome.reached } == true) }
      for p in listed.prefix(HTMLReport.maxListed) where endpoints.contains(p.source) && endpoints.contains(p.target) {
        let prediction = predictor.predict(Flow(from: p.source, to: p.target, address: p.address, proto: p.proto, port: p.port))
        var text = prediction.path.map { (h: Hop) in h.description }.joined(separator: "\n")
        if !prediction.returnPath.isEmpty { text += "\nback:\n" + prediction.returnPath.map { (h: Hop) in h.description }.joined(separator: "\n") }
        if let r = prediction.reason { text += "\n" + r }
        context.paths[ReportContext.pathKey(p, tab: tab)] = text
      }
    }
    return context
  }

  /// `tcp,udp at port 4444, timeout 1 s`.
  static func options(_ doc: TestDocument) -> String {
    "\(doc.protocols.map(\.rawValue).joined(separator: ",")) at port \(doc.port)" + (doc.timeoutSeconds > 0 ? ", timeout \(doc.timeoutSeconds) s" : "")
  }

  /// `on HOST (Linux 6.18.0)`.
  static func machine() -> String {
    var u = utsname()
    uname(&u)
    func text<T>(_ field: T) -> String {
      withUnsafeBytes(of: field) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
    return "on \(text(u.nodename)) (Linux \(text(u.release)))"
  }

  /// The results file's time, as the run's.
  static func modified(_ path: String) -> String {
    let date = (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date) ?? Date()
    return ISO8601DateFormatter().string(from: date)
  }
}

extension Report {
  /// What is wrong with a results file, in a sentence (not Swift's `DecodingError` dump).
  static func reason(_ error: Error) -> String {
    func path(_ keys: [CodingKey]) -> String {
      keys.isEmpty ? "the top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
    }
    guard let e = error as? DecodingError else { return "\(error)" }
    switch e {
    case .dataCorrupted(let c) where c.codingPath.isEmpty: return "it is not JSON"
    case .dataCorrupted(let c): return "the value at \(path(c.codingPath)) is not what nstopo writes"
    case .keyNotFound(let k, let c): return "it has no '\(k.stringValue)' at \(path(c.codingPath))"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "the value at \(path(c.codingPath)) is not what nstopo writes"
    @unknown default: return "\(error)"
    }
  }
}
