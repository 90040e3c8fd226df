import CShim
import Netlink
import Glibc
import Matrix
import TopologyModel

/// One thread: its share of the probes (by source) and of the listeners (its `EchoServer`),
/// its epoll, its own namespace switching.
final class Shard: @unchecked Sendable {
  let set: ProbeSet
  let shared: Shared
  let service: [Bool]
  let server: EchoServer
  let range: Range<Int>
  let options: ProbeEngine.Options
  let maxInFlight: Int
  var peak = 0

  private var fds: [Int32]
  private var starts: [Double]
  private var received: [UInt8]
  private var attempts: [UInt8]
  private var epfd: Int32 = -1
  private var current: Int32 = -1
  private var inFlight = 0
  private var completed = 0
  /// Big enough for an echo reply with IPv4's header and options (60 + 24 bytes).
  private var buffer = [UInt8](repeating: 0, count: 128)

  private static let client: UInt64 = 1 << 56
  private static let kindMask: UInt64 = 0xff << 56
  private static let edgeTriggered: UInt32 = 1 << 31

  init(
    set: ProbeSet, shared: Shared, service: [Bool], server: EchoServer, range: Range<Int>, options: ProbeEngine.Options,
    maxInFlight: Int
  ) {
    self.set = set
    self.shared = shared
    self.service = service
    self.server = server
    self.range = range
    self.options = options
    self.maxInFlight = maxInFlight
    fds = [Int32](repeating: -1, count: range.count)
    starts = [Double](repeating: 0, count: range.count)
    received = [UInt8](repeating: 0, count: range.count)
    attempts = [UInt8](repeating: 0, count: range.count)
  }

  func loop(shouldStop: () -> Bool) {
    epfd = nstopo_epoll_create()
    current = shared.rootFD
    server.attach(epfd)
    var events = [nstopo_event](repeating: nstopo_event(), count: 1024)
    defer {
      for k in fds.indices where fds[k] >= 0 { close(fds[k]) }
      close(epfd)
      enter(shared.rootFD)
    }
    let base = range.lowerBound
    var next = range.lowerBound
    var deadlines: [Int] = []
    var head = 0
    var retries: [(at: Double, probe: Int)] = []
    var retryHead = 0
    let retryInterval = options.timeout / Double(max(1, options.udpAttempts))
    // Finished probes added to `shared.done` so far.
    var published = 0
    // Once this shard's probes are done, it keeps answering the others' until they are too.
    defer {
      nstopo_atomic_add(shared.done, Int32(completed - published))
      nstopo_atomic_add(shared.running, -1)
      while nstopo_atomic_load(shared.running) > 0 && nstopo_atomic_load(shared.stop) == 0 {
        if shouldStop() { nstopo_atomic_add(shared.stop, 1) }
        _ = poll(&events, timeout: 5)
      }
    }
    while completed < range.count {
      if completed > published {
        nstopo_atomic_add(shared.done, Int32(completed - published))
        published = completed
      }
      if shouldStop() { nstopo_atomic_add(shared.stop, 1) }
      if nstopo_atomic_load(shared.stop) != 0 { return }
      while inFlight < maxInFlight && next < range.upperBound {
        start(next)
        if shared.outcome[next] == Shared.pending {
          deadlines.append(next)
          if set.probes[next].proto != .tcp { retries.append((starts[next - base] + retryInterval, next)) }
        }
        next += 1
      }
      peak = max(peak, inFlight)
      enter(shared.rootFD)
      let now = monotonicSeconds()
      while head < deadlines.count {
        let i = deadlines[head]
        if shared.outcome[i] != Shared.pending {
          head += 1
        } else if starts[i - base] + options.timeout <= now {
          finish(i, .timedOut)
          head += 1
        } else {
          break
        }
      }
      while retryHead < retries.count && retries[retryHead].at <= now {
        let i = retries[retryHead].probe
        retryHead += 1
        guard shared.outcome[i] == Shared.pending else { continue }
        attempts[i - base] += 1
        sendNonce(i)
        if shared.outcome[i] == Shared.pending && Int(attempts[i - base]) + 1 < options.udpAttempts {
          retries.append((now + retryInterval, i))
        }
      }
      if head > 65536 {
        deadlines.removeFirst(head)
        head = 0
      }
      if retryHead > 65536 {
        retries.removeFirst(retryHead)
        retryHead = 0
      }
      if completed >= range.count { break }
      var wait = 50.0
      if head < deadlines.count { wait = min(wait, (starts[deadlines[head] - base] + options.timeout - now) * 1000) }
      if retryHead < retries.count { wait = min(wait, (retries[retryHead].at - now) * 1000) }
      if next < range.upperBound && inFlight < maxInFlight { wait = 0 }
      if !poll(&events, timeout: Int32(max(0, wait.rounded(.up)))) { return }
    }
  }

  /// One epoll_wait: client events and the echo server's. False on an epoll failure.
  private func poll(_ events: inout [nstopo_event], timeout: Int32) -> Bool {
    let n = events.withUnsafeMutableBufferPointer { nstopo_epoll_wait(epfd, $0.baseAddress, Int32($0.count), timeout) }
    if n < 0 { return errno == EINTR }
    let now = monotonicSeconds()
    for k in 0..<Int(n) {
      let token = events[k].token
      if token & Self.kindMask == Self.client {
        clientEvent(Int(token & ~Self.kindMask), events[k].events, now: now)
      } else if EchoServer.owns(token) {
        server.handle(token)
      }
    }
    return true
  }

  private func start(_ i: Int) {
    let p = set.probes[i]
    let k = i - range.lowerBound
    enter(shared.namespaceFDs[Int(p.source)])
    let address = set.address(of: p)
    // ICMP echo through a raw socket connected to the target (it then receives only what
    // the target sends): no sysctl to change, as ping sockets would need (ping_group_range).
    let type = p.proto == .tcp ? SOCK_STREAM : p.proto == .udp ? SOCK_DGRAM : SOCK_RAW
    let icmpProtocol = address.family == .ipv4 ? Int32(IPPROTO_ICMP) : Int32(IPPROTO_ICMPV6)
    let fd = socket(
      SocketAddress.domain(address.family), Int32(type.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
      p.proto == .icmp ? icmpProtocol : 0)
    starts[k] = monotonicSeconds()
    guard fd >= 0 else {
      shared.outcome[i] = Outcome.error.code
      completed += 1
      return
    }
    fds[k] = fd
    inFlight += 1
    if set.endpoints[Int(p.source)].namespace == nil {
      // From the root namespace only through the topology's own veths, never out of the
      // machine: the host's routing must pick a host end, and the socket is bound to it.
      guard let dev = shared.hostDevice[address] ?? nil else { return finish(i, .noRoute) }
      _ = nstopo_bind_to_device(fd, dev)
    }
    if p.proto == .tcp && !service[i] {
      // On a client, TCP_DEFER_ACCEPT holds back the handshake's last ACK: it rides on the nonce.
      var one: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), tcpDeferAccept, &one, 4)
    }
    if p.proto != .udp {
      // A router's ICMP error can come back before connect() returns: the kernel then keeps
      // it as a soft error and the SYN times out. On the error queue it is seen either way.
      // An echo request's errors arrive there too.
      _ = nstopo_set_recverr(fd, address.family == .ipv6 ? 1 : 0)
    }
    if p.proto == .icmp {
      // Only echo replies and errors wake this socket (ICMPv6's filter; IPv4's raw sockets
      // see every ICMP message from the target, and `clientEvent` skips the others).
      if address.family == .ipv6 { _ = nstopo_icmp6_filter_echo_reply(fd) }
    }
    let rc = SocketAddress(address, port: p.port).withSockaddr { connect(fd, $0, $1) }
    if p.proto == .tcp {
      if rc == 0 {
        connected(i, now: monotonicSeconds())
      } else if errno == EINPROGRESS {
        // Edge-triggered for both events: one registration, no modify once connected.
        nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLOUT | NSTOPO_EPOLLIN | NSTOPO_EPOLLRDHUP) | Self.edgeTriggered, Self.client | UInt64(i))
      } else {
        finish(i, Outcome.from(errno: errno))
      }
    } else {
      guard rc == 0 else { return finish(i, Outcome.from(errno: errno)) }
      nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.client | UInt64(i))
      sendNonce(i)
    }
  }

  /// 16 bytes: the probe's index, then the run's salt.
  private func nonce(_ i: Int) -> (UInt64, UInt64) { (UInt64(i).littleEndian, shared.salt.littleEndian) }

  /// The echo expected back: the nonce with the identity of the endpoint where the probe
  /// lands (its target, or where a dnat sends it) in its second half (see `EchoServer`).
  private func echoExpected(_ i: Int) -> (UInt64, UInt64) {
    let target = set.landings[i]?.target ?? set.probes[i].target
    return (UInt64(i).littleEndian, (shared.salt ^ EchoServer.identity(of: target)).littleEndian)
  }

  /// Who answered a whole 16-byte echo in `buffer` whose mark is not the expected one.
  private func noteResponder(_ i: Int) {
    var word: UInt64 = 0
    withUnsafeMutableBytes(of: &word) { w in buffer.withUnsafeBytes { b in w.copyMemory(from: UnsafeRawBufferPointer(rebasing: b[8..<16])) } }
    if let e = EchoServer.endpoint(fromMark: UInt64(littleEndian: word) ^ shared.salt), Int(e) < set.endpoints.count {
      shared.responder[i] = e
    }
  }

  private func sendNonce(_ i: Int) {
    var n = nonce(i)
    if set.probes[i].proto == .icmp { return sendEcho(i, n) }
    let rc = withUnsafeBytes(of: &n) { send(fds[i - range.lowerBound], $0.baseAddress, 16, Int32(MSG_NOSIGNAL)) }
    if rc < 0 && errno != EAGAIN { finish(i, Outcome.from(errno: errno)) }
  }

  /// An ICMP echo request whose data is the nonce: type 8 (ICMPv6: 128), the identifier and
  /// sequence from the probe's index. IPv4's checksum is ours to write; ICMPv6's the kernel's.
  private func sendEcho(_ i: Int, _ n: (UInt64, UInt64)) {
    var packet = [UInt8](repeating: 0, count: 24)
    let v6 = set.address(of: set.probes[i]).family == .ipv6
    packet[0] = v6 ? 128 : 8
    packet[4] = UInt8(truncatingIfNeeded: i >> 24)
    packet[5] = UInt8(truncatingIfNeeded: i >> 16)
    packet[6] = UInt8(truncatingIfNeeded: i >> 8)
    packet[7] = UInt8(truncatingIfNeeded: i)
    var nonce = n
    withUnsafeBytes(of: &nonce) { b in for k in 0..<16 { packet[8 + k] = b[k] } }
    if !v6 {
      let sum = Self.checksum(packet)
      packet[2] = UInt8(sum >> 8)
      packet[3] = UInt8(sum & 0xff)
    }
    let rc = packet.withUnsafeBytes { send(fds[i - range.lowerBound], $0.baseAddress, 24, Int32(MSG_NOSIGNAL)) }
    if rc < 0 && errno != EAGAIN { finish(i, Outcome.from(errno: errno)) }
  }

  /// The Internet checksum (RFC 1071) of `bytes`.
  static func checksum(_ bytes: [UInt8]) -> UInt16 {
    var sum: UInt32 = 0
    var k = 0
    while k + 1 < bytes.count {
      sum += UInt32(bytes[k]) << 8 | UInt32(bytes[k + 1])
      k += 2
    }
    if k < bytes.count { sum += UInt32(bytes[k]) << 8 }
    while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
    return ~UInt16(sum)
  }

  /// An ICMP message read into `buffer` (`n` bytes; IPv4's with its IP header): whether it is
  /// the echo reply that carries probe `i`'s nonce.
  private func isEchoReply(_ i: Int, _ n: Int) -> Bool {
    let v6 = set.address(of: set.probes[i]).family == .ipv6
    let start = v6 ? 0 : Int(buffer[0] & 0x0f) * 4
    guard n >= start + 24, buffer[start] == (v6 ? 129 : 0) else { return false }
    var expected = nonce(i)
    return withUnsafeBytes(of: &expected) { e in
      buffer.withUnsafeBytes { b in memcmp(b.baseAddress! + start + 8, e.baseAddress!, 16) == 0 }
    }
  }

  private func connected(_ i: Int, now: Double) {
    shared.latency[i] = now - starts[i - range.lowerBound]
    if service[i] { return finish(i, .reached) }
    sendNonce(i)
  }

  private func clientEvent(_ i: Int, _ ev: UInt32, now: Double) {
    guard shared.outcome[i] == Shared.pending else { return }
    let k = i - range.lowerBound
    let fd = fds[k]
    let p = set.probes[i]
    if p.proto == .tcp && shared.latency[i] < 0 {
      if ev & UInt32(NSTOPO_EPOLLERR | NSTOPO_EPOLLHUP) != 0 {
        var err: Int32 = 0
        var len = UInt32(4)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len)
        if err == 0 { err = nstopo_read_icmp_error(fd) }
        return finish(i, err != 0 ? Outcome.from(errno: err) : .error)
      }
      guard ev & UInt32(NSTOPO_EPOLLOUT) != 0 else { return }
      connected(i, now: now)
      // The echo may already be here: with edge triggering, read now or never hear of it.
      guard shared.outcome[i] == Shared.pending else { return }
    }
    if p.proto == .icmp {
      // Echo replies, or an error on the error queue (recv fails with its errno). Other ICMP
      // from the target (its own echo requests, say) is skipped.
      while shared.outcome[i] == Shared.pending {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n < 0 {
          if errno == EAGAIN || errno == EINTR { return }
          return finish(i, Outcome.from(errno: errno))
        }
        if isEchoReply(i, n) {
          if shared.latency[i] < 0 { shared.latency[i] = now - starts[k] }
          return finish(i, .reached)
        }
      }
      return
    }
    var expected = echoExpected(i)
    while shared.outcome[i] == Shared.pending {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n < 0 {
        if errno == EAGAIN || errno == EINTR { return }
        return finish(i, p.proto == .tcp && errno == ECONNRESET ? .wrongResponder : Outcome.from(errno: errno))
      }
      if n == 0 { return finish(i, .wrongResponder) }
      let offset = Int(received[k])
      let matches = withUnsafeBytes(of: &expected) { e in
        offset + n <= 16 && buffer.withUnsafeBytes { b in memcmp(b.baseAddress!, e.baseAddress! + offset, n) == 0 }
      }
      if !matches && offset == 0 && n == 16 { noteResponder(i) }
      if p.proto == .udp {
        if shared.latency[i] < 0 { shared.latency[i] = now - starts[k] }
        return finish(i, n == 16 && matches ? .reached : .wrongResponder)
      }
      if !matches { return finish(i, .wrongResponder) }
      received[k] += UInt8(n)
      if received[k] == 16 { return finish(i, .reached) }
    }
  }

  private func finish(_ i: Int, _ o: Outcome) {
    guard shared.outcome[i] == Shared.pending else { return }
    shared.outcome[i] = o.code
    completed += 1
    if o != .reached && o != .wrongResponder { shared.latency[i] = -1 }
    let k = i - range.lowerBound
    let fd = fds[k]
    if fd >= 0 {
      // Reset instead of FIN, so that no TIME_WAIT piles up across a million probes. After a
      // verified echo nstopo's listener has already reset the connection: nothing to do.
      if !(o == .reached && !service[i] && set.probes[i].proto == .tcp) {
        var l = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, UInt32(MemoryLayout<linger>.size))
      }
      close(fd)
      fds[k] = -1
      inFlight -= 1
    }
  }

  /// setns only when the thread is not already there.
  private func enter(_ fd: Int32) {
    if fd == current { return }
    if nstopo_setns_net(fd) != 0 { fatalError("nstopo: setns failed: \(String(cString: strerror(errno)))") }
    current = fd
  }
}
