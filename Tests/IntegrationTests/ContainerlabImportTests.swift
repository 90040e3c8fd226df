import Foundation
import XCTest

/// A containerlab file imported, brought up and tested on the real kernel: what its exec
/// lines meant (addresses, routes, forwarding) is what the kernel does, pair by pair.
final class ContainerlabImportTests: KernelTestCase {
  func testImportedFilesComeUpAndPassTheirOwnTest() throws {
    for fixture in ["groups.clab.yml", "bridge.clab.yml", "host-links.clab.yml"] {
      let name = uniqueName()
      var yaml = try String(contentsOf: repo.appendingPathComponent("Tests/ContainerlabTests/Fixtures/\(fixture)"), encoding: .utf8)
      // A name of its own, and host ends the leak check knows.
      yaml = yaml.replacingOccurrences(of: #"(?m)^name: .*$"#, with: "name: \(name)", options: .regularExpression)
        .replacingOccurrences(of: "clab-n1-eth1", with: hostLinkName()).replacingOccurrences(of: "n1-eth2", with: hostLinkName() + "b")
        .replacingOccurrences(of: "172.20.20.", with: hostSubnet().dropLast(2) + ".")
      let input = NSTemporaryDirectory() + "\(name).clab.yml"
      try yaml.write(toFile: input, atomically: true, encoding: .utf8)
      let output = NSTemporaryDirectory() + "\(name).topo"
      addTeardownBlock {
        try? FileManager.default.removeItem(atPath: input)
        try? FileManager.default.removeItem(atPath: output)
      }
      var (code, out, err) = try runNstopo(binary, ["import", input, "-o", output])
      XCTAssertEqual(code, 0, fixture + out + err)
      XCTAssertTrue(err.contains("import: wrote \(output)"), err)
      (code, out, err) = try runNstopo(binary, ["validate", output])
      XCTAssertEqual(code, 0, fixture + err)
      (code, out, err) = try runNstopo(binary, ["test", output, "--up", "--exact", "--proto", "tcp,udp"])
      XCTAssertEqual(code, 0, "\(fixture): \(out)\(err)")
      XCTAssertTrue(out.contains(" 0 mismatches"), out)
      XCTAssertEqual(leftovers(name), [], fixture)
    }
    // An import with errors writes nothing, and exits 65.
    let typo = repo.appendingPathComponent("Tests/ContainerlabTests/Fixtures/unknown-node.clab.yml").path
    let target = NSTemporaryDirectory() + "\(uniqueName()).topo"
    let (code, _, err) = try runNstopo(binary, ["import", typo, "-o", target])
    XCTAssertEqual(code, 65, err)
    XCTAssertTrue(err.contains("unknown-node.clab.yml:9:35: error: endpoint 'clinet2:eth1' names no node"), err)
    XCTAssertFalse(FileManager.default.fileExists(atPath: target))
  }

  /// Export writes YAML that containerlab reads, to a file or stdout.
  func testExportToAFile() throws {
    let name = uniqueName()
    let out = NSTemporaryDirectory() + "\(name).clab.yml"
    addTeardownBlock { try? FileManager.default.removeItem(atPath: out) }
    let lab = repo.appendingPathComponent("topologies/two-lans.topo").path
    let (code, _, err) = try runNstopo(binary, ["export", lab, "--format", "containerlab", "--image", "alpine:3", "-o", out])
    XCTAssertEqual(code, 0, err)
    let yaml = try String(contentsOfFile: out, encoding: .utf8)
    XCTAssertTrue(yaml.contains("name: two-lans\n"), yaml)
    XCTAssertTrue(yaml.contains("image: \"alpine:3\""), yaml)
    XCTAssertEqual(try runNstopo(binary, ["export", lab, "--format", "netlab"]).0, 64)
  }
}
