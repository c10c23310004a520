// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "modelroute",
    products: [
        .executable(name: "modelroute", targets: ["modelroute"]),
        .library(name: "ModelRouteKit", targets: ["ModelRouteKit"]),
        // URLSession for https, loaded by modelroute only when a call needs it.
        .library(name: "ModelRouteURLSession", type: .dynamic, targets: ["ModelRouteURLSession"]),
    ],
    targets: [
        // All logic: routing, providers, the cost ledger and reports.
        .target(name: "ModelRouteKit", dependencies: ["ModelRouteModelData"]),
        // The built-in difficulty model's bytes, as C data: it compiles in a second and is
        // mapped, not parsed, at start-up. Written by `modelroute train --out difficulty-model.c`.
        .target(name: "ModelRouteModelData"),
        // The one part that links FoundationNetworking; a C interface, no shared Swift types.
        .target(name: "ModelRouteURLSession"),
        // The command: turns arguments into calls and results into text.
        .executableTarget(name: "modelroute", dependencies: ["ModelRouteKit"]),
        // Speed checks: `swift run -c release modelroute-bench --help`.
        .executableTarget(name: "modelroute-bench", dependencies: ["ModelRouteKit", "ModelRouteTestSupport"]),
        // Mutated tables, logs, prompt files, responses and argument vectors, run by the tests:
        // `swift run modelroute-fuzz --cases 100000 --seed 7`.
        .executableTarget(name: "modelroute-fuzz", dependencies: ["ModelRouteKit", "ModelRouteTestSupport"]),
        // A loopback HTTP server that misbehaves on demand, and data generators.
        .target(name: "ModelRouteTestSupport", dependencies: ["ModelRouteKit"]),
        .testTarget(
            name: "ModelRouteKitTests",
            dependencies: ["ModelRouteKit", "modelroute", "ModelRouteTestSupport", "modelroute-bench", "modelroute-fuzz"]),
    ],
    swiftLanguageModes: [.v6]
)
