import Foundation
import XCTest

/// `nstopo perf`: nstopo's own sender and receiver measure what a `rate` link declares, each
/// way, TCP and UDP, within 10 % (the command's own check, its exit code). A slow rate, so
/// that two busy cores still fill it.
final class PerfTests: KernelTestCase {
  func testARateLinkIsMeasuredAsDeclared() throws {
    let name = uniqueName()
    let file = try tempFile(
      name,
      """
      topology \(name)
      subnet lan[1..2] 10.68.$i.0/24
      subnet p2p 10.68.9.0/24 /30
      bridge sw[1..2] lan$i
      node r1
        forward
        link sw1
        link r2 p2p rate 20mbit
        route 10.68.2.0/24 via r2
      node r2
        forward
        link sw2
        route 10.68.1.0/24 via r1
      node a
        link sw1
        route default via r1
      node b
        link sw2
        route default via r2

      """)
    XCTAssertEqual(try runNstopo(binary, ["up", file]).0, 0)
    for mode in [[], ["--udp"]] {
      let (code, out, err) = try runNstopo(binary, ["perf", name, "a", "b", "--seconds", "2"] + mode)
      XCTAssertEqual(code, 0, out + err)
      let lines = out.split(separator: "\n")
      XCTAssertEqual(lines.count, 2, out)
      XCTAssertTrue(lines[0].hasPrefix("a -> b (10.68.2.") && lines[1].hasPrefix("b -> a (10.68.1."), out)
      XCTAssertTrue(lines.allSatisfy { $0.contains("the model: r1:eth1 -- r2:eth1, rate 20mbit (") }, out)
      print("perf \(mode.first ?? "--tcp"): \(out)")
    }
    // `test --perf`: the matrix, then each shaped link measured across and held to its rate.
    let json = NSTemporaryDirectory() + "\(name).json"
    let junit = NSTemporaryDirectory() + "\(name).xml"
    addTeardownBlock {
      try? FileManager.default.removeItem(atPath: json)
      try? FileManager.default.removeItem(atPath: junit)
    }
    let (tested, report, testErr) = try runNstopo(binary, ["test", name, "--perf", "--json", json, "--junit", junit])
    XCTAssertEqual(tested, 0, report + testErr)
    // In the JSON and JUnit too: a check per direction.
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
    let perf = try XCTUnwrap(doc["perf"] as? [[String: Any]])
    XCTAssertEqual(perf.map { "\($0["source"]!)>\($0["target"]!)" }, ["r1>r2", "r2>r1"])
    XCTAssertEqual(perf.map { $0["rate"] as? Int }, [20_000_000, 20_000_000])
    XCTAssertEqual(perf.map { $0["held"] as? Bool }, [true, true])
    let xml = try String(contentsOfFile: junit, encoding: .utf8)
    XCTAssertTrue(xml.contains("<testsuite name=\"\(name): perf\" tests=\"2\" failures=\"0\">"), xml)
    XCTAssertTrue(report.contains("perf (1 shaped link, 1 s each way, within 10 %):\n  ✓ r1 -> r2: "), report)
    XCTAssertTrue(report.contains("  ✓ r2 -> r1: ") && report.contains(" Mbit/s of 20mbit ("), report)
    // Unshaped, the figure is the machine's, and there is no rate to hold it to.
    let (code, out, _) = try runNstopo(binary, ["perf", name, "a", "r1", "--seconds", "1"])
    XCTAssertEqual(code, 0)
    XCTAssertTrue(out.contains("no `rate` on the way"), out)
    XCTAssertEqual(try runNstopo(binary, ["perf", name, "a", "zz"]).0, 64)
    // A pair that does not connect: the model says why, nothing is measured.
    XCTAssertEqual(try runNstopo(binary, ["link", name, "r1", "r2", "down"]).0, 0)
    let (down, _, why) = try runNstopo(binary, ["perf", name, "a", "b", "--seconds", "1"])
    XCTAssertEqual(down, 1)
    XCTAssertTrue(why.contains("a does not reach b (10.68.2.2): the model predicts"), why)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }
}
