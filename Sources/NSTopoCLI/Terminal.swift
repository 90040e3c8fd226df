import ArgumentParser
import Foundation
import Glibc

/// `--color auto|always|never`.
enum ColorChoice: String, ExpressibleByArgument, CaseIterable, Sendable {
  case auto, always, never
}

/// The display options every command that prints colour shares.
struct DisplayOptions: ParsableArguments {
  @Option(help: "Colour: auto (on a terminal, unless NO_COLOR is set or TERM=dumb), always (for CI logs), never.")
  var color: ColorChoice = .auto

  @Flag(help: "Same as --color never.")
  var noColor = false

  var choice: ColorChoice { noColor ? .never : color }

  /// Runs as the command is parsed: diagnostics printed while loading the file follow it.
  func validate() throws { Terminal.choice = choice }
}

/// `-q` of the commands that read a file and have no quiet mode of their own: the file's
/// warnings are not shown (errors are).
struct QuietOption: ParsableArguments {
  @Flag(name: .shortAndLong, help: "Do not show the file's warnings (errors still are).")
  var quiet = false

  func validate() throws { TopologyFile.warnings = !quiet }
}

/// What the terminal can show: colour (no-color.org, `TERM=dumb`) and its width.
enum Terminal {
  nonisolated(unsafe) static var choice: ColorChoice = .auto

  /// Whether to colour what goes to `fd`: `--color always` or `never` decide; `auto` colours a
  /// terminal unless `NO_COLOR` is set to something or `TERM` is `dumb`.
  static func color(_ fd: Int32 = STDOUT_FILENO) -> Bool {
    switch choice {
    case .always: return true
    case .never: return false
    case .auto:
      let env = ProcessInfo.processInfo.environment
      if let n = env["NO_COLOR"], !n.isEmpty { return false }
      if env["TERM"] == "dumb" { return false }
      return isatty(fd) == 1
    }
  }

  /// Columns available on stdout: `COLUMNS` when set, else the terminal's width; nil when
  /// stdout is not a terminal (a file or a pipe has no width).
  static func width(_ fd: Int32 = STDOUT_FILENO) -> Int? {
    if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 0 { return c }
    guard isatty(fd) == 1 else { return nil }
    var size = winsize()
    guard ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
    return Int(size.ws_col)
  }
}
