import Foundation
import Glibc

/// A minimal root filesystem for chroot nodes: busybox-static and one symlink per applet,
/// with empty proc, dev, tmp and etc. About 2 MB; needs nothing from the network.
///
/// Equivalent to: `mkdir -p R/bin R/proc R/dev R/tmp R/etc; cp /bin/busybox R/bin/;
/// for a in $(busybox --list); do ln -s busybox R/bin/$a; done; mknod R/dev/null c 1 3`.
public enum Rootfs {
  public static let busyboxCandidates = ["/bin/busybox", "/usr/bin/busybox"]

  public static func build(at path: String) throws -> Int {
    guard let busybox = busyboxCandidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
      throw SpawnError(description: "busybox is not installed (apt-get install busybox-static)")
    }
    let fm = FileManager.default
    for dir in ["bin", "proc", "dev", "tmp", "etc", "root"] {
      try fm.createDirectory(atPath: "\(path)/\(dir)", withIntermediateDirectories: true)
    }
    chmod("\(path)/tmp", 0o1777)
    let target = "\(path)/bin/busybox"
    if fm.fileExists(atPath: target) { try fm.removeItem(atPath: target) }
    try fm.copyItem(atPath: busybox, toPath: target)
    chmod(target, 0o755)
    let applets = try listApplets(busybox)
    for a in applets where a != "busybox" && !a.contains("/") {
      let link = "\(path)/bin/\(a)"
      if (try? fm.destinationOfSymbolicLink(atPath: link)) == "busybox" { continue }
      try? fm.removeItem(atPath: link)
      try fm.createSymbolicLink(atPath: link, withDestinationPath: "busybox")
    }
    try? fm.removeItem(atPath: "\(path)/bin/nc")
    try ncWrapper.write(toFile: "\(path)/bin/nc", atomically: true, encoding: .utf8)
    chmod("\(path)/bin/nc", 0o755)
    if !fm.fileExists(atPath: "\(path)/dev/null") {
      if mknod("\(path)/dev/null", S_IFCHR | 0o666, makedev(1, 3)) == 0 { chmod("\(path)/dev/null", 0o666) }
    }
    if !fm.fileExists(atPath: "\(path)/etc/passwd") {
      try "root:x:0:0:root:/root:/bin/sh\n".write(toFile: "\(path)/etc/passwd", atomically: true, encoding: .utf8)
    }
    return applets.count
  }

  /// busybox nc has no -k and, without -e, serves a single connection even with -ll. This
  /// wrapper accepts -k (keep listening, as OpenBSD nc does) and turns `nc -lk -p P` into
  /// `busybox nc -ll -p P -e /bin/cat`, which serves one connection after another.
  static let ncWrapper = """
    #!/bin/sh
    # nc from `nstopo rootfs`: busybox nc, plus -k (keep listening) as in OpenBSD nc.
    keep=0; exe=0
    for a in "$@"; do
      case "$a" in --*) ;; -*k*) keep=1 ;; esac
      [ "$a" = "-e" ] && exe=1
    done
    [ $keep = 1 ] || exec /bin/busybox nc "$@"
    first=1
    for a in "$@"; do
      if [ $first = 1 ]; then set --; first=0; fi
      case "$a" in
        --*) set -- "$@" "$a" ;;
        -*k*) a=$(echo "$a" | /bin/busybox sed 's/k//g'); [ "$a" = "-" ] || set -- "$@" "$a"; set -- "$@" -l ;;
        *) set -- "$@" "$a" ;;
      esac
    done
    [ $exe = 1 ] || set -- "$@" -e /bin/cat
    exec /bin/busybox nc "$@"

    """

  static func listApplets(_ busybox: String) throws -> [String] {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: busybox)
    p.arguments = ["--list"]
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
  }
}

private func makedev(_ major: UInt32, _ minor: UInt32) -> dev_t {
  dev_t((major & 0xfff) << 8 | (minor & 0xff) | ((minor & ~0xff) << 12))
}
