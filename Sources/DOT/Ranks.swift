import TopologyModel

/// Layers as a person draws a network: the routing core on top, each router below the
/// routers that lead to the core, each LAN (bridge, hosts) below the router that serves it.
///
/// The core is the centre of the graph of routers (`forward` nodes, joined by direct links or
/// shared bridges): those whose farthest router is nearest; among those, the ones with the
/// most router neighbours (the spines of a leaf-spine, not the leaves). A router's rank is
/// its distance from the core; a bridge's or a host's is one more than the nearest router it
/// touches. Without routers, bridges are on top and hosts below.
enum Ranks {
  static func of(_ t: Topology) -> [Owner: Int] {
    // Who touches whom: every link, with a bridge as an owner of its own.
    var neighbours: [Owner: Set<Owner>] = [:]
    for l in t.links {
      neighbours[l.a.owner, default: []].insert(l.b.owner)
      neighbours[l.b.owner, default: []].insert(l.a.owner)
    }
    let routers = t.nodes.filter(\.forward).map { Owner.node($0.name) }
    let isRouter = Set(routers)
    // Routers are adjacent when linked directly or through one bridge.
    var routerNeighbours: [Owner: Set<Owner>] = [:]
    for r in routers {
      var next = Set<Owner>()
      for n in neighbours[r] ?? [] {
        if isRouter.contains(n) { next.insert(n) }
        if case .bridge = n { for m in neighbours[n] ?? [] where isRouter.contains(m) && m != r { next.insert(m) } }
      }
      routerNeighbours[r] = next
    }
    /// Breadth first from `start` (already in `known`) over `edges`: each owner not yet in
    /// `known` gets one more than the owner it was reached from.
    func spread(_ start: [Owner], over edges: [Owner: Set<Owner>], into known: inout [Owner: Int]) {
      var frontier = start
      while !frontier.isEmpty {
        var next: [Owner] = []
        for o in frontier {
          for n in (edges[o] ?? []).sorted(by: { $0.description < $1.description }) where known[n] == nil {
            known[n] = known[o]! + 1
            next.append(n)
          }
        }
        frontier = next
      }
    }
    func distances(from sources: [Owner], over edges: [Owner: Set<Owner>]) -> [Owner: Int] {
      var d = Dictionary(uniqueKeysWithValues: sources.map { ($0, 0) })
      spread(sources, over: edges, into: &d)
      return d
    }
    var rank: [Owner: Int] = [:]
    if !routers.isEmpty {
      // Each connected group of routers has its own centre (a bounded walk: at most
      // routers² steps, and a topology has at most 50,000 nodes, few of them routers).
      var seen = Set<Owner>()
      for r in routers where !seen.contains(r) {
        let group = distances(from: [r], over: routerNeighbours)
        seen.formUnion(group.keys)
        let members = group.keys.sorted { $0.description < $1.description }
        let eccentricity = Dictionary(uniqueKeysWithValues: members.map { m in
          (m, members.count > 200 ? 0 : (distances(from: [m], over: routerNeighbours).values.max() ?? 0))
        })
        let least = eccentricity.values.min() ?? 0
        let central = members.filter { eccentricity[$0] == least }
        let most = central.map { routerNeighbours[$0]?.count ?? 0 }.max() ?? 0
        let core = central.filter { (routerNeighbours[$0]?.count ?? 0) == most }
        for (o, d) in distances(from: core, over: routerNeighbours) { rank[o] = d }
      }
    }
    // Everything else hangs below what it touches that is already placed, nearest first;
    // a part that touches nothing placed starts from its first bridge (or node) on top.
    spread(rank.keys.sorted { $0.description < $1.description }, over: neighbours, into: &rank)
    let everything = t.bridges.map { Owner.bridge($0.name) } + t.nodes.map { .node($0.name) } + (t.hasHost ? [.host] : [])
    for o in everything where rank[o] == nil {
      rank[o] = 0
      spread([o], over: neighbours, into: &rank)
    }
    return rank
  }
}
