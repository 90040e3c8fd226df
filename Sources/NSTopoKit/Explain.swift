import Planner
import Predict
import Realizer
import TopologyModel

/// `why` without its printing: the model's walk of one flow, the same walk over what the
/// kernel has when the topology is up, and every difference between the two in the sentences
/// `status` uses. The command line and `Lab.why` share it.
public enum Explain {
  /// The kernel's side of a flow: its walk, the differences from the model on the nodes
  /// either walk visits, and the rules outside nstopo's tables along the way.
  public struct KernelSide: Sendable {
    public var walk: Prediction
    public var differences: [String]
    public var outside: String?
  }

  /// The address walked when none is given: the target's primary address of a family the
  /// source has (IPv4 first), so that an IPv6-only source is walked over IPv6.
  public static func defaultAddress(_ t: Topology, from source: String, to target: String) -> IPAddress? {
    let model = Predictor(t)
    let families = Set(model.addresses(of: source).map(\.family))
    return model.addresses(of: target).first { families.contains($0.family) } ?? model.addresses(of: target).first
  }

  /// The model's walk of `flow`, forward and back.
  public static func model(_ t: Topology, _ flow: Flow, timeout: Double = 1) -> Prediction {
    Predictor(t, probeTimeout: timeout).predict(flow)
  }

  /// The walk over what the kernel has (`KernelView.read`), for a topology that is up (root).
  public static func kernel(_ t: Topology, _ flow: Flow, model: Prediction, timeout: Double = 1) -> KernelSide {
    let reading = KernelView.read(Planner.plan(t))
    let walk = Predictor(reading.topology, probeTimeout: timeout).predict(flow)
    let nodes = (model.path + model.returnPath + walk.path + walk.returnPath).map(\.node)
    var seen = Set<String>()
    var differences: [String] = []
    for n in nodes where seen.insert(n).inserted {
      // Sentences that do not name their node get it in front.
      differences += reading.differences(from: t, forEndpoint: n).map { $0.hasPrefix("\(n) ") || $0.contains(" in \(n) ") ? $0 : "\(n): \($0)" }
    }
    return KernelSide(walk: walk, differences: differences, outside: reading.outsideRules(along: nodes))
  }
}
