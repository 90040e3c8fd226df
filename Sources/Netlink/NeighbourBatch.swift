import CShim
import Glibc

/// A raw rtnetlink socket for bulk neighbour entries, bound to one namespace like
/// `NetlinkSocket`. libnl acks every message; this packs thousands into each sendmsg.
public final class NeighbourBatchSocket {
  let fd: Int32
  public let namespaceName: String

  public struct Entry: Sendable {
    public var ifindex: Int32
    public var address: UInt32
    public var mac: [UInt8]

    public init(ifindex: Int32, address: UInt32, mac: [UInt8]) {
      self.ifindex = ifindex
      self.address = address
      self.mac = mac
    }
  }

  public init(namespaceFD: Int32?, name: String) throws {
    namespaceName = name
    let open = { () -> Int32 in nstopo_rtnl_open() }
    let fd = try namespaceFD.map { try NetworkNamespace.run(in: $0, open) } ?? open()
    guard fd >= 0 else { throw SystemError("open rtnetlink socket in", name, errno: errno) }
    self.fd = fd
  }

  deinit { close(fd) }

  /// Equivalent to one `ip neigh replace ADDR lladdr MAC dev IF nud permanent` per entry.
  public func addPermanent(_ entries: [Entry]) throws(NetlinkError) {
    var raw = entries.map { e -> nstopo_neigh in
      var n = nstopo_neigh()
      n.ifindex = e.ifindex
      n.address = e.address.bigEndian
      n.mac = (e.mac[0], e.mac[1], e.mac[2], e.mac[3], e.mac[4], e.mac[5])
      return n
    }
    var failed = 0
    var message = [CChar](repeating: 0, count: 256)
    let rc = raw.withUnsafeMutableBufferPointer { buf in
      nstopo_neigh_add_batch(fd, buf.baseAddress, buf.count, &failed, &message, message.count)
    }
    if rc < 0 {
      let e = failed < entries.count ? entries[failed] : nil
      let what = e.map { "\(formatIPv4($0.address)) on ifindex \($0.ifindex)" } ?? "entry \(failed)"
      let text = cString(message)
      throw NetlinkError(operation: "add neighbour", object: "\(what) in \(namespaceName)", code: 0, errno: -rc,
        kernelMessage: text.isEmpty ? nil : text)
    }
  }
}

func formatIPv4(_ v: UInt32) -> String { "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)" }

/// A NUL-terminated C buffer as a String.
func cString(_ buffer: [CChar]) -> String {
  String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
