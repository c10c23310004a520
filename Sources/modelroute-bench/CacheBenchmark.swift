#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench cache [--runs N] [--entries N]`: whole-process times of a response
/// cache hit, local and through Redis on loopback, next to `--dry-run` of the same prompt
/// and a real call to a local server that answers at once; then the cost of one lookup
/// in a store of 1,000 and of N (100,000) entries, and `cache stats` and `cache prune`
/// over the large one. Targets: a local hit within 2 ms of the dry run; a Redis hit within
/// 1 ms of a local hit; a lookup that does not grow with the entries; stats and prune under 1 s.
enum CacheBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let runs = options.integer("--runs") ?? 40
        let entries = options.integer("--entries") ?? 100_000
        let binary = try BenchmarkOptions.releaseBinary()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("modelroute-bench-cache-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let server = try TestHTTPServer(lifetime: 3600) { _, _ in
            .json(#"{"id":"b","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench server."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#)
        }
        defer { server.stop() }
        func table(_ cache: String) -> String {
            """
            {"version": 1, "default_route": "bench", "baseline_model": "bench-model", "cache": {\(cache)},
             "providers": {"local": {"type": "openai", "base_url": "\(server.baseURL)"}},
             "models": {"bench-model": {"provider": "local", "input_per_mtok": 1, "output_per_mtok": 2}},
             "routes": {"bench": {"model": "bench-model"}}}
            """
        }
        let local = directory + "/local.json"
        try table(#""dir": "\#(directory)/cache""#).write(toFile: local, atomically: true, encoding: .utf8)
        let log = directory + "/usage.jsonl"
        let prompt = "What is the capital of France?"
        func call(_ routes: String, _ extra: [String] = []) -> (path: String, arguments: [String]) {
            (binary, ["--routes", routes, "--log", log, "--no-stream"] + extra + [prompt])
        }
        var commands = [
            (binary, ["--routes", local, "--dry-run", prompt]), call(local), call(local, ["--no-cache"]),
        ]
        var names = ["--dry-run", "local hit", "call (no cache)"]
        var redis: RedisTestServer?
        if RedisTestServer.binary != nil {
            let server = try RedisTestServer()
            redis = server
            let shared = directory + "/redis.json"
            try table(#""url": "\#(server.url())""#).write(toFile: shared, atomically: true, encoding: .utf8)
            _ = try MeasuredProcess.run(call(shared).path, call(shared).arguments)
            commands.append(call(shared))
            names.append("Redis hit")
        } else {
            print("  redis-server is not installed (apt-get install redis-server): the Redis hit is not measured")
        }
        defer { redis?.stop() }
        _ = try MeasuredProcess.run(call(local).path, call(local).arguments)  // the miss that stores the entry
        let results = try MeasuredProcess.interleaved(runs: runs, commands)
        print("whole process, release build, \(runs) runs each, taking turns, median wall time:")
        for (name, result) in zip(names, results) { print(String(format: "  %-16@ %7.2f ms", name as NSString, result.seconds * 1000)) }
        let dry = results[0].seconds * 1000, hit = results[1].seconds * 1000
        print(String(format: "  local hit − dry run: %+.2f ms (target ≤ 2 ms: %@)", hit - dry, hit - dry <= 2 ? "met" : "NOT met"))
        if results.count > 3 {
            let shared = results[3].seconds * 1000
            print(String(format: "  Redis hit − local hit: %+.2f ms (target ≤ 1 ms: %@)", shared - hit, shared - hit <= 1 ? "met" : "NOT met"))
        }

        // A lookup's cost against the number of entries, in-process.
        let store = LocalStore(root: directory + "/big", maxBytes: 4 << 30)
        let small = LocalStore(root: directory + "/small", maxBytes: 4 << 30)
        let sample = CacheEntry(
            createdMillis: Int64(Date().timeIntervalSince1970 * 1000), route: "bench", model: "bench-model", provider: "local", inputTokens: 5,
            outputTokens: 6, cachedInputTokens: nil, usageEstimated: false, offline: false, answer: String(repeating: "An answer of some length. ", count: 20))
        let bytes = sample.encoded()
        func fill(_ store: LocalStore, _ count: Int) throws -> [String] {
            var keys: [String] = []
            for index in 0..<count {
                let key = SHA256.hexDigest(of: "entry \(index)")
                let folder = store.root + "/responses/" + key.prefix(2)
                if index < 256 || !FileManager.default.fileExists(atPath: folder) {
                    try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
                }
                // Written directly (no fsync): generating the store is not what is measured.
                guard FileManager.default.createFile(atPath: store.path(key), contents: Data(bytes)) else { throw BenchmarkFailure("cannot write \(store.path(key))") }
                keys.append(key)
            }
            return keys
        }
        let start = Date()
        let bigKeys = try fill(store, entries)
        let smallKeys = try fill(small, 1000)
        print(String(format: "store of %d entries generated in %.1f s", entries, Date().timeIntervalSince(start)))
        func lookups(_ store: LocalStore, _ keys: [String]) -> Double {
            var times: [Double] = []
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for index in 0..<2000 {
                let key = keys[(index * 7919) % keys.count]
                let begin = DispatchTime.now().uptimeNanoseconds
                guard case .hit = store.load(key, nowMillis: now, ttlSeconds: 86_400) else { continue }
                times.append(Double(DispatchTime.now().uptimeNanoseconds - begin) / 1000)
            }
            return MeasuredProcess.median(times)
        }
        let few = lookups(small, smallKeys)
        let many = lookups(store, bigKeys)
        print(String(format: "  one lookup: %.1f µs with 1,000 entries, %.1f µs with %d (ratio %.2f)", few, many, entries, many / max(few, 0.001)))
        let statsTable = directory + "/big.json"
        try table(#""dir": "\#(store.root)", "max_mb": 4096"#).write(toFile: statsTable, atomically: true, encoding: .utf8)
        let stats = try MeasuredProcess.repeated(runs: 3, binary, ["cache", "stats", "--routes", statsTable, "--log", log])
        let prune = try MeasuredProcess.repeated(runs: 3, binary, ["cache", "prune", "--routes", statsTable])
        print(String(format: "  cache stats over %d entries: %.3f s; cache prune: %.3f s (target < 1 s: %@)", entries, stats.seconds, prune.seconds,
                     max(stats.seconds, prune.seconds) < 1 ? "met" : "NOT met"))
    }
}
