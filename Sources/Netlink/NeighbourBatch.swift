import CShim
import Glibc
import TopologyModel

extension RawRouteSocket {
  public struct NeighbourEntry: Sendable {
    public var ifindex: Int32
    public var address: IPAddress
    public var mac: [UInt8]

    public init(ifindex: Int32, address: IPAddress, mac: [UInt8]) {
      self.ifindex = ifindex
      self.address = address
      self.mac = mac
    }
  }

  /// Equivalent to one `ip neigh replace ADDR lladdr MAC dev IF nud permanent` per entry.
  public func addPermanentNeighbours(_ entries: [NeighbourEntry]) throws(NetlinkError) {
    try batch(entries, operation: "add neighbour", nstopo_neigh_add_batch)
  }

  /// Equivalent to one `ip neigh del ADDR dev IF` per entry; entries already gone are fine.
  public func deleteNeighbours(_ entries: [NeighbourEntry]) throws(NetlinkError) {
    try batch(entries, operation: "delete neighbour", nstopo_neigh_del_batch)
  }

  private func batch(
    _ entries: [NeighbourEntry], operation: String,
    _ send: (Int32, UnsafePointer<nstopo_neigh>?, Int, UnsafeMutablePointer<Int>?, UnsafeMutablePointer<CChar>?, Int) -> Int32
  ) throws(NetlinkError) {
    let raw = entries.map { e -> nstopo_neigh in
      var n = nstopo_neigh()
      n.ifindex = e.ifindex
      n.family = UInt8(NLAddress.family(e.address.family))
      withUnsafeMutableBytes(of: &n.address) { raw in
        for (k, b) in e.address.bytes.enumerated() { raw[k] = b }
      }
      n.mac = (e.mac[0], e.mac[1], e.mac[2], e.mac[3], e.mac[4], e.mac[5])
      return n
    }
    var failed = 0
    var message = [CChar](repeating: 0, count: 256)
    let rc = raw.withUnsafeBufferPointer { buf in send(fd, buf.baseAddress, buf.count, &failed, &message, message.count) }
    if rc < 0 {
      let e = failed < entries.count ? entries[failed] : nil
      let what = e.map { "\($0.address) on ifindex \($0.ifindex)" } ?? "entry \(failed)"
      let text = cString(message)
      throw NetlinkError(operation: operation, object: "\(what) in \(namespaceName)", code: 0, errno: -rc,
        kernelMessage: text.isEmpty ? nil : text)
    }
  }
}
