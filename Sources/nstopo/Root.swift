import Foundation
import Glibc

/// Kernel commands need root (CAP_NET_ADMIN and CAP_SYS_ADMIN); say so in one line.
func requireRoot(_ command: String) throws {
  if geteuid() != 0 {
    throw Failure(
      "`nstopo \(command)` needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN to create namespaces and links); run it with sudo",
      code: Exit.noPermission)
  }
}

/// FILE or NAME: a path (existing, or ending in .topo) names the topology it declares.
func topologyName(_ argument: String) -> String {
  let looksLikeFile = argument.hasSuffix(".topo") || argument.contains("/")
  if let data = FileManager.default.contents(atPath: argument) {
    return TopologyLoader.declaredName(bytes: [UInt8](data), fileName: argument)
  }
  return looksLikeFile ? TopologyLoader.defaultName(for: argument) : argument
}

import TopologyDSL
