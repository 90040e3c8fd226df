import Foundation
import Glibc
import NodeRuntime
import Matrix
import Planner
import Predict
import Probe
import Realizer
import TopologyModel
import XCTest

final class PredictionTests: KernelTestCase {
  func testPredictionEqualsMeasurementOnEveryPairOfEveryExample() throws {
    let rootfs = NSTemporaryDirectory() + "nstt-rootfs-\(getpid())"
    _ = try Rootfs.build(at: rootfs)
    defer { try? FileManager.default.removeItem(atPath: rootfs) }
    // star-1000 is left to `make bench`.
    for name in ["seed", "two-lans", "lab", "leaf-spine", "star-100", "showcase", "v6-lans", "dual-stack", "links"] {
      let t = try example(name, rootfs: rootfs)
      try Lifecycle.up(t, file: name)
      let set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init())
      let measured = try Lifecycle.withTestNetwork(t) { try ProbeEngine(set, options: .init(timeout: 1)).run() }
      let predictor = Predictor(t)
      var differ: [String] = []
      for (i, p) in set.probes.enumerated() {
        let s = set.endpoints[Int(p.source)].name
        let d = set.endpoints[Int(p.target)].name
        let x = predictor.predict(from: s, to: d, address: set.address(of: p))
        if x.reached != measured[i].0.reached {
          differ.append("\(s) -> \(d): predicted \(x.verdict.rawValue) (\(x.reason ?? "")), measured \(measured[i].0.rawValue)")
        }
      }
      XCTAssertEqual(differ, [], "\(name): \(set.probes.count) pairs")
      XCTAssertNotNil(try Lifecycle.down(t.name))
    }
  }

  func testWhyNamesTheHopAndTheMissingRouteAfterAHandEdit() throws {
    let name = uniqueName()
    let text = try String(contentsOf: repo.appendingPathComponent("topologies/two-lans.topo"), encoding: .utf8)
      .replacingOccurrences(of: "topology two-lans", with: "topology \(name)")
    let path = try tempFile(name, text)
    XCTAssertEqual(try runNstopo(binary, ["up", path]).0, 0)
    var (code, out, err) = try runNstopo(binary, ["why", name, "a1", "b2"])
    XCTAssertEqual(code, 0, err)
    XCTAssertTrue(out.contains("model:  a1 (eth0 via 10.1.1.1) -> r1 (eth1) -> b2; back: b2 -> r1 -> a1; reached"), out)
    XCTAssertTrue(out.contains("the kernel agrees with the model"), out)
    // Break it by hand: r1 loses its route? It has none; take b2's default route away.
    do {
      let backend = try NetlinkBackend()
      try backend.socket(KernelNames(topology: name).namespace(node: "b2")).deleteRoute(
        destination: IPPrefix("0.0.0.0/0")!, gateway: IPAddress("10.1.2.1")!, kind: .unicast, label: "test")
    }
    (code, out, err) = try runNstopo(binary, ["why", name, "a1", "b2"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("stops: b2 has no route back to 10.1.1.0/24 (timed-out)"), out)
    XCTAssertTrue(out.contains("b2 lacks the route default via 10.1.2.1 that the model has"), out)
    (code, out, err) = try runNstopo(binary, ["test", name, "--no-color"])
    XCTAssertEqual(code, 1, out + err)
    XCTAssertTrue(out.contains("✗ a1 -> b2 tcp/4444 (10.1.2.3): expected reach, got timed-out (line 20)"), out)
    XCTAssertTrue(out.contains("in the kernel: b2 has no route back to 10.1.1.0/24 (the model disagrees: changed by hand?)"), out)
    XCTAssertEqual(try runNstopo(binary, ["down", name]).0, 0)
  }

  func testAnUntouchedTopologyPassesItsOwnTestWithNoExpectLines() throws {
    let name = uniqueName()
    let text = "topology \(name)\nsubnet l[1..2] 10.3.$i.0/24\nbridge s[1..2] l$i\nnode r\n  forward\n  link s1\n  link s2\nnode a\n  link s1\n  route default via r\nnode b\n  link s2\nnode c\n"
    let path = try tempFile(name, text)
    let (code, out, err) = try runNstopo(binary, ["test", path, "--up", "--no-color"])
    XCTAssertEqual(code, 0, out + err)
    // c has no address: its pairs are reported, not probed, and hold no expectation.
    XCTAssertTrue(out.contains("12 pairs: 3 reached, 5 no-route, 1 timed-out, 3 not-probed, 0 mismatches of 9 expectations (0 declared, the rest predicted)"), out)
    // Held to its expect lines only, a file without any has nothing to check: exit 2, before
    // anything is built.
    let (code2, _, err2) = try runNstopo(binary, ["test", path, "--up", "--declared-only", "--no-color"])
    XCTAssertEqual(code2, 2, err2)
    XCTAssertTrue(err2.contains("nothing to check"), err2)
    XCTAssertEqual(leftovers(name), [])
  }

  /// test, predict and why accept and refuse the same probe options, as usage errors.
  func testBadProbeOptionsAreUsageErrors() throws {
    let lab = repo.appendingPathComponent("topologies/lab.topo").path
    for (args, message) in [
      (["predict", lab, "--proto", "gre"], "unknown protocol 'gre'"),
      (["predict", lab, "--port", "0"], "--port must be between 1 and 65535"),
      (["test", lab, "--up", "--proto", "tcp,sctp"], "unknown protocol 'sctp'"),
      (["why", lab, "h1", "h7", "--proto", "bogus"], "unknown protocol 'bogus'"),
    ] {
      let (code, _, err) = try runNstopo(binary, args)
      XCTAssertEqual(code, 64, "\(args): \(err)")
      XCTAssertTrue(err.contains(message), "\(args): \(err)")
    }
    let json = NSTemporaryDirectory() + "nstt-predict-\(getpid()).json"
    defer { unlink(json) }
    let (code, _, err) = try runNstopo(binary, ["predict", lab, "--proto", "tcp,udp", "--port", "80", "--json", json])
    XCTAssertEqual(code, 0, err)
    let text = try String(contentsOfFile: json, encoding: .utf8)
    XCTAssertTrue(text.contains("\"protocols\" : [\"tcp\", \"udp\"]") && text.contains("\"port\" : 80"), String(text.prefix(300)))
  }
}
