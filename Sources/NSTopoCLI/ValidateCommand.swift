import ArgumentParser
import TopologyDSL

struct Validate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check topology files and report every problem at once.",
    discussion: "Exit 0 when every file is valid (warnings allowed), 65 when any has an error. --json prints each file's diagnostics as objects instead (documented in the README).")

  @Argument(help: "Topology files (.topo).", completion: .file(extensions: ["topo"]))
  var files: [String]

  @Flag(name: .shortAndLong, help: "Print nothing for valid files.")
  var quiet = false

  @Flag(help: "Print the diagnostics as JSON on stdout (nothing on stderr).")
  var json = false

  @OptionGroup var display: DisplayOptions

  /// `validate --json`.
  struct Document: Encodable {
    var format = 1
    var kind = "validate"
    var valid: Bool
    var files: [FileResult]
  }

  struct FileResult: Encodable {
    var file: String
    /// The topology's name when the file is valid.
    var topology: String?
    var valid: Bool
    var errors: Int
    var warnings: Int
    var diagnostics: [DiagnosticDoc]
  }

  /// One diagnostic: where (1-based line and column; line 0 is the whole file), how bad,
  /// what, and the notes and hints a terminal shows under it.
  struct DiagnosticDoc: Encodable {
    var file: String
    var line: Int
    var column: Int
    var length: Int
    var severity: String
    var message: String
    var notes: [String]
    var hints: [String]
  }

  func run() throws {
    try NSTopoCLI.run {
      var failed = false
      var results: [FileResult] = []
      for file in files {
        let (topology, result) = try TopologyFile.load(file, quiet: json)
        failed = failed || topology == nil
        if json {
          results.append(
            FileResult(
              file: file, topology: topology?.name, valid: topology != nil, errors: result.diagnostics.errorCount,
              warnings: result.diagnostics.warningCount,
              diagnostics: result.diagnostics.map { d in
                DiagnosticDoc(
                  file: file, line: d.line, column: d.column, length: d.length, severity: d.severity.rawValue, message: d.message,
                  notes: d.note.map { [$0] } ?? [], hints: d.hint.map { [$0] } ?? [])
              }))
        } else if let t = topology, !quiet {
          print("\(file): ok: topology \(t.name), \(count(t.nodes.count, "node")), \(count(t.bridges.count, "bridge")), \(count(t.links.count, "veth"))")
        }
      }
      if json { print(try encodeJSON(Document(valid: !failed, files: results))) }
      return failed ? Exit.invalidTopology : Exit.ok
    }
  }
}
