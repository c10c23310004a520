import Foundation
import ModelRouteKit

/// Deterministic usage-log records for tests and the report benchmark: the models,
/// routes and prices of the shipped routes.json, a mix of statuses, fallbacks, cache
/// hits and tags, and (when `exotic`) strings with escapes and non-ASCII text.
public struct LedgerLogGenerator {
    /// Models with (provider, input price, output price, cached price) per million tokens.
    public static let models: [(name: String, provider: String, input: Double, output: Double, cached: Double)] = [
        ("gpt-4.1-nano", "openai", 0.10, 0.40, 0.025),
        ("gpt-4.1-mini", "openai", 0.40, 1.60, 0.10),
        ("gpt-4.1", "openai", 2.00, 8.00, 0.50),
        ("gpt-4o-mini", "openai", 0.15, 0.60, 0.075),
        ("claude-haiku-4-5", "anthropic", 1.00, 5.00, 0.10),
        ("claude-sonnet-4-5", "anthropic", 3.00, 15.00, 0.30),
    ]
    /// Routes with their rules.
    static let routes: [(name: String, rules: [String])] = [
        ("fast", ["short-question", "trivial-task", "free-tier"]),
        ("mid", ["code", "default"]),
        ("power", ["deep-reasoning", "large-code", "very-long", "override"]),
    ]
    /// Tag values, plain.
    static let teams = ["search", "billing", "support", "growth", "platform", "mobile"]
    /// Tag values and error texts that need escaping or are not ASCII.
    static let exoticTexts = [
        "naïve café", "日本語チーム", "emoji 🚀 team", "quote \" inside", "back\\slash", "tab\tand\nnewline", "ünïcödé/slash",
        "control \u{01} char", "Ω≈ç√",
    ]

    /// The seeded source of every choice.
    private var random: SeededGenerator
    /// Whether to mix in strings that need escaping or are not ASCII.
    private let exotic: Bool
    /// Milliseconds of the next record's timestamp.
    private var millis: Int64
    /// Records made so far.
    public private(set) var count = 0

    /// A generator; the same seed gives the same records. `start` is the first timestamp.
    public init(seed: UInt64, exotic: Bool = false, start: Int64 = 1_793_491_200_000) {
        random = SeededGenerator(seed: seed)
        self.exotic = exotic
        millis = start
    }

    /// One of `values`, uniformly.
    private mutating func pick<T>(_ values: [T]) -> T { values[Int(random.next() % UInt64(values.count))] }
    /// `length` random lowercase hex digits.
    private mutating func hex(_ length: Int) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        text.reserveCapacity(length)
        for _ in 0..<length { text.append(digits[Int(random.next() & 15)]) }
        return text
    }

    /// The next record.
    public mutating func next() -> LedgerRecord {
        count += 1
        millis += Int64(random.next() % 4000)
        let route = pick(LedgerLogGenerator.routes)
        let modelIndex = Int(random.next() % UInt64(LedgerLogGenerator.models.count))
        let model = LedgerLogGenerator.models[modelIndex]
        let baseline = LedgerLogGenerator.models[5]
        let input = Int(20 + random.next() % 4000)
        let output = Int(random.next() % 1500)
        let cacheHit = random.next() % 5 == 0
        let cached: Int? = cacheHit ? input / 2 : (random.next() % 3 == 0 ? nil : 0)
        func cost(_ m: (name: String, provider: String, input: Double, output: Double, cached: Double)) -> Double {
            ModelPricing(inputPerMillion: m.input, outputPerMillion: m.output, cachedInputPerMillion: m.cached)
                .cost(inputTokens: input, outputTokens: output, cachedInputTokens: cached ?? 0)
        }
        let roll = random.next() % 1000
        let status: LedgerRecord.Status = roll < 20 ? .error : roll < 25 ? .cancelled : .ok
        let fallback = random.next() % 20 == 0
        let latency = Int(150 + random.next() % 900 + (random.next() % 10 == 0 ? random.next() % 20_000 : 0))
        var tags: [(key: String, value: String)] = [("team", pick(LedgerLogGenerator.teams)), ("env", random.next() % 4 == 0 ? "staging" : "production")]
        if random.next() % 2 == 0 { tags.append(("user", "user-\(random.next() % 500)")) }
        var error: String? = status == .ok ? nil : status == .cancelled ? "cancelled by the user (SIGINT)" : "HTTP 529 from anthropic: Overloaded; gave up after 3 attempts"
        if exotic, random.next() % 3 == 0 {
            tags.append(("note", pick(LedgerLogGenerator.exoticTexts)))
            if random.next() % 2 == 0 { tags[0].value = pick(LedgerLogGenerator.exoticTexts) }
            if status != .ok { error = "provider said: \(pick(LedgerLogGenerator.exoticTexts))" }
        }
        return LedgerRecord(
            timestamp: LedgerTimestamp.string(epochMilliseconds: millis),
            id: "\(hex(8))-\(hex(4))-\(hex(4))-\(hex(4))-\(hex(12))", route: route.name, rule: pick(route.rules),
            model: model.name, provider: model.provider, inputTokens: input, outputTokens: output, cachedInputTokens: cached,
            usageEstimated: random.next() % 10 == 0, costUSD: cost(model), baselineModel: baseline.name,
            baselineCostUSD: cost(baseline), latencyMilliseconds: latency,
            timeToFirstTokenMilliseconds: random.next() % 4 == 0 ? nil : latency / 3, status: status, error: error,
            attempts: fallback ? 2 + Int(random.next() % 3) : 1, fallbackFrom: fallback ? "gpt-4.1" : nil, cacheHit: cacheHit,
            promptSHA256: hex(64), promptChars: input * 4, tags: tags)
    }

    /// Writes `count` records to `path` (replacing it) and returns the number of bytes.
    @discardableResult
    public static func writeLog(path: String, count: Int, seed: UInt64 = 7, exotic: Bool = false) throws -> Int {
        var generator = LedgerLogGenerator(seed: seed, exotic: exotic)
        guard let handle = fopen(path, "w") else { throw BenchmarkFailure("cannot write \(path)") }
        defer { fclose(handle) }
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var written = 0
        for _ in 0..<count {
            buffer += generator.next().jsonLine()
            if buffer.count >= 1 << 20 {
                written += fwrite(buffer, 1, buffer.count, handle)
                buffer.removeAll(keepingCapacity: true)
            }
        }
        written += fwrite(buffer, 1, buffer.count, handle)
        return written
    }
}
