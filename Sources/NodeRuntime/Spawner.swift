import CShim
import Foundation
import Glibc

/// Starts a process inside a node: its cgroup, its network namespace, its chroot (with /proc
/// in a private mount namespace). The shell equivalent is the tutorial's manual steps:
///
///     echo $$ > /sys/fs/cgroup/cpu/nstopo-lab/h7/cgroup.procs
///     ip netns exec lab-h7 unshare -m chroot /srv/rootfs /bin/sh -c 'mount -t proc proc /proc; exec CMD'
public struct NodeProcess: Sendable {
  public var argv: [String]
  public var environment: [String]
  public var namespaceFD: Int32?
  public var cgroupProcs: [String]
  public var root: String?
  /// The hostname the process sees (`hostname`, a prompt's `\h`): set in a UTS namespace of
  /// its own, as a container does, so a shell shows the node it is in. nil: the machine's.
  public var hostname: String?
  public var stdin: Int32 = -1
  public var stdout: Int32 = -1
  public var stderr: Int32 = -1
  /// A service (setsid: no controlling terminal, survives its parent).
  public var detached = false

  public init(argv: [String], environment: [String], namespaceFD: Int32?, cgroupProcs: [String], root: String?) {
    self.argv = argv
    self.environment = environment
    self.namespaceFD = namespaceFD
    self.cgroupProcs = cgroupProcs
    self.root = root
  }

  /// A node's name as a hostname: at most 64 bytes (HOST_NAME_MAX).
  public static func hostname(for node: String) -> String {
    var name = node
    while name.utf8.count > 64 { name.removeLast() }
    return name
  }

  /// Forks and execs; returns the child's pid.
  public func start() throws -> pid_t {
    let procMount: String? = root.flatMap { r in
      var isDir: ObjCBool = false
      return FileManager.default.fileExists(atPath: "\(r)/proc", isDirectory: &isDir) && isDir.boolValue ? "\(r)/proc" : nil
    }
    var error = [CChar](repeating: 0, count: 512)
    let pid = withCStrings(argv) { argvp in
      withCStrings(environment) { envp in
        withCStrings(cgroupProcs) { cgp in
          withOptionalCString(root) { rootp in
            withOptionalCString(procMount) { procp in
              withOptionalCString(hostname) { hostp in
                var spec = nstopo_spawn_spec(
                  argv: argvp, envp: envp, cgroup_procs: cgp, netns_fd: namespaceFD ?? -1, root: rootp, proc_mount: procp,
                  stdin_fd: stdin, stdout_fd: stdout, stderr_fd: stderr, new_session: detached ? 1 : 0, hostname: hostp)
                return nstopo_spawn(&spec, &error, error.count)
              }
            }
          }
        }
      }
    }
    guard pid > 0 else {
      throw SpawnError(description: String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return pid
  }

  /// Waits for `pid`; returns its exit code (128 + signal when killed).
  public static func wait(_ pid: pid_t) -> Int32 {
    var status: Int32 = 0
    while waitpid(pid, &status, 0) < 0 {
      if errno != EINTR { return 127 }
    }
    return exitCode(status)
  }

  /// nil while `pid` runs; its exit code once it has ended (and is reaped).
  public static func poll(_ pid: pid_t) -> Int32? {
    var status: Int32 = 0
    let r = waitpid(pid, &status, WNOHANG)
    if r == pid { return exitCode(status) }
    if r < 0 && errno == ECHILD { return -1 }
    return nil
  }

  static func exitCode(_ status: Int32) -> Int32 {
    let sig = status & 0x7f
    return sig == 0 ? (status >> 8) & 0xff : 128 + sig
  }
}

public struct SpawnError: Error, CustomStringConvertible {
  public var description: String
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
  let copies = strings.map { strdup($0) }
  defer { copies.forEach { free($0) } }
  var pointers = copies.map { UnsafePointer($0) } + [nil]
  return pointers.withUnsafeMutableBufferPointer { body(UnsafePointer($0.baseAddress!)) }
}

private func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
  guard let s else { return body(nil) }
  return s.withCString { body($0) }
}
