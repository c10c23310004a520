// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "modelroute",
    products: [
        .executable(name: "modelroute", targets: ["modelroute"]),
        .library(name: "ModelRouteKit", targets: ["ModelRouteKit"]),
    ],
    targets: [
        // All logic: routing, providers, the cost ledger and reports.
        .target(name: "ModelRouteKit", dependencies: ["ModelRouteModelData", "ModelRouteCurl"]),
        // The built-in difficulty model's bytes, as C data: it compiles in a second and is
        // mapped, not parsed, at start-up. Written by `modelroute train --out difficulty-model.c`.
        .target(name: "ModelRouteModelData"),
        // https over the system's libcurl, bound with dlopen on the first https call: no
        // link-time dependency, no headers needed to build, nothing loaded by other runs.
        .target(name: "ModelRouteCurl"),
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
