import TopologyModel

// One packet's way through the model, hop by hop: the walk every prediction is made of.
extension Predictor {
  /// One packet's way from `start` to `dst`, as the kernel forwards it: local delivery to any
  /// of a node's addresses; a drop where a forwarded packet's source is the node's own address
  /// (a martian: how a loop through its source ends); forwarding; the TTL (64 at the source,
  /// one less per router, time exceeded at the 64th); longest-prefix routes; the next hop's
  /// owner on the segment, or any node there with that address (Linux answers ARP for all of
  /// its addresses on every interface). A router that cannot forward a probe sends an ICMP
  /// error, which counts only if it can get back to the probe's source.
  func walk(from start: String, to target: IPAddress, as traffic: Traffic, port probePort: Int = 4444, record: Bool = true) -> Walk {
    guard let first = endpointIndex[start] else {
      return Walk(verdict: .noRoute, reason: "\(start) is not in the topology", path: record ? [Hop(node: start)] : [], last: start)
    }
    var state = WalkState(traffic: traffic, record: record, first: first, dst: target, port: probePort)
    // The source, up to 64 routers, and where the packet ends.
    for _ in 0..<66 {
      if let end = state.step(self) { return end }
    }
    return Walk(verdict: .timedOut, reason: "more than 64 routers \(state.toward) \(state.dst)", path: state.path, last: states[state.node].name)
  }
}
