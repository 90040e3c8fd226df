/// A failure scenario: named changes to the links (a node down, a link down, its properties
/// set), and the expectations that hold while they are in force. A pair without an `expect`
/// line of the scenario is held to what the model predicts under it.
///
///     scenario spine1-fails
///       node spine1 down
///       expect h1-[1..8] -> h4-[1..8] reach
public struct Scenario: Hashable, Sendable, Codable {
  public var name: String
  /// Line of the `scenario` declaration.
  public var line: Int
  /// In file order, applied one after the other.
  public var changes: [Change]
  public var expectations: [Expectation]

  /// One line of the scenario's body that changes links: the links it names (indexes into
  /// the topology's links) and what it does to them.
  public struct Change: Hashable, Sendable, Codable {
    public var action: ChangeAction
    public var links: [Int]
    /// As the file writes it (`node spine1 down`), for reports.
    public var text: String
    public var line: Int

    public init(action: ChangeAction, links: [Int], text: String, line: Int) {
      self.action = action
      self.links = links
      self.text = text
      self.line = line
    }
  }

  public init(name: String, line: Int, changes: [Change] = [], expectations: [Expectation] = []) {
    self.name = name
    self.line = line
    self.changes = changes
    self.expectations = expectations
  }
}

extension Topology {
  /// This topology with the scenario's changes in force, and its expectations in place of the
  /// base ones (its scenarios are kept, so it can be named again).
  public func applying(_ s: Scenario) -> Topology {
    var t = self
    for c in s.changes { t = t.applying(c.action, to: c.links) }
    t.expectations = s.expectations
    return t
  }

  public func scenario(named name: String) -> Scenario? { scenarios.first { $0.name == name } }
}
