import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench dry-run [--runs N]`: wall time of `modelroute --dry-run hello` on
/// the embedded default table, against `/bin/true` (the cost of starting any process) and
/// `modelroute-bench noop` (a process that links Foundation and FoundationNetworking and
/// does nothing: what any Swift tool that links URLSession pays before its first line).
/// Target: under 20 ms.
enum DryRunBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let runs = options.integer("--runs") ?? 50
        let binary = MeasuredProcess.productsDirectory + "/modelroute"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchmarkFailure("build modelroute first: swift build -c release") }
        // No routes.json in reach: the embedded default is used, as on a fresh machine.
        let environment = ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"]
        let workingDirectory = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath("/")
        defer { _ = FileManager.default.changeCurrentDirectoryPath(workingDirectory) }
        var dryRun: [Double] = []
        var reference: [Double] = []
        var floor: [Double] = []
        let bench = MeasuredProcess.productsDirectory + "/modelroute-bench"
        var rss = 0
        for _ in 0..<runs {
            let result = try MeasuredProcess.run(binary, ["--dry-run", "hello"], environment: environment)
            guard result.status == 0 else { throw BenchmarkFailure("modelroute --dry-run exited \(result.status)") }
            dryRun.append(result.seconds)
            rss = max(rss, result.maxResidentKiB)
            reference.append(try MeasuredProcess.run("/bin/true", [], environment: environment).seconds)
            floor.append(try MeasuredProcess.run(bench, ["noop"], environment: environment).seconds)
        }
        let median = MeasuredProcess.median(dryRun) * 1000
        let base = MeasuredProcess.median(reference) * 1000
        print("modelroute --dry-run hello, release build, embedded default table, \(runs) runs")
        print(String(format: "  median %.2f ms (min %.2f, max %.2f), peak RSS %.1f MB", median, (dryRun.min() ?? 0) * 1000, (dryRun.max() ?? 0) * 1000, Double(rss) / 1024))
        let floorMedian = MeasuredProcess.median(floor) * 1000
        print(String(format: "  reference /bin/true: median %.2f ms", base))
        print(String(format: "  reference Swift process linking Foundation and FoundationNetworking, doing nothing: median %.2f ms", floorMedian))
        print(String(format: "  (modelroute links FoundationEssentials only, and loads libcurl for https calls alone: %.2f ms faster)", floorMedian - median))
        print(String(format: "  target under 20 ms: %@", (median < 20 ? "met" : "NOT met") as NSString))
    }
}
