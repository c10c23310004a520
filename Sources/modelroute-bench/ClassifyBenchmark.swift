import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench classify [--size-mb N] [--runs N] [--dir PATH]`
///
/// Generates a JSONL prompt file, then times the release `modelroute classify --format
/// jsonl` over it, whole process, with 10 and with 1,000 keywords, and at a quarter of
/// the size to show that memory does not grow with the file.
/// Targets: 300 MB/s or more; flat per-prompt cost from 10 to 1,000 keywords; flat memory.
enum ClassifyBenchmark {
    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let sizeMB = options.integer("--size-mb") ?? 100
        let runs = options.integer("--runs") ?? 9
        let directory = try options.directory()
        let binary = try BenchmarkOptions.releaseBinary()

        let large = try promptFile(directory: directory, megabytes: sizeMB)
        let small = try promptFile(directory: directory, megabytes: max(1, sizeMB / 4))
        let few = directory + "/routes-10.json"
        let many = directory + "/routes-1000.json"
        try PromptCorpus.routingTable(keywordCount: 10).write(toFile: few, atomically: true, encoding: .utf8)
        try PromptCorpus.routingTable(keywordCount: 1000).write(toFile: many, atomically: true, encoding: .utf8)

        print("modelroute classify --format jsonl, release build, \(runs) runs each taking turns, median wall time (whole process)")
        let baseline = try MeasuredProcess.repeated(runs: runs, "/bin/cat", [large.path])
        print(String(format: "  reference: cat %d MB > /dev/null         %7.3f s  %7.0f MB/s", sizeMB, baseline.seconds, large.megabytes / baseline.seconds))
        var results: [String: MeasuredProcess.Repeated] = [:]
        let configurations = [("10 keywords", few, large), ("1000 keywords", many, large), ("1000 keywords, 1/4 file", many, small)]
        let measured = try MeasuredProcess.interleaved(
            runs: runs, configurations.map { (binary, ["classify", "--format", "jsonl", "--no-summary", "--routes", $0.1, $0.2.path]) })
        for ((label, _, file), result) in zip(configurations, measured) {
            results[label] = result
            let perPrompt = result.seconds / Double(file.prompts) * 1e6
            print(String(format: "  %@ %6.0f MB %7.3f s  %7.0f MB/s  %5.2f µs/prompt  peak RSS %6.1f MB",
                         label.padding(24) as NSString, file.megabytes, result.seconds, file.megabytes / result.seconds, perPrompt, result.peakMB))
        }
        if let fewRun = results["10 keywords"], let manyRun = results["1000 keywords"], let quarterRun = results["1000 keywords, 1/4 file"] {
            let same = try sameDecisions(binary: binary, tables: [few, many], file: large.path, directory: directory)
            print("  decisions, 10 vs 1000 keywords: \(same ? "identical (only the keyword count differs)" : "DIFFERENT")")
            print(String(format: "  cost per prompt, 1000 vs 10 keywords: %.2f× (flat is 1.00×)", manyRun.seconds / fewRun.seconds))
            print(String(format: "  peak memory, full vs 1/4 file: %.2f× (flat is 1.00×)", manyRun.peakMB / quarterRun.peakMB))
            print(String(format: "  target 300 MB/s: %@", (large.megabytes / manyRun.seconds >= 300 ? "met" : "NOT met") as NSString))
        }
    }

    /// Whether every prompt gets the same route from each table: the rule column of the
    /// CSV rows, compared line by line.
    static func sameDecisions(binary: String, tables: [String], file: String, directory: String) throws -> Bool {
        var columns: [[Substring]] = []
        for (index, table) in tables.enumerated() {
            let output = "\(directory)/decisions-\(index).csv"
            _ = try MeasuredProcess.run(binary, ["classify", "--format", "csv", "--no-summary", "--routes", table, file], stdoutPath: output)
            let text = try String(contentsOfFile: output, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: output)
            // index,id,route,model,rule,…: the ids are plain, so the fifth field is the rule.
            columns.append(text.split(separator: "\n").map { $0.split(separator: ",", maxSplits: 5).dropFirst(4).first ?? "" })
        }
        return columns.count == 2 && columns[0] == columns[1]
    }

    /// `modelroute-bench profile-classify ROUTES FILE`: classify in-process, printing nothing,
    /// for `valgrind --tool=callgrind`.
    static func profile(_ arguments: [String]) {
        guard arguments.count == 2, let table = try? RoutingTableLoader.load(json: (try? FileReader.readAll(path: arguments[0])) ?? [], source: arguments[0]) else {
            print("usage: modelroute-bench profile-classify ROUTES.json PROMPTS.jsonl")
            return
        }
        var options = ClassifyRun.Options()
        options.format = .jsonl
        options.noSummary = true
        if let threads = ProcessInfo.processInfo.environment["THREADS"].flatMap(Int.init) { options.threads = threads }
        let start = MonotonicClock.now()
        var run = ClassifyRun(classifier: Classifier(table: table), options: options, stdout: .memory(), stderr: .standardError())
        let summary = run.run(inputs: [arguments[1]], standardInput: .memory(""))
        print("classified \(summary.prompts) prompts in \(MonotonicClock.now() - start) s with \(options.threads) threads")
    }

    struct PromptFile {
        var path: String
        var megabytes: Double
        var prompts: Int
    }

    /// Writes (or reuses) a deterministic JSONL file of about `megabytes` MB.
    static func promptFile(directory: String, megabytes: Int) throws -> PromptFile {
        let path = "\(directory)/prompts-\(megabytes)mb.jsonl"
        let countPath = path + ".count"
        if let text = try? String(contentsOfFile: countPath, encoding: .utf8), let prompts = Int(text),
            let size = (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int {
            return PromptFile(path: path, megabytes: Double(size) / 1e6, prompts: prompts)
        }
        var generator = SeededGenerator(seed: 42)
        let target = megabytes * 1_000_000
        guard let handle = fopen(path, "w") else { throw BenchmarkFailure("cannot write \(path)") }
        var written = 0
        var prompts = 0
        var buffer = ""
        while written < target {
            let line = PromptCorpus.line(index: prompts, targetBytes: PromptCorpus.size(generator: &generator), generator: &generator)
            buffer += line
            written += line.utf8.count
            prompts += 1
            if buffer.utf8.count > 1 << 20 {
                fputs(buffer, handle)
                buffer = ""
            }
        }
        fputs(buffer, handle)
        fclose(handle)
        try String(prompts).write(toFile: countPath, atomically: true, encoding: .utf8)
        return PromptFile(path: path, megabytes: Double(written) / 1e6, prompts: prompts)
    }
}

/// `--name value` options for benchmarks.
struct BenchmarkOptions {
    private let arguments: [String]

    init(_ arguments: [String]) {
        self.arguments = arguments
    }

    func string(_ name: String) -> String? {
        guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
        return arguments[index + 1]
    }

    func integer(_ name: String) -> Int? { string(name).flatMap(Int.init) }

    /// `--dir` (default /tmp/modelroute-bench), created if missing.
    func directory() throws -> String {
        let directory = string("--dir") ?? "/tmp/modelroute-bench"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// The release `modelroute` built beside this benchmark, which must exist.
    static func releaseBinary() throws -> String {
        let binary = MeasuredProcess.productsDirectory + "/modelroute"
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw BenchmarkFailure("build modelroute first: swift build -c release") }
        return binary
    }
}
