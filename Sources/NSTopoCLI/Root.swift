import Foundation
import Glibc
import Netlink

/// Kernel commands need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); say so in one line.
func requireRoot(_ command: String) throws {
  if geteuid() != 0 {
    throw Failure(
      "`nstopo \(command)` needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create namespaces and links); run it with sudo",
      code: Exit.noPermission)
  }
}

/// Reading a topology back opens a socket per namespace: refuse, saying what to do, rather
/// than report namespaces as missing when descriptors run out.
func requireDescriptors(namespaces: Int, for command: String) throws {
  if let message = Descriptors.shortfall(namespaces + 64, for: "`nstopo \(command)` of \(namespaces) namespaces") {
    throw Failure(message, code: Exit.kernel)
  }
}

/// FILE or NAME: a path (existing, or ending in .topo) names the topology it declares. The
/// name is checked with the language's rules here, before any command makes a path of it:
/// `down ..` or a file saying `topology ../../tmp/x` go no further than this.
func topologyName(_ argument: String) throws -> String {
  let looksLikeFile = argument.hasSuffix(".topo") || argument.contains("/")
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), !isDirectory.boolValue,
    let data = FileManager.default.contents(atPath: argument)
  {
    let name = TopologyLoader.declaredName(bytes: [UInt8](data), fileName: argument)
    if let problem = NameRules.topologyProblem(name) {
      throw Failure("\(argument): '\(name)' is not a topology name: it \(problem)", code: Exit.invalidTopology)
    }
    return name
  }
  let name = looksLikeFile ? TopologyLoader.defaultName(for: argument) : argument
  if let problem = NameRules.topologyProblem(name) {
    let what = looksLikeFile ? "the name '\(name)' taken from \(argument)" : "'\(name)'"
    throw Failure(
      "\(what) is not a topology name: it \(problem) (a topology name has letters, digits, '_', '-' and '.', at most \(NameRules.maxTopology) bytes)",
      code: Exit.usage)
  }
  return name
}

import TopologyDSL
import TopologyModel
