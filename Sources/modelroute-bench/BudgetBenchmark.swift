#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench budget [--records N] [--dir PATH]`: a budget check's cost with a log of
/// N (1,000,000) records: reading the spend index (what every call does), and rebuilding the
/// index from the log (what a call does once after the index is deleted). Target: a check
/// under 1 ms.
enum BudgetBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let records = options.integer("--records") ?? 1_000_000
        let directory = try options.directory()
        let log = try ReportBenchmark.log(directory: directory, records: records)
        let budgets = [
            BudgetConfig(name: "daily", limitUSD: 50, period: .day),
            BudgetConfig(name: "team-week", limitUSD: 200, period: .week, tags: [("team", "search")]),
            BudgetConfig(name: "power-24h", limitUSD: 20, period: .rolling(seconds: 86_400), routes: ["power"]),
        ]
        let zone = LocalZone.system
        let index = SpendIndex(logPath: log.path, budgets: budgets, zone: zone)
        try? FileManager.default.removeItem(atPath: index.indexPath)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let rebuildStart = DispatchTime.now().uptimeNanoseconds
        _ = index.spent(nowMillis: now)
        let rebuild = Double(DispatchTime.now().uptimeNanoseconds - rebuildStart) / 1e9
        var times: [Double] = []
        for _ in 0..<1000 {
            let start = DispatchTime.now().uptimeNanoseconds
            _ = index.spent(nowMillis: now)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000)
        }
        let check = MeasuredProcess.median(times)
        print(String(format: "budget check with a %d-record log (%.0f MB), three budgets, in-process, release build:", records, log.megabytes))
        print(String(format: "  reading the spend index: %.1f µs median of 1,000 (target < 1 ms: %@)", check, check < 1000 ? "met" : "NOT met"))
        print(String(format: "  rebuilding it from the log (after it was deleted): %.2f s, once", rebuild))
    }
}
