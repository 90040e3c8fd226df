import ArgumentParser

/// Exit codes, in one place (sysexits.h where one fits). Documented in the README.
enum Exit {
  static let ok: Int32 = 0
  static let mismatch: Int32 = 1
  /// `test --declared-only` without an `expect` line: nothing to check (netlab's code).
  static let nothingToCheck: Int32 = 2
  static let usage: Int32 = 64
  static let invalidTopology: Int32 = 65
  static let noInput: Int32 = 66
  static let unavailable: Int32 = 69
  static let software: Int32 = 70
  static let kernel: Int32 = 71
  static let alreadyUp: Int32 = 73
  /// An output file (`--json`, `--junit`, `-o`) cannot be written: sysexits' EX_CANTCREAT,
  /// the same code as a name `up` needs being taken.
  static let cannotCreate: Int32 = 73
  static let busy: Int32 = 75
  static let noPermission: Int32 = 77
  /// State, or an object, that nstopo did not make or cannot prove its own: left alone.
  static let refused: Int32 = 78
  static let interrupted: Int32 = 130
  /// `exec`: the command could not be started (as a shell says).
  static let cannotStart: Int32 = 127
}

/// An error that carries its own message and exit code.
struct Failure: Error, CustomStringConvertible {
  var message: String
  var code: Int32
  var description: String { message }

  init(_ message: String, code: Int32) {
    self.message = message
    self.code = code
  }
}

/// Prints to stderr.
func printError(_ text: String) {
  var s = text
  if !s.hasSuffix("\n") { s += "\n" }
  FileHandle.standardError.write(s.data(using: .utf8)!)
}

import Foundation

/// Runs a command body and maps failures to exit codes.
func run(_ body: () throws -> Int32) throws {
  do {
    let code = try body()
    if code != 0 { throw ExitCode(code) }
  } catch let f as Failure {
    printError("nstopo: \(f.message)")
    throw ExitCode(f.code)
  }
}
