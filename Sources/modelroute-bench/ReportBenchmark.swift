import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench report [--records N] [--runs N] [--dir PATH]`
///
/// Generates (or reuses) a deterministic log of N records (1,000,000 by default, about
/// 600 MB) and one of N/4, then times the release `modelroute report --by model --format
/// json` over each, whole process, and DuckDB's `read_json` grouped by model with the
/// same sums and latency quantiles over the large one, in the same run.
/// Targets: no slower than 1.25 × DuckDB; peak memory under 64 MB and flat in file size.
enum ReportBenchmark {
    /// Runs the benchmark and prints the figures.
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let records = options.integer("--records") ?? 1_000_000
        let runs = options.integer("--runs") ?? 5
        let directory = try options.directory()
        let binary = try BenchmarkOptions.releaseBinary()

        let large = try log(directory: directory, records: records)
        let small = try log(directory: directory, records: max(1, records / 4))
        print("modelroute report --by model --format json, release build, \(runs) runs each, median wall time (whole process)")
        var ours: [Int: MeasuredProcess.Repeated] = [:]
        for file in [large, small] {
            let result = try MeasuredProcess.repeated(runs: runs, binary, ["report", "--by", "model", "--log", file.path, "--format", "json"], stdoutPath: directory + "/report-output-\(file.records).json")
            ours[file.records] = result
            print(String(format: "  modelroute  %9d records %6.0f MB  %7.3f s  %7.0f MB/s  peak RSS %6.1f MB",
                         file.records, file.megabytes, result.seconds, file.megabytes / result.seconds, result.peakMB))
        }
        guard let full = ours[large.records], let quarter = ours[small.records] else { return }
        print(String(format: "  peak memory, full vs 1/4 file: %.1f MB vs %.1f MB (flat is 1.00×: %.2f×)", full.peakMB, quarter.peakMB, full.peakMB / quarter.peakMB))
        print(String(format: "  target peak < 64 MB: %@", (full.peakMB < 64 ? "met" : "NOT met") as NSString))

        guard let python = pythonWithDuckDB(directory: directory) else {
            print("  DuckDB: not installed (pip install duckdb); comparison skipped")
            return
        }
        let script = directory + "/report-duckdb.py"
        try duckDBScript.write(toFile: script, atomically: true, encoding: .utf8)
        var duckTimes: [Double] = []
        var queryTimes: [Double] = []
        var importTimes: [Double] = []
        var duckPeak = 0
        var duckTotal = ""
        let duckOutput = directory + "/report-duckdb-output.txt"
        for _ in 0..<runs {
            let result = try MeasuredProcess.run(python, [script, large.path], stdoutPath: duckOutput)
            guard result.status == 0 else { throw BenchmarkFailure("DuckDB exited \(result.status)") }
            duckTimes.append(result.seconds)
            duckPeak = max(duckPeak, result.maxResidentKiB)
            let lines = ((try? String(contentsOfFile: duckOutput, encoding: .utf8)) ?? "").split(separator: "\n")
            duckTotal = lines.first.map(String.init) ?? ""
            let parts = lines.dropFirst().first?.split(separator: " ").compactMap { Double($0) } ?? []
            if parts.count == 2 {
                importTimes.append(parts[0])
                queryTimes.append(parts[1])
            }
        }
        let duckWall = MeasuredProcess.median(duckTimes)
        let duckQuery = MeasuredProcess.median(queryTimes)
        print(String(format: "  DuckDB      %9d records %6.0f MB  %7.3f s  %7.0f MB/s  peak RSS %6.1f MB  (python3 + duckdb, whole process)",
                     large.records, large.megabytes, duckWall, large.megabytes / duckWall, Double(duckPeak) / 1024))
        print(String(format: "  DuckDB query alone (connect + read_json + group, import of %.3f s excluded): %.3f s", MeasuredProcess.median(importTimes), duckQuery))
        let ratio = full.seconds / duckWall
        let strictRatio = full.seconds / duckQuery
        print(String(format: "  modelroute / DuckDB: %.2f× of its whole process, %.2f× of its query alone (target ≤ 1.25×: %@)",
                     ratio, strictRatio, (strictRatio <= 1.25 ? "met even against the query alone" : ratio <= 1.25 ? "met against the whole process" : "NOT met") as NSString))
        if let ourText = try? String(contentsOfFile: directory + "/report-output-\(large.records).json", encoding: .utf8),
            let node = try? JSONParser.parse(Array(ourText.utf8)), case .number(let cost)? = node["totals"]?["cost_usd"]?.value
        {
            print(String(format: "  check: total cost modelroute $%.4f, DuckDB $%@", cost, duckTotal))
        }
    }

    /// DuckDB's version of the report: the needed columns declared, sums and quantiles by
    /// model. Prints the total cost so the two results can be checked against each other.
    static let duckDBScript = """
        import sys, time
        started = time.perf_counter()
        import duckdb
        imported = time.perf_counter()
        path = sys.argv[1].replace("'", "''")
        rows = duckdb.connect().execute(f\"\"\"
            SELECT model, count(*) AS calls, sum(input_tokens), sum(output_tokens), sum(cost_usd), sum(baseline_cost_usd),
                   quantile_cont(latency_ms, 0.5), quantile_cont(latency_ms, 0.95)
            FROM read_json('{path}', format = 'newline_delimited',
                           columns = {{'model': 'VARCHAR', 'input_tokens': 'BIGINT', 'output_tokens': 'BIGINT',
                                       'cost_usd': 'DOUBLE', 'baseline_cost_usd': 'DOUBLE', 'latency_ms': 'BIGINT'}})
            GROUP BY model ORDER BY 5 DESC\"\"\").fetchall()
        finished = time.perf_counter()
        print("%.4f" % sum(row[4] for row in rows))
        print("%.4f %.4f" % (imported - started, finished - imported))
        """

    /// The interpreter `python3` on the PATH really is (not a version manager's shim, whose
    /// start-up would be timed too), if it can import duckdb.
    static func pythonWithDuckDB(directory: String) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let candidates = (environment["PATH"] ?? "/usr/bin").split(separator: ":").map { $0 + "/python3" } + ["/usr/bin/python3"]
        guard let shim = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else { return nil }
        let output = directory + "/python-path.txt"
        guard let probe = try? MeasuredProcess.run("/bin/sh", ["-c", "exec \"$0\" -c 'import sys, duckdb; print(sys.executable)'", shim], stdoutPath: output),
            probe.status == 0, let text = try? String(contentsOfFile: output, encoding: .utf8)
        else { return nil }
        let path = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// A generated log.
    struct LogFile {
        var path: String
        var records: Int
        var megabytes: Double
    }

    /// Writes (or reuses) the deterministic log of `records` records.
    static func log(directory: String, records: Int) throws -> LogFile {
        let path = "\(directory)/usage-\(records).jsonl"
        let marker = path + ".complete"
        if FileManager.default.fileExists(atPath: marker), let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
            return LogFile(path: path, records: records, megabytes: Double(size) / 1e6)
        }
        print("  generating \(path) …")
        let bytes = try LedgerLogGenerator.writeLog(path: path, count: records, seed: 42)
        try "".write(toFile: marker, atomically: true, encoding: .utf8)
        return LogFile(path: path, records: records, megabytes: Double(bytes) / 1e6)
    }
}

/// `modelroute-bench profile-report LOG`: the report over LOG in-process on one thread,
/// printing nothing but a count, for `valgrind --tool=callgrind` (which cannot follow
/// the `modelroute` executable's async main).
enum ReportProfile {
    /// Runs the report once.
    static func run(_ arguments: [String]) async throws {
        guard let path = arguments.first else { throw BenchmarkFailure("usage: modelroute-bench profile-report LOG.jsonl") }
        let request = ReportRequest(logs: [path], dimensions: [.model], timeZone: TimeZone(identifier: "UTC") ?? .current, workers: 1)
        let result = try ReportEngine.run(request, files: [path])
        print("\(result.totals.calls) calls, \(result.badLines) bad lines")
    }
}
