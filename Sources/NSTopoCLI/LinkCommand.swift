import ArgumentParser
import Foundation
import Planner
import Realizer
import TopologyDSL
import TopologyModel

struct LinkChange: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "link",
    abstract: "Change a link of a topology that is up: down, up, set its properties, or clear them.",
    discussion: """
      nstopo link NAME A[:IF] B[:IF] down|up|clear
      nstopo link NAME A[:IF] B[:IF] set [rate R] [delay D] [jitter J] [loss P%] [mtu N]

      A and B are nodes, bridges or `host`; name an interface (r1:eth2) when they share more than one link. `down` takes both ends down (the kernel drops the routes through them); `up` brings them back with those routes. `set` replaces the properties it names and keeps the others; `clear` removes the shaping and restores the MTU. The change is journaled, undone if it fails or on Ctrl-C, and kept in the topology's state: `predict`, `why`, `test` and `graph` of NAME show the topology as it is now, `status` reads it back, and `down` removes it with the rest.
      """)

  @Argument(help: "The topology's name (or its file).", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "A, B, the action (down, up, set, clear), and for set its properties.", completion: .custom(nodeNames))
  var words: [String] = []

  func run() throws {
    try NSTopoCLI.run {
      guard words.count >= 3 else {
        throw Failure("usage: nstopo link NAME A[:IF] B[:IF] down|up|clear|set PROPERTIES…", code: Exit.usage)
      }
      let (a, b, verb) = (EndName(words[0]), EndName(words[1]), words[2])
      let action = try changeAction(verb, Array(words.dropFirst(3)), command: "nstopo link \(topology) \(words[0]) \(words[1]) set")
      try requireRoot("link")
      let name = try topologyName(topology)
      let describe = (["link", words[0], words[1], verb] + words.dropFirst(3)).joined(separator: " ")
      var chosen: [String] = []
      installInterruptHandler()
      let report = try mapChangeErrors {
        try Change.apply(name, describe: describe, shouldStop: { interrupted != 0 }) { t in
          let links = try changeErrors { () throws(ChangeError) in try t.selectLinks(a, b) }
          if let problem = t.problem(action, on: links) { throw Failure(problem.description, code: Exit.usage) }
          chosen = links.map { t.links[$0].text }
          return t.applying(action, to: links)
        }
      }
      print("link \(name): \(chosen.joined(separator: ", ")) \(verb)\(words.count > 3 ? " " + words.dropFirst(3).joined(separator: " ") : "") (\(report.steps) steps in \(String(format: "%.3f", report.seconds)) s)")
      return Exit.ok
    }
  }
}

struct NodeChange: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "node",
    abstract: "Take every link of a node of a topology that is up down, or bring them up.",
    discussion: """
      nstopo node NAME NODE down|up

      `down` is `nstopo link … down` on each of the node's links (its bridge ports included); `up` brings back those the file declares up, and leaves those it declares down (`nstopo link … up` brings one up anyway). Journaled, undone on failure or Ctrl-C, and kept in the state like any change.
      """)

  @Argument(help: "The topology's name (or its file).", completion: .custom(upTopologyNames))
  var topology: String

  @Argument(help: "The node.", completion: .custom(nodeNames))
  var node: String

  @Argument(help: "down or up.", completion: .list(["down", "up"]))
  var action: String

  func run() throws {
    try NSTopoCLI.run {
      guard action == "down" || action == "up" else {
        throw Failure("unknown action '\(action)': a node goes down or up", code: Exit.usage)
      }
      try requireRoot("node")
      let name = try topologyName(topology)
      installInterruptHandler()
      var count = 0
      let report = try mapChangeErrors {
        try Change.apply(name, describe: "node \(node) \(action)", shouldStop: { interrupted != 0 }) { t in
          let links = try changeErrors { () throws(ChangeError) in try t.links(of: node) }
          count = links.count
          if action == "down" { return t.applying(.down, to: links) }
          // Up as the file has them: a link it declares down stays down.
          let declared = (try? StateStore.declared(name)) ?? nil
          guard let declared, declared.links.count == t.links.count else { return t.applying(.up, to: links) }
          return t.withLinkStates(of: declared, only: links)
        }
      }
      print("node \(name): \(node) \(action), \(count) link\(count == 1 ? "" : "s") (\(report.steps) steps in \(String(format: "%.3f", report.seconds)) s)")
      return Exit.ok
    }
  }
}

/// The action of a change, its properties read like a link line's tail.
func changeAction(_ verb: String, _ rest: [String], command: String) throws -> ChangeAction {
  switch verb {
  case "down", "up", "clear":
    guard rest.isEmpty else { throw Failure("'\(verb)' takes nothing after it (found '\(rest[0])')", code: Exit.usage) }
    return verb == "down" ? .down : verb == "up" ? .up : .clear
  case "set":
    guard !rest.isEmpty else { throw Failure("'set' needs properties: rate R, delay D, jitter J, loss P%, mtu N", code: Exit.usage) }
    let (p, down, problems) = LinkTailReader.read(rest, command: command)
    guard let p else { throw Failure("bad properties:\n" + problems, code: Exit.usage) }
    if down { throw Failure("'down' is a change of its own: nstopo link NAME A B down", code: Exit.usage) }
    return .set(p)
  default:
    let hint = Spelling.closest(verb, among: ["down", "up", "set", "clear"]).map { " (did you mean '\($0)'?)" } ?? ""
    throw Failure("unknown action '\(verb)'\(hint): a link goes down or up, or you set or clear its properties", code: Exit.usage)
  }
}

/// A ChangeError as a usage error (64).
func changeErrors<T>(_ body: () throws(ChangeError) -> T) throws -> T {
  do { return try body() } catch { throw Failure(error.description, code: Exit.usage) }
}

/// The errors of a change, as exit codes.
func mapChangeErrors<T>(_ body: () throws -> T) throws -> T {
  try mapKernelErrors {
    do {
      return try body()
    } catch let e as ChangeFailed where e.underlying is Interrupted {
      throw Failure("\(e.change): interrupted; everything it did was undone", code: Exit.interrupted)
    } catch let e as ChangeFailed {
      throw Failure(e.description, code: Exit.kernel)
    }
  }
}
