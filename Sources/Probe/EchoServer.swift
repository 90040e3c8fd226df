import CShim
import Glibc

/// One share of nstopo's listeners, served by the client thread that owns it (`Shard`): every
/// thread both probes and answers, so no core waits on a dedicated server thread. Accepts,
/// echoes the 16-byte nonce with its second half marked with the responder's identity (the
/// endpoint whose listener answered: `identity(of:)` XORed in), then resets: a probe that
/// lands somewhere else than where the model says, a second dnat, another node's listener,
/// cannot pass for reached. No namespace switching: accepted sockets live in their
/// listener's namespace.
///
/// Listeners are set up so that a probe costs the fewest packets and system calls:
/// `TCP_DEFER_ACCEPT` hands over a connection only once the nonce is there (accept, recv,
/// send, close; no epoll registration), and `SO_LINGER 0`, inherited by accepted sockets,
/// makes close send a reset instead of leaving a TIME_WAIT behind.
final class EchoServer {
  private var listeners: [Int32] = []
  private var udp: [Int32] = []
  /// The endpoint each listening or bound socket answers for.
  private var owner: [Int32: Int32] = [:]
  /// Accepted connections still waiting for (part of) their nonce: bytes echoed so far, and
  /// the endpoint answering.
  private var accepted: [Int32: (bytes: Int, endpoint: Int32)] = [:]
  private var epfd: Int32 = -1
  private var buffer = [UInt8](repeating: 0, count: 256)

  static let listener: UInt64 = 0x10 << 56
  static let acceptedKind: UInt64 = 0x11 << 56
  static let udpKind: UInt64 = 0x12 << 56
  static let mask: UInt64 = 0xff << 56

  /// Whether `token` (from epoll) is one of this server's.
  static func owns(_ token: UInt64) -> Bool { token & mask >= listener && token & mask <= udpKind }

  /// Equivalent to `setsockopt(TCP_DEFER_ACCEPT, 1)` and `SO_LINGER {1, 0}` on a listener.
  static func prepareListener(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), tcpDeferAccept, &one, 4)
    var l = linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, UInt32(MemoryLayout<linger>.size))
  }

  /// Takes ownership of a listening TCP socket that answers for `endpoint`.
  func addListener(_ fd: Int32, endpoint: Int32) {
    listeners.append(fd)
    owner[fd] = endpoint
  }

  /// Takes ownership of a bound UDP socket that answers for `endpoint`.
  func addDatagram(_ fd: Int32, endpoint: Int32) {
    udp.append(fd)
    owner[fd] = endpoint
  }

  /// What the echo XORs into the nonce's second half: never 0, so that a plain echo (another
  /// program's) does not pass either.
  static func identity(of endpoint: Int32) -> UInt64 { (UInt64(UInt32(bitPattern: endpoint)) &+ 1) &* 0x9E37_79B9_7F4A_7C15 }

  /// The endpoint whose mark `word` carries, once XORed with the salt; nil for none.
  static func endpoint(fromMark word: UInt64) -> Int32? {
    // 0x9E37_79B9_7F4A_7C15 is odd: its inverse modulo 2^64 undoes the product.
    let v = word &* 0xF1DE_83E1_9937_733D
    guard v >= 1, v <= UInt64(UInt32.max) + 1 else { return nil }
    return Int32(bitPattern: UInt32(v - 1))
  }

  /// Marks bytes `offset..<offset+count` of a nonce in `buffer` with `endpoint`'s identity
  /// (only its second half, bytes 8 to 15, changes).
  private func mark(_ count: Int, at offset: Int, endpoint: Int32) {
    var id = Self.identity(of: endpoint).littleEndian
    withUnsafeBytes(of: &id) { idBytes in
      for j in 0..<count where offset + j >= 8 && offset + j < 16 { buffer[j] ^= idBytes[offset + j - 8] }
    }
  }

  var descriptorCount: Int { listeners.count + udp.count }

  /// Registers every socket with the owning thread's epoll.
  func attach(_ epfd: Int32) {
    self.epfd = epfd
    for fd in listeners { nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.listener | UInt64(fd)) }
    for fd in udp { nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.udpKind | UInt64(fd)) }
  }

  func handle(_ token: UInt64) {
    let fd = Int32(truncatingIfNeeded: token & ~Self.mask)
    switch token & Self.mask {
    case Self.listener: acceptAll(fd)
    case Self.acceptedKind: echo(fd)
    case Self.udpKind: echoDatagrams(fd)
    default: break
    }
  }

  /// Closes every socket it owns.
  func close() {
    for fd in listeners + udp + Array(accepted.keys) { Glibc.close(fd) }
    listeners = []
    udp = []
    owner = [:]
    accepted = [:]
  }

  deinit { close() }

  private func acceptAll(_ fd: Int32) {
    while true {
      let c = nstopo_accept_nonblock(fd)
      if c < 0 { return }
      accepted[c] = (0, owner[fd] ?? -1)
      echo(c)
      if accepted[c] != nil {
        nstopo_epoll_ctl(epfd, 1, c, UInt32(NSTOPO_EPOLLIN | NSTOPO_EPOLLRDHUP), Self.acceptedKind | UInt64(c))
      }
    }
  }

  /// Echoes what a prober sends. Once the 16-byte nonce is back on its way, closes: the
  /// inherited zero linger resets the connection, the echo stays readable before the reset,
  /// and neither side waits for the other's close.
  private func echo(_ fd: Int32) {
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n > 0 {
        let (before, endpoint) = accepted[fd] ?? (0, -1)
        mark(n, at: before, endpoint: endpoint)
        _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
        let total = before + n
        accepted[fd] = (total, endpoint)
        if total >= 16 { break }
        continue
      }
      if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
      break
    }
    accepted[fd] = nil
    Glibc.close(fd)
  }

  private func echoDatagrams(_ fd: Int32) {
    var from = SocketAddress()
    while true {
      let n = buffer.withUnsafeMutableBytes { b in from.withMutableSockaddr { recvfrom(fd, b.baseAddress, b.count, 0, $0, $1) } }
      if n < 0 { return }
      mark(n, at: 0, endpoint: owner[fd] ?? -1)
      _ = buffer.withUnsafeBytes { b in from.withSockaddr { sendto(fd, b.baseAddress, n, Int32(MSG_NOSIGNAL), $0, $1) } }
    }
  }
}

/// `TCP_DEFER_ACCEPT` from <netinet/tcp.h>, which Swift's Glibc module does not export.
let tcpDeferAccept: Int32 = 9
