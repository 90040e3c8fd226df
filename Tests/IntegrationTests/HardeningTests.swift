import Foundation
import Glibc
import Netlink
import NodeRuntime
import Planner
import Realizer
import TopologyDSL
import TopologyModel
import XCTest

/// The adversarial pass of the hardening issue, replayed: each attack on `down` runs the
/// real binary in a private mount namespace whose /run is a fresh tmpfs with decoys in it,
/// so a regression destroys only the decoys, and the test says which survived.
final class HardeningTests: KernelTestCase {
  /// Runs `script` with `sh` in a private mount namespace over an empty tmpfs /run, with `$N`
  /// the nstopo binary. Namespaces made there die with it.
  func inDecoyRun(_ script: String) throws -> (Int32, String, String) {
    try runProcess(
      "/usr/bin/unshare", ["-m", "--propagation", "private", "sh", "-c", "mount -t tmpfs nstt-decoy /run && mkdir -p /run/nstopo && \(script)"],
      environment: ["N": binary, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
  }

  /// A `sleep 30` that is not nstopo's, moved into cgroup `path`: what down must not kill.
  func sleep(in path: String, _ cg: CgroupSystem) throws -> Process {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/bin/sleep")
    p.arguments = ["30"]
    try p.run()
    for file in cg.procsFiles(path) { try "\(p.processIdentifier)\n".write(toFile: file, atomically: false, encoding: .utf8) }
    return p
  }

  /// Runs `script` with `sh`, with `$N` the nstopo binary.
  func runShell(_ script: String) throws -> (Int32, String, String) {
    try runProcess("/bin/sh", ["-c", script], environment: ["N": binary, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
  }

  func testDownOfNamesThatArePathsRefusesAndDeletesNothing() throws {
    let (_, out, err) = try inDecoyRun("""
      mkdir -p /run/keep && echo data > /run/keep/file && echo top > /run/topfile && echo n > /run/nstopo/keep
      for n in .. ../.. . '' 'x y' .hidden; do "$N" down "$n"; echo "rc=$?"; done
      test -f /run/keep/file && test -f /run/topfile && test -f /run/nstopo/keep && echo SURVIVED
      """)
    XCTAssertEqual(out.split(separator: "\n").filter { $0.hasPrefix("rc=") }, Array(repeating: "rc=64", count: 6), out + err)
    XCTAssertTrue(out.contains("SURVIVED"), out + err)
    XCTAssertTrue(err.contains("nstopo: '..' is not a topology name: it starts with '.'"), err)
    XCTAssertTrue(err.contains("nstopo: 'x y' is not a topology name: it contains ' '"), err)
  }

  func testDownOfAFileWhoseNameIsAPathRefuses() throws {
    let (_, out, err) = try inDecoyRun("""
      mkdir -p /run/decoy && ip netns add victim && printf '=netns victim\\n' > /run/decoy/journal
      printf 'topology ../decoy\\nnode a\\n' > /run/x.topo
      "$N" down /run/x.topo; echo "rc=$?"
      ip netns list | grep -q victim && test -f /run/decoy/journal && echo SURVIVED
      """)
    XCTAssertTrue(out.contains("rc=65"), out + err)
    XCTAssertTrue(out.contains("SURVIVED"), out + err)
    XCTAssertTrue(err.contains("/run/x.topo: '../decoy' is not a topology name: it contains '/'"), err)
  }

  /// A journal naming what is not the topology's: another namespace, a path, a cgroup outside
  /// nstopo-<topology>. down warns and leaves each alone; the decoy process keeps running.
  func testJournalEntriesThatAreNotTheTopologysAreLeftAlone() throws {
    let t = uniqueName()
    let cg = try CgroupSystem.detect()
    let decoy = "nstt-decoy-\(getpid())"
    try cg.create(decoy, cpuPercent: nil)
    let sleeper = try sleep(in: decoy, cg)
    defer {
      sleeper.terminate()
      sleeper.waitUntilExit()
      try? cg.remove(decoy)
    }
    let (_, out, err) = try inDecoyRun("""
      ip netns add victim
      mkdir -p /run/somewhere && touch /run/somewhere/mnt /run/src && mount --bind /run/src /run/somewhere/mnt
      mkdir -m 700 /run/nstopo/\(t)
      printf '=netns victim\\n=netns ../somewhere/mnt\\n+netns ../../run/somewhere/mnt\\n+cgroup \(decoy)\\n=cgroup nstopo-\(t)/../\(decoy)\\n=cgroup ../memory/\(decoy)\\nbridges victim\\n' > /run/nstopo/\(t)/journal
      "$N" down \(t); echo "rc=$?"
      ip netns list | grep -q victim && echo VICTIM-SURVIVED
      mountpoint -q /run/somewhere/mnt && echo MOUNT-SURVIVED
      test -d /run/nstopo/\(t) || echo STATE-REMOVED
      """)
    XCTAssertTrue(out.contains("rc=0"), out + err)
    XCTAssertTrue(out.contains("VICTIM-SURVIVED"), out + err)
    XCTAssertTrue(out.contains("MOUNT-SURVIVED"), out + err)
    XCTAssertTrue(out.contains("STATE-REMOVED"), out + err)
    XCTAssertEqual(kill(sleeper.processIdentifier, 0), 0, "the decoy cgroup's process was not killed")
    XCTAssertTrue(cg.exists(decoy), "the decoy cgroup was not removed")
    XCTAssertTrue(err.contains("left namespace 'victim' alone: the journal lists it, but it is not named \(t)-<node>"), err)
    XCTAssertTrue(err.contains("left namespace '../somewhere/mnt' alone"), err)
    XCTAssertTrue(err.contains("left cgroup '\(decoy)' alone"), err)
    XCTAssertTrue(err.contains("left cgroup 'nstopo-\(t)/../\(decoy)' alone: the journal lists it, but its node part '../\(decoy)' contains '/'"), err)
    XCTAssertTrue(err.contains("left namespace 'victim' alone: the journal names it the bridge namespace"), err)
  }

  func testLinksInTheStateAreNeverFollowed() throws {
    let t = uniqueName()
    let (_, out, err) = try inDecoyRun("""
      mkdir -p /run/elsewhere && ln -s /run/elsewhere /run/nstopo/\(t)
      "$N" down \(t); echo "down-link rc=$?"
      printf 'topology \(t)\\nnode a\\n' > /run/t.topo
      "$N" up /run/t.topo; echo "up-link rc=$?"
      test -z "$(ls -A /run/elsewhere)" && echo NOTHING-WRITTEN
      rm /run/nstopo/\(t) && ln -s /nonexistent /run/nstopo/\(t)
      "$N" up /run/t.topo; echo "up-dangling rc=$?"
      "$N" down \(t); echo "down-dangling rc=$?"
      rm /run/nstopo/\(t)
      ip netns add victim2 && mkdir -p /run/planted && printf '=netns victim2\\n' > /run/planted/journal
      mkdir -m 700 /run/nstopo/\(t) && ln -s /run/planted/journal /run/nstopo/\(t)/journal
      "$N" down \(t); echo "down-journal-link rc=$?"
      ip netns list | grep -q victim2 && echo VICTIM-SURVIVED
      rm -r /run/nstopo/\(t) && mkdir -m 777 /run/nstopo/\(t)
      "$N" down \(t); echo "down-writable rc=$?"
      """)
    for label in ["down-link", "up-link", "up-dangling", "down-dangling", "down-journal-link", "down-writable"] {
      XCTAssertTrue(out.contains("\(label) rc=78"), "\(label): " + out + err)
    }
    XCTAssertTrue(out.contains("NOTHING-WRITTEN"), out + err)
    XCTAssertTrue(out.contains("VICTIM-SURVIVED"), out + err)
    XCTAssertTrue(err.contains("/run/nstopo/\(t) is a symbolic link, not state that nstopo made; nstopo leaves it alone"), err)
    XCTAssertTrue(err.contains("/run/nstopo/\(t)/journal is a symbolic link"), err)
    XCTAssertTrue(err.contains("/run/nstopo/\(t) is writable by others (mode 777)"), err)
  }

  /// `up` killed after journaling its intent, while another program creates the name: the
  /// namespace there is not nstopo's and survives `down`. One nstopo made (marked inside it
  /// before it was named) is removed; one whose recorded inode differs is not.
  func testNamespacesAreDeletedOnlyWithProof() throws {
    let t = uniqueName()
    let (_, out, err) = try inDecoyRun("""
      mkdir -m 700 /run/nstopo/\(t)
      ip netns add \(t)-foreign && ip netns add \(t)-marked && ip netns add \(t)-swapped
      ip -n \(t)-marked link set lo alias nstopo:\(t)
      ip -n \(t)-foreign link set lo alias nstopo:someone-else
      printf 'format 2\\n+netns \(t)-foreign\\n+netns \(t)-marked\\n+netns \(t)-swapped\\n=netns \(t)-swapped 1\\n' > /run/nstopo/\(t)/journal
      "$N" down \(t); echo "rc=$?"
      test -d /run/nstopo/\(t) && echo STATE-KEPT
      "$N" down \(t) --forget; echo "forget rc=$?"
      test -d /run/nstopo/\(t) || echo STATE-FORGOTTEN
      # A journal from before the mark (no format line) is read as it was then.
      mkdir -m 700 /run/nstopo/\(t)old && ip netns add \(t)old-a
      printf '+netns \(t)old-a\\n' > /run/nstopo/\(t)old/journal
      "$N" down \(t)old; echo "old rc=$?"
      ip netns list
      """)
    XCTAssertTrue(out.split(separator: "\n").contains("rc=78"), "down leaves two namespaces with the topology's names: not a success: " + out + err)
    XCTAssertTrue(out.contains("STATE-KEPT") && out.contains("forget rc=0") && out.contains("STATE-FORGOTTEN"), out + err)
    XCTAssertTrue(err.contains("down: 2 objects with topology \(t)'s names left in place (netns \(t)-foreign, netns \(t)-swapped)"), err)
    XCTAssertTrue(out.contains("\(t)-foreign"), "the unmarked namespace survives: " + out + err)
    XCTAssertTrue(out.contains("\(t)-swapped"), "the namespace with another inode survives: " + out + err)
    XCTAssertFalse(out.contains("\(t)-marked"), "the marked one is removed: " + out + err)
    XCTAssertTrue(out.contains("old rc=0"), out + err)
    XCTAssertFalse(out.contains("\(t)old-a"), "a format-1 journal's namespace is removed, as before: " + out + err)
    XCTAssertTrue(err.contains("left namespace '\(t)-foreign' alone: up was stopped before it could record creating it, and it lacks nstopo's mark"), err)
    XCTAssertTrue(err.contains("left namespace '\(t)-swapped' alone: it is not the namespace up created"), err)
  }

  /// Every namespace `up` makes carries the mark, and the journal records its inode.
  func testUpMarksItsNamespacesAndJournalsTheirInodes() throws {
    let t = topology("node a\nnode b\n  link a\n")
    try Lifecycle.up(t, file: "test")
    let names = KernelNames(topology: t.name)
    let journal = try String(contentsOfFile: StateStore.directory(t.name) + "/journal", encoding: .utf8)
    XCTAssertTrue(journal.hasPrefix("format 2\n"), journal)
    for node in ["a", "b"] {
      let ns = names.namespace(node: node)
      let inode = try XCTUnwrap(NetworkNamespace.inode(ns))
      XCTAssertTrue(journal.contains("=netns \(ns) \(inode)\n"), journal)
      let alias = try NetlinkBackend().socket(ns).link(named: "lo")?.alias
      XCTAssertEqual(alias, names.hostAlias)
    }
    XCTAssertEqual(try Lifecycle.down(t.name)?.warnings, [])
  }

  func testAnExistingCgroupIsRefusedAndItsProcessSurvives() throws {
    let t = topology("node a\n  cpu 30%\n  run sleep 30\nnode b\n")
    let cg = try CgroupSystem.detect()
    let names = KernelNames(topology: t.name)
    try cg.create(names.topologyCgroup, cpuPercent: nil)
    try cg.create(names.cgroup(node: "a"), cpuPercent: nil)
    let sleeper = try sleep(in: names.cgroup(node: "a"), cg)
    defer {
      sleeper.terminate()
      sleeper.waitUntilExit()
      try? cg.remove(names.cgroup(node: "a"))
      try? cg.remove(names.topologyCgroup)
    }
    XCTAssertThrowsError(try Lifecycle.up(t, file: "test")) { error in
      XCTAssertTrue("\(error)".contains("cgroup '\(names.topologyCgroup)' already exists"), "\(error)")
      XCTAssertTrue("\(error)".contains("nothing was created"), "\(error)")
    }
    XCTAssertFalse(NetworkNamespace.exists(names.namespace(node: "a")))
    XCTAssertNil(try Lifecycle.down(t.name))
    XCTAssertEqual(kill(sleeper.processIdentifier, 0), 0, "the foreign process was not killed")
    XCTAssertTrue(cg.exists(names.cgroup(node: "a")), "the foreign cgroup was not removed")
  }

  /// Ctrl-C while `up` watches its `run` wave (the last step): rolled back, exit 130.
  func testInterruptDuringTheLastStepOfUpRollsBack() throws {
    let name = uniqueName()
    let file = try tempFile(name, "topology \(name)\nnode a\n  run sleep 60\nnode b\n  link a\n")
    let log = StateStore.directory(name) + "/logs/a.log"
    let (status, text) = try interruptNstopo(binary, ["up", file]) { FileManager.default.fileExists(atPath: log) }
    XCTAssertEqual(status, 130, text)
    XCTAssertTrue(text.contains("interrupted at step"), text)
    XCTAssertEqual(leftovers(name), [])
  }

  /// Ctrl-C during `down`: the step at hand finishes, the state stays, a second `down` ends it.
  func testInterruptedDownKeepsTheStateAndASecondDownFinishes() throws {
    let t = topology("subnet p 10.77.0.0/24\nnode n1\n  link n2 p\nnode n2\nnode n3\n  link n4 p\nnode n4\nnode n5\n  link n6 p\nnode n6\n")
    try Lifecycle.up(t, file: "test")
    var calls = 0
    let report = try XCTUnwrap(try Lifecycle.down(t.name) {
      calls += 1
      return calls > 3
    })
    XCTAssertTrue(report.interrupted)
    XCTAssertEqual(report.namespacesDeleted, 2)
    XCTAssertEqual(report.namespacesLeft, 4)
    XCTAssertTrue(FileManager.default.fileExists(atPath: StateStore.directory(t.name) + "/journal"), "the state is kept")
    let again = try XCTUnwrap(try Lifecycle.down(t.name))
    XCTAssertFalse(again.interrupted)
    XCTAssertEqual(again.namespacesDeleted, 4)
    XCTAssertEqual(leftovers(t.name), [])
  }

  /// While `down` (here: this process) holds the journal, others say busy, naming the holder.
  func testBusyNamesTheProcessThatHoldsTheTopology() throws {
    let t = topology("node a\nnode b\n  link a\n")
    try Lifecycle.up(t, file: "test")
    let fd = open(StateStore.directory(t.name) + "/journal", O_RDONLY)
    XCTAssertEqual(flock(fd, LOCK_EX), 0)
    defer { close(fd) }
    let (downCode, _, downErr) = try runNstopo(binary, ["down", t.name])
    XCTAssertEqual(downCode, 75, downErr)
    XCTAssertTrue(downErr.contains("being changed by another nstopo (pid \(getpid()))"), downErr)
    let (testCode, _, testErr) = try runNstopo(binary, ["test", t.name])
    XCTAssertEqual(testCode, 75, testErr)
    XCTAssertTrue(testErr.contains("is being changed by another nstopo"), testErr)
    flock(fd, LOCK_UN)
  }

  /// The double free behind libnl's `nl_cb_put` abort: a socket that cannot be made throws.
  func testNetlinkSocketOutOfDescriptorsThrowsInsteadOfAborting() throws {
    var saved = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
    defer { setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved) }
    var sockets: [NetlinkSocket] = []
    var low = saved
    low.rlim_cur = rlim_t(Descriptors.inUse + 4)
    XCTAssertEqual(setrlimit(Int32(RLIMIT_NOFILE.rawValue), &low), 0)
    var thrown: Error?
    for _ in 0..<16 {
      do { sockets.append(try NetlinkSocket(namespaceFD: nil, name: "root")) } catch {
        thrown = error
        break
      }
    }
    setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
    let error = try XCTUnwrap(thrown, "the limit was reached")
    XCTAssertTrue("\(error)".contains("Too many open files"), "\(error)")
    XCTAssertTrue("\(error)".contains("raise it with `ulimit -n`"), "\(error)")
  }

  /// A thousand nodes under the usual soft limit of 1,024 descriptors: nstopo raises it.
  /// Under a hard limit too small, up says how many it needs and creates nothing, and test
  /// of a hundred nodes still finishes with fewer probes in flight.
  func testDescriptorLimits() throws {
    let star = uniqueName()
    let file = try tempFile(star, "topology \(star)\nsubnet lan 10.90.0.0/16\nbridge sw lan\nnode h[1..1000]\n  link sw\n")
    let (code, out, err) = try runShell("""
      ulimit -Sn 1024
      "$N" up \(file) && "$N" status \(star) > /dev/null && "$N" why \(star) h1 h1000 && "$N" test \(star) | grep 'pairs:'
      "$N" down \(star)
      """)
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("the kernel agrees with the model"), out + err)
    XCTAssertTrue(out.contains("999000 pairs: 999000 reached, 0 mismatches"), out + err)
    let (low, _, lowErr) = try runShell("ulimit -n 400; \"$N\" up \(file)")
    XCTAssertEqual(low, 71, lowErr)
    XCTAssertTrue(lowErr.contains("needs about"), lowErr)
    XCTAssertTrue(lowErr.contains("file descriptors, and the limit is 400"), lowErr)
    XCTAssertEqual(leftovers(star), [])

    let small = uniqueName()
    let smallFile = try tempFile(small, "topology \(small)\nsubnet lan 10.91.0.0/24\nbridge sw lan\nnode h[1..100]\n  link sw\n")
    let (probe, probeOut, probeErr) = try runShell("ulimit -n 300; \"$N\" test --up \(smallFile)")
    XCTAssertEqual(probe, 0, probeOut + probeErr)
    XCTAssertTrue(probeOut.contains("9900 pairs: 9900 reached"), probeOut + probeErr)
  }

  /// A topology brought up by an older nstopo (state.json without a format, journal without
  /// its format line) is tested and taken down by this one.
  func testStateFromThePreviousFormatIsTestedAndTakenDown() throws {
    let t = topology("subnet lan 10.94.0.0/24\nbridge sw lan\nnode a\n  link sw\nnode b\n  link sw\nexpect a -> b reach\n")
    try Lifecycle.up(t, file: "test")
    let dir = StateStore.directory(t.name)
    let state = try String(contentsOfFile: dir + "/state.json", encoding: .utf8)
    XCTAssertTrue(state.contains("\"format\":5,"), state)
    // Format 1: no format field, one `address` per link end and one `subnet` per bridge and
    // link instead of lists, owners in the keyed form.
    let format1 = state.replacingOccurrences(of: "\"format\":5,", with: "")
      .replacingOccurrences(of: #""owner":"node:([^"]*)""#, with: #""owner":{"node":{"_0":"$1"}}"#, options: .regularExpression)
      .replacingOccurrences(of: #""owner":"bridge:([^"]*)""#, with: #""owner":{"bridge":{"_0":"$1"}}"#, options: .regularExpression)
      .replacingOccurrences(of: #""addresses":\["([^"]*)"\]"#, with: #""address":"$1""#, options: .regularExpression)
      .replacingOccurrences(of: #""subnets":\["([^"]*)"\]"#, with: #""subnet":"$1""#, options: .regularExpression)
    XCTAssertFalse(format1.contains("addresses"), format1)
    XCTAssertFalse(format1.contains("\"subnets\":[\""), format1)
    try format1.write(toFile: dir + "/state.json", atomically: false, encoding: .utf8)
    let journal = try String(contentsOfFile: dir + "/journal", encoding: .utf8)
    try journal.replacingOccurrences(of: "format 2\n", with: "").write(toFile: dir + "/journal", atomically: false, encoding: .utf8)
    XCTAssertEqual(try StateStore.load(t.name)?.format, 1)
    let (code, out, err) = try runNstopo(binary, ["test", t.name])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("2 pairs: 2 reached"), out)
    let (down, _, downErr) = try runNstopo(binary, ["down", t.name])
    XCTAssertEqual(down, 0, downErr)
    XCTAssertEqual(leftovers(t.name), [])
  }
}
