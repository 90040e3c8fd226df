import TopologyDSL
import TopologyModel

/// Topologies several test targets build on, in one place: the two LANs joined by a router
/// that the matrix, the fake-kernel rollback and the kernel tests each used to copy.
public enum Fixtures {
  /// `topology NAME` (when given), two LANs (10.1.1.0/24, 10.1.2.0/24) on bridges sw1 and sw2,
  /// router r (eth0 .1.1, eth1 .2.1) forwarding between them, a on the first and b on the
  /// second, each with its default route via r. `b` adds lines to b's body, `extra` lines
  /// after the nodes.
  public static func twoLANs(name: String? = "t", b: [String] = [], extra: [String] = []) -> String {
    var lines = name.map { ["topology \($0)"] } ?? []
    lines += [
      "subnet lan[1..2] 10.1.$i.0/24", "bridge sw[1..2] lan$i",
      "node r", "  forward", "  link sw1 eth0 10.1.1.1", "  link sw2 eth1 10.1.2.1",
      "node a", "  link sw1", "  route default via r",
      "node b", "  link sw2", "  route default via r",
    ]
    lines += b.map { "  " + $0 }
    lines += extra
    return lines.joined(separator: "\n") + "\n"
  }

  /// `text` loaded as `t.topo`; nil with the rendered diagnostics when it has errors.
  public static func load(_ text: String) -> (Topology?, String) {
    let r = TopologyLoader.load(text: text, fileName: "t.topo")
    return (r.diagnostics.hasErrors ? nil : r.topology, r.rendered)
  }
}
