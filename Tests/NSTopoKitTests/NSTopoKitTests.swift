import Foundation
import NSTopoKit
import XCTest

/// The library as a user's test suite uses it: only `import NSTopoKit`.
final class NSTopoKitTests: XCTestCase {
  /// Two LANs and a router, built in code.
  private func twoLANs(_ name: String, routerForwards: Bool = true) throws -> Topology {
    var b = TopologyBuilder(name)
    b.subnet("lan[1..2]", "10.71.$i.0/24")
    b.bridge("sw[1..2]", subnets: ["lan$i"])
    b.node("r1") {
      if routerForwards { $0.forward() }
      $0.link("sw1", interface: "eth0", addresses: ["10.71.1.1"])
      $0.link("sw2", interface: "eth1", addresses: ["10.71.2.1"])
    }
    b.node("a[1..2]") {
      $0.link("sw1")
      $0.route("default", via: "r1")
    }
    b.node("b1") {
      $0.link("sw2")
      $0.route("default", via: "r1")
    }
    b.expect("a[1..2]", "b1", .reach)
    b.scenario("a1-down", ["node a1 down"])
    return try b.build()
  }

  /// Pure: built in code, predicted, and an error of the language reported as a file's.
  func testBuiltInCodePredictedAndChecked() throws {
    let t = try twoLANs("kitpure")
    XCTAssertEqual(t.nodes.map(\.name), ["r1", "a1", "a2", "b1"])
    let report = MatrixRun.predict(t)
    XCTAssertTrue(report.passed, report.summary)
    XCTAssertEqual(report.pairs.count, 12)
    let broken = MatrixRun.predict(try twoLANs("kitnofwd", routerForwards: false))
    XCTAssertFalse(broken.passed, "the model sees that r1 does not forward")
    XCTAssertTrue(broken.mismatches.contains { $0.reason?.contains("forwarding is off in r1") == true }, broken.mismatches.map { $0.reason ?? "" }.joined())
    var bad = TopologyBuilder("kitbad")
    bad.node("a") { $0.link("s9") }
    XCTAssertThrowsError(try bad.build()) { e in
      // Located in the builder's text (`bad.text`): there is no file.
      XCTAssertTrue("\(e)".contains("TopologyBuilder(\"kitbad\").text:3:8: error: unknown bridge or node 's9'"), "\(e)")
    }
  }

  /// On the kernel: up, test (the report as a value), exec, down; the lab is gone after.
  func testUpTestExecDown() throws {
    try XCTSkipUnless(geteuid() == 0, "needs root")
    let name = "nsttkit\(getpid())"
    let t = try twoLANs(name)
    try Lab.with(t) { lab in
      let report = try lab.test(TestOptions(protocols: [.tcp, .udp], exact: true))
      XCTAssertTrue(report.passed, report.summary)
      XCTAssertEqual(report.pairs.filter { $0.outcome == .reached }.count, 24)
      let r = try lab.exec("a1", ["sh", "-c", "hostname; ip -4 -o addr show eth0 | wc -l; exit 3"])
      XCTAssertEqual(r.status, 3)
      XCTAssertEqual(r.output, "a1\n1\n")
      XCTAssertThrowsError(try lab.exec("zz", ["true"]))
      let run = try lab.test(scenarios: nil)
      XCTAssertEqual(run.scenarios.map(\.name), ["a1-down"])
      XCTAssertEqual(run.scenarios.first?.report.pairs.filter { $0.outcome == .reached }.count, 6, run.scenarios.first?.report.summary ?? "")
      XCTAssertTrue(run.base.passed, run.base.summary)
      let why = lab.why("a1", "b1")
      XCTAssertTrue(why.model.reached)
      XCTAssertTrue(why.kernel.walk.reached)
      XCTAssertEqual(why.kernel.differences, [])
      XCTAssertThrowsError(try lab.test(scenarios: ["nope"])) { XCTAssertEqual("\($0)", "topology '\(name)' has no scenario 'nope'") }
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/netns/\(name)-a1"), "down when the body ends")
    // A lab whose test body throws is taken down too.
    struct Boom: Error {}
    XCTAssertThrowsError(try Lab.with(t) { _ in throw Boom() })
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/netns/\(name)-a1"))
    // And one that is only dropped.
    do { _ = try Lab.up(t) }
    XCTAssertFalse(FileManager.default.fileExists(atPath: "/run/netns/\(name)-a1"), "down when the last reference goes")
  }
}
