import Foundation
import XCTest

/// The HTML report in a real browser: headless Chromium loads it, runs its script, and the
/// DOM is checked (mismatch rows, a cell's verdicts, the scenario tabs); a screenshot is not
/// blank; star-1000's report stays under 15 MB and is interactive within 3 s.
final class ReportBrowserTests: KernelTestCase {
  private var chromium: String? {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
  }

  /// Runs headless Chromium on `url` with `args`; returns stdout.
  private func browse(_ args: [String], _ url: String) throws -> String {
    let chrome = try XCTUnwrap(chromium)
    let profile = NSTemporaryDirectory() + "nstt-chromium-\(getpid())-\(KernelTestCase.counter)"
    defer { try? FileManager.default.removeItem(atPath: profile) }
    let (code, out, err) = try runProcess(
      "/usr/bin/timeout",
      ["120", chrome, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(profile)"] + args + [url],
      environment: ["PATH": "/usr/bin:/bin", "HOME": profile])
    XCTAssertEqual(code, 0, err)
    return out
  }

  func testTheShowcaseReportInChromium() throws {
    try XCTSkipUnless(chromium != nil, "chromium is not installed (make test installs it)")
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/links.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology links", with: "topology \(name)")
      // One expectation the network breaks, so that the page has a mismatch to show.
      + "\nexpect pc1 -> srv1 blocked\n"
    let file = try tempFile(name, text)
    let json = NSTemporaryDirectory() + "\(name).json"
    let html = NSTemporaryDirectory() + "\(name).html"
    let png = NSTemporaryDirectory() + "\(name).png"
    addTeardownBlock { for f in [json, html, png] { try? FileManager.default.removeItem(atPath: f) } }
    let (code, out, err) = try runNstopo(binary, ["test", file, "--up", "--all-scenarios", "--json", json, "--html", html])
    XCTAssertEqual(code, 1, out + err)
    let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any])
    let pairs = try XCTUnwrap(doc["pairs"] as? [[String: Any]])
    let expectedRows = pairs.filter { p in
      let expected = p["expected"] as? String, outcome = p["outcome"] as? String
      return expected != nil && (expected == "reached") != (outcome == "reached")
    }.count
    XCTAssertGreaterThan(expectedRows, 0)
    let scenarios = (doc["scenarios"] as? [[String: Any]])?.count ?? 0
    XCTAssertEqual(scenarios, 3)
    // The DOM after the script ran and a mouse click on the cell pc1 -> srv1.
    let dom = try browse(["--window-size=1280,1000", "--virtual-time-budget=3000", "--dump-dom"], "file://\(html)#click=pc1,srv1")
    XCTAssertTrue(dom.contains("data-ready="), "the script ran to its end")
    let rows = dom.components(separatedBy: "<tr class=\"mismatch\"").count - 1
    XCTAssertEqual(rows, expectedRows, "one row per mismatch of the JSON")
    XCTAssertTrue(dom.contains("<h2>pc1 → srv1</h2>"), "the clicked cell's pair")
    XCTAssertTrue(dom.contains("<th>declared</th><td>blocked</td>") && dom.contains("<th>measured</th><td>reached</td>"), "its verdicts")
    XCTAssertEqual(dom.components(separatedBy: "role=\"tab\"").count - 1, 1 + scenarios, "a tab per scenario")
    XCTAssertTrue(dom.contains("<svg"), "the diagram inline")
    // A screenshot that is not blank: a white page of this size compresses to a few KB.
    _ = try browse(["--hide-scrollbars", "--window-size=1280,1000", "--screenshot=\(png)"], "file://\(html)")
    let size = (try FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
    XCTAssertGreaterThan(size, 40_000, "the screenshot has content")
  }

  /// star-1000's predicted matrix (no kernel): the report's size and the time from
  /// navigation to the end of its script, as Chromium measures it; its one subnet makes one
  /// block, which the page opens to show a pair.
  func testStar1000ReportSizeAndTimeToInteractive() throws {
    try XCTSkipUnless(chromium != nil, "chromium is not installed (make test installs it)")
    let name = uniqueName()
    let star = repo.appendingPathComponent("topologies/star-1000.topo").path
    let results = NSTemporaryDirectory() + "\(name).json"
    let html = NSTemporaryDirectory() + "\(name).html"
    addTeardownBlock { for f in [results, html] { try? FileManager.default.removeItem(atPath: f) } }
    XCTAssertEqual(try runNstopo(binary, ["predict", star, "--json", results]).0, 0)
    let (code, _, err) = try runNstopo(binary, ["report", results, "--topology", star, "-o", html])
    XCTAssertEqual(code, 0, err)
    let size = (try FileManager.default.attributesOfItem(atPath: html)[.size] as? Int) ?? 0
    XCTAssertLessThanOrEqual(size, 15 << 20)
    let dom = try browse(["--virtual-time-budget=10000", "--dump-dom"], "file://\(html)#pair=h1,h2")
    let ready = try XCTUnwrap(dom.range(of: #"data-ready="(\d+)""#, options: .regularExpression).map { Int(dom[$0].dropFirst(12).dropLast())! })
    print("report: star-1000: \(size) bytes, interactive after \(ready) ms in Chromium")
    XCTAssertLessThan(ready, 3000)
    XCTAssertTrue(dom.contains("<h2>h1 → h2</h2>"), "the pair, inside its block")
    XCTAssertTrue(dom.contains("lan → lan"), "the block it opened")
  }
}
