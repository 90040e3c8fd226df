import ArgumentParser
import TopologyDSL

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check topology files and report every problem at once.",
    discussion: "Exit 0 when every file is valid (warnings allowed), 65 when any has an error.")

  @Argument(help: "Topology files (.topo).", completion: .file(extensions: ["topo"]))
  var files: [String]

  @Flag(name: .shortAndLong, help: "Print nothing for valid files.")
  var quiet = false

  func run() throws {
    try NSTopoCLI.run {
      var failed = false
      for file in files {
        let (topology, _) = try TopologyFile.load(file)
        if let t = topology {
          if !quiet {
            print("\(file): ok: topology \(t.name), \(count(t.nodes.count, "node")), \(count(t.bridges.count, "bridge")), \(count(t.links.count, "veth"))")
          }
        } else {
          failed = true
        }
      }
      return failed ? Exit.invalidTopology : Exit.ok
    }
  }
}
