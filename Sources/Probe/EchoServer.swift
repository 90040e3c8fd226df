import CShim
import Glibc

/// nstopo's listeners, served on a thread of their own so that the kernel's work for the
/// two halves of every probe (client and server side) runs on two cores. Accepts, echoes
/// what a prober sends, closes when the prober resets. No namespace switching: accepted
/// sockets live in their listener's namespace.
final class EchoServer: @unchecked Sendable {
  private let epfd: Int32
  private var wake: [Int32] = [-1, -1]
  private var listeners: [Int32] = []
  private var udp: [Int32] = []
  /// Accepted connections and how many bytes each has echoed.
  private var accepted: [Int32: Int] = [:]
  private var thread: pthread_t?
  private var buffer = [UInt8](repeating: 0, count: 256)

  private static let listener: UInt64 = 1 << 56
  private static let acceptedKind: UInt64 = 2 << 56
  private static let udpKind: UInt64 = 3 << 56
  private static let wakeKind: UInt64 = 4 << 56
  private static let mask: UInt64 = 0xff << 56

  init() throws {
    epfd = nstopo_epoll_create()
    guard epfd >= 0, pipe(&wake) == 0 else { throw ProbeError("epoll/pipe for the echo server", errno) }
    nstopo_epoll_ctl(epfd, 1, wake[0], UInt32(NSTOPO_EPOLLIN), Self.wakeKind)
  }

  /// Takes ownership of a listening TCP socket.
  func addListener(_ fd: Int32) {
    nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.listener | UInt64(fd))
    listeners.append(fd)
  }

  /// Takes ownership of a bound UDP socket.
  func addDatagram(_ fd: Int32) {
    nstopo_epoll_ctl(epfd, 1, fd, UInt32(NSTOPO_EPOLLIN), Self.udpKind | UInt64(fd))
    udp.append(fd)
  }

  var descriptorCount: Int { listeners.count + udp.count }

  func start() throws {
    let context = Unmanaged.passRetained(self).toOpaque()
    var t = pthread_t()
    let rc = pthread_create(&t, nil, { arg in
      let server = Unmanaged<EchoServer>.fromOpaque(arg!).takeRetainedValue()
      server.loop()
      return nil
    }, context)
    guard rc == 0 else {
      Unmanaged<EchoServer>.fromOpaque(context).release()
      throw ProbeError("pthread_create", rc)
    }
    thread = t
  }

  /// Stops the thread, then closes every socket it owns.
  func stop() {
    if let t = thread {
      var b: UInt8 = 1
      _ = write(wake[1], &b, 1)
      pthread_join(t, nil)
      thread = nil
    }
    for fd in listeners + udp + Array(accepted.keys) { close(fd) }
    listeners = []
    udp = []
    accepted = [:]
  }

  deinit {
    stop()
    close(epfd)
    close(wake[0])
    close(wake[1])
  }

  private func loop() {
    var events = [nstopo_event](repeating: nstopo_event(), count: 1024)
    while true {
      let n = events.withUnsafeMutableBufferPointer { nstopo_epoll_wait(epfd, $0.baseAddress, Int32($0.count), -1) }
      if n < 0 {
        if errno == EINTR { continue }
        return
      }
      for k in 0..<Int(n) {
        let token = events[k].token
        let fd = Int32(truncatingIfNeeded: token & ~Self.mask)
        switch token & Self.mask {
        case Self.wakeKind: return
        case Self.listener: acceptAll(fd)
        case Self.acceptedKind: echo(fd)
        case Self.udpKind: echoDatagrams(fd)
        default: break
        }
      }
    }
  }

  private func acceptAll(_ fd: Int32) {
    while true {
      let c = nstopo_accept_nonblock(fd)
      if c < 0 { return }
      accepted[c] = 0
      nstopo_epoll_ctl(epfd, 1, c, UInt32(NSTOPO_EPOLLIN | NSTOPO_EPOLLRDHUP), Self.acceptedKind | UInt64(c))
    }
  }

  /// Echoes what a prober sends. Once the 16-byte nonce is back on its way, resets the
  /// connection: the echo stays readable before the reset, and neither side waits for the
  /// other's close (no TIME_WAIT, one wake-up less per probe).
  private func echo(_ fd: Int32) {
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n > 0 {
        _ = buffer.withUnsafeBytes { send(fd, $0.baseAddress, n, Int32(MSG_NOSIGNAL)) }
        let total = (accepted[fd] ?? 0) + n
        accepted[fd] = total
        if total >= 16 { return reset(fd) }
        continue
      }
      if n < 0 && (errno == EAGAIN || errno == EINTR) { return }
      accepted[fd] = nil
      close(fd)
      return
    }
  }

  private func reset(_ fd: Int32) {
    var l = linger(l_onoff: 1, l_linger: 0)
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, UInt32(MemoryLayout<linger>.size))
    accepted[fd] = nil
    close(fd)
  }

  private func echoDatagrams(_ fd: Int32) {
    var from = sockaddr_in()
    var len = UInt32(MemoryLayout<sockaddr_in>.size)
    while true {
      let n = buffer.withUnsafeMutableBytes { b in
        withUnsafeMutablePointer(to: &from) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, b.baseAddress, b.count, 0, $0, &len) }
        }
      }
      if n < 0 { return }
      _ = buffer.withUnsafeBytes { b in
        withUnsafePointer(to: &from) {
          $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, n, Int32(MSG_NOSIGNAL), $0, len) }
        }
      }
    }
  }
}
