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
      let check = TopologyLoader.load(text: text, fileName: output ?? "imported.topo")
      if check.diagnostics.hasErrors {
        printError("nstopo: import: the converted topology does not validate; nothing was written:\n" + check.rendered)
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
    abstract: "Write a topology in another tool's format: containerlab (.clab.yml).",
    discussion: """
      Each node is kind: linux with --image (default \(ClabExport.defaultImage), which has iproute2, sysctl, tc and nft) and exec: lines that give it its addresses, routes, forwarding, link properties and firewall; bridges are kind: bridge (containerlab expects them to exist), host ends host:IF endpoints, CPU caps cpu. containerlab's eth0 is the management interface: a node that uses eth0 has its ethN moved up by one. chroot, expect lines and scenarios have no equivalent and are listed in comments. On Kubernetes: clabverter converts the file for clabernetes.
      """)

  @Argument(help: "A topology file, or the name of a topology that is up.", completion: .custom(topologyNamesOrFiles))
  var topology: String

  @OptionGroup var display: DisplayOptions

  @Option(help: "The format: containerlab.")
  var format = "containerlab"

  @Option(help: "The container image of every node.")
  var image = ClabExport.defaultImage

  @Option(name: .shortAndLong, help: "The file to write (default: stdout).", completion: .file(extensions: ["yml", "yaml"]))
  var output: String?

  func validate() throws {
    if format != "containerlab" { throw ValidationError("--format must be containerlab (the only one so far)") }
    if image.isEmpty { throw ValidationError("--image must name an image") }
  }

  func run() throws {
    try NSTopoCLI.run {
      let out = try OutputFile.checked(output, option: "-o")
      let t = try TopologyFile.resolve(topology)
      let text = ClabExport.render(t, image: image, source: FileManager.default.fileExists(atPath: topology) ? topology : "topology \(t.name)")
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
