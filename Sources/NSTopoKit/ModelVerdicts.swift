import Matrix
import Predict
import TopologyModel

/// What the model says of each probe of a set: the prediction `test` holds each pair to.
public func predictedOutcomes(_ t: Topology, _ set: ProbeSet, timeout: Double = 1.0) -> [ModelVerdict] {
  let p = Predictor(t, probeTimeout: timeout)
  return set.probes.indices.map { p.modelVerdict(set, $0) }
}

extension Predictor {
  /// What this model says of probe `i` of `set`, as the report takes it.
  public func modelVerdict(_ set: ProbeSet, _ i: Int) -> ModelVerdict {
    let (v, reason) = verdict(Self.flow(set, i))
    return ModelVerdict(v, reason)
  }

  /// Where a `dnat` makes each probe of `set` land, when the topology has any (`test` listens
  /// there; the report says "via dnat to web:80").
  public func placeLandings(_ set: inout ProbeSet) {
    guard hasDnat else { return }
    let index = Dictionary(uniqueKeysWithValues: set.endpoints.enumerated().map { ($1.name, Int32($0)) })
    for i in set.probes.indices {
      if let l = landing(Self.flow(set, i)), let t = index[l.node] { set.landings[i] = (t, UInt16(l.port)) }
    }
  }

  /// Probe `i` of `set` as a question to the predictor.
  public static func flow(_ set: ProbeSet, _ i: Int) -> Flow {
    let probe = set.probes[i]
    return Flow(
      from: set.endpoints[Int(probe.source)].name, to: set.endpoints[Int(probe.target)].name, address: set.address(of: probe),
      proto: probe.proto, port: Int(probe.port))
  }
}

