import Foundation
import FuzzHarness
import TopologyDSL
import XCTest

/// Feeds random and mutated inputs to the loader: it never crashes, never hangs, and always
/// returns either a model with no errors or at least one error without a model.
final class FuzzTests: XCTestCase {
  static let fragments = [
    "node", "bridge", "subnet", "link", "route", "expect", "topology", "forward", "cpu", "chroot", "run",
    "h[1..3]", "[", "]", "..", "$i", "$j", "$k", "->", "--", "via", "default", "blackhole", "10.0.0.0/24",
    "10.0.0.1", "/31", "host:veth1", "r1:eth0", "#", "\t", "  ", "\n", "50%", "reach", "blocked", "tcp", "udp",
    "65535", "0", "s1", "lan1", "p2p", "h1", "r1", "*", ",", ":", "é", "\u{0}", "\r\n", "999999999999",
  ]

  func check(_ bytes: [UInt8], seed: UInt64, file: StaticString = #filePath, line: UInt = #line) {
    let start = Date()
    let r = TopologyLoader.load(bytes: bytes, fileName: "fuzz.topo")
    let elapsed = Date().timeIntervalSince(start)
    XCTAssertLessThan(elapsed, 2, "seed \(seed) took \(elapsed) s", file: file, line: line)
    if r.topology == nil {
      XCTAssertTrue(r.diagnostics.hasErrors, "seed \(seed): no model and no error", file: file, line: line)
    } else {
      XCTAssertFalse(r.diagnostics.hasErrors, "seed \(seed): a model despite errors", file: file, line: line)
    }
    _ = r.rendered
  }

  func testRandomTokenSoup() {
    for seed in UInt64(1)...1500 {
      var g = SplitMix64(state: seed)
      var text = ""
      for _ in 0..<Int.random(in: 1...60, using: &g) {
        text += FuzzTests.fragments.randomElement(using: &g)!
        text += Bool.random(using: &g) ? " " : (Bool.random(using: &g) ? "\n  " : "\n")
      }
      check(Array(text.utf8), seed: seed)
    }
  }

  func testMutatedExamples() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var corpus: [[UInt8]] = []
    for name in ["lab", "two-lans", "leaf-spine", "seed", "v6-lans", "dual-stack", "links"] {
      corpus.append([UInt8](try Data(contentsOf: root.appendingPathComponent("topologies/\(name).topo"))))
    }
    for seed in UInt64(1)...1500 {
      var g = SplitMix64(state: seed)
      var bytes = corpus.randomElement(using: &g)!
      for _ in 0..<Int.random(in: 1...8, using: &g) {
        guard !bytes.isEmpty else { break }
        let i = Int.random(in: 0..<bytes.count, using: &g)
        switch Int.random(in: 0..<5, using: &g) {
        case 0: bytes[i] = UInt8.random(in: 0...255, using: &g)
        case 1: bytes.remove(at: i)
        case 2: bytes.insert(contentsOf: Array(FuzzTests.fragments.randomElement(using: &g)!.utf8), at: i)
        case 3:
          let j = min(bytes.count, i + Int.random(in: 1...40, using: &g))
          bytes.insert(contentsOf: bytes[i..<j], at: Int.random(in: 0...bytes.count, using: &g))
        default:
          let j = min(bytes.count, i + Int.random(in: 1...40, using: &g))
          bytes.removeSubrange(i..<j)
        }
      }
      check(bytes, seed: seed)
    }
  }

  /// Every input that once crashed, hung or blew up memory (found by `nstopo-fuzz` or by
  /// hand), replayed through what `validate` and `plan` do.
  func testRegressionFixtures() throws {
    let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/fuzz")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".topo") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 20)
    for name in files {
      let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
      let start = Date()
      let outcome = FuzzHarness.run(bytes)
      XCTAssertEqual(outcome.problems, [], name)
      XCTAssertLessThan(Date().timeIntervalSince(start), 10, "\(name) hangs")
    }
  }
}
