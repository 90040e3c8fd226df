import Foundation
import TopologyModel

/// links.json: each link's ends that are down (bit 0 its a end, bit 1 its b end), in link
/// order, and the properties of those that have any, by index.
public struct LinkStates: Codable, Sendable {
  var format = 1
  var down: [UInt8]
  var properties: [String: LinkProperties]

  public init(_ t: Topology) {
    down = t.links.map { ($0.a.down ? 1 : 0) | ($0.b.down ? 2 : 0) }
    properties = [:]
    for (k, l) in t.links.enumerated() where !l.properties.isEmpty { properties[String(k)] = l.properties }
  }

  public func apply(to t: inout Topology) throws {
    guard format == 1, down.count == t.links.count else {
      throw StateError.unreadable("links.json does not match the topology (format \(format), \(down.count) links for \(t.links.count))")
    }
    for k in t.links.indices {
      t.links[k].a.down = down[k] & 1 != 0
      t.links[k].b.down = down[k] & 2 != 0
      t.links[k].properties = properties[String(k)] ?? LinkProperties()
    }
  }
}
