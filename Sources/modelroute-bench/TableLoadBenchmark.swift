import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench table [--runs N] [--dir PATH]`
///
/// Whole-process `modelroute check` on generated tables of N models, N routes and N
/// keyword rules, N doubling from 1,000 to 16,000. Loading must be linear: each doubling
/// should cost about 2× (quadratic work shows as 4×).
enum TableLoadBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let runs = options.integer("--runs") ?? 5
        let directory = try options.directory()
        let binary = try BenchmarkOptions.releaseBinary()
        let sizes = [1000, 2000, 4000, 8000, 16000]
        var paths: [String] = []
        for count in sizes {
            let path = "\(directory)/table-\(count).json"
            try table(count).write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
        }
        print("modelroute check on tables of N models, routes and keyword rules, release build, median of \(runs) runs taking turns")
        let measured = try MeasuredProcess.interleaved(runs: runs, paths.map { (binary, ["check", "--routes", $0]) }, stdoutPath: "/dev/null")
        var previous: Double?
        for (count, result) in zip(sizes, measured) {
            let bytes = (try? FileManager.default.attributesOfItem(atPath: "\(directory)/table-\(count).json"))?[.size] as? Int ?? 0
            let ratio = previous.map { String(format: "  %.2f× the half-size table", result.seconds / $0) } ?? ""
            print(String(format: "  N = %5d  %7.1f KB  %7.3f s%@", count, Double(bytes) / 1024, result.seconds, ratio as NSString))
            previous = result.seconds
        }
        print("  linear is about 2× per doubling (start-up makes the small ones look flatter); quadratic is 4×")
    }

    static func table(_ count: Int) -> String {
        let models = (0..<count).map { "\"m\($0)\": {\"provider\": \"p\", \"input_per_mtok\": 1, \"output_per_mtok\": 2}" }.joined(separator: ",\n")
        let routes = (0..<count).map { "\"r\($0)\": {\"model\": \"m\($0)\", \"fallbacks\": [\"m\(($0 + 1) % count)\"]}" }.joined(separator: ",\n")
        let rules = (0..<count).map { "{\"name\": \"rule\($0)\", \"route\": \"r\($0)\", \"any\": [\"keyword\($0)\"]}" }.joined(separator: ",\n")
        return "{\"version\": 1, \"default_route\": \"r0\", \"providers\": {\"p\": {\"type\": \"mock\"}},\n\"models\": {\(models)},\n\"routes\": {\(routes)},\n\"rules\": [\(rules)]}\n"
    }
}

/// `modelroute-bench log [--records N] [--runs N] [--dir PATH]`
///
/// Whole-process `modelroute log -n 20` on the report benchmark's generated log of N
/// records (1,000,000 by default), next to `tail -n 20` of the same file: reading from the
/// end costs a few blocks whatever the log's length.
enum RecentCallsBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let records = options.integer("--records") ?? 1_000_000
        let runs = options.integer("--runs") ?? 21
        let directory = try options.directory()
        let binary = try BenchmarkOptions.releaseBinary()
        let file = try ReportBenchmark.log(directory: directory, records: records)
        print("modelroute log -n 20 on \(records) records, release build, median of \(runs) runs taking turns (whole process)")
        let measured = try MeasuredProcess.interleaved(
            runs: runs, [("/usr/bin/tail", ["-n", "20", file.path]), (binary, ["log", "-n", "20", "--log", file.path])], stdoutPath: "/dev/null")
        if measured.count == 2 {
            print(String(format: "  tail -n 20 (reference)     %7.2f ms", measured[0].seconds * 1000))
            print(String(format: "  modelroute log -n 20       %7.2f ms  (%.1f× tail)", measured[1].seconds * 1000, measured[1].seconds / measured[0].seconds))
        }
    }
}
