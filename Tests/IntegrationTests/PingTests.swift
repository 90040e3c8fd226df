import Foundation
import Matrix
import NSTopoKit
import Planner
import Predict
import Probe
import Realizer
import TopologyModel
import XCTest

/// ICMP echo (`test --proto icmp`, `expect A -> B icmp reach`): sent from inside each source
/// namespace, each reply matched to its request by the nonce it carries, every outcome class
/// as the model predicts it, through routes, firewalls (`allow … icmp`) and masquerade.
final class PingTests: KernelTestCase {
  func testPingIsPredictedThroughRoutesFirewallsAndNAT() throws {
    let t = topology("""
      subnet lan[1..3] 10.66.$i.0/24
      subnet lan6 fd00:66:1::/64
      bridge sw1 lan1 lan6
      bridge sw[2..3] lan$i
      node r
        forward
        link sw1
        link sw2
        link sw3
        masquerade eth2
        firewall forward accept
        deny forward icmp from a2 to b2
        reject forward icmp from a1 to b3
      node a[1..2]
        link sw1
        route default via r
      node a3
        link sw1
        route default via r
        firewall output drop
        allow output tcp
      node b1
        link sw2
        route default via r
        firewall input drop
        allow input icmp from lan1
      node b[2..3]
        link sw2
        route default via r
      node c
        link sw3
      node d
        link sw1
        route 10.66.9.0/24 prohibit
        route 10.66.8.0/24 unreachable
      expect a[1..2] -> b1 icmp reach
      expect a2 -> b2 icmp blocked
      expect a1 -> c icmp reach
      """)
    try Lifecycle.up(t, file: "test")
    defer { XCTAssertNotNil(try? Lifecycle.down(t.name)) }
    var set = ProbeSet(topology: t, namespace: KernelNames(topology: t.name).namespace(node:), options: .init(protocols: [.icmp]))
    // The addresses d's routes act on.
    let d = Int32(set.endpoints.firstIndex { $0.name == "d" }!)
    for a in ["10.66.9.1", "10.66.8.1"] { set.append(source: d, target: 0, address: IPAddress(a)!, proto: .icmp, port: 0) }
    let model = predictedOutcomes(t, set)
    let measured = try Lifecycle.withTestNetwork(t) { () -> [Outcome] in
      try ProbeEngine.measure(set, model: model, options: .init(timeout: 1)).outcomes
    }
    var differ: [String] = []
    for (i, p) in set.probes.enumerated() where measured[i] != model[i].outcome {
      differ.append("\(set.endpoints[Int(p.source)].name) -> \(set.address(of: p)): predicted \(model[i].outcome.rawValue) (\(model[i].reason ?? "")), measured \(measured[i].rawValue)")
    }
    XCTAssertEqual(differ, [])
    // Every class a ping can end in: a reply, silence (a drop), refused (a reject's port
    // unreachable), prohibited (an output drop, a prohibit route), host unreachable, no route.
    XCTAssertEqual(Set(measured), [.reached, .timedOut, .refused, .prohibited, .hostUnreachable, .noRoute], "\(Set(measured))")
    // c has no route back to lan1, yet a1 reaches it: r masquerades what leaves through eth2.
    let a1c = set.probes.indices.first { set.endpoints[Int(set.probes[$0].source)].name == "a1" && set.endpoints[Int(set.probes[$0].target)].name == "c" }!
    XCTAssertEqual(measured[a1c], .reached)
    XCTAssertTrue(measured.contains(.reached) && set.probes.contains { set.address(of: $0).family == .ipv6 }, "IPv6 echo too")
  }

  /// `nstopo test NAME --proto icmp` reports pings as `icmp` (no port) and holds the file's
  /// `icmp` expectations; `why --proto icmp --probe` pings.
  func testTheCommandLine() throws {
    let name = uniqueName()
    let file = try tempFile(
      name,
      "topology \(name)\nsubnet lan 10.67.1.0/24\nbridge sw lan\nnode a\n  link sw\nnode b\n  link sw\n  firewall input drop\nexpect a -> b icmp blocked\nexpect b -> a icmp reach\n"
    )
    var (code, out, err) = try runNstopo(binary, ["test", file, "--up", "--proto", "icmp", "--exact"])
    XCTAssertEqual(code, 0, out + err)
    XCTAssertTrue(out.contains("2 pairs: 1 reached, 1 timed-out, 0 mismatches of 2 expectations"), out)
    (code, out, err) = try runNstopo(binary, ["predict", file, "--proto", "icmp", "--json", "-"])
    XCTAssertTrue(out.contains("\"proto\":\"icmp\""), out)
    (code, out, err) = try runNstopo(binary, ["validate", try tempFile(name + "bad", "topology x\nnode a\nnode b\nexpect a -> b icmp 80 reach\n")])
    XCTAssertEqual(code, 65)
    XCTAssertTrue(err.contains("icmp has no port"), err)
  }
}
