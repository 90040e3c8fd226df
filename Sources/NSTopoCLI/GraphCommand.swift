import ArgumentParser
import DOT
import Foundation
import NSTopoKit
import Matrix
import Predict
import Realizer
import TopologyModel

struct Graph: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Draw a topology: Graphviz DOT, or SVG/PNG rendered by `dot`.",
    discussion: """
      The format comes from the -o extension (.dot, .svg, .png, .pdf); without -o, or with -o -, DOT goes to stdout. Runs of identical hosts (h1..h100 with the same links and routes) are drawn as one group node unless --expand. --results overlays a `nstopo test --json` (or `predict --json`) file: failed expectations as red dashed arrows, nodes coloured by their share of failures.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up.", completion: .custom(topologyNamesOrFiles))
  var topology: String

  @Option(name: .shortAndLong, help: "Output file: .dot, .svg, .png or .pdf (- for DOT on stdout).", completion: .file(extensions: ["dot", "svg", "png", "pdf"]))
  var output: String?

  @Option(help: "Results of `nstopo test --json` or `predict --json` to draw over the topology.", completion: .file(extensions: ["json"]))
  var results: String?

  @OptionGroup var display: DisplayOptions

  @OptionGroup var quietOption: QuietOption

  @Flag(help: "Draw every node; do not group runs of identical hosts.")
  var expand = false

  @Option(help: "TB: the routing core on top, LANs below (default); LR: the core on the left, edges from interface rows.")
  var rankdir = "TB"

  func validate() throws {
    if !["TB", "LR"].contains(rankdir) { throw ValidationError("--rankdir must be TB or LR") }
    if let o = output, o != "-", !["dot", "gv", "svg", "png", "pdf"].contains(URL(fileURLWithPath: o).pathExtension.lowercased()) {
      throw ValidationError("-o must end in .dot, .svg, .png or .pdf (or be - for DOT on stdout)")
    }
  }

  func run() throws {
    try NSTopoCLI.run {
      let file = try OutputFile.checked(output, option: "-o")
      let t = try TopologyFile.resolve(topology)
      let overlay = try results.map { try loadOverlay($0, topology: t) }
      let dot = DOTRenderer.render(t, options: .init(expand: expand, overlay: overlay, rankdir: rankdir))
      guard let output, let file, !file.isStdout else {
        print(dot, terminator: "")
        return Exit.ok
      }
      let ext = URL(fileURLWithPath: output).pathExtension.lowercased()
      if ext == "dot" || ext == "gv" {
        try file.write(dot)
      } else {
        try renderWithGraphviz(dot, format: ext, to: output)
      }
      print("graph: wrote \(output)")
      return Exit.ok
    }
  }

  /// Equivalent to `dot -Tsvg`, the SVG returned; nil without Graphviz.
  static func svg(_ dot: String) -> String? {
    let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/dot" }
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = ["-Tsvg"]
    let input = Pipe()
    let output = Pipe()
    p.standardInput = input
    p.standardOutput = output
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    // Write and read at once: a large SVG must not fill the pipe while dot waits for input.
    final class Box: @unchecked Sendable { var data = Data() }
    let box = Box()
    let reader = Thread { box.data = output.fileHandleForReading.readDataToEndOfFile() }
    reader.start()
    input.fileHandleForWriting.write(dot.data(using: .utf8)!)
    try? input.fileHandleForWriting.close()
    p.waitUntilExit()
    while !reader.isFinished { usleep(1000) }
    return p.terminationStatus == 0 ? String(decoding: box.data, as: UTF8.self) : nil
  }

  /// Equivalent to `dot -Tsvg -o OUT`.
  func renderWithGraphviz(_ dot: String, format: String, to path: String) throws {
    let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/dot" }
    guard let exe = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      throw Failure("Graphviz's `dot` is not installed; install it with `apt-get install graphviz`, or use -o FILE.dot", code: Exit.unavailable)
    }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: exe)
    p.arguments = ["-T\(format)", "-o", path]
    let input = Pipe()
    let err = Pipe()
    p.standardInput = input
    p.standardError = err
    try p.run()
    input.fileHandleForWriting.write(dot.data(using: .utf8)!)
    try input.fileHandleForWriting.close()
    let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    if p.terminationStatus != 0 {
      throw Failure("dot -T\(format) failed (exit \(p.terminationStatus)): \(message)", code: Exit.software)
    }
  }

  /// Reads `nstopo test --json` output into the overlay the renderer draws.
  func loadOverlay(_ path: String, topology: Topology) throws -> Overlay {
    guard let data = FileManager.default.contents(atPath: path) else { throw Failure("\(path): no such file", code: Exit.noInput) }
    let doc: TestDocument
    do { doc = try JSONDecoder().decode(TestDocument.self, from: data) } catch {
      throw Failure("\(path) is not the output of `nstopo test --json` or `predict --json`: \(error)", code: Exit.invalidTopology)
    }
    if doc.topology != topology.name {
      printError("nstopo: warning: \(path) is for topology '\(doc.topology)', not '\(topology.name)'")
    }
    let unknown = Graph.unknownEndpoints(doc, topology: topology)
    if !unknown.isEmpty { printError("nstopo: warning: \(Graph.unknownSentence(path, unknown, topology))") }
    return Graph.overlay(doc, topology: topology)
  }

  /// Endpoints the results name that the topology lacks (results older than a rename).
  static func unknownEndpoints(_ doc: TestDocument, topology: Topology) -> [String] {
    let endpoints = Set(topology.nodes.map(\.name) + (topology.hasHost ? ["host"] : []))
    var unknown: [String] = []
    for p in doc.pairs {
      for n in [p.source, p.target] where !endpoints.contains(n) && !unknown.contains(n) { unknown.append(n) }
    }
    return unknown
  }

  static func unknownSentence(_ path: String, _ unknown: [String], _ topology: Topology) -> String {
    "\(path) names \(unknown.count == 1 ? "a node" : "\(unknown.count) nodes") that topology \(topology.name) lacks (\(unknown.prefix(5).joined(separator: ", "))\(unknown.count > 5 ? ", …" : "")): results from before a rename? Their pairs are left out of the drawing"
  }

  /// What a results document draws over the topology: failed expectations, each node's share,
  /// and where the model says failed pairs stop.
  static func overlay(_ doc: TestDocument, topology: Topology) -> Overlay {
    var per: [String: (failed: Int, total: Int)] = [:]
    var failed: [Overlay.FailedExpectation] = []
    var culprits: [String: Int] = [:]
    let model = Predictor(topology)
    let endpoints = Set(topology.nodes.map(\.name) + (topology.hasHost ? ["host"] : []))
    for p in doc.pairs where p.expected != nil && endpoints.contains(p.source) && endpoints.contains(p.target) {
      let bad = p.holds == false
      for n in [p.source, p.target] {
        let c = per[n, default: (0, 0)]
        per[n] = (c.failed + (bad ? 1 : 0), c.total + 1)
      }
      // Expected to reach, and the model says where it stops: that node is the culprit.
      if bad, p.expected == .reach {
        let prediction = model.predict(Flow(from: p.source, to: p.target, address: p.address, proto: p.proto, port: p.port))
        if !prediction.reached, let stop = (prediction.returnPath.isEmpty ? prediction.path : prediction.returnPath).last?.node {
          culprits[stop, default: 0] += 1
        }
      }
      if bad {
        failed.append(
          Overlay.FailedExpectation(
            source: p.source, target: p.target,
            detail: "\(p.proto.label(Int(p.port))) \(p.outcome.rawValue)\(p.expected == .blocked ? " (expected blocked)" : "")"))
      }
    }
    return Overlay(failed: failed, perNode: per, predicted: doc.kind == "predict", culprits: culprits)
  }
}
