// The value types a user of the library meets (Topology, Expectation, TestReport, Outcome,
// Diagnostic) come with `import NSTopoKit`.
@_exported import Matrix
@_exported import Predict
@_exported import TopologyDSL
@_exported import TopologyModel
