import CShim
import Glibc
import TopologyModel

/// Runs a `ProbeSet` against the kernel from one thread. Sockets are created inside their
/// namespace (a socket keeps the namespace it was born in), then every probe runs
/// concurrently on non-blocking sockets under epoll, at most `maxInFlight` at once, each with
/// its own deadline.
///
/// TCP: connect, send a 16-byte nonce, expect it echoed by nstopo's listener in the target.
/// UDP: send the nonce (retried), expect it echoed; ICMP port unreachable counts as refused.
/// Where a `run` service already holds the port, a completed TCP connect counts as reached.
public final class ProbeEngine {
  public struct Options: Sendable {
    /// Seconds each probe may take.
    public var timeout: Double
    /// Most probes in flight at once (each holds up to two descriptors).
    public var maxInFlight: Int
    /// UDP datagrams sent per probe.
    public var udpAttempts: Int

    public init(timeout: Double = 1.0, maxInFlight: Int = 512, udpAttempts: Int = 3) {
      self.timeout = timeout
      self.maxInFlight = maxInFlight
      self.udpAttempts = udpAttempts
    }
  }

  public struct Cancelled: Error {}

  let set: ProbeSet
  let options: Options
  public private(set) var peakInFlight = 0

  // Per probe.
  private var fds: [Int32]
  private var starts: [Double]
  private var latency: [Double]
  private var received: [UInt8]
  private var attempts: [UInt8]
  private var outcome: [Outcome?]
  private var service: [Bool]

  private var epfd: Int32 = -1
  private var namespaceFDs: [Int32] = []
  private var rootFD: Int32 = -1
  private var current: Int32 = -1
  private var server: EchoServer?
  private var inFlight = 0
  private var completed = 0
  private let salt = UInt64.random(in: 1...UInt64.max)

  private static let client: UInt64 = 1 << 56
  private static let kindMask: UInt64 = 0xff << 56

  public init(_ set: ProbeSet, options: Options = Options()) {
    self.set = set
    self.options = options
    let n = set.probes.count
    fds = [Int32](repeating: -1, count: n)
    starts = [Double](repeating: 0, count: n)
    latency = [Double](repeating: -1, count: n)
    received = [UInt8](repeating: 0, count: n)
    attempts = [UInt8](repeating: 0, count: n)
    outcome = [Outcome?](repeating: nil, count: n)
    service = [Bool](repeating: false, count: n)
  }

  /// Runs every probe; results are aligned with `set.probes`. `shouldStop` is polled so that
  /// Ctrl-C ends the run promptly (then `Cancelled` is thrown, after cleaning up).
  public func run(shouldStop: () -> Bool = { false }) throws -> [(Outcome, Double?)] {
    signal(SIGPIPE, SIG_IGN)
    let limit = Self.raiseDescriptorLimit()
    rootFD = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC)
    guard rootFD >= 0 else { throw ProbeError("open /proc/thread-self/ns/net", errno) }
    current = rootFD
    epfd = nstopo_epoll_create()
    defer { cleanup() }
    for e in set.endpoints {
      if let ns = e.namespace {
        let fd = open("/run/netns/\(ns)", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProbeError("open namespace \(ns) (is the topology up?)", errno) }
        namespaceFDs.append(fd)
      } else {
        namespaceFDs.append(rootFD)
      }
    }
    let server = try EchoServer()
    self.server = server
    try openListeners(server)
    try server.start()
    let budget = max(16, (limit - Int32(server.descriptorCount) - 64) / 2)
    let maxInFlight = min(options.maxInFlight, Int(budget))
    var next = 0
    var deadlines: [Int] = []
    var head = 0
    var retries: [(at: Double, probe: Int)] = []
    var retryHead = 0
    let retryInterval = options.timeout / Double(max(1, options.udpAttempts))
    var events = [nstopo_event](repeating: nstopo_event(), count: 1024)
    let total = set.probes.count
    while completed < total {
      if shouldStop() { throw Cancelled() }
      while inFlight < maxInFlight && next < total {
        start(next)
        if outcome[next] == nil {
          deadlines.append(next)
          if set.probes[next].proto == .udp { retries.append((starts[next] + retryInterval, next)) }
        }
        next += 1
      }
      peakInFlight = max(peakInFlight, inFlight)
      enter(rootFD)
      var now = monotonic()
      while head < deadlines.count {
        let i = deadlines[head]
        if outcome[i] != nil {
          head += 1
        } else if starts[i] + options.timeout <= now {
          finish(i, .timedOut)
          head += 1
        } else {
          break
        }
      }
      while retryHead < retries.count && retries[retryHead].at <= now {
        let i = retries[retryHead].probe
        retryHead += 1
        guard outcome[i] == nil else { continue }
        attempts[i] += 1
        sendNonce(i)
        if outcome[i] == nil && Int(attempts[i]) + 1 < options.udpAttempts { retries.append((now + retryInterval, i)) }
      }
      if head > 65536 {
        deadlines.removeFirst(head)
        head = 0
      }
      if retryHead > 65536 {
        retries.removeFirst(retryHead)
        retryHead = 0
      }
      if completed >= total { break }
      var wait = 50.0
      if head < deadlines.count { wait = min(wait, (starts[deadlines[head]] + options.timeout - now) * 1000) }
      if retryHead < retries.count { wait = min(wait, (retries[retryHead].at - now) * 1000) }
      if next < total && inFlight < maxInFlight { wait = 0 }
      let n = events.withUnsafeMutableBufferPointer { nstopo_epoll_wait(epfd, $0.baseAddress, Int32($0.count), Int32(max(0, wait.rounded(.up)))) }
      if n < 0 && errno != EINTR { throw ProbeError("epoll_wait", errno) }
      now = monotonic()
      for k in 0..<max(0, Int(n)) {
        let token = events[k].token
        let ev = events[k].events
        let id = token & ~Self.kindMask
        if token & Self.kindMask == Self.client { clientEvent(Int(id), ev, now: now) }
      }
    }
    return (0..<total).map { i in (outcome[i] ?? .error, latency[i] >= 0 ? latency[i] : nil) }
  }

  // MARK: listeners

  /// One listener per (target, protocol, port); a port already bound there is a `run` service.
  private func openListeners(_ server: EchoServer) throws {
    struct Key: Hashable {
      var target: Int32
      var proto: TransportProtocol
      var port: UInt16
    }
    var mode: [Key: Bool] = [:]
    for p in set.probes {
      let key = Key(target: p.target, proto: p.proto, port: p.port)
      if mode[key] != nil { continue }
      let e = set.endpoints[Int(p.target)]
      // TCP in a node listens on every address. UDP binds each address, so that a reply leaves
      // from the address it was sent to (a connected UDP prober drops anything else). The host
      // only ever listens on its topology addresses.
      let binds: [UInt32] = e.namespace == nil || p.proto == .udp ? e.addresses.map(\.value) : [0]
      var isService = false
      for addr in binds {
        enter(namespaceFDs[Int(p.target)])
        let type = p.proto == .tcp ? SOCK_STREAM : SOCK_DGRAM
        let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError("socket in \(e.name)", errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, 4)
        var sa = Self.socketAddress(addr, p.port)
        let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
        if rc != 0 {
          let e2 = errno
          close(fd)
          if e2 == EADDRINUSE {
            isService = true
            continue
          }
          throw ProbeError("bind \(p.proto.rawValue)/\(p.port) in \(e.name)", e2)
        }
        if p.proto == .tcp {
          guard listen(fd, 4096) == 0 else {
            close(fd)
            throw ProbeError("listen \(p.port) in \(e.name)", errno)
          }
          server.addListener(fd)
        } else {
          server.addDatagram(fd)
        }
      }
      mode[key] = isService
    }
    for (i, p) in set.probes.enumerated() where mode[Key(target: p.target, proto: p.proto, port: p.port)] == true {
      service[i] = true
    }
    enter(rootFD)
  }

  // MARK: probes

  private func start(_ i: Int) {
    let p = set.probes[i]
    enter(namespaceFDs[Int(p.source)])
    let type = p.proto == .tcp ? SOCK_STREAM : SOCK_DGRAM
    let fd = socket(AF_INET, Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    starts[i] = monotonic()
    guard fd >= 0 else {
      outcome[i] = .error
      completed += 1
      return
    }
    fds[i] = fd
    inFlight += 1
    if set.endpoints[Int(p.source)].namespace == nil {
      // From the root namespace only through the topology's own veths, never out of the
      // machine: the host's routing must pick a host end, and the socket is bound to it.
      guard let dev = hostDevice(for: p.address) else { return finish(i, .noRoute) }
      _ = nstopo_bind_to_device(fd, dev)
    }
    var sa = Self.socketAddress(p.address.value, p.port)
    let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
    if p.proto == .tcp {
      if rc == 0 {
        connected(i, now: monotonic())
      } else if errno == EINPROGRESS {
        nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLOUT), Self.client | UInt64(i))
      } else {
        finish(i, Outcome.from(errno: errno))
      }
    } else {
      guard rc == 0 else { return finish(i, Outcome.from(errno: errno)) }
      nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.client | UInt64(i))
      sendNonce(i)
    }
  }

  private var hostRoutes: [UInt32: String?] = [:]

  /// The host end that the root namespace's routing uses for `address`, if any. A UDP connect
  /// asks the kernel for the source address without sending anything.
  private func hostDevice(for address: IPv4Address) -> String? {
    if let cached = hostRoutes[address.value] { return cached }
    var result: String?
    let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
    if s >= 0 {
      var sa = Self.socketAddress(address.value, 9)
      let rc = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(s, $0, UInt32(MemoryLayout<sockaddr_in>.size)) } }
      var local = sockaddr_in()
      var len = UInt32(MemoryLayout<sockaddr_in>.size)
      if rc == 0, withUnsafeMutablePointer(to: &local, { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &len) } }) == 0 {
        let source = IPv4Address(UInt32(bigEndian: local.sin_addr.s_addr))
        result = zip(set.hostDevices, hostAddresses).first { $0.1 == source }?.0.name
      }
      close(s)
    }
    hostRoutes[address.value] = result
    return result
  }

  private lazy var hostAddresses: [IPv4Address] = set.endpoints.first { $0.namespace == nil }?.addresses ?? []

  private func nonce(_ i: Int) -> [UInt8] {
    var a = UInt64(i).littleEndian
    var b = salt.littleEndian
    return withUnsafeBytes(of: &a) { Array($0) } + withUnsafeBytes(of: &b) { Array($0) }
  }

  private func sendNonce(_ i: Int) {
    let n = nonce(i)
    if send(fds[i], n, n.count, Int32(MSG_NOSIGNAL)) < 0 && errno != EAGAIN {
      finish(i, Outcome.from(errno: errno))
    }
  }

  private func connected(_ i: Int, now: Double) {
    latency[i] = now - starts[i]
    if service[i] { return finish(i, .reached) }
    nstopo_epoll_ctl(epfd, 3, fds[i], UInt32(NSTOPO_EPOLLIN | NSTOPO_EPOLLRDHUP), Self.client | UInt64(i))
    sendNonce(i)
  }

  private func clientEvent(_ i: Int, _ ev: UInt32, now: Double) {
    guard outcome[i] == nil else { return }
    let fd = fds[i]
    let p = set.probes[i]
    if p.proto == .tcp && latency[i] < 0 {
      var err: Int32 = 0
      var len = UInt32(4)
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
      if err != 0 { return finish(i, Outcome.from(errno: err)) }
      if ev & UInt32(NSTOPO_EPOLLOUT) != 0 { connected(i, now: now) }
      return
    }
    var buf = [UInt8](repeating: 0, count: 64)
    let expected = nonce(i)
    while outcome[i] == nil {
      let n = recv(fd, &buf, buf.count, 0)
      if n < 0 {
        if errno == EAGAIN || errno == EINTR { return }
        return finish(i, p.proto == .tcp && errno == ECONNRESET ? .wrongResponder : Outcome.from(errno: errno))
      }
      if n == 0 { return finish(i, .wrongResponder) }
      if p.proto == .udp {
        if latency[i] < 0 { latency[i] = now - starts[i] }
        return finish(i, n == 16 && Array(buf[0..<16]) == expected ? .reached : .wrongResponder)
      }
      let offset = Int(received[i])
      if offset + n > 16 || Array(buf[0..<n]) != Array(expected[offset..<(offset + n)]) { return finish(i, .wrongResponder) }
      received[i] += UInt8(n)
      if received[i] == 16 { return finish(i, .reached) }
    }
  }

  private func finish(_ i: Int, _ o: Outcome) {
    guard outcome[i] == nil else { return }
    outcome[i] = o
    completed += 1
    if o != .reached && o != .wrongResponder { latency[i] = -1 }
    let fd = fds[i]
    if fd >= 0 {
      // Reset instead of FIN: no TIME_WAIT piles up across a million probes.
      var l = linger(l_onoff: 1, l_linger: 0)
      setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, UInt32(MemoryLayout<linger>.size))
      close(fd)
      fds[i] = -1
      inFlight -= 1
    }
  }

  // MARK: plumbing

  /// setns only when the thread is not already there.
  private func enter(_ fd: Int32) {
    if fd == current { return }
    if nstopo_setns_net(fd) != 0 { fatalError("nstopo: setns failed: \(String(cString: strerror(errno)))") }
    current = fd
  }

  private func cleanup() {
    for i in fds.indices where fds[i] >= 0 {
      close(fds[i])
      fds[i] = -1
    }
    server?.stop()
    server = nil
    if rootFD >= 0 { enter(rootFD) }
    for fd in namespaceFDs where fd != rootFD { close(fd) }
    namespaceFDs = []
    if epfd >= 0 { close(epfd) }
    if rootFD >= 0 { close(rootFD) }
    epfd = -1
    rootFD = -1
  }

  static func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
    var sa = sockaddr_in()
    sa.sin_family = sa_family_t(AF_INET)
    sa.sin_port = port.bigEndian
    sa.sin_addr.s_addr = address.bigEndian
    return sa
  }

  /// Soft RLIMIT_NOFILE up to the hard limit; returns the new soft limit.
  static func raiseDescriptorLimit() -> Int32 {
    var r = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    if r.rlim_cur < r.rlim_max {
      r.rlim_cur = r.rlim_max
      setrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
      getrlimit(Int32(RLIMIT_NOFILE.rawValue), &r)
    }
    return Int32(clamping: r.rlim_cur)
  }

  func monotonic() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
  }
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
