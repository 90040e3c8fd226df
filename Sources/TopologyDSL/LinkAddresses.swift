import TopologyModel

/// The addresses of the veths `LinkBuilder` resolved: explicit ones first, wherever they
/// stand, then the next free address of each bridge's subnet and the next free block of each
/// point-to-point pool, in declaration order, with every clash located.
extension LinkBuilder {
  mutating func assignAddresses(_ pending: inout [Pending]) {
    var owners: [IPAddress: (String, Token?)] = [:]
    owners.reserveCapacity(pending.count * 2)
    var usedIn: [Int: Set<IPAddress>] = [:]

    func label(_ end: End) -> String { "\(end.owner):\(end.name ?? "?")" }

    // Explicit addresses first, so auto-assignment skips them wherever they stand.
    for i in pending.indices {
      let p = pending[i]
      for isA in [true, false] {
        let end = isA ? p.a : p.b
        var kept: [(address: InterfaceAddress, token: Token?)] = []
        for (given, token) in end.addresses {
          guard let token else { continue }
          var addr = given
          if let s = p.lans.first(where: { resolver.subnets[$0].prefix.family == addr.family }) {
            let subnet = resolver.subnets[s]
            if addr.length != subnet.prefix.length {
              resolver.error("prefix length /\(addr.length) differs from subnet '\(subnet.name)' (\(subnet.prefix))", at: token,
                hint: "write \(addr.address) alone: the length comes from the subnet", note: p.note)
              addr.length = subnet.prefix.length
            }
            if !subnet.prefix.contains(addr.address) {
              resolver.error("address \(addr.address) is outside subnet '\(subnet.name)' (\(subnet.prefix))", at: token,
                hint: "bridge '\(p.b.owner)' takes addresses from \(subnet.prefix)", note: p.note)
              continue
            }
          }
          let prefix = addr.prefix
          if !prefix.isUsableHost(addr.address) {
            let what = addr.address == prefix.network ? (addr.family == .ipv4 ? "network" : "subnet-router anycast") : "broadcast"
            resolver.error("\(addr.address) is the \(what) address of \(prefix)", at: token,
              hint: "choose a host address between \(IPAddress(prefix.family, integer: prefix.network.integer + 1)) and \(IPAddress(prefix.family, integer: prefix.last.integer - (addr.family == .ipv4 ? 1 : 0)))",
              note: p.note)
            continue
          }
          if let (who, first) = owners[addr.address] {
            resolver.error("address \(addr.address) is already used by \(who)", at: token,
              hint: "every address in a topology is unique", note: first.map { "first used on line \($0.line)" })
            continue
          }
          owners[addr.address] = (label(end), token)
          for (si, s) in resolver.subnets.enumerated() where s.prefix.contains(addr.address) {
            usedIn[si, default: []].insert(addr.address)
          }
          kept.append((addr, token))
        }
        if isA { pending[i].a.addresses = kept } else { pending[i].b.addresses = kept }
      }
    }

    // Integer arithmetic over either family; 128 bits, so the block after the last /30 of
    // 255.255.255.252/30 (2^32) does not wrap.
    var cursor: [Int: UInt128] = [:]
    var blockCursor: [Int: UInt128] = [:]
    var exhausted: Set<Int> = []
    func free(_ a: IPAddress, _ s: Int) -> Bool { usedIn[s]?.contains(a) != true && owners[a] == nil }
    /// The blocks of pool `s` that hold an address already in use, by block number: computed
    /// once per pool, before it hands out any (later blocks come after the cursor).
    var blocksInUse: [Int: Set<UInt128>] = [:]
    func takenBlocks(_ s: Int, _ size: UInt128) -> Set<UInt128> {
      if let b = blocksInUse[s] { return b }
      let prefix = resolver.subnets[s].prefix
      let b = Set(owners.keys.filter { prefix.contains($0) }.map { ($0.integer - prefix.network.integer) / size })
      blocksInUse[s] = b
      return b
    }
    // Pools that have nothing left (their cursor would pass 2^128 in `::/0`).
    var full: Set<Int> = []
    var fullBlocks: Set<Int> = []
    func nextHost(_ s: Int) -> IPAddress? {
      guard !full.contains(s) else { return nil }
      let prefix = resolver.subnets[s].prefix
      var v = cursor[s] ?? prefix.network.integer + 1
      // The last host, inclusive: IPv4's last address is the broadcast; IPv6 has none.
      let top = prefix.family == .ipv4 ? prefix.last.integer - 1 : prefix.last.integer
      while v <= top {
        let a = IPAddress(prefix.family, integer: v)
        if free(a, s) {
          if v == top { full.insert(s) } else { cursor[s] = v + 1 }
          return a
        }
        if v == top { break }
        v += 1
      }
      full.insert(s)
      return nil
    }
    func nextBlock(_ s: Int) -> (IPAddress, IPAddress)? {
      guard !fullBlocks.contains(s) else { return nil }
      let subnet = resolver.subnets[s]
      let prefix = subnet.prefix
      let size = UInt128(1) << UInt128(prefix.family.width - subnet.carve)
      var block = blockCursor[s] ?? prefix.network.integer
      let last = prefix.last.integer
      while block <= last && last - block >= size - 1 {
        let first = subnet.carve == prefix.family.width - 1 ? block : block + 1
        // A block is taken when an address in it is: checked against the addresses in use,
        // not address by address (an IPv6 /64 block has 2^64 of them).
        let taken = size <= 4
          ? (block...(block + (size - 1))).contains { !free(IPAddress(prefix.family, integer: $0), s) }
          : takenBlocks(s, size).contains((block - prefix.network.integer) / size)
        let (next, over) = block.addingReportingOverflow(size)
        if !taken {
          if over { fullBlocks.insert(s) } else { blockCursor[s] = next }
          return (IPAddress(prefix.family, integer: first), IPAddress(prefix.family, integer: first + 1))
        }
        if over { break }
        block = next
      }
      fullBlocks.insert(s)
      return nil
    }

    for i in pending.indices {
      let p = pending[i]
      for s in p.lans {
        let subnet = resolver.subnets[s]
        guard p.a.address(subnet.prefix.family) == nil else { continue }
        guard let a = nextHost(s) else {
          if exhausted.insert(s).inserted {
            resolver.error("subnet '\(subnet.name)' (\(subnet.prefix)) has no free address left for \(label(p.a))", at: p.token,
              hint: "use a larger prefix for '\(subnet.name)'", note: p.note)
          }
          continue
        }
        pending[i].a.addresses.append((InterfaceAddress(address: a, length: subnet.prefix.length), nil))
        owners[a] = (label(p.a), nil)
      }
      for s in p.pools {
        let subnet = resolver.subnets[s]
        let f = subnet.prefix.family
        guard p.a.address(f) == nil, p.b.address(f) == nil else { continue }
        guard let (x, y) = nextBlock(s) else {
          if exhausted.insert(s).inserted {
            resolver.error("pool '\(subnet.name)' (\(subnet.prefix)) has no free /\(subnet.carve) left for \(label(p.a))", at: p.token,
              hint: "use a larger prefix for '\(subnet.name)'", note: p.note)
          }
          continue
        }
        pending[i].a.addresses.append((InterfaceAddress(address: x, length: subnet.carve), nil))
        pending[i].b.addresses.append((InterfaceAddress(address: y, length: subnet.carve), nil))
        owners[x] = (label(p.a), nil)
        owners[y] = (label(p.b), nil)
      }
    }
  }
}
