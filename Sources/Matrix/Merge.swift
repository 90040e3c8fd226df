import TopologyModel

/// What a walk of a model says of one probe: the outcome and, when not reached, why.
public struct ModelVerdict: Hashable, Sendable {
  public var outcome: Outcome
  public var reason: String?

  public init(_ outcome: Outcome, _ reason: String? = nil) {
    self.outcome = outcome
    self.reason = reason
  }

  public var reached: Bool { outcome == .reached }
}

extension TestReport {
  /// A report of what the model predicts, nothing probed: `nstopo predict`. Each pair's
  /// outcome is the prediction, and its reason the model's.
  public init(topology: Topology, set: ProbeSet, predicted model: [ModelVerdict], protocols: [TransportProtocol]) {
    self.init(
      topology: topology, set: set, results: model.map { ($0.outcome, nil) }, seconds: 0, timeout: 0,
      protocols: protocols, peakInFlight: 0)
    for i in pairs.indices where i < model.count { pairs[i].reason = model[i].reason }
  }

  /// Three verdicts per measured pair: declared (an `expect` line), predicted (`model[i]`, one
  /// per probe, in probe order) and measured. See `PairResult.merged`.
  /// `exact`: each pair is also held to the model's outcome class (`test --exact`).
  public mutating func merge(model: [ModelVerdict], declaredOnly: Bool, exact: Bool = false, kernel: (Int) -> ModelVerdict) {
    for i in model.indices where i < pairs.count {
      pairs[i] = pairs[i].merged(model: model[i], declaredOnly: declaredOnly, exact: exact) { kernel(i) }
    }
  }
}

extension PairResult {
  /// The pair held to what it is expected to do, with the reason a reader needs:
  /// - it is held to its `expect` line; without one (unless `declaredOnly`) to the prediction;
  /// - not reached as predicted: the model's reason;
  /// - where the model and the measurement disagree and it matters (a failed pair, or a declared
  ///   one the model gets wrong), the walk of what the kernel has (`kernel`, asked only then)
  ///   says whether the kernel was changed by hand, something outside the model drops it (the
  ///   walk's reason, when reached, names rules outside nstopo's table), or the model is wrong.
  /// - both blocked, by different outcomes: both are said, the model's and the measured one;
  /// - `exact`: the pair is also held to the model's outcome.
  public func merged(model: ModelVerdict, declaredOnly: Bool, exact: Bool = false, kernel: () -> ModelVerdict) -> PairResult {
    var p = self
    p.predicted = model.outcome
    if exact { p.exactly = model.outcome }
    if p.declared == nil && !declaredOnly { p.expected = model.reached ? .reach : .blocked }
    let measured = p.outcome.reached
    if !measured && !model.reached {
      if p.outcome == model.outcome {
        p.reason = model.reason
      } else {
        p.reason = "the model expected \(model.outcome.rawValue)\(model.reason.map { " (\($0))" } ?? ""); measured \(p.outcome.rawValue)"
      }
    } else if measured != model.reached, p.holds == false || p.declared != nil {
      let k = kernel()
      if !measured, !k.reached, let r = k.reason {
        p.reason = "in the kernel: \(r) (the model disagrees: changed by hand?)"
      } else if !measured {
        // A reached kernel walk's reason, if any, names what the model could not see.
        p.reason = "the routes and nstopo's rules allow it: \(k.reason ?? "a firewall in a `run` line or something outside the model drops it")"
      } else {
        p.reason = "the model predicts \(model.outcome.rawValue)\(model.reason.map { ": \($0)" } ?? ""), yet the kernel delivers it"
      }
    }
    return p
  }
}
