import TopologyDSL
import TopologyModel
import XCTest

/// Loads `text` as `test.topo` with no machine facts.
func load(_ text: String, options: LoadOptions = LoadOptions()) -> LoadResult {
  TopologyLoader.load(text: text, fileName: "test.topo", options: options)
}

/// Loads `text` and fails the test on any error.
func model(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Topology {
  let r = load(text)
  XCTAssertFalse(r.diagnostics.hasErrors, r.rendered, file: file, line: line)
  return r.topology ?? Topology(name: "invalid")
}

/// The full rendered diagnostics.
func rendered(_ text: String, options: LoadOptions = LoadOptions()) -> String {
  load(text, options: options).rendered
}

/// Address of `owner:interface`.
func address(_ t: Topology, _ owner: String, _ interface: String) -> String? {
  let o: Owner = owner == "host" ? .host : .node(owner)
  return t.ends(of: o).first { $0.interface == interface }?.addresses.first?.description
}

/// Interface names of a node, in link order.
func interfaces(_ t: Topology, _ node: String) -> [String] {
  t.ends(of: .node(node)).map(\.interface)
}

func repoFile(_ path: String) -> String {
  let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
  return root.appendingPathComponent(path).path
}
