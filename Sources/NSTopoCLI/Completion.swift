import ArgumentParser
import Foundation
import Realizer
import TopologyDSL
import TopologyModel

// Custom completion kinds: the shells call `nstopo ---completion …`, which runs these with
// the words typed so far, the index of the word being completed, and its prefix.

/// Only candidates that no shell can read as code. bash's generated script hands them to
/// `compgen -W`, which expands `$(…)`, backquotes, `$VAR`, `~` and braces in its word list:
/// a file named `$(touch x).topo` in a folder where root presses TAB would run `touch x` as
/// root. Names with any other character are not offered (the shell's own file completion
/// still reaches them when typed).
func shellSafe(_ candidates: [String]) -> [String] {
  candidates.filter { c in
    !c.isEmpty
      && c.unicodeScalars.allSatisfy { u in
        (u.value >= 0x30 && u.value <= 0x39) || (u.value >= 0x41 && u.value <= 0x5A) || (u.value >= 0x61 && u.value <= 0x7A)
          || "._-+,:@%=/".unicodeScalars.contains(u)
      }
  }
}

/// The names of the topologies that are up.
@Sendable func upTopologyNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  shellSafe(StateStore.names().filter { $0.hasPrefix(prefix) })
}

/// Topologies that are up, and `.topo` files (and directories, to descend into) that start
/// with the prefix: the arguments that take either.
@Sendable func topologyNamesOrFiles(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  upTopologyNames(words, index, prefix) + shellSafe(topoFiles(prefix))
}

/// `.topo` files and directories under the prefix's directory.
func topoFiles(_ prefix: String) -> [String] {
  let slash = prefix.lastIndex(of: "/")
  let directory = slash.map { String(prefix[...$0]) } ?? ""
  let stem = slash.map { String(prefix[prefix.index(after: $0)...]) } ?? prefix
  guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return [] }
  return entries.sorted().compactMap { e -> String? in
    guard e.hasPrefix(stem), !e.hasPrefix(".") || stem.hasPrefix(".") else { return nil }
    var isDirectory: ObjCBool = false
    _ = FileManager.default.fileExists(atPath: directory + e, isDirectory: &isDirectory)
    if isDirectory.boolValue { return directory + e + "/" }
    return e.hasSuffix(".topo") ? directory + e : nil
  }
}

/// The node names of the topology named (or whose file is given) in the first positional
/// word after the subcommand, as `exec`, `shell`, `why`, `link` and `node` take them.
@Sendable func nodeNames(_ words: [String], _ index: Int, _ prefix: String) -> [String] {
  // words[0] is `nstopo`, words[1] the subcommand; the topology is the next word that is
  // not an option.
  guard let argument = words.dropFirst(2).first(where: { !$0.hasPrefix("-") }) else { return [] }
  var topology: Topology?
  if FileManager.default.fileExists(atPath: argument), let data = FileManager.default.contents(atPath: argument) {
    topology = TopologyLoader.load(bytes: [UInt8](data), fileName: argument).topology
  } else if NameRules.topologyProblem(argument) == nil {
    topology = StateStore.document(argument)?.topology
  }
  guard let topology else { return [] }
  // `host` is an end for `why` and `test`, not a place `exec` or `shell` can run in.
  let host = topology.hasHost && !["exec", "shell"].contains(words.count > 1 ? words[1] : "")
  return shellSafe((topology.nodes.map(\.name) + (host ? ["host"] : [])).filter { $0.hasPrefix(prefix) })
}
