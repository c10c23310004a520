import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-bench difficulty [--size-mb N] [--runs N] [--dir PATH]`
///
/// 1. In-process: the built-in model's score of a 400-byte prompt, and what deciding a
///    400-byte prompt costs with the default table against the previous default table
///    (keyword and length rules only). Target: scoring adds at most about 2 µs.
/// 2. Whole process: `modelroute classify --format jsonl` over the classify benchmark's
///    corpus with the default table and with the previous one, taking turns.
///    Target: 150 MB/s or more with the default table.
enum DifficultyBenchmark {
    /// The default table before the difficulty score (modelroute 0.1.0), for comparison.
    static let previousDefault = #"""
    {"version": 1, "default_route": "mid", "baseline_model": "claude-sonnet-4-5", "keyword_match": "word",
     "providers": {"openai": {"type": "openai"}, "anthropic": {"type": "anthropic"}},
     "models": {"gpt-4.1-mini": {"provider": "openai", "input_per_mtok": 0.40, "output_per_mtok": 1.60},
                "gpt-4.1": {"provider": "openai", "input_per_mtok": 2.00, "output_per_mtok": 8.00},
                "claude-haiku-4-5": {"provider": "anthropic", "input_per_mtok": 1.00, "output_per_mtok": 5.00},
                "claude-sonnet-4-5": {"provider": "anthropic", "input_per_mtok": 3.00, "output_per_mtok": 15.00}},
     "routes": {"fast": {"model": "gpt-4.1-mini", "fallbacks": ["claude-haiku-4-5"]}, "mid": {"model": "gpt-4.1"},
                "power": {"model": "claude-sonnet-4-5", "fallbacks": ["gpt-4.1"]}},
     "rules": [
      {"name": "free-tier", "route": "fast", "tier": ["free"]},
      {"name": "deep-reasoning", "route": "power", "any": ["architect", "architecture", "security audit", "threat model", "migration plan",
        "root cause", "trade-offs", "tradeoffs", "prove that", "formal proof", "step by step", "design a system", "system design"]},
      {"name": "large-code", "route": "power", "has_code": true, "min_tokens": 1500},
      {"name": "very-long", "route": "power", "min_tokens": 6000},
      {"name": "code", "route": "mid", "has_code": true},
      {"name": "trivial-task", "route": "fast", "max_words": 300, "any": ["format", "reformat", "convert", "rename", "translate", "summarize",
        "summarise", "tl;dr", "classify", "extract", "fix the typo", "fix typos", "spell check", "spellcheck", "capitalize", "sort these", "list of"]},
      {"name": "short-question", "route": "fast", "max_words": 25, "none": ["why", "explain", "design", "analyze", "analyse", "debug", "optimize",
        "optimise", "compare", "evaluate", "plan", "strategy", "review", "refactor", "implement", "write a", "proof"]}
     ]}
    """#

    static func run(_ arguments: [String]) async throws {
        let options = BenchmarkOptions(arguments)
        let sizeMB = options.integer("--size-mb") ?? 100
        let runs = options.integer("--runs") ?? 9
        let directory = try options.directory()

        let current = try RoutingTableLoader.load(json: Array(EmbeddedRoutes.json.utf8), source: "default")
        let previous = try RoutingTableLoader.load(json: Array(previousDefault.utf8), source: "previous default")
        var generator = SeededGenerator(seed: 400)
        let prompts: [String] = (0..<2000).map { _ in PromptCorpus.prompt(targetBytes: 390, generator: &generator) }
        let bytes = prompts.reduce(0) { $0 + $1.utf8.count } / prompts.count
        print("difficulty score, release build, in-process, one thread, \(prompts.count) prompts of about \(bytes) bytes, median of \(runs) passes")
        // `--model PATH` times another model file's score instead of the built-in one's.
        let model = try options.string("--model").map { path in try DifficultyModel.load(path: path) } ?? DifficultyModel.builtIn
        var sink = 0.0
        let score = perPrompt(runs: runs, prompts) { sink += model.score($0) }
        let new = Classifier(table: current)
        let old = Classifier(table: previous)
        let context = ClassificationContext()
        let decideNew = perPrompt(runs: runs, prompts) { sink += Double(new.classify($0, context: context).features.tokens) }
        let decideOld = perPrompt(runs: runs, prompts) { sink += Double(old.classify($0, context: context).features.tokens) }
        print(String(format: "  score alone                          %6.2f µs/prompt", score * 1e6))
        print(String(format: "  decide, previous default table       %6.2f µs/prompt (baseline)", decideOld * 1e6))
        print(String(format: "  decide, default table (with score)   %6.2f µs/prompt (%+.2f µs, %.2f×)", decideNew * 1e6, (decideNew - decideOld) * 1e6, decideNew / decideOld))
        print(String(format: "  target: scoring adds at most about 2 µs: %@", (decideNew - decideOld < 2.5e-6 ? "met" : "NOT met") as NSString))
        if sink == 42 { print("") }  // keeps the work from being optimized away

        let binary = try BenchmarkOptions.releaseBinary()
        let corpus = try ClassifyBenchmark.promptFile(directory: directory, megabytes: sizeMB)
        let newPath = directory + "/routes-default.json"
        let oldPath = directory + "/routes-previous-default.json"
        try EmbeddedRoutes.json.write(toFile: newPath, atomically: true, encoding: .utf8)
        try previousDefault.write(toFile: oldPath, atomically: true, encoding: .utf8)
        print("\nmodelroute classify --format jsonl, whole process, \(runs) runs each taking turns, median wall time")
        let measured = try MeasuredProcess.interleaved(
            runs: runs, [oldPath, newPath].map { (binary, ["classify", "--format", "jsonl", "--no-summary", "--routes", $0, corpus.path]) })
        for (label, result) in zip(["previous default table (baseline)", "default table (difficulty score)"], measured) {
            print(String(format: "  %@ %6.0f MB %7.3f s  %7.0f MB/s  peak RSS %6.1f MB", label.padding(36) as NSString, corpus.megabytes, result.seconds,
                         corpus.megabytes / result.seconds, result.peakMB))
        }
        if measured.count == 2 {
            print(String(format: "  default vs previous: %.2f× the time", measured[1].seconds / measured[0].seconds))
            print(String(format: "  target 150 MB/s with the default table: %@", (corpus.megabytes / measured[1].seconds >= 150 ? "met" : "NOT met") as NSString))
        }
    }

    /// `modelroute-bench profile-difficulty`: scores the 400-byte prompts ten times over,
    /// in-process, for `valgrind --tool=callgrind`.
    static func profile() {
        var generator = SeededGenerator(seed: 400)
        var prompts: [String] = (0..<2000).map { _ in PromptCorpus.prompt(targetBytes: 390, generator: &generator) }
        if let text = ProcessInfo.processInfo.environment["PROFILE_TEXT"] { prompts = Array(repeating: text, count: 2000) }
        var total = 0.0
        for _ in 0..<10 { for prompt in prompts { total += DifficultyModel.builtIn.score(prompt) } }
        print("mean score \(total / 20_000)")
    }

    /// Median seconds per prompt of `work` over `runs` passes.
    static func perPrompt(runs: Int, _ prompts: [String], _ work: (String) -> Void) -> Double {
        var times: [Double] = []
        for _ in 0..<max(1, runs) {
            let start = MonotonicClock.now()
            for prompt in prompts { work(prompt) }
            times.append((MonotonicClock.now() - start) / Double(prompts.count))
        }
        return MeasuredProcess.median(times)
    }
}
