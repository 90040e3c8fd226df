// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "nstopo",
  products: [
    .executable(name: "nstopo", targets: ["nstopo"]),
    .executable(name: "nstopo-fuzz", targets: ["nstopo-fuzz"]),
    // nstopo as a library for test suites: load, plan, up, test, predict, exec, down.
    .library(name: "NSTopoKit", targets: ["NSTopoKit"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
  ],
  targets: [
    // Pure core: no Glibc, no CNetlink.
    .target(name: "TopologyModel"),
    .target(name: "TopologyDSL", dependencies: ["TopologyModel"]),
    .target(name: "Planner", dependencies: ["TopologyModel"]),
    .target(name: "DOT", dependencies: ["TopologyModel"]),
    .target(name: "Predict", dependencies: ["TopologyModel", "TopologyDSL"]),
    // Probe sets, pair results, the three-verdict merge and the reports (text, JSON, JUnit).
    .target(name: "Matrix", dependencies: ["TopologyModel"]),
    // The self-contained HTML report of a test or prediction (pure: text in, text out).
    .target(name: "HTMLReport", dependencies: ["Matrix", "TopologyModel"]),
    // What validate and plan do with a file, for the fuzzer and its regression fixtures.
    .target(name: "FuzzHarness", dependencies: ["TopologyDSL", "Predict", "Planner", "TopologyModel"]),
    // containerlab's topology files, read and written (YAML through Yams).
    .target(
      name: "Containerlab",
      dependencies: ["TopologyModel", "TopologyDSL", "Planner", .product(name: "Yams", package: "Yams")]),
    // C quarantine.
    .systemLibrary(
      name: "CNetlink",
      pkgConfig: "libnl-route-3.0",
      providers: [.apt(["libnl-3-dev", "libnl-route-3-dev"])]
    ),
    .systemLibrary(
      name: "CNftables",
      pkgConfig: "libnftables",
      providers: [.apt(["libnftables-dev"])]
    ),
    .target(name: "CShim"),
    // Effects at the edges.
    .target(name: "Netlink", dependencies: ["TopologyModel", "CNetlink", "CNftables", "CShim"]),
    .target(name: "NodeRuntime", dependencies: ["CShim"]),
    .target(name: "Realizer", dependencies: ["TopologyModel", "Planner", "Netlink", "NodeRuntime", "CShim"]),
    .target(name: "Probe", dependencies: ["TopologyModel", "Matrix", "Netlink", "CShim"]),
    // The library product: a small public API over the modules below, used by the command line.
    .target(
      name: "NSTopoKit",
      dependencies: ["TopologyModel", "TopologyDSL", "Planner", "Predict", "Matrix", "Probe", "Realizer", "Netlink", "NodeRuntime"]),
    // The command line as a library (help texts are snapshot-tested), and its three-line main.
    .target(
      name: "NSTopoCLI",
      dependencies: [
        "TopologyModel", "TopologyDSL", "Planner", "Realizer", "Netlink", "Matrix", "Probe", "NodeRuntime", "DOT", "Predict",
        "Containerlab", "NSTopoKit", "HTMLReport", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "nstopo", dependencies: ["NSTopoCLI"]),
    .executableTarget(name: "nstopo-fuzz", dependencies: ["FuzzHarness", "Containerlab"]),
    // What several test targets share (fixtures), used by tests only.
    .target(name: "TestSupport", dependencies: ["TopologyDSL", "TopologyModel"], path: "Tests/TestSupport"),
    .testTarget(
      name: "TopologyModelTests",
      dependencies: ["TopologyModel", .product(name: "PropertyBased", package: "swift-property-based")]),
    .testTarget(name: "TopologyDSLTests", dependencies: ["TopologyDSL", "TopologyModel", "FuzzHarness"], exclude: ["Fixtures"]),
    .testTarget(name: "PlannerTests", dependencies: ["Planner", "TopologyDSL", "TopologyModel"], exclude: ["Snapshots"]),
    .testTarget(name: "RealizerTests", dependencies: ["Realizer", "Planner", "TopologyDSL", "TestSupport"], exclude: ["Fixtures"]),
    .testTarget(name: "MatrixTests", dependencies: ["Matrix", "TopologyDSL", "TopologyModel", "TestSupport"]),
    .testTarget(name: "PredictTests", dependencies: ["Predict", "TopologyDSL", "TopologyModel"]),
    .testTarget(name: "NodeRuntimeTests", dependencies: ["NodeRuntime"]),
    .testTarget(name: "HTMLReportTests", dependencies: ["HTMLReport", "Matrix", "TopologyModel"]),
    .testTarget(name: "DOTTests", dependencies: ["DOT", "TopologyDSL", "TopologyModel"], exclude: ["Snapshots"]),
    .testTarget(name: "CLITests", dependencies: ["NSTopoCLI"], exclude: ["Snapshots"]),
    .testTarget(
      name: "ContainerlabTests", dependencies: ["Containerlab", "TopologyDSL", "TopologyModel", "Planner", .product(name: "Yams", package: "Yams")],
      exclude: ["Fixtures"]),
    // Uses only the library product, as a user's test suite would.
    .testTarget(name: "NSTopoKitTests", dependencies: ["NSTopoKit"]),
    .testTarget(
      name: "IntegrationTests",
      dependencies: [
        "Realizer", "Planner", "TopologyDSL", "Netlink", "TopologyModel", "Matrix", "Probe", "NodeRuntime", "Predict", "TestSupport", "Containerlab", "NSTopoKit",
        .product(name: "Yams", package: "Yams"),
      ]
    ),
  ],
  swiftLanguageModes: [.v6]
)
