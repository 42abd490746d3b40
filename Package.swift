// swift-tools-version: 6.2
import PackageDescription

// The load generator's hot path (FaultlineLoad, FaultlinePG) is compiled with -O in debug builds as well: users run the
// debug binary (scripts/faultline), and unoptimised Swift there cost the load generator about 2.7x pgbench's client
// CPU per transaction, enough to fall behind pgbench on a 2-core machine (docs/load.md, "Benchmark against pgbench").
// Tests still `@testable import` it (SwiftPM keeps -enable-testing in debug).
let loadHotPath: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "Faultline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "faultline", targets: ["faultline"]),
        .library(name: "Faultline", targets: ["Faultline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // libpq through a system-library target (Debian: libpq-dev).
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // Core: scenario model, DSL, runner state machine, observations, assertions, verdicts. No I/O.
        .target(name: "Faultline", dependencies: [.product(name: "Logging", package: "swift-log")]),

        // The bridge from blocking calls to async code, and signals as async events.
        .target(name: "FaultlineConcurrency"),

        // A small, safe Swift wrapper over libpq. Optimised in debug builds too (`loadHotPath`).
        .target(name: "FaultlinePG", dependencies: ["CLibPQ"], swiftSettings: loadHotPath),

        // Load generator: workers, schedulers, histograms, timeline, write ledger.
        .target(name: "FaultlineLoad", dependencies: [
            "Faultline", "FaultlinePG", "FaultlineConcurrency",
            .product(name: "Histogram", package: "hdrhistogram-swift"),
            .product(name: "Logging", package: "swift-log"),
        ], swiftSettings: loadHotPath),

        // Environment drivers (local netns first), fault primitives, the command runner.
        .target(name: "FaultlineEnvironments", dependencies: [
            "Faultline", "FaultlinePG", "FaultlineConcurrency",
            .product(name: "Subprocess", package: "swift-subprocess"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        // Report renderers: JSON, Markdown, JUnit XML.
        .target(name: "FaultlineReports", dependencies: ["Faultline"]),

        // The scenario catalogue, one file a scenario.
        .target(name: "Scenarios", dependencies: ["Faultline"], path: "scenarios"),

        // Where a run meets the real environment and load generator: shared by the CLI and the integration tests.
        .target(name: "FaultlineWiring", dependencies: [
            "Faultline", "FaultlineLoad", "FaultlineEnvironments", "FaultlineReports", "Scenarios",
            .product(name: "Logging", package: "swift-log"),
        ]),

        // The CLI: argument parsing, progress output, exit codes.
        .executableTarget(name: "faultline", dependencies: [
            "Faultline", "FaultlineLoad", "FaultlineEnvironments", "FaultlineReports", "FaultlineWiring", "Scenarios",
            "FaultlineConcurrency",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),

        .testTarget(name: "FaultlineTests", dependencies: ["Faultline", "Scenarios", "FaultlineReports"]),
        .testTarget(name: "FaultlineLoadTests", dependencies: ["FaultlineLoad", "FaultlineConcurrency"]),
        .testTarget(name: "FaultlineEnvironmentsTests", dependencies: ["FaultlineEnvironments"]),
        .testTarget(name: "FaultlineConcurrencyTests", dependencies: ["FaultlineConcurrency"]),
        .testTarget(name: "FaultlinePGTests", dependencies: ["FaultlinePG", "CLibPQ"]),
        // Integration tests need root and `scripts/setup`; they drive the real local environment.
        .testTarget(name: "IntegrationTests", dependencies: [
            "Faultline", "FaultlinePG", "FaultlineLoad", "FaultlineEnvironments", "FaultlineReports", "FaultlineWiring", "Scenarios",
        ]),
    ],
    swiftLanguageModes: [.v6]
)
