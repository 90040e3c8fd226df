import Foundation
import Realizer
import TopologyModel
import XCTest

/// state.json across versions: a document written before the format field still reads (so a
/// topology brought up before an upgrade can be tested and taken down after it), and one
/// this version cannot read says why instead of reading as "not up".
final class StateDocumentTests: XCTestCase {
  func fixture(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")))
  }

  func testFormatOneDocumentFromThePreviousVersionReads() throws {
    let doc = try StateDocument.decode(try fixture("state-format1.json"), path: "state.json")
    XCTAssertEqual(doc.format, 1)
    XCTAssertEqual(doc.topology.name, "nsttfmt")
    XCTAssertEqual(doc.topology.nodes.map(\.name), ["a", "b"])
    XCTAssertEqual(doc.topology.nodes[0].cpuPercent, 20)
    XCTAssertEqual(doc.staticNeighbours, false)
    XCTAssertEqual(doc.topology.expectations.first?.targets, ["b"])
    XCTAssertEqual(doc.topology.links.map(\.a.addresses), [[InterfaceAddress("10.93.0.1/24")!], [InterfaceAddress("10.93.0.2/24")!]])
    XCTAssertEqual(doc.topology.links.map(\.b.addresses), [[], []])
  }

  /// Format 2 (one `address` per link end) from the version before address families.
  func testFormatTwoDocumentReadsItsOneAddressPerEnd() throws {
    let doc = try StateDocument.decode(try fixture("state-format2.json"), path: "state.json")
    XCTAssertEqual(doc.format, 2)
    XCTAssertEqual(doc.topology.links[0].a.address(.ipv4), InterfaceAddress("10.93.0.1/24"))
    XCTAssertEqual(doc.topology.nodes[1].routes.first?.nextHop, .gateway(IPAddress("10.93.0.1")!, node: "a"))
    XCTAssertEqual(doc.topology.subnets.first?.prefix, IPPrefix("10.93.0.0/24"))
  }

  func testThisVersionWritesItsFormatAndReadsItBack() throws {
    let doc = StateDocument(file: "/x.topo", created: Date(timeIntervalSince1970: 1_800_000_000), topology: Topology(name: "t", nodes: [Node(name: "a")]))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    encoder.dateEncodingStrategy = .iso8601
    let data = [UInt8](try encoder.encode(doc))
    XCTAssertTrue(String(decoding: data, as: UTF8.self).contains("\"format\":5"))
    let back = try StateDocument.decode(data, path: "state.json")
    XCTAssertEqual(back.format, StateDocument.currentFormat)
    XCTAssertEqual(back.topology, doc.topology)
  }

  func testNewerOrDamagedDocumentsSaySo() {
    XCTAssertThrowsError(try StateDocument.decode(Array(#"{"format": 9, "file": "x"}"#.utf8), path: "/run/nstopo/t/state.json")) {
      XCTAssertEqual("\($0)", "/run/nstopo/t/state.json was written by a newer nstopo (format 9; this one reads up to 5); use that version to test or take it down")
    }
    XCTAssertThrowsError(try StateDocument.decode(Array("{not json".utf8), path: "s.json")) {
      XCTAssertTrue("\($0)".hasPrefix("s.json cannot be read ("), "\($0)")
    }
  }
}

/// A change at run time leaves links.json beside state.json; an owner written in the older
/// keyed form still reads.
final class StateFormatFiveTests: XCTestCase {
  func testOwnersAsOneStringAndTheOlderForm() throws {
    let end = LinkEnd(owner: .bridge("sw"), interface: "h1-eth0")
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    XCTAssertEqual(String(decoding: try encoder.encode(end), as: UTF8.self), #"{"interface":"h1-eth0","owner":"bridge:sw"}"#)
    for (text, owner) in [(#""node:h1""#, Owner.node("h1")), (#""host""#, .host), (#"{"node":{"_0":"h1"}}"#, .node("h1")), (#"{"bridge":{"_0":"sw"}}"#, .bridge("sw"))] {
      XCTAssertEqual(try JSONDecoder().decode(Owner.self, from: Data(text.utf8)), owner, text)
    }
    XCTAssertThrowsError(try JSONDecoder().decode(Owner.self, from: Data(#""switch:x""#.utf8)))
  }
}
