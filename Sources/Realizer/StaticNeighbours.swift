import Glibc
import Netlink
import Planner

/// Permanent neighbour entries for every pair of each L2 segment, so that a full mesh never
/// waits on ARP: the kernel's ARP table holds at most 1024 dynamic entries across all
/// namespaces (`gc_thresh3`), and a matrix beyond that overflows it and reports false time-outs.
/// Permanent entries do not count. They live on the topology's own interfaces and die with them.
public enum StaticNeighbours {
  /// Equivalent to `ip -n NS neigh replace ADDR lladdr MAC dev IF nud permanent` for every
  /// member and every other member of its segment. Members are split over `threads` threads
  /// (each enters a member's namespace, then sends one batch). Returns the entries added.
  @discardableResult
  public static func install(_ sets: [Step.NeighbourSet], threads: Int = 0) throws -> Int {
    try each(sets, threads: threads) { socket, entries in try socket.addPermanentNeighbours(entries) }
  }

  /// The reverse of `install`: equivalent to `ip -n NS neigh del ADDR dev IF` for the same
  /// entries. A namespace or link already gone has nothing left to remove.
  @discardableResult
  public static func remove(_ sets: [Step.NeighbourSet], threads: Int = 0) throws -> Int {
    try each(sets, threads: threads) { socket, entries in try socket.deleteNeighbours(entries) }
  }

  private static func each(
    _ sets: [Step.NeighbourSet], threads: Int,
    _ body: @escaping (RawRouteSocket, [RawRouteSocket.NeighbourEntry]) throws -> Void
  ) throws -> Int {
    struct Job {
      var set: Int
      var member: Int
    }
    var jobs: [Job] = []
    for (s, set) in sets.enumerated() where set.members.count >= 2 {
      for m in set.members.indices { jobs.append(Job(set: s, member: m)) }
    }
    if jobs.isEmpty { return 0 }
    let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let count = max(1, min(threads > 0 ? threads : online, jobs.count / 16 + 1))
    let failures = Slots<Error?>(count, nil)
    parallel(count) { worker in
      var k = worker
      while k < jobs.count {
        do {
          try apply(sets[jobs[k].set], member: jobs[k].member, body)
        } catch {
          failures[worker] = error
          return
        }
        k += count
      }
    }
    if let e = (0..<count).lazy.compactMap({ failures[$0] }).first { throw e }
    return sets.reduce(0) { $0 + $1.entryCount }
  }

  /// One member's batch: every other member of the segment, on the member's own link.
  static func apply(
    _ set: Step.NeighbourSet, member i: Int, _ body: (RawRouteSocket, [RawRouteSocket.NeighbourEntry]) throws -> Void
  ) throws {
    let m = set.members[i]
    let fd: Int32? = try m.ns.map { try NetworkNamespace.open($0) }
    defer { if let fd { close(fd) } }
    let socket = try RawRouteSocket(namespaceFD: fd, name: m.ns ?? "the root namespace")
    let index = try ifindex(of: m.link, namespaceFD: fd, label: m.ns ?? "the root namespace")
    var entries: [RawRouteSocket.NeighbourEntry] = []
    entries.reserveCapacity(set.members.count - 1)
    for (k, other) in set.members.enumerated() where k != i {
      entries.append(RawRouteSocket.NeighbourEntry(ifindex: index, address: other.address, mac: other.mac.bytes))
    }
    try body(socket, entries)
  }

  /// Equivalent to `ip -n NS link show NAME`'s index.
  static func ifindex(of link: String, namespaceFD fd: Int32?, label: String) throws -> Int32 {
    let lookup = { () -> UInt32 in if_nametoindex(link) }
    let index = try fd.map { try NetworkNamespace.run(in: $0, lookup) } ?? lookup()
    guard index > 0 else { throw SystemError("find link", "\(link) in \(label)", errno: errno) }
    return Int32(index)
  }
}
