import Planner

/// Applies single kernel steps. The seam between the realizer and the kernel: the real one
/// speaks netlink, a recording fake proves rollback order without root.
public protocol KernelBackend: AnyObject {
  func apply(_ step: Step) throws

  /// Applies independent groups of steps, each group in order, possibly several groups at
  /// once (the realizer only passes groups that touch disjoint namespaces). Returns, per
  /// group, how many of its steps were applied and the error that stopped it, if any; a
  /// group never started has applied 0 and no error.
  func applyConcurrently(_ groups: [[Step]]) -> [GroupOutcome]

  /// What identifies an object this backend just created (a namespace's nsfs inode), for the
  /// journal; nil when there is nothing to prove it by.
  func proof(_ kind: JournalEntry.Kind, _ name: String) -> UInt64?
}

public struct GroupOutcome {
  public var applied: Int
  public var error: Error?

  public init(applied: Int, error: Error?) {
    self.applied = applied
    self.error = error
  }
}

extension KernelBackend {
  public func proof(_ kind: JournalEntry.Kind, _ name: String) -> UInt64? { nil }

  /// One group after the other, stopping at the first failure: exactly the sequential
  /// semantics, which is what a backend gets unless it can do better.
  public func applyConcurrently(_ groups: [[Step]]) -> [GroupOutcome] {
    var outcomes: [GroupOutcome] = []
    var failed = false
    for group in groups {
      var outcome = GroupOutcome(applied: 0, error: nil)
      for step in group where !failed {
        do {
          try apply(step)
          outcome.applied += 1
        } catch {
          outcome.error = error
          failed = true
        }
      }
      outcomes.append(outcome)
    }
    return outcomes
  }
}
