#if canImport(Glibc)
import Glibc
#endif
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench call [--runs N] [--chunks N] [--interval-ms X] [--binary PATH]`: the time a whole
/// `modelroute` call adds over `curl` making the same request to a local server that
/// answers at once, and how long each streamed chunk takes from the server's write
/// to modelroute's stdout. Targets: at most 5 ms added; at most 1 ms per chunk.
enum CallBenchmark {
    /// Runs the benchmark and prints its figures.
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        if let url = options.string("--probe") {
            exit(await probe(url))
        }
        let runs = options.integer("--runs") ?? 40
        let chunks = options.integer("--chunks") ?? 40
        let interval = Double(options.integer("--interval-ms") ?? 10) / 1000
        let binary = options.string("--binary") ?? MeasuredProcess.productsDirectory + "/modelroute"
        let curl = "/usr/bin/curl"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchmarkFailure("no modelroute binary at \(binary); build it with -c release") }
        guard FileManager.default.isExecutableFile(atPath: curl) else { throw BenchmarkFailure("curl not found at \(curl)") }

        let pieces = (0..<chunks).map { "<c\($0)> " }
        let server = try TestHTTPServer(lifetime: 3600) { request, _ in
            if request.bodyText.contains(#""stream":true"#) {
                var events = pieces.map { #"data: {"choices":[{"index":0,"delta":{"content":"\#($0)"}}]}"# }
                events.append(#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":\#(chunks)}}"#)
                events.append("data: [DONE]")
                return .sse(events, pause: interval)
            }
            return .json(#"{"id":"b","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Hello from the bench server."},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":6}}"#)
        }
        defer { server.stop() }

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("modelroute-bench-call-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let routes = directory + "/routes.json"
        let table = """
            {"version": 1, "default_route": "bench", "baseline_model": "bench-model",
             "providers": {"local": {"type": "openai", "base_url": "\(server.baseURL)", "api_key_env": "BENCH_API_KEY"}},
             "models": {"bench-model": {"provider": "local", "input_per_mtok": 1, "output_per_mtok": 2}},
             "routes": {"bench": {"model": "bench-model"}},
             "rules": []}
            """
        try table.write(toFile: routes, atomically: true, encoding: .utf8)
        var environment = ProcessInfo.processInfo.environment
        environment["BENCH_API_KEY"] = "bench-key"
        environment["MODELROUTE_LOG"] = directory + "/usage.jsonl"
        environment["MODELROUTE_OFFLINE"] = nil
        let modelrouteArguments = ["--routes", routes, "--no-stream", "hello"]
        let curlArguments = [
            "-s", "-S", "-X", "POST", server.baseURL + "/chat/completions", "-H", "Content-Type: application/json",
            "-H", "Authorization: Bearer bench-key", "-d", #"{"model":"bench-model","messages":[{"role":"user","content":"hello"}]}"#,
        ]

        // Warm-up: page cache, dynamic loader, the server's threads.
        let check = try spawn(binary, modelrouteArguments, environment: environment)
        if check.status != 0 {
            // Until the log writer exists, calls end with exit 74 after answering; still worth timing.
            guard check.stderr.contains("usage log") else { throw BenchmarkFailure("modelroute exited \(check.status): \(check.stderr)") }
            print("note: modelroute could not append to the log (\(check.stderr.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        _ = try MeasuredProcess.run(curl, curlArguments, environment: environment)

        let me = MeasuredProcess.productsDirectory + "/modelroute-bench"
        let probeArguments = ["call", "--probe", server.baseURL + "/chat/completions"]
        var curlEnvironment = environment
        curlEnvironment["MODELROUTE_HTTP_CLIENT"] = "curl"
        var ours: [Double] = []
        var oursOverCurl: [Double] = []
        var theirs: [Double] = []
        var floor: [Double] = []
        for _ in 0..<runs {
            ours.append(try MeasuredProcess.run(binary, modelrouteArguments, environment: environment).seconds * 1000)
            oursOverCurl.append(try MeasuredProcess.run(binary, modelrouteArguments, environment: curlEnvironment).seconds * 1000)
            theirs.append(try MeasuredProcess.run(curl, curlArguments, environment: environment).seconds * 1000)
            floor.append(try MeasuredProcess.run(me, probeArguments, environment: environment).seconds * 1000)
        }
        let oursMedian = MeasuredProcess.median(ours)
        let theirsMedian = MeasuredProcess.median(theirs)
        let floorMedian = MeasuredProcess.median(floor)
        print("call, non-streamed, \(runs) runs each (wall, process start to exit):")
        print("  modelroute       median \(format(oursMedian)) ms   p90 \(format(percentile(ours, 0.9))) ms   (route, request, parse, log append)")
        print("  modelroute, libcurl client  median \(format(MeasuredProcess.median(oursOverCurl))) ms   p90 \(format(percentile(oursOverCurl, 0.9))) ms   (as an https call goes: libcurl loaded on demand)")
        print("  curl             median \(format(theirsMedian)) ms   p90 \(format(percentile(theirs, 0.9))) ms")
        print("  bare URLSession  median \(format(floorMedian)) ms   p90 \(format(percentile(floor, 0.9))) ms   (a Swift process linking URLSession, making the same POST, nothing else)")
        print("  added by modelroute over curl: \(format(oursMedian - theirsMedian)) ms (target ≤ 5 ms)")

        // Streaming: per-chunk delay from the server's write to modelroute's stdout.
        var delays: [Double] = []
        let streamRuns = max(1, min(runs / 8, 5))
        for _ in 0..<streamRuns {
            let before = server.requests.count
            let arrivals = try spawnReadingStream(binary, ["--routes", routes, "hello"], environment: environment, markers: pieces)
            let sent = server.sendTimes(request: before)
            for (index, arrival) in arrivals.enumerated() where index < sent.count {
                if let arrival { delays.append((arrival - sent[index]) * 1000) }
            }
        }
        print("streaming, \(streamRuns) runs × \(chunks) chunks \(Int(interval * 1000)) ms apart (server write → modelroute stdout):")
        print("  median \(format(MeasuredProcess.median(delays))) ms   p95 \(format(percentile(delays, 0.95))) ms   max \(format(delays.max() ?? 0)) ms (target ≤ 1 ms)")
    }

    /// One POST through URLSession and nothing else: the floor any URLSession client pays.
    static func probe(_ address: String) async -> Int32 {
        guard let url = URL(string: address) else { return 64 }
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.httpBody = Data(#"{"model":"bench-model","messages":[{"role":"user","content":"hello"}]}"#.utf8)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue("Bearer bench-key", forHTTPHeaderField: "Authorization")
        let session = URLSession(configuration: .ephemeral)
        do {
            let (data, _) = try await session.data(for: request)
            return data.isEmpty ? 1 : 0
        } catch {
            return 1
        }
    }

    /// A finished child process: its status and what it said on stderr.
    struct Spawned {
        var status: Int32
        var stderr: String
    }

    /// Runs a program to its end, discarding stdout, keeping stderr (for the check run).
    static func spawn(_ path: String, _ arguments: [String], environment: [String: String]) throws -> Spawned {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return Spawned(status: process.terminationStatus, stderr: stderr)
    }

    /// Runs a streaming call and returns when each marker first appeared on its stdout.
    static func spawnReadingStream(_ path: String, _ arguments: [String], environment: [String: String], markers: [String]) throws -> [Double?] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let descriptor = output.fileHandleForReading.fileDescriptor
        var text: [UInt8] = []
        var arrivals = [Double?](repeating: nil, count: markers.count)
        var next = 0
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            let now = MonotonicClock.now()
            text += buffer[0..<count]
            let decoded = String(decoding: text, as: UTF8.self)
            while next < markers.count, decoded.contains(markers[next]) {
                arrivals[next] = now
                next += 1
            }
        }
        process.waitUntilExit()
        return arrivals
    }

    /// The nearest-rank percentile.
    static func percentile(_ values: [Double], _ fraction: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }

    /// Two decimals.
    static func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
