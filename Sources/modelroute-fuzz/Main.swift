import Foundation
import ModelRouteKit
import ModelRouteTestSupport

/// `modelroute-fuzz [--cases N] [--seed S] [--binary PATH]`: feeds mutated inputs to every
/// parser of untrusted bytes and to the built command, and fails (exit 1) on anything but a
/// clean answer or a clean refusal. A crash is a crash of this process (or of the spawned
/// command), which the test that runs it reports with the seed and case to replay.
///
/// What is mutated, from valid seeds: routing tables (→ `RoutingTableLoader`), log lines
/// (→ `LedgerRecord.decode` and a whole `report` through `ReportEngine`), JSONL prompt files
/// (→ `classify`), model files (→ `DifficultyModel.load`), HTTP responses (→
/// `HTTPResponseReader`), SSE streams and JSON bodies in the OpenAI, Anthropic and Gemini
/// formats (→ `SSEParser` and each format's reader), labelled files (→ the `eval` reader),
/// whole responses from a loopback server (→ both HTTP clients, libcurl's included),
/// and argument vectors (→ the built `modelroute`, no network: no keys are set, and only
/// `--offline` calls can answer).
@main
enum FuzzMain {
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        func value(_ name: String) -> String? {
            guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
            return arguments[index + 1]
        }
        let cases = value("--cases").flatMap(Int.init) ?? 2000
        let seed = value("--seed").flatMap(UInt64.init) ?? 1
        let here = FileManager.default.currentDirectoryPath
        let binary = value("--binary").map { $0.hasPrefix("/") ? $0 : here + "/" + $0 }
        var fuzzer = Fuzzer(seed: seed, directory: NSTemporaryDirectory() + "modelroute-fuzz-\(getpid())")
        defer { try? FileManager.default.removeItem(atPath: fuzzer.directory) }
        // Command runs such as `--log hello` write relative to the working directory: that is the scratch folder.
        _ = FileManager.default.changeCurrentDirectoryPath(fuzzer.directory)
        let start = Date()
        for index in 0..<cases {
            fuzzer.caseNumber = index
            fuzzer.runOne()
        }
        let exchanges = fuzzer.exchanges(count: max(1, cases / 40))
        var commandRuns = 0
        if let binary {
            let count = max(1, cases / 40)
            for index in 0..<count {
                fuzzer.caseNumber = index
                if !fuzzer.runCommand(binary) { exit(1) }
                commandRuns += 1
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("modelroute-fuzz: \(cases) cases, \(exchanges) loopback exchanges and \(commandRuns) command runs, seed \(seed), in \(String(format: "%.1f", seconds)) s: no crash, no hang")
    }
}

/// Makes and checks one mutated input at a time.
struct Fuzzer {
    var random: SeededGenerator
    let directory: String
    var caseNumber = 0

    init(seed: UInt64, directory: String) {
        random = SeededGenerator(seed: seed)
        self.directory = directory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    /// Pieces that break parsers: numbers at the edges, quotes, brackets, controls, a BOM.
    static let hostile: [String] = [
        "\u{0}", "\u{FEFF}", "\r", "\n", "\r\n", "\"", "\\", "{", "}", "[", "]", ",", ":", "null", "true", "-1", "-0", "0x10",
        "1e308", "1e-308", "-1e308", "99999999999999999999", "9223372036854775808", "NaN", "inf", "\u{FFFF}", "\u{10FFFF}", "é",
        "東京", "\\u0000", "\\uD800", "\"\": 1", "[[[[[[[[", "]]]]", "{}", "[]", "\"x\"", "data: ", "event: ", ": ping", "-5\r\n",
        "ffffffffffffffff\r\n", "0\r\n\r\n", "Content-Length: -1\r\n", "Transfer-Encoding: chunked\r\n",
    ]

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }
    mutating func number(_ limit: Int) -> Int { limit <= 0 ? 0 : Int(random.next() % UInt64(limit)) }

    /// One to four random edits of `bytes`.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<(1 + number(4)) {
            let position = number(bytes.count + 1)
            switch number(7) {
            case 0: if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] ^= UInt8(truncatingIfNeeded: 1 << number(8)) }
            case 1: bytes.insert(contentsOf: Array(pick(Fuzzer.hostile).utf8), at: position)
            case 2: if position < bytes.count { bytes.removeSubrange(position..<min(bytes.count, position + 1 + number(8))) }
            case 3: bytes = Array(bytes.prefix(position))
            case 4: if position < bytes.count { bytes.insert(contentsOf: bytes[position..<min(bytes.count, position + number(32))], at: position) }
            case 5: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
            default:
                // Replace a number with an extreme one.
                if let digit = bytes[min(position, max(0, bytes.count - 1))...].firstIndex(where: { $0 >= 0x30 && $0 <= 0x39 }) {
                    bytes.replaceSubrange(digit...digit, with: Array(pick(["1e308", "-1", "99999999999999999999", "0", "1e-9", "4294967296"]).utf8))
                }
            }
        }
        return bytes
    }

    mutating func runOne() {
        switch caseNumber % 10 {
        case 0: table()
        case 8: respReply()
        case 9: cacheEntry()
        case 1: logLines()
        case 2: promptFile()
        case 3: httpResponse()
        case 4: stream()
        case 5: replyBody()
        case 6: labelled()
        default: modelFile()
        }
    }

    /// A table with what the default lacks: answer checks, an escalation chain, a judge, an
    /// experiment and a cache.
    static let richTable = """
        {"version": 1, "default_route": "fast", "baseline_model": "big",
         "experiment": {"name": "e", "control_share": 0.1, "control_model": "big"},
         "cache": {"ttl": "7d", "max_mb": 16, "url": "redis://127.0.0.1:1/2", "password_env": "P", "timeout_ms": 50},
         "providers": {"o": {"type": "mock"}},
         "models": {"small": {"provider": "o", "input_per_mtok": 0.1, "output_per_mtok": 0.4, "mock": "refusal"}, "big": {"provider": "o", "input_per_mtok": 3, "output_per_mtok": 15}},
         "routes": {"fast": {"model": "small", "checks": ["empty", {"refusal": ["no"]}, "truncated", {"min_chars": 5, "when_prompt_words_over": 3}, "json",
                    {"judge": {"model": "small", "threshold": 0.5, "prompt": "{question} {answer}"}}], "escalate_to": "power", "answer_format": "json", "cache": false},
                    "power": {"model": "big"}}}
        """

    mutating func table() {
        let bytes = mutate(Array((number(2) == 0 ? EmbeddedRoutes.json : Fuzzer.richTable).utf8))
        guard let table = try? RoutingTableLoader.load(json: bytes, source: "fuzz.json") else { return }
        // A table that loads must classify and describe without trouble.
        let classifier = Classifier(table: table)
        for prompt in ["", "hello", "Prove that 2 is prime", String(repeating: "word ", count: 2000), "東京の天気は？"] {
            _ = classifier.classify(prompt, context: ClassificationContext(timeZone: TimeZone(secondsFromGMT: 0) ?? .current))
            _ = classifier.trace(prompt, context: ClassificationContext(timeZone: TimeZone(secondsFromGMT: 0) ?? .current))
        }
        _ = TableDescription.render(table, environment: [:])
    }

    /// Mutated Redis replies: parsed whole, or from any prefix, they give a value or an error.
    mutating func respReply() {
        let seeds = ["*2\r\n$1\r\n0\r\n*1\r\n$4\r\nkey1\r\n", "$5\r\nhello\r\n", "-ERR wrong\r\n", ":12\r\n", "+OK\r\n", "$-1\r\n"]
        let bytes = mutate(Array(pick(seeds).utf8))
        for end in [bytes.count, bytes.count / 2, number(bytes.count + 1)] {
            if let parsed = try? RESP.parse(Array(bytes.prefix(end))), parsed.end > end { fail("a RESP reply ended past its bytes") }
        }
    }

    /// Mutated cache entries: a miss or an entry, never a crash.
    mutating func cacheEntry() {
        let entry = CacheEntry(
            createdMillis: 1_795_000_000_000, route: "fast", model: "m", provider: "p", inputTokens: 3, outputTokens: 4, cachedInputTokens: nil,
            usageEstimated: false, offline: false, answer: "An answer.\n")
        if case .success(let decoded) = CacheEntry.decode(mutate(entry.encoded())), decoded.inputTokens < 0 || decoded.createdMillis < 0 {
            fail("a cache entry decoded with a negative count")
        }
    }

    static let sampleRecord: LedgerRecord = {
        var record = LedgerRecord(
            timestamp: "2026-11-01T09:30:00.125Z", id: "id-1", route: "fast", rule: "easy", model: "gpt-4.1-mini", provider: "openai",
            inputTokens: 1200, outputTokens: 340, cachedInputTokens: 1000, usageEstimated: false, costUSD: 0.00885,
            baselineModel: "claude-sonnet-4-5", baselineCostUSD: 0.01, latencyMilliseconds: 2310, timeToFirstTokenMilliseconds: 412,
            status: .ok, error: nil, attempts: 1, fallbackFrom: nil, cacheHit: true, promptSHA256: String(repeating: "ab", count: 32),
            promptChars: 4800, tags: [("team", "search")])
        record.difficulty = 0.5
        return record
    }()

    mutating func logLines() {
        var lines: [UInt8] = []
        for _ in 0..<(1 + number(6)) {
            var record = Fuzzer.sampleRecord
            if number(2) == 0 { record.version = 1 }
            let line = record.jsonLine()
            let mutated = number(3) == 0 ? line : mutate(line)
            _ = try? LedgerRecord.decode(line: Array(mutated.prefix { $0 != 0x0A }))
            lines += mutated
        }
        let path = directory + "/log-\(caseNumber % 4).jsonl"
        guard FileManager.default.createFile(atPath: path, contents: Data(lines)) else { return }
        let request = ReportRequest(
            logs: [path], dimensions: pick(Fuzzer.groupings), timeZone: TimeZone(secondsFromGMT: 3600) ?? .current, workers: 1)
        _ = try? ReportEngine.run(request, files: [path])
    }

    static let groupings: [[ReportDimension]] = [[], [.day], [.model, .tag("team")], [.status]]

    mutating func promptFile() {
        let seed = Array(#"{"id": "p1", "prompt": "Convert this to JSON: a=1"}"#.utf8) + [0x0A] + Array(#"{"prompt": "Prove it\n\tnow \u00e9 \ud83d\ude00"}"#.utf8)
        let bytes = mutate(seed)
        var options = ClassifyRun.Options()
        options.format = pick(ClassifyOutputFormat.allCases)
        options.inputFormat = pick([PromptFileFormat.jsonl, .lines, .whole])
        options.threads = 1
        options.chunkSize = 64
        var run = ClassifyRun(
            classifier: Classifier(table: Fuzzer.defaultTable), options: options, stdout: .memory(), stderr: .memory())
        _ = run.run(inputs: ["-"], standardInput: .memory(bytes))
    }

    static let defaultTable: RoutingTable = {
        (try? RoutingTableLoader.load(json: Array(EmbeddedRoutes.json.utf8), source: "default")) ?? RoutingTable(
            defaultRoute: "r", baselineModel: "m", providers: [ProviderConfig(name: "p", type: .mock)],
            models: [ModelConfig(name: "m", provider: "p", pricing: ModelPricing(inputPerMillion: 1, outputPerMillion: 1))],
            routes: [RouteConfig(name: "r", model: "m")], rules: [], source: "fallback")
    }()

    mutating func httpResponse() {
        let seeds = [
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
            "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n5;x=1\r\nhello\r\n0\r\nTrailer: t\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nRetry-After: 1e300\r\n\r\n",
            "HTTP/1.0 200 OK\r\n\r\nuntil close",
        ]
        let bytes = mutate(Array(pick(seeds).utf8))
        var reader = HTTPResponseReader()
        var index = 0
        do {
            while index < bytes.count {
                let size = 1 + number(16)
                let end = min(bytes.count, index + size)
                _ = try bytes[index..<end].withUnsafeBytes { try reader.feed($0) }
                index = end
            }
            if !reader.isComplete { _ = try reader.finish() }
        } catch {}
        var headers: [String: String] = [:]
        headers["retry-after"] = String(decoding: mutate(Array("120".utf8)), as: UTF8.self)
        headers["retry-after-ms"] = String(decoding: mutate(Array("250".utf8)), as: UTF8.self)
        if let wait = RetryTiming.retryAfter(headers: headers, now: Date()) {
            guard wait.isFinite, wait >= 0, wait <= RetryTiming.longestWait else { fail("Retry-After read as \(wait)") }
        }
    }

    /// Mutated responses from a loopback server, through both HTTP clients (the built-in
    /// one and libcurl, which serves https); each exchange must end, in time, without a
    /// crash. The number of exchanges made.
    mutating func exchanges(count: Int) -> Int {
        var responses: [[UInt8]] = []
        for _ in 0..<count { responses.append(mutate(Array(pick(Fuzzer.responseSeeds).utf8))) }
        let scripted = responses
        guard let server = try? TestHTTPServer(lifetime: 600, respond: { _, index in .raw(scripted[index % scripted.count]) }) else {
            fail("cannot start the loopback server")
        }
        defer { server.stop() }
        let clients = HTTPClient.PlainHTTPClient.allCases.map { HTTPClient(plainHTTP: $0) }
        let spec = HTTPRequestSpec(url: server.baseURL + "/v1/chat/completions", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        let done = DispatchSemaphore(value: 0)
        let caseBase = caseNumber
        Task {
            for index in 0..<count {
                let started = Date()
                _ = await clients[index % clients.count].perform(spec, timeout: 2, handler: DiscardingHandler(), cancellation: CancellationSignal())
                if Date().timeIntervalSince(started) > 10 {
                    print("modelroute-fuzz: exchange \(index) (after case \(caseBase)) took over 10 s")
                    exit(1)
                }
            }
            done.signal()
        }
        done.wait()
        return count
    }

    static let responseSeeds = [
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n1c\r\ndata: {\"choices\":[{\"a\":1}]}\n\n\r\n0\r\nX-Trailer: yes\r\n\r\n",
        "HTTP/1.1 200\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 429 Too Many\r\nRetry-After: 1e300\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.0 200 OK\r\n\r\nuntil close",
        "HTTP/1.1 301 Moved\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n",
    ]

    static let formats: [any WireFormat] = [OpenAIFormat(), AnthropicFormat(), GeminiFormat()]
    static let streams: [String] = [
        "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\ndata: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3,\"output_tokens\":1}}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"delta\":{\"text\":\"Hi\"}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"text\":\"Hi\"}]},\"finishReason\":\"STOP\"}],\"usageMetadata\":{\"promptTokenCount\":3,\"candidatesTokenCount\":1}}\r\n\r\n",
    ]

    mutating func stream() {
        let which = number(3)
        let bytes = mutate(Array(Fuzzer.streams[which].utf8))
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var index = 0
        while index < bytes.count {
            let end = min(bytes.count, index + 1 + number(20))
            events += parser.feed(Array(bytes[index..<end]))
            index = end
        }
        if let last = parser.finish() { events.append(last) }
        for event in events { _ = try? Fuzzer.formats[which].parseEvent(event) }
    }

    static let replies = [
        #"{"choices":[{"message":{"content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"prompt_tokens_details":{"cached_tokens":1}}}"#,
        #"{"content":[{"type":"text","text":"Hi"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}"#,
        #"{"candidates":[{"content":{"parts":[{"text":"Hi"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1}}"#,
        #"{"error":{"message":"bad key sk-test-0123456789","type":"auth"}}"#,
    ]

    mutating func replyBody() {
        let which = number(4)
        guard let node = try? JSONParser.parse(mutate(Array(Fuzzer.replies[which].utf8))) else { return }
        let format = Fuzzer.formats[which % 3]
        if let reply = try? format.parseReply(node) {
            for count in [reply.usage.inputTokens, reply.usage.outputTokens, reply.usage.cachedInputTokens] {
                if let count, count < 0 { fail("a negative token count was accepted: \(count)") }
            }
        }
        _ = format.errorMessage(node)
    }

    mutating func labelled() {
        let seed = Array(#"{"prompt": "Sort these", "label": "easy", "source": "s", "category": "c", "id": "1"}"#.utf8) + [0x0A]
            + Array(#"{"prompt": "Prove it", "route": "power"}"#.utf8)
        let result = LabelledPromptReader.read(mutate(seed), file: "fuzz.jsonl", requirement: .labelOrRoute)
        if !result.prompts.isEmpty {
            _ = RoutingEvaluation(classifier: Classifier(table: Fuzzer.defaultTable), prompts: result.prompts, context: ClassificationContext(timeZone: TimeZone(secondsFromGMT: 0) ?? .current)).renderTable(misrouteLimit: 3)
        }
    }

    static let smallModel: [UInt8] = {
        var options = DifficultyTrainer.Options()
        options.bits = 10
        options.epochs = 1
        let prompts = [LabelledPrompt(prompt: "zorblat", label: .easy), LabelledPrompt(prompt: "quuxian", label: .hard)]
        return DifficultyTrainer.train(prompts, options: options).fileBytes()
    }()

    mutating func modelFile() {
        let path = directory + "/model-\(caseNumber % 4).model"
        let bytes = number(4) == 0 ? Fuzzer.smallModel : mutate(Fuzzer.smallModel)
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { return }
        if let model = try? DifficultyModel.load(path: path) {
            let score = model.score("Prove that the square root of 2 is irrational.")
            guard score >= 0, score <= 1 else { fail("a model scored \(score)") }
        }
    }

    /// Runs the built command with a random argument vector; true when it ended by itself
    /// with a documented status in time.
    mutating func runCommand(_ binary: String) -> Bool {
        let words = [
            "classify", "report", "check", "eval", "train", "help", "--dry-run", "--explain", "--json", "--offline", "--route", "fast",
            "--model", "gpt-4.1", "--max-tokens", "-1", "99999999999999999999", "--temperature", "1e308", "--timeout", "0", "--since",
            "7d", "2026-02-30", "--by", "day,model,tag:x", "--format", "csv", "--tier", "free", "--", "-", "hello", "Prove it",
            "--lines", "--jsonl", "--against", "/nonexistent.json", "--bits", "9", "--misroutes", "NaN", "--log", "--tag", "a=b", "=x",
            "--routes", "--include-offline", "--no-stream", "-h", "--version", "reprot", "東京", "",
        ]
        let arguments = (0..<number(7)).map { _ in pick(words) }
        let logPath = directory + "/usage.jsonl"
        let stdinPath = directory + "/stdin.txt"
        _ = FileManager.default.createFile(atPath: stdinPath, contents: Data(mutate(Array("Summarize this".utf8))))
        let documented: Set<Int32> = [0, 1, 64, 65, 66, 69, 70, 74, 75, 78]
        do {
            let measured = try MeasuredProcess.run(
                binary, arguments, stdinPath: stdinPath, stdoutPath: "/dev/null", stderrPath: "/dev/null",
                environment: ["HOME": directory, "MODELROUTE_LOG": logPath, "PATH": "/usr/bin:/bin", "TZ": "UTC"])
            if !documented.contains(measured.status) {
                print("modelroute-fuzz: modelroute \(arguments) exited with \(measured.status) (case \(caseNumber))")
                return false
            }
            if measured.seconds > 20 {
                print("modelroute-fuzz: modelroute \(arguments) took \(measured.seconds) s (case \(caseNumber))")
                return false
            }
        } catch {
            print("modelroute-fuzz: cannot run \(binary): \(error)")
            return false
        }
        return true
    }

    func fail(_ message: String) -> Never {
        print("modelroute-fuzz: case \(caseNumber): \(message)")
        exit(1)
    }
}

/// Takes a response and throws it away.
final class DiscardingHandler: HTTPResponseHandler {
    func receive(status: Int, headers: [String: String]) -> Bool { true }
    func receive(data: Data) -> Bool { true }
}
