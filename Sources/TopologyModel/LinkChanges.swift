/// Changes to links, as a person names them: on the command line (`nstopo link lab r1 r2
/// down`) and in a scenario's body. Pure queries over a topology; the Planner turns the
/// result into kernel steps.

/// One end of a link as a person names it: `r1`, or `r1:eth2` for one interface of it. The
/// owner is a node, a bridge or `host`.
public struct EndName: Hashable, Sendable, CustomStringConvertible {
  public var owner: String
  public var interface: String?

  public init(_ text: String) {
    let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    owner = String(parts[0])
    interface = parts.count == 2 ? String(parts[1]) : nil
  }

  public var description: String { interface.map { "\(owner):\($0)" } ?? owner }

  func matches(_ end: LinkEnd) -> Bool {
    end.owner.description == owner && (interface == nil || interface == end.interface)
  }
}

/// What a change does to the links it names.
public enum ChangeAction: Hashable, Sendable, Codable {
  /// Both ends down (`ip link set X down` at each end).
  case down
  /// Both ends up, and the routes through them back.
  case up
  /// These properties replace the link's (the ones not given stay).
  case set(LinkProperties)
  /// Back to no shaping and the default MTU.
  case clear
}

/// A change that names no link, or more than one where one was meant.
public struct ChangeError: Error, Equatable, CustomStringConvertible {
  public var message: String
  public var hint: String?
  public var description: String { message + (hint.map { " (\($0))" } ?? "") }
}

extension Topology {
  /// Every owner name (nodes, bridges, `host`), for "did you mean".
  public var ownerNames: [String] {
    nodes.map(\.name) + bridges.map(\.name) + (hasHost ? ["host"] : [])
  }

  /// The links between `a` and `b` (indexes into `t.links`): exactly one, unless `all`.
  public func selectLinks(_ a: EndName, _ b: EndName, all: Bool = false) throws(ChangeError) -> [Int] {
    let t = self
    let names = ownerNames
    for e in [a, b] where !names.contains(e.owner) {
      throw ChangeError(message: "no node, bridge or host '\(e.owner)' in topology \(t.name)", hint: Spelling.closest(e.owner, among: names).map { "did you mean '\($0)'?" })
    }
    let found = t.links.indices.filter { k in
      let l = t.links[k]
      return (a.matches(l.a) && b.matches(l.b)) || (a.matches(l.b) && b.matches(l.a))
    }
    guard !found.isEmpty else {
      let between = t.links.filter { l in
        (l.a.owner.description == a.owner && l.b.owner.description == b.owner) || (l.b.owner.description == a.owner && l.a.owner.description == b.owner)
      }
      if between.isEmpty {
        let theirs = t.links.filter { $0.a.owner.description == a.owner || $0.b.owner.description == a.owner }
          .map { $0.a.owner.description == a.owner ? $0.b.owner.description : $0.a.owner.description }
        throw ChangeError(
          message: "there is no link between \(a.owner) and \(b.owner)",
          hint: theirs.isEmpty ? nil : "\(a.owner) links to \(Array(Set(theirs)).sorted().joined(separator: ", "))")
      }
      throw ChangeError(
        message: "no link between \(a) and \(b)",
        hint: "the links between them: " + between.map(\.text).joined(separator: ", "))
    }
    if found.count > 1 && !all {
      throw ChangeError(
        message: "\(a.owner) and \(b.owner) share \(found.count) links",
        hint: "name one end: " + found.map { t.links[$0] }.map { l in
          let end = l.a.owner.description == a.owner ? l.a : l.b
          return "\(a.owner):\(end.interface)"
        }.joined(separator: " or "))
    }
    return found
  }

  /// Every link of node `n`.
  public func links(of n: String) throws(ChangeError) -> [Int] {
    let t = self
    guard t.node(named: n) != nil else {
      throw ChangeError(message: "no node '\(n)' in topology \(t.name)", hint: Spelling.closest(n, among: t.nodes.map(\.name)).map { "did you mean '\($0)'?" })
    }
    return t.links.indices.filter { t.links[$0].a.owner == .node(n) || t.links[$0].b.owner == .node(n) }
  }


  /// Why `action` cannot be done to `links`, or nil. The kernel takes IPv6 off an interface
  /// whose MTU goes below 1280 (RFC 8200's minimum) and does not give its addresses back when
  /// the MTU is raised again: refused, as `validate` refuses it on a declared link.
  public func problem(_ action: ChangeAction, on links: [Int]) -> ChangeError? {
    guard case .set(let p) = action, let mtu = p.mtu, mtu < 1280 else { return nil }
    for k in links where (self.links[k].a.addresses + self.links[k].b.addresses).contains(where: { $0.family == .ipv6 }) {
      return ChangeError(
        message: "MTU \(mtu) is below IPv6's minimum of 1280, and \(self.links[k].text) has IPv6 addresses",
        hint: "use mtu 1280 or more: the kernel takes IPv6 off a smaller interface")
    }
    return nil
  }

  /// `t` with `action` done to `links`.
  public func applying(_ action: ChangeAction, to links: [Int]) -> Topology {
    var t = self
    for k in links {
      switch action {
      case .down, .up:
        t.links[k].a.down = action == .down
        t.links[k].b.down = action == .down
      case .set(let p):
        var q = t.links[k].properties
        q.rate = p.rate ?? q.rate
        q.delay = p.delay ?? q.delay
        q.jitter = p.jitter ?? q.jitter
        q.loss = p.loss ?? q.loss
        q.mtu = p.mtu ?? q.mtu
        t.links[k].properties = q
      case .clear:
        t.links[k].properties = LinkProperties()
      }
    }
    return t
  }
}

extension Link {
  /// `r1:eth1 -- r2:eth0`.
  public var text: String { "\(a.owner):\(a.interface) -- \(b.owner):\(b.interface)" }
}
