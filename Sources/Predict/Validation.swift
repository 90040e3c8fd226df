import TopologyDSL
import TopologyModel

/// What `validate` reports for a file, in one place: the language's diagnostics, then what the
/// model already says about reachability (`Lint`), as warnings located at the line they are
/// about, the caret under its keyword.
public enum Validation {
  public static func load(bytes: [UInt8], fileName: String, options: LoadOptions = LoadOptions()) -> LoadResult {
    var result = TopologyLoader.load(bytes: bytes, fileName: fileName, options: options)
    guard let t = result.topology else { return result }
    for f in Lint.findings(t) { result.diagnostics.append(diagnostic(f, lines: result.renderer.lines)) }
    return result
  }

  /// A finding as a warning: at its line (column 1, under the line's first word), or about the
  /// whole file when it has none.
  public static func diagnostic(_ f: LintFinding, lines: [String]) -> Diagnostic {
    let keyword = f.line.flatMap { l in lines.indices.contains(l - 1) ? lines[l - 1] : nil }
      .map { $0.prefix { $0 != " " && $0 != "\t" }.count } ?? 1
    return Diagnostic(.warning, f.message, line: f.line ?? 0, column: 1, length: keyword, hint: f.hint)
  }
}
