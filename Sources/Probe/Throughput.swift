import CShim
import Glibc
import Netlink
import TopologyModel

/// `nstopo perf`: how many bits a second one node gets to another, measured with a stream of
/// its own (no iperf): a TCP connection, or UDP datagrams sent as fast as the socket takes
/// them, from inside the source's namespace to the target's address, for a few seconds. The
/// receiver counts; a `rate` link on the way is what it should find.
public enum Throughput {
  public struct Result: Sendable {
    /// Bytes the receiver read (payload).
    public var bytes: Int
    /// Seconds from the first byte received to the end.
    public var seconds: Double

    public var megabitsPerSecond: Double { seconds > 0 ? Double(bytes) * 8 / seconds / 1_000_000 : 0 }
  }

  public struct Failure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
  }

  /// Sends from namespace `source` to `address` (an address of namespace `target`) for
  /// `seconds`, and returns what the receiver got. One thread: both sockets are made in their
  /// namespaces and then driven from anywhere (a socket keeps the namespace it was made in).
  public static func measure(from source: String, to target: String, address: IPAddress, udp: Bool, seconds: Double) throws -> Result {
    let sourceFD = try NetworkNamespace.open(source)
    defer { close(sourceFD) }
    let targetFD = try NetworkNamespace.open(target)
    defer { close(targetFD) }
    let type = Int32((udp ? SOCK_DGRAM : SOCK_STREAM).rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
    let domain = SocketAddress.domain(address.family)
    // The receiver, on an ephemeral port of the target's address.
    let receiver = try NetworkNamespace.run(in: targetFD) { socket(domain, type, 0) }
    guard receiver >= 0 else { throw Failure(description: "socket in \(target): \(String(cString: strerror(errno)))") }
    defer { close(receiver) }
    var big: Int32 = 4 << 20
    setsockopt(receiver, SOL_SOCKET, SO_RCVBUF, &big, 4)
    guard SocketAddress(address, port: 0).withSockaddr({ bind(receiver, $0, $1) }) == 0 else {
      throw Failure(description: "bind \(address) in \(target): \(String(cString: strerror(errno)))")
    }
    if !udp { listen(receiver, 1) }
    let port = SocketAddress.localPort(receiver)
    let sender = try NetworkNamespace.run(in: sourceFD) { socket(domain, type, 0) }
    guard sender >= 0 else { throw Failure(description: "socket in \(source): \(String(cString: strerror(errno)))") }
    defer { close(sender) }
    let rc = SocketAddress(address, port: port).withSockaddr { connect(sender, $0, $1) }
    if rc != 0 && errno != EINPROGRESS { throw Failure(description: "connect to \(address): \(String(cString: strerror(errno)))") }
    var reader = receiver
    var accepted: Int32 = -1
    defer { if accepted >= 0 { close(accepted) } }
    if !udp {
      // The handshake, within 3 seconds.
      let deadline = monotonicSeconds() + 3
      while accepted < 0 {
        accepted = nstopo_accept_nonblock(receiver)
        if accepted >= 0 { break }
        if monotonicSeconds() > deadline { throw Failure(description: "\(source) could not connect to \(address) within 3 s") }
        var p = pollfd(fd: receiver, events: Int16(POLLIN), revents: 0)
        poll(&p, 1, 100)
      }
      reader = accepted
    }
    // 1,200-byte datagrams fit any link nstopo builds (IPv6 needs 1,280): no fragments, of
    // which a shaped queue would drop one and lose the whole datagram.
    var chunk = [UInt8](repeating: 0x6e, count: udp ? 1200 : 64 << 10)
    var sink = [UInt8](repeating: 0, count: 256 << 10)
    let start = monotonicSeconds()
    let end = start + seconds
    var first: Double?
    var last = start
    var bytes = 0
    // Bounded by the clock: `seconds`, then a last read of what is already there.
    while monotonicSeconds() < end {
      var fds = [pollfd(fd: sender, events: Int16(POLLOUT), revents: 0), pollfd(fd: reader, events: Int16(POLLIN), revents: 0)]
      poll(&fds, 2, 50)
      if fds[0].revents & Int16(POLLOUT) != 0 {
        // A burst of writes; ENOBUFS (a shaped queue full) and EAGAIN just wait for the next turn.
        for _ in 0..<(udp ? 64 : 4) {
          let n = chunk.withUnsafeMutableBytes { send(sender, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
          if n < 0 { break }
        }
      }
      if fds[1].revents & Int16(POLLIN) != 0 {
        while true {
          let n = sink.withUnsafeMutableBytes { recv(reader, $0.baseAddress, $0.count, 0) }
          if n <= 0 { break }
          let now = monotonicSeconds()
          if first == nil { first = now } else { bytes += n }
          last = now
        }
      }
      if fds[1].revents & Int16(POLLERR | POLLHUP) != 0 { break }
    }
    guard let first else { throw Failure(description: "nothing reached \(address) from \(source) in \(seconds) s") }
    // The first read only starts the clock: what came after it, over the time it took.
    return Result(bytes: bytes, seconds: max(last - first, 1e-6))
  }
}
