import TopologyModel

/// The language's name rules (`NameRules`), under the DSL's short name.
typealias Names = NameRules
