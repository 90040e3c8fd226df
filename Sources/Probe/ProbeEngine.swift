import CShim
import Netlink
import Glibc
import Matrix
import TopologyModel

/// Runs a `ProbeSet` against the kernel. Sockets are created inside their namespace (a socket
/// keeps the namespace it was born in), then every probe runs concurrently on non-blocking
/// sockets under epoll, at most `maxInFlight` at once, each with its own deadline.
///
/// TCP: connect, send a 16-byte nonce, expect it echoed by nstopo's listener in the target.
/// UDP: send the nonce (retried), expect it echoed; ICMP port unreachable counts as refused.
/// Where a `run` service already holds the port, a completed TCP connect counts as reached.
///
/// Threads: the probes are split by source into `shards` threads (one per core by default),
/// and each thread also answers a share of nstopo's listeners (its `EchoServer`), so that no
/// core waits on another thread's wake-ups and the kernel's work for both ends of every
/// connection runs on every core.
public final class ProbeEngine {
  public struct Options: Sendable {
    /// Seconds each probe may take.
    public var timeout: Double
    /// Most probes in flight at once, over all client threads (each holds up to two fds).
    public var maxInFlight: Int
    /// UDP datagrams sent per probe.
    public var udpAttempts: Int
    /// Client threads; 0: one per online CPU.
    public var shards: Int

    public init(timeout: Double = 1.0, maxInFlight: Int = 512, udpAttempts: Int = 3, shards: Int = 0) {
      self.timeout = timeout
      self.maxInFlight = maxInFlight
      self.udpAttempts = udpAttempts
      self.shards = shards
    }
  }

  public struct Cancelled: Error {}

  let set: ProbeSet
  let options: Options
  public private(set) var peakInFlight = 0
  /// After `run`: probes answered by another endpoint's listener than the one expected (its
  /// target, or where a dnat lands it), by probe index: the endpoint that answered.
  public private(set) var wrongResponders: [Int: Int32] = [:]

  public init(_ set: ProbeSet, options: Options = Options()) {
    self.set = set
    self.options = options
  }

  /// Runs every probe; results are aligned with `set.probes`. `shouldStop` is polled so that
  /// Ctrl-C ends the run promptly (then `Cancelled` is thrown, after cleaning up).
  /// `progress` gets (probes finished, probes) at most every `progressInterval` seconds,
  /// from the first shard's thread, between two turns of its loop.
  public func run(
    shouldStop: () -> Bool = { false }, progress: ((Int, Int) -> Void)? = nil, progressInterval: Double = 0.2
  ) throws -> [(Outcome, Double?)] {
    signal(SIGPIPE, SIG_IGN)
    // One descriptor per namespace and per listener, held for the whole run.
    Descriptors.raiseSoftLimit()
    var keys = Set<UInt32>()
    for p in set.probes where p.proto.hasPorts { keys.insert(UInt32(p.port) << 1 | (p.proto == .tcp ? 0 : 1)) }
    if let message = Descriptors.shortfall(set.endpoints.count * (1 + keys.count) + 64, for: "probing \(set.endpoints.count) endpoints") {
      throw ProbeError(message, EMFILE)
    }
    let shared = try Shared(set: set)
    defer { shared.close() }
    let total = set.probes.count
    let online = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
    let wanted = options.shards > 0 ? options.shards : max(1, online)
    let count = max(1, min(wanted, total / 64 + 1))
    let servers = (0..<count).map { _ in EchoServer() }
    defer { for s in servers { s.close() } }
    let service = try openListeners(servers, shared: shared)
    // What is open now (namespaces, listeners, epoll) stays open; each probe in flight costs
    // two more (the client, and the server's accepted socket). Fewer in flight still finish.
    Descriptors.raiseSoftLimit()
    let spare = Descriptors.softLimit - Descriptors.inUse - 16
    guard spare >= 2 * count else {
      throw ProbeError(
        Descriptors.shortfall(2 * count + 16, for: "probing \(set.endpoints.count) endpoints") ?? "too few file descriptors", EMFILE)
    }
    let perShard = max(1, min(options.maxInFlight, spare / 2) / count)
    // Split by source so that each shard enters few namespaces.
    var bounds = [0]
    for k in 1..<count {
      var b = total * k / count
      while b < total && b > 0 && set.probes[b].source == set.probes[b - 1].source { b += 1 }
      bounds.append(max(bounds.last!, b))
    }
    bounds.append(total)
    shared.running.pointee = Int32(count)
    let shards = (0..<count).map { k in
      Shard(
        set: set, shared: shared, service: service, server: servers[k], range: bounds[k]..<bounds[k + 1],
        options: options, maxInFlight: perShard)
    }
    var next = monotonicSeconds() + progressInterval
    let first: () -> Bool = {
      if let progress, monotonicSeconds() >= next {
        next = monotonicSeconds() + progressInterval
        progress(Int(nstopo_atomic_load(shared.done)), total)
      }
      return shouldStop()
    }
    let rc = withoutActuallyEscaping(first) { stop in
      parallel(count, fallback: false, onFailure: { nstopo_atomic_add(shared.stop, 1) }) { k in
        shards[k].loop(shouldStop: k == 0 ? stop : { false })
      }
    }
    if rc != 0 { throw ProbeError("pthread_create", rc) }
    peakInFlight = shards.reduce(0) { $0 + $1.peak }
    if nstopo_atomic_load(shared.stop) != 0 { throw Cancelled() }
    wrongResponders = [:]
    for i in 0..<total where shared.responder[i] >= 0 { wrongResponders[i] = shared.responder[i] }
    return (0..<total).map { i in
      let code = shared.outcome[i]
      let o = code == Shared.pending ? Outcome.error : Outcome.allCases[Int(code)]
      return (o, shared.latency[i] >= 0 ? shared.latency[i] : nil)
    }
  }

  /// One listener per (target, protocol, port); a port already bound there is a `run` service.
  /// Returns, per probe, whether it probes a service (connect only).
  private func openListeners(_ servers: [EchoServer], shared: Shared) throws -> [Bool] {
    struct Key: Hashable {
      var target: Int32
      var proto: TransportProtocol
      var port: UInt16
    }
    var mode: [Key: Bool] = [:]
    defer { _ = nstopo_setns_net(shared.rootFD) }
    // Where each probe lands: its target, or where a `dnat` sends it.
    func key(_ i: Int) -> Key {
      let p = set.probes[i]
      if let l = set.landings[i] { return Key(target: l.target, proto: p.proto, port: l.port) }
      return Key(target: p.target, proto: p.proto, port: p.port)
    }
    // ICMP echo needs no listener: the target's kernel answers.
    for i in set.probes.indices where set.probes[i].proto.hasPorts {
      let key = key(i)
      if mode[key] != nil { continue }
      let p = (target: key.target, proto: key.proto, port: key.port)
      let e = set.endpoints[Int(p.target)]
      // TCP in a node listens on every address. UDP binds each address, so that a reply leaves
      // from the address it was sent to (a connected UDP prober drops anything else). The host
      // only ever listens on its topology addresses.
      // TCP wildcards: one per family, the IPv6 one IPv6-only, so that the families never mix.
      let families = IPAddress.Family.allCases.filter { f in e.addresses.contains { $0.family == f } }
      let binds: [(IPAddress?, IPAddress.Family)] = e.namespace == nil || p.proto == .udp
        ? e.addresses.map { ($0, $0.family) } : families.map { (nil, $0) }
      var isService = false
      guard nstopo_setns_net(shared.namespaceFDs[Int(p.target)]) == 0 else { throw ProbeError("setns into \(e.name)", errno) }
      for (addr, family) in binds {
        let type = p.proto == .tcp ? SOCK_STREAM : SOCK_DGRAM
        let sa = SocketAddress(addr, family: family, port: p.port)
        let fd = socket(SocketAddress.domain(family), Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("socket in \(e.name)", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        if family == .ipv6 { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, 4) }
        let rc = sa.withSockaddr { bind(fd, $0, $1) }
        if rc != 0 {
          let e2 = errno
          Glibc.close(fd)
          if e2 == EADDRINUSE {
            isService = true
            continue
          }
          throw ProbeError("bind \(p.proto.rawValue)/\(p.port) in \(e.name)", e2)
        }
        // Each target's listeners belong to one thread.
        let server = servers[Int(p.target) % servers.count]
        if p.proto == .tcp {
          EchoServer.prepareListener(fd)
          guard listen(fd, 4096) == 0 else {
            Glibc.close(fd)
            throw ProbeError("listen \(p.port) in \(e.name)", errno)
          }
          server.addListener(fd, endpoint: p.target)
        } else {
          server.addDatagram(fd, endpoint: p.target)
        }
      }
      mode[key] = isService
    }
    return set.probes.indices.map { mode[key($0)] == true }
  }

  /// Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit.
}

/// State every shard reads, and per-probe results that each shard writes at its own indices
/// (plain buffers, so that threads never touch a shared Swift array).
final class Shared: @unchecked Sendable {
  static let pending: UInt8 = 255
  let rootFD: Int32
  var namespaceFDs: [Int32] = []
  let outcome: UnsafeMutableBufferPointer<UInt8>
  let latency: UnsafeMutableBufferPointer<Double>
  /// Set to stop every shard (Ctrl-C).
  let stop: UnsafeMutablePointer<Int32>
  /// Shards whose probes are not all done: until none is, every shard keeps serving its
  /// listeners for the others.
  let running: UnsafeMutablePointer<Int32>
  /// Probes finished, over all shards, for progress: each shard adds what it finished since
  /// it last added, once per turn of its loop.
  let done: UnsafeMutablePointer<Int32>
  /// Per probe from the host: the host end the root namespace routes it through (nil: none).
  var hostDevice: [IPAddress: String?] = [:]
  let salt = UInt64.random(in: 1...UInt64.max)
  /// Per probe: the endpoint whose listener answered when it was not the one expected (-1:
  /// none known).
  let responder: UnsafeMutableBufferPointer<Int32>

  init(set: ProbeSet) throws {
    rootFD = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard rootFD >= 0 else { throw ProbeError("open /proc/thread-self/ns/net", errno) }
    outcome = .allocate(capacity: set.probes.count)
    outcome.initialize(repeating: Shared.pending)
    latency = .allocate(capacity: set.probes.count)
    latency.initialize(repeating: -1)
    responder = .allocate(capacity: set.probes.count)
    responder.initialize(repeating: -1)
    stop = .allocate(capacity: 1)
    stop.initialize(to: 0)
    running = .allocate(capacity: 1)
    running.initialize(to: 0)
    done = .allocate(capacity: 1)
    done.initialize(to: 0)
    for e in set.endpoints {
      if let ns = e.namespace {
        let fd = open("/run/netns/\(ns)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
          let err = errno
          close()
          throw ProbeError("open namespace \(ns) (is the topology up?)", err)
        }
        namespaceFDs.append(fd)
      } else {
        namespaceFDs.append(rootFD)
      }
    }
    // Host probes leave only through the topology's own veths: resolved once, before threads.
    if let host = set.endpoints.firstIndex(where: { $0.namespace == nil }) {
      for p in set.probes where p.source == Int32(host) && hostDevice[set.address(of: p)] == nil {
        hostDevice[set.address(of: p)] = Shared.route(set.address(of: p), devices: set.hostDevices)
      }
    }
  }

  private var closed = false

  func close() {
    guard !closed else { return }
    closed = true
    _ = nstopo_setns_net(rootFD)
    for fd in namespaceFDs where fd != rootFD { Glibc.close(fd) }
    Glibc.close(rootFD)
    outcome.deallocate()
    latency.deallocate()
    responder.deallocate()
    stop.deallocate()
    running.deallocate()
    done.deallocate()
  }

  /// The host end that the root namespace's routing uses for `address`, if any. A UDP connect
  /// asks the kernel for the source address without sending anything.
  static func route(_ address: IPAddress, devices: [(name: String, address: InterfaceAddress)]) -> String? {
    let s = socket(SocketAddress.domain(address.family), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    guard s >= 0 else { return nil }
    defer { Glibc.close(s) }
    let rc = SocketAddress(address, port: 9).withSockaddr { connect(s, $0, $1) }
    var local = SocketAddress()
    guard rc == 0, local.withMutableSockaddr({ getsockname(s, $0, $1) }) == 0, let source = local.address else { return nil }
    return devices.first { $0.address.address == source }?.name
  }
}

extension Outcome {
  var code: UInt8 { UInt8(Outcome.allCases.firstIndex(of: self)!) }
}


public struct ProbeError: Error, CustomStringConvertible {
  public var what: String
  public var errno: Int32
  init(_ what: String, _ errno: Int32) {
    self.what = what
    self.errno = errno
  }
  public var description: String { "\(what): \(String(cString: strerror(errno)))" }
}
