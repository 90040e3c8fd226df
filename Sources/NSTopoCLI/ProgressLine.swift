import Foundation
import Glibc
import Netlink

/// A line of progress on stderr while a long command runs: phase, done/total, rate and time
/// left (`probing 412,000/999,000 pairs · 23,600/s · 25 s left`), redrawn at most five times a
/// second, erased at the end. Only on a terminal (and not `TERM=dumb`), never with `--quiet`:
/// a log or a pipe gets nothing.
final class ProgressLine {
  let enabled: Bool
  /// Put before each phase (`scenario spine1-fails: `).
  var prefix = ""
  private var last = 0.0
  private var phase = ""
  private var phaseStart = 0.0
  private var shown = false

  init(quiet: Bool) {
    enabled = !quiet && isatty(STDERR_FILENO) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
  }

  /// Shows `phase done/total unit`, with the rate and time left once a rate is known.
  func update(_ phase: String, _ done: Int, _ total: Int, unit: String = "") {
    guard enabled else { return }
    let now = monotonicSeconds()
    if phase != self.phase {
      self.phase = phase
      phaseStart = now
    } else if now - last < 0.2 && done < total {
      return
    }
    last = now
    // A phase without a count (neighbour entries, the model): its name is the news.
    if total == 0 {
      draw("\(prefix)\(phase)…")
      return
    }
    var text = "\(prefix)\(phase) \(Self.grouped(done))/\(Self.grouped(total))\(unit.isEmpty ? "" : " " + unit)"
    let elapsed = now - phaseStart
    if elapsed > 0.5 && done > 0 && done < total {
      let rate = Double(done) / elapsed
      text += " · \(Self.grouped(Int(rate)))/s · \(Int((Double(total - done) / rate).rounded(.up))) s left"
    }
    draw(text)
  }

  /// Erases the line: what the command prints next starts clean.
  func finish() {
    guard enabled, shown else { return }
    FileHandle.standardError.write("\r\u{1B}[K".data(using: .utf8)!)
    shown = false
  }

  private func draw(_ text: String) {
    let width = Terminal.width(STDERR_FILENO) ?? 80
    let line = text.count >= width ? String(text.prefix(max(1, width - 1))) : text
    FileHandle.standardError.write("\r\u{1B}[K\(line)".data(using: .utf8)!)
    shown = true
  }

  /// `412,000`.
  static func grouped(_ n: Int) -> String {
    let digits = String(n)
    var out = ""
    for (i, c) in digits.reversed().enumerated() {
      if i > 0 && i % 3 == 0 { out.append(",") }
      out.append(c)
    }
    return String(out.reversed())
  }
}
