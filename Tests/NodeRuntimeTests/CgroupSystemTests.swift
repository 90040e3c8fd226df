import Foundation
import NodeRuntime
import XCTest

/// The cgroup file protocol for both versions, against a plain folder standing in for the
/// cgroup mount (the real v1 hierarchy is covered by the integration tests on this machine).
final class CgroupSystemTests: XCTestCase {
  var root = ""

  override func setUpWithError() throws {
    root = NSTemporaryDirectory() + "nstopo-cgtest-\(getpid())-\(UUID().uuidString.prefix(8))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(atPath: root)
  }

  /// What the kernel would create inside a new cgroup directory.
  func prepare(_ dir: String, files: [String]) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    for f in files { FileManager.default.createFile(atPath: "\(dir)/\(f)", contents: Data()) }
  }

  func testV2WritesCpuMaxAndDelegatesTheController() throws {
    try prepare(root, files: ["cgroup.subtree_control"])
    try prepare("\(root)/nstopo-t", files: ["cgroup.subtree_control"])
    try prepare("\(root)/nstopo-t/h1", files: ["cpu.max", "cgroup.procs"])
    let cg = CgroupSystem(version: .v2(root: root))
    // A plain folder gets no files on mkdir, as cgroupfs does: the test makes them, so create's
    // exclusive mkdir refuses the folder, and the cap is checked through configure.
    XCTAssertThrowsError(try cg.create("nstopo-t/h1", cpuPercent: 150)) { XCTAssertTrue("\($0)".contains("already exists"), "\($0)") }
    try cg.configure("nstopo-t/h1", cpuPercent: 150)
    XCTAssertEqual(try String(contentsOfFile: "\(root)/nstopo-t/h1/cpu.max", encoding: .utf8), "150000 100000")
    XCTAssertEqual(try String(contentsOfFile: "\(root)/nstopo-t/cgroup.subtree_control", encoding: .utf8), "+cpu")
    XCTAssertEqual(cg.procsFiles("nstopo-t/h1"), ["\(root)/nstopo-t/h1/cgroup.procs"])
    try "usage_usec 2500000\nuser_usec 1\n".write(toFile: "\(root)/nstopo-t/h1/cpu.stat", atomically: true, encoding: .utf8)
    XCTAssertEqual(cg.cpuSeconds("nstopo-t/h1"), 2.5)
  }

  func testV1WritesQuotaAndUsesCpuacctForAccounting() throws {
    let cpu = "\(root)/cpu"
    let acct = "\(root)/cpuacct"
    try prepare("\(cpu)/nstopo-t/h1", files: ["cpu.cfs_period_us", "cpu.cfs_quota_us", "cgroup.procs"])
    try prepare("\(acct)/nstopo-t/h1", files: ["cgroup.procs"])
    let cg = CgroupSystem(version: .v1(cpu: cpu, cpuacct: acct))
    XCTAssertThrowsError(try cg.create("nstopo-t/h1", cpuPercent: 20)) { XCTAssertTrue("\($0)".contains("already exists"), "\($0)") }
    try cg.configure("nstopo-t/h1", cpuPercent: 20)
    XCTAssertEqual(try String(contentsOfFile: "\(cpu)/nstopo-t/h1/cpu.cfs_period_us", encoding: .utf8), "100000")
    XCTAssertEqual(try String(contentsOfFile: "\(cpu)/nstopo-t/h1/cpu.cfs_quota_us", encoding: .utf8), "20000")
    XCTAssertEqual(cg.procsFiles("nstopo-t/h1"), ["\(cpu)/nstopo-t/h1/cgroup.procs", "\(acct)/nstopo-t/h1/cgroup.procs"])
    try "1500000000\n".write(toFile: "\(acct)/nstopo-t/h1/cpuacct.usage", atomically: true, encoding: .utf8)
    XCTAssertEqual(cg.cpuSeconds("nstopo-t/h1"), 1.5)
    try "12\n34\n".write(toFile: "\(cpu)/nstopo-t/h1/cgroup.procs", atomically: true, encoding: .utf8)
    XCTAssertEqual(cg.pids("nstopo-t/h1"), [12, 34])
  }

  func testCoMountedCpuAndCpuacctIsOneDirectory() {
    let cg = CgroupSystem(version: .v1(cpu: "/sys/fs/cgroup/cpu,cpuacct", cpuacct: "/sys/fs/cgroup/cpu,cpuacct"))
    XCTAssertEqual(cg.directories("nstopo-t/h1"), ["/sys/fs/cgroup/cpu,cpuacct/nstopo-t/h1"])
  }
}
