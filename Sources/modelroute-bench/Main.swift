#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// `modelroute-bench BENCHMARK [options]`: speed checks run on a release build.
/// Each benchmark generates its own data deterministically and prints figures with
/// the baseline they are compared against.
@main
enum BenchMain {
    static let benchmarks: [(name: String, summary: String, run: @Sendable ([String]) async throws -> Void)] = [
        ("classify", "modelroute classify --format jsonl over a generated JSONL file (MB/s, memory, keyword scaling)", ClassifyBenchmark.run),
        ("difficulty", "the difficulty score's cost per 400-byte prompt, and classify MB/s with the default table vs the previous one", DifficultyBenchmark.run),
        ("log", "modelroute log -n 20 on a generated 1,000,000-record log, next to tail -n 20", RecentCallsBenchmark.run),
        ("table", "modelroute check on tables of 1,000 to 16,000 models, routes and rules: loading must scale linearly", TableLoadBenchmark.run),
        ("dry-run", "wall time of `modelroute --dry-run hello`", DryRunBenchmark.run),
        ("call", "a full modelroute call against a local server, compared with curl", CallBenchmark.run),
        ("cache", "a response cache hit (local and Redis) next to --dry-run and a real call; lookups, stats and prune over 100,000 entries", CacheBenchmark.run),
        ("budget", "a budget check's cost with a 1,000,000-record log: the spend index, and its rebuild", BudgetBenchmark.run),
        ("report", "modelroute report --by model over a generated 1,000,000-record log, compared with DuckDB", ReportBenchmark.run),
        ("append-records", "(for the tests) append N generated records to a log, one LedgerWriter.append each", AppendRecords.run),
        ("profile-report", "(for callgrind) the report over a log, in-process on one thread", ReportProfile.run),
    ]

    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        // Profiling runs in-process and synchronously, so valgrind's callgrind (which
        // cannot follow libdispatch's signal thread under an async main) can count it.
        // A process that loads what modelroute loads (Swift runtime, Foundation,
        // FoundationNetworking) and does nothing: the floor the dry-run benchmark compares with.
        if arguments.first == "noop" { return }
        if arguments.first == "profile-difficulty" {
            DifficultyBenchmark.profile()
            return
        }
        if arguments.first == "profile-classify" {
            ClassifyBenchmark.profile(Array(arguments.dropFirst()))
            return
        }
        guard let name = arguments.first, let benchmark = benchmarks.first(where: { $0.name == name }) else {
            print("usage: modelroute-bench BENCHMARK [options]   (build with -c release)\n\nbenchmarks:")
            for benchmark in benchmarks { print("  \(benchmark.name.padding(8))  \(benchmark.summary)") }
            exit(arguments.isEmpty || arguments.first == "--help" ? 0 : 64)
        }
        let finished = DispatchSemaphore(value: 0)
        let failure = Mutex<String?>(nil)
        // Detached: main() is on the main actor, which the semaphore below blocks.
        Task.detached {
            do {
                try await benchmark.run(Array(arguments.dropFirst()))
            } catch {
                failure.withLock { $0 = "\(error)" }
            }
            finished.signal()
        }
        finished.wait()
        if let message = failure.withLock({ $0 }) {
            print("modelroute-bench \(name): \(message)")
            exit(1)
        }
    }
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self : self + String(repeating: " ", count: width - count) }
}
