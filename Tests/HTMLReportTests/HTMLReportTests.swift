import HTMLReport
import Matrix
import TopologyModel
import XCTest

/// The HTML report: self-contained, deterministic, every name escaped, the data block safe
/// inside its script element, and its heat map, lists and tabs fed with the right pairs.
final class HTMLReportTests: XCTestCase {
  private func pair(_ s: String, _ t: String, _ outcome: Outcome, expected: Expectation.Outcome? = nil, declared: Expectation.Outcome? = nil, predicted: Outcome? = nil, reason: String? = nil) -> PairResult {
    PairResult(
      source: s, target: t, address: IPAddress("10.0.0.\(t.count)"), proto: .tcp, port: 4444, outcome: outcome,
      latencyMs: outcome == .reached ? 0.25 : nil, expected: expected, line: declared == nil ? nil : 7, declared: declared, predicted: predicted,
      reason: reason)
  }

  private func document(names: [String]) -> TestDocument {
    var pairs: [PairResult] = []
    for s in names { for t in names where s != t { pairs.append(pair(s, t, .reached, expected: .reach, predicted: .reached)) } }
    pairs[1] = pair(names[0], names[2], .timedOut, expected: .reach, declared: .reach, predicted: .timedOut, reason: "forwarding is off in r")
    return TestDocument(
      kind: "test", topology: "t</script>", passed: false, summary: "6 pairs: 5 reached, 1 timed-out", seconds: 0.5, port: 4444,
      protocols: [.tcp], timeoutSeconds: 1, peakInFlight: 6, endpoints: names, pairs: pairs,
      scenarios: [.init(name: "cut", line: 9, changes: ["link a r down"], passed: true, summary: "6 pairs", pairs: pairs.map { var p = $0; p.outcome = .reached; return p })])
  }

  func testSelfContainedDeterministicAndEscaped() {
    let hostile = ["a", "<img src=x onerror=alert(1)>", "b&\"'"]
    let doc = document(names: hostile)
    let html = HTMLReport.render(doc, context: ReportContext(diagramSVG: "<?xml version=\"1.0\"?><!DOCTYPE svg><svg><g/></svg>", generated: "2026-12-06"))
    XCTAssertEqual(html, HTMLReport.render(doc, context: ReportContext(diagramSVG: "<?xml version=\"1.0\"?><!DOCTYPE svg><svg><g/></svg>", generated: "2026-12-06")))
    // Nothing fetched: no external script, style, image or font.
    for needle in ["src=\"http", "href=\"http", "@import", "url(http", "<link "] { XCTAssertFalse(html.contains(needle), needle) }
    // A hostile name is text: never markup in the page, never the end of the data's script.
    XCTAssertFalse(html.contains("<img src=x"), "the name is escaped")
    XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, 2, "only the two script elements end")
    XCTAssertTrue(html.contains("t&lt;/script&gt;"), "the title is escaped")
    XCTAssertTrue(html.contains("\\u003cimg src=x onerror=alert(1)\\u003e"), "the data escapes < and >")
    XCTAssertTrue(html.contains("<svg><g/></svg>") && !html.contains("<!DOCTYPE svg>"), "the diagram inline, without its prolog")
  }

  func testMarksListsAndTabs() {
    let doc = document(names: ["a", "r", "b"])
    let html = HTMLReport.render(doc)
    // a→r reached as expected, a→b the mismatch; the diagonal empty.
    XCTAssertTrue(html.contains("\"marks\":\" vxv vvv \""), html)
    XCTAssertTrue(html.contains("\"title\":\"scenario cut\""))
    XCTAssertTrue(html.contains("\"changes\":[\"link a r down\"]"))
    XCTAssertTrue(html.contains("\"differential\":"))
    XCTAssertTrue(html.contains("[0,2,\"tcp\",4444,\"ipv4\",\"timed-out\",\"reached\",\"reached\",\"timed-out\",0,null,\"forwarding is off in r\",7,null]"), html)
  }

  /// What a reader asked for: how many expectations hold ("5/6 hold"), a scenario's lost and
  /// gained pairs one by one, each scenario's own diagram, the names on the matrix's axes, and
  /// ICMP among the protocols to filter by.
  func testHeldCountsScenarioListsDiagramsAndAxes() {
    let doc = document(names: ["a", "r", "b"])
    var context = ReportContext(diagramSVG: "<svg id=\"base\"/>")
    context.scenarioSVGs["cut"] = "<svg id=\"cut\"/>"
    let html = HTMLReport.render(doc, context: context)
    XCTAssertTrue(html.contains("\"expected\":6,\"held\":5"), html)
    XCTAssertTrue(html.contains("\"gained\":[\"a -\\u003e b tcp/4444 (10.0.0.1): timed-out, now reached\"]"), html)
    XCTAssertTrue(html.contains("<div class=\"svg\" data-tab=\"cut\" hidden><svg id=\"cut\"/></div>"), html)
    XCTAssertTrue(html.contains("<canvas id=\"cols\" aria-hidden=\"true\"></canvas><canvas id=\"rows\""), html)
    XCTAssertTrue(html.contains("<option>icmp</option>"))
  }

  /// At star-1000's size the page holds every cell's mark and only the listed pairs.
  /// A document that lists 40,000 endpoints and names a few in its pairs draws only those (it
  /// took 4.76 GB and wrote a 1.6 GB page); more than the bound is refused, with the reason.
  func testTheMatrixIsBoundedByTheEndpointsThePairsName() {
    var doc = document(names: ["a", "b", "c"])
    doc.endpoints = (0..<40_000).map { "n\($0)" } + ["a", "b", "c"]
    XCTAssertNil(HTMLReport.tooLarge(doc))
    let html = HTMLReport.render(doc)
    XCTAssertLessThan(html.utf8.count, 200_000)
    XCTAssertTrue(html.contains(#""endpoints":["a","b","c"]"#), String(html.prefix(2000)))
    doc.pairs = (0..<4_001).map { pair("n\($0)", "n\($0 + 1)", .reached) }
    doc.scenarios = nil
    XCTAssertEqual(
      HTMLReport.tooLarge(doc),
      "the matrix has 4002 endpoints, more than the report draws (4000: a heat map of 4000² cells per tab); the JSON itself has every pair")
  }

  func testLargeMatricesStaySmall() {
    let names = (1...1000).map { "h\($0)" }
    var pairs: [PairResult] = []
    pairs.reserveCapacity(999_000)
    for s in names { for t in names where s != t { pairs.append(pair(s, t, .reached, expected: .reach, predicted: .reached)) } }
    let doc = TestDocument(
      kind: "test", topology: "star", passed: true, summary: "999000 pairs", seconds: 40, port: 4444, protocols: [.tcp], timeoutSeconds: 1,
      peakInFlight: 512, endpoints: names, pairs: pairs)
    let html = HTMLReport.render(doc, context: ReportContext(groups: [("lan", names)]))
    XCTAssertLessThan(html.utf8.count, 15 << 20)
    XCTAssertGreaterThan(html.utf8.count, 1_000_000, "a mark per cell")
  }
}
