import ArgumentParser
import TopologyDSL

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check topology files and report every problem at once.",
    discussion: "Exit 0 when every file is valid (warnings allowed), 65 when any has an error.")

  @Argument(help: "Topology files (.topo).")
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
            print("\(file): ok: topology \(t.name), \(t.nodes.count) nodes, \(t.bridges.count) bridges, \(t.links.count) veths")
          }
        } else {
          failed = true
        }
      }
      return failed ? Exit.invalidTopology : Exit.ok
    }
  }
}
