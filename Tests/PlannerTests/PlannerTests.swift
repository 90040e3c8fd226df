import Foundation
import Planner
import TopologyDSL
import TopologyModel
import XCTest

private let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

private func loadExample(_ name: String) throws -> Topology {
  let data = try Data(contentsOf: root.appendingPathComponent("topologies/\(name).topo"))
  let r = TopologyLoader.load(bytes: [UInt8](data), fileName: "\(name).topo")
  return try XCTUnwrap(r.topology, r.rendered)
}

private func json(_ plan: Plan) throws -> String {
  let e = JSONEncoder()
  e.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
  return String(decoding: try e.encode(PlanDocument(plan)), as: UTF8.self) + "\n"
}

/// Compares with `Snapshots/<name>`; NSTOPO_RECORD=1 rewrites it.
private func assertSnapshot(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
  let url = root.appendingPathComponent("Tests/PlannerTests/Snapshots/\(name)")
  if ProcessInfo.processInfo.environment["NSTOPO_RECORD"] == "1" {
    try text.write(to: url, atomically: true, encoding: .utf8)
    return
  }
  let expected = try String(contentsOf: url, encoding: .utf8)
  XCTAssertEqual(text, expected, "snapshot \(name) differs (NSTOPO_RECORD=1 to re-record after review)", file: file, line: line)
}

final class PlannerTests: XCTestCase {
  func testLabPlanJSONSnapshot() throws {
    try assertSnapshot(try json(Planner.plan(try loadExample("lab"))), "lab.plan.json")
  }

  func testTwoLansPlanTextSnapshot() throws {
    try assertSnapshot(PlanText.render(Planner.plan(try loadExample("two-lans"))), "two-lans.plan.txt")
  }

  func testSeedPlanTextSnapshot() throws {
    try assertSnapshot(PlanText.render(Planner.plan(try loadExample("seed"))), "seed.plan.txt")
  }

  func testPlanIsDeterministic() throws {
    let t = try loadExample("leaf-spine")
    XCTAssertEqual(try json(Planner.plan(t)), try json(Planner.plan(t)))
    XCTAssertEqual(PlanText.render(Planner.plan(t)), PlanText.render(Planner.plan(t)))
  }

  func testStepOrderNamespacesFirstRoutesAfterAddresses() throws {
    let steps = Planner.plan(try loadExample("lab"), staticNeighbours: true).steps.map(\.step)
    func firstIndex(_ op: String) -> Int { steps.firstIndex { $0.op == op }! }
    func lastIndex(_ op: String) -> Int { steps.lastIndex { $0.op == op }! }
    XCTAssertLessThan(lastIndex("create-namespace"), firstIndex("create-bridge"))
    XCTAssertLessThan(lastIndex("create-bridge"), firstIndex("create-veth"))
    XCTAssertLessThan(lastIndex("create-veth"), firstIndex("add-address"))
    XCTAssertLessThan(lastIndex("add-address"), firstIndex("add-route"))
    XCTAssertLessThan(lastIndex("add-neighbours"), firstIndex("add-route"))
  }

  func testEveryCreatingStepHasAnInverse() throws {
    for s in Planner.plan(try loadExample("lab")).steps {
      XCTAssertNotNil(s.inverse, "\(s.step) has no inverse")
    }
  }

  /// Runtime changes are steps with inverses too: a link set down comes back up.
  func testLinkStateAndNeighboursHaveRealInverses() {
    XCTAssertEqual(Step.setLinkDown(ns: "t-a", name: "eth0").inverse, .setLinkUp(ns: "t-a", name: "eth0"))
    XCTAssertEqual(Step.setLinkUp(ns: "t-a", name: "eth0").inverse, .setLinkDown(ns: "t-a", name: "eth0"))
    for set in Planner.plan(try! loadExample("two-lans")).neighbourSets {
      XCTAssertEqual(Step.addNeighbours(set).inverse, .deleteNeighbours(set))
    }
  }

  /// Steps are split by who performs them, and an inverse is performed by the same one.
  func testEveryStepIsOfOneKindAndItsInverseOfTheSame() throws {
    var kinds: [String: Int] = [:]
    for name in ["seed", "two-lans"] {
      for s in Planner.plan(try loadExample(name)).steps {
        switch (s.step, s.inverse) {
        case (.network, .network?), (.network, nil): kinds["network", default: 0] += 1
        case (.node, .node?), (.node, nil): kinds["node", default: 0] += 1
        default: XCTFail("\(s.step.op) is undone by a step of the other kind")
        }
        XCTAssertEqual(s.step.networkStep?.op ?? s.step.op, s.step.op)
      }
    }
    XCTAssertGreaterThan(kinds["network"] ?? 0, 0)
    XCTAssertGreaterThan(kinds["node"] ?? 0, 0)
    XCTAssertEqual(Step.createCgroup(path: "nstopo-t/a", cpuPercent: 20).inverse, .deleteCgroup(path: "nstopo-t/a"))
    XCTAssertNil(Step.stopProcesses(cgroups: ["nstopo-t/a"]).inverse)
  }

  func testHostEndsCarryTheOwnershipAlias() throws {
    let plan = Planner.plan(try loadExample("seed"))
    let hostVeths = plan.steps.compactMap { s -> Step.Veth? in
      if case .network(.createVeth(let v)) = s.step, v.ns == nil { return v } else { return nil }
    }
    XCTAssertEqual(hostVeths.map(\.name), ["veth1"])
    XCTAssertEqual(hostVeths.first?.alias, "nstopo:seed")
    XCTAssertEqual(hostVeths.first?.peerNamespace, "seed-myns")
  }

  func testNeighbourSetsCoverEverySegmentOnlyWhenAsked() throws {
    func sets(_ plan: Plan) -> [Step.NeighbourSet] {
      plan.steps.compactMap { s -> Step.NeighbourSet? in
        if case .network(.addNeighbours(let n)) = s.step { return n } else { return nil }
      }
    }
    let t = try loadExample("star-100")
    XCTAssertEqual(sets(Planner.plan(t)), [], "up leaves ARP to the kernel by default")
    let asked = sets(Planner.plan(t, staticNeighbours: true))
    XCTAssertEqual(asked.count, 1)
    XCTAssertEqual(asked[0].entryCount, 100 * 99)
    XCTAssertEqual(Planner.plan(t).neighbourSets, asked, "what test installs")
    // Direct links are segments of two; the host end is a member in the root namespace.
    let seed = Planner.plan(try loadExample("seed")).neighbourSets
    XCTAssertEqual(seed.map(\.entryCount), [2])
    XCTAssertEqual(Set(seed[0].members.map(\.ns)), [nil, "seed-myns"])
  }

  func testMACsAreUniqueAndLocallyAdministered() throws {
    let plan = Planner.plan(try loadExample("leaf-spine"))
    let macs = Array(plan.macs.values) + Array(plan.bridgeMACs.values)
    XCTAssertEqual(Set(macs).count, macs.count)
    XCTAssertTrue(macs.allSatisfy { $0.bytes[0] == 0x02 })
  }

  func testKernelNames() {
    let n = KernelNames(topology: "lab")
    XCTAssertEqual(n.namespace(node: "h1"), "lab-h1")
    XCTAssertEqual(n.bridgeNamespace, "lab")
    XCTAssertNil(n.namespace(of: .host))
  }
}
