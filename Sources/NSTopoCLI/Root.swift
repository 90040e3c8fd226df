import Foundation
import Glibc
import Netlink

/// Kernel commands need CAP_NET_ADMIN and CAP_SYS_ADMIN (namespaces, links, cgroups), not
/// uid 0 as such: a process granted both (`setpriv`, a container) may run them. Says which
/// one is missing, in one line.
func requireRoot(_ command: String) throws {
  let missing = Capabilities.missingAdmin()
  if !missing.isEmpty {
    throw Failure(
      "`nstopo \(command)` needs \(missing.joined(separator: " and ")) (to create namespaces and links); run it as root, e.g. with sudo",
      code: Exit.noPermission)
  }
}

/// The process's effective capabilities, as `/proc/self/status` lists them (`CapEff`).
enum Capabilities {
  static let netAdmin = 12
  static let sysAdmin = 21

  /// CAP_NET_ADMIN and CAP_SYS_ADMIN, those of them this process lacks.
  static func missingAdmin() -> [String] {
    let caps = effective()
    return [(netAdmin, "CAP_NET_ADMIN"), (sysAdmin, "CAP_SYS_ADMIN")].filter { caps & (1 << UInt64($0.0)) == 0 }.map(\.1)
  }

  /// Both admin capabilities: what reading a topology back from the kernel needs too.
  static var admin: Bool { missingAdmin().isEmpty }

  static func effective() -> UInt64 {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") })
    else { return geteuid() == 0 ? UInt64.max : 0 }
    return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
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
