#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench budget [--records N] [--dir PATH]`: a budget check's cost with a log of
/// N (1,000,000) records: reading the spend index (what every call does), and rebuilding the
/// index from the log (what a call does once after the index is deleted), both when the
/// log's records are older than every window (skipped on their time alone) and when they
/// all fall inside one (each read and counted). Target: a check under 1 ms.
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
        // The generated log starts at 2026-11-01T00:00Z, a record every 2 s on average: at its
        // end, a 30-day rolling window holds all of it.
        let end = Int64(1_793_491_200_000) + Int64(records) * 2000
        let monthly = SpendIndex(logPath: log.path, budgets: [BudgetConfig(name: "last-30d", limitUSD: 1000, period: .rolling(seconds: 30 * 86_400))], zone: zone)
        try? FileManager.default.removeItem(atPath: monthly.indexPath)
        let fullStart = DispatchTime.now().uptimeNanoseconds
        let spent = monthly.spent(nowMillis: end)["last-30d"] ?? 0
        let full = Double(DispatchTime.now().uptimeNanoseconds - fullStart) / 1e9
        let actionsStart = DispatchTime.now().uptimeNanoseconds
        _ = monthly.actions(nowMillis: end)
        let actions = Double(DispatchTime.now().uptimeNanoseconds - actionsStart) / 1e9
        print(String(format: "budget check with a %d-record log (%.0f MB), three budgets, in-process, release build:", records, log.megabytes))
        print(String(format: "  reading the spend index: %.1f µs median of 1,000 (target < 1 ms: %@)", check, check < 1000 ? "met" : "NOT met"))
        print(String(format: "  rebuilding it from the log (after it was deleted): %.2f s, once, with every record before the windows", rebuild))
        print(String(format: "  rebuilding it with every record inside a 30-day window: %.2f s, once ($%.2f counted)", full, spent))
        print(String(format: "  counting its downgrades and refusals (modelroute budget): %.2f s", actions))
    }
}
