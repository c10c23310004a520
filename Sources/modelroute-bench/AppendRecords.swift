#if canImport(Glibc)
import Glibc
#endif
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench append-records --log PATH --count N [--seed S]`: appends N generated
/// records one `LedgerWriter.append` at a time, as N separate calls would. The
/// concurrency test starts many of these at once.
enum AppendRecords {
    /// Appends the records; exits with the error's status on the first failed append.
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        guard let path = options.string("--log"), let count = options.integer("--count") else {
            throw BenchmarkFailure("usage: modelroute-bench append-records --log PATH --count N [--seed S]")
        }
        var generator = LedgerLogGenerator(seed: UInt64(options.integer("--seed") ?? Int(getpid())), exotic: true)
        let writer = LedgerWriter(path: path)
        for _ in 0..<count {
            do {
                try writer.append(generator.next())
            } catch {
                let sink = OutputSink.standardError()
                sink.write("modelroute-bench: \(error.message)\n")
                sink.flush()
                exit(error.exitCode.rawValue)
            }
        }
    }
}
