import ArgumentParser
import Containerlab
import Foundation
import TopologyDSL
import TopologyModel

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Read a containerlab topology file (.clab.yml) and write the equivalent .topo.",
    discussion: """
      kind: linux nodes become nodes, kind: bridge bridges, host:IF endpoints host ends; a node's settings come from the node, its group, its kind and the defaults, as containerlab resolves them; cpu: 1.5 is cpu 150%. exec: lines are read for what they mean: ip addr add gives the end its address, ip route add … via a route, ip link set … up nothing (nstopo brings links up), sysctl -w net.ipv4.ip_forward=1 forward; any other line becomes a run line. What has no equivalent (images, binds, env, ports, the management network, a network OS's configuration) is dropped with a warning located in the YAML and a comment in the output; a node of another kind is an empty namespace, with a warning. The result passes `nstopo validate`, or nothing is written (exit 65).
      """)

  @Argument(help: "A containerlab topology file.", completion: .file(extensions: ["yml", "yaml"]))
  var file: String

  @Option(name: .shortAndLong, help: "The .topo file to write (default: stdout).", completion: .file(extensions: ["topo"]))
  var output: String?

  @OptionGroup var display: DisplayOptions

  func run() throws {
    try NSTopoCLI.run {
      let out = try OutputFile.checked(output, option: "-o")
      guard let data = FileManager.default.contents(atPath: file) else { throw Failure("\(file): no such file", code: Exit.noInput) }
      let yaml = String(decoding: data, as: UTF8.self)
      let result = ClabImport.convert(yaml: yaml, fileName: file)
      var renderer = DiagnosticRenderer(fileName: file, source: yaml)
      renderer.color = Terminal.color(STDERR_FILENO)
      if !result.diagnostics.isEmpty { printError(renderer.render(result.diagnostics)) }
      guard let text = result.text else { return Exit.invalidTopology }
      // What is written must be a valid topology.
      // Located in the conversion's text (no file has it yet), which the excerpts show.
      let check = TopologyLoader.load(text: text, fileName: "(\(file) converted)")
      if check.diagnostics.hasErrors {
        printError("nstopo: import: \(file) converts to a topology that does not validate (the lines below are the conversion's); nothing was written:\n" + check.rendered)
        return Exit.invalidTopology
      }
      if let out, !out.isStdout {
        try out.write(text)
        printError("import: wrote \(out.path) (topology \(check.topology!.name), \(count(check.topology!.nodes.count, "node")))")
      } else {
        print(text, terminator: "")
      }
      return Exit.ok
    }
  }
}

struct Export: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Write a topology in another tool's format: containerlab (.clab.yml), for containerlab or clabernetes.",
    discussion: """
      Each node is kind: linux with --image (default \(ClabExport.defaultImage), which has iproute2, sysctl, tc and nft) and exec: lines that give it its addresses, routes, forwarding, link properties and firewall; bridges are kind: bridge (containerlab expects them to exist), host ends host:IF endpoints, CPU caps cpu. containerlab's eth0 is the management interface: a node that uses eth0 has its ethN moved up by one. chroot, expect lines and scenarios have no equivalent and are listed in comments. Each node's exec lines first remove the default routes containerlab gives it through eth0, and can run again.

      --for clabernetes writes what clabernetes accepts (clabverter --topologyFile FILE | kubectl apply -f -): each bridge becomes a Linux node running a bridge over its ports, every node's interfaces are eth1, eth2… in the file's order, names become Kubernetes names; a host end is an error (65), located in the file.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up.", completion: .custom(topologyNamesOrFiles))
  var topology: String

  @OptionGroup var display: DisplayOptions

  @OptionGroup var quietOption: QuietOption

  @Option(help: "The format: containerlab.")
  var format = "containerlab"

  @Option(name: .customLong("for"), help: "Where the lab runs: containerlab, or clabernetes (Kubernetes).")
  var target = "containerlab"

  @Option(help: "The container image of every node.")
  var image = ClabExport.defaultImage

  @Option(name: .shortAndLong, help: "The file to write (default: stdout).", completion: .file(extensions: ["yml", "yaml"]))
  var output: String?

  func validate() throws {
    if format != "containerlab" { throw ValidationError("--format must be containerlab (the only one so far)") }
    if image.isEmpty { throw ValidationError("--image must name an image") }
    if !["containerlab", "clabernetes"].contains(target) { throw ValidationError("--for must be containerlab or clabernetes") }
  }

  func run() throws {
    try NSTopoCLI.run {
      let out = try OutputFile.checked(output, option: "-o")
      let t = try TopologyFile.resolve(topology)
      let isFile = FileManager.default.fileExists(atPath: topology)
      let source = isFile ? topology : "topology \(t.name)"
      let text: String
      if target == "clabernetes" {
        let r = ClabernetesExport.render(t, image: image, source: source)
        guard let yaml = r.text else {
          printError(located(r.problems, file: isFile ? topology : nil))
          return Exit.invalidTopology
        }
        text = yaml
      } else {
        text = ClabExport.render(t, image: image, source: source)
      }
      if let out, !out.isStdout {
        try out.write(text)
        printError("export: wrote \(out.path)")
      } else {
        print(text, terminator: "")
      }
      return Exit.ok
    }
  }
}

extension Export {
  /// The problems as compiler-style diagnostics in `file` (at a node's line, or where the
  /// token first appears), else as plain lines.
  func located(_ problems: [ClabernetesExport.Problem], file: String?) -> String {
    let source = file.flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
    guard let file, let source else {
      return problems.map { "error: \($0.message)" + ($0.hint.map { "\n  hint: \($0)" } ?? "") }.joined(separator: "\n")
    }
    let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let diagnostics = problems.map { p -> Diagnostic in
      var line = p.line ?? 0
      var column = 1
      var length = 1
      if let token = p.token, let i = lines.firstIndex(where: { $0.contains(token) }) {
        line = i + 1
        column = lines[i].distance(from: lines[i].startIndex, to: lines[i].range(of: token)!.lowerBound) + 1
        length = token.count
      } else if line > 0, line <= lines.count {
        let text = lines[line - 1]
        column = text.count - text.drop { $0 == " " }.count + 1
        length = text.drop { $0 == " " }.prefix { $0 != " " && $0 != "#" }.count
      }
      return Diagnostic(.error, p.message, line: line, column: column, length: length, hint: p.hint)
    }
    var renderer = DiagnosticRenderer(fileName: file, source: source)
    renderer.color = Terminal.color(STDERR_FILENO)
    return renderer.render(diagnostics)
  }
}
