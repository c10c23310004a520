import Foundation
import Testing
@testable import ModelRouteKit
@testable import modelroute

@Suite struct ClassifyCommandTests {
    private let rules = #"{"name": "chores", "route": "fast", "any": ["format"]}, {"name": "long", "route": "power", "min_words": 5}"#

    private func withTable<T>(_ body: (TemporaryDirectory, String) async throws -> T) async throws -> T {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", tableJSON(rules: rules))
        return try await body(directory, routes)
    }

    private func objects(_ jsonl: String) throws -> [JSONNode] {
        try jsonl.split(separator: "\n").map { try JSONParser.parse(Array($0.utf8)) }
    }

    @Test func jsonlRowsCarryIndexIdRouteModelRuleEvidenceTokensAndCosts() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("p.jsonl", #"{"id": "a", "prompt": "please format this"}"# + "\n" + #"{"prompt": "one two three four five six", "id": 7}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", input])
            #expect(result.status == 0, "\(result.stderr)")
            let rows = try objects(result.stdout)
            #expect(rows.count == 2)
            #expect(rows[0]["index"] == JSONNode(.number(1), offset: rows[0]["index"]?.offset ?? 0))
            #expect(rows[0]["id"]?.stringValue == "a")
            #expect(rows[0]["route"]?.stringValue == "fast")
            #expect(rows[0]["model"]?.stringValue == "small")
            #expect(rows[0]["rule"]?.stringValue == "chores")
            #expect(rows[1]["id"]?.stringValue == "7")
            #expect(rows[1]["route"]?.stringValue == "power")
            guard case .array(let evidence)? = rows[1]["evidence"]?.value else { Issue.record("no evidence"); return }
            #expect(evidence.first?.stringValue == "words 6 ≥ min_words 5")
            guard case .number(let tokens)? = rows[1]["input_tokens"]?.value, case .number(let cost)? = rows[1]["cost_usd"]?.value,
                case .number(let baseline)? = rows[1]["baseline_cost_usd"]?.value
            else { Issue.record("missing numbers"); return }
            #expect(tokens == 7)
            #expect(cost == 7 * 10 / 1e6)  // power → big, $10 per million
            #expect(baseline == 7 * 10 / 1e6)
            #expect(result.stderr.contains("Summary: 2 prompts"), "the summary goes to stderr with jsonl")
        }
    }

    @Test func aMalformedLineIsReportedWithFileAndLineSkippedAndExits65() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("bad.jsonl", """
                {"prompt": "format one"}
                {"prompt": "broken
                {"id": "x"}
                [1, 2]
                {"prompt": 42}

                {"prompt": "last one"}
                """)
            let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", input])
            #expect(result.status == 65)
            #expect(try objects(result.stdout).count == 2, "good lines are still classified")
            #expect(result.stderr.contains("bad.jsonl:2:"))
            #expect(result.stderr.contains("bad.jsonl:3: the object has no \"prompt\" key"))
            #expect(result.stderr.contains("bad.jsonl:4: expected a JSON object"))
            #expect(result.stderr.contains("bad.jsonl:5: \"prompt\" must be a string"))
            #expect(result.stderr.contains("4 lines were skipped"))
        }
    }

    @Test func escapedPromptsAreClassifiedOnTheirDecodedText() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("e.jsonl", #"{"prompt": "FOR\u004dAT\nthis \"now\" \ud83d\ude00"}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", input])
            #expect(result.status == 0)
            #expect(try objects(result.stdout).first?["rule"]?.stringValue == "chores")
        }
    }

    @Test func theFastScannerAndTheFullParserAgree() throws {
        let lines = [
            #"{"prompt": "plain"}"#, #"{"id": "i", "prompt": "x", "meta": {"a": [1, {"b": null}], "c": "q\"uote"}}"#,
            #"  {"prompt":"tabs\tand \u00e9","id":-3.5e2}  "#, #"{"extra": true, "prompt": "ok", "n": false}"#,
            #"{"prompt": "a", "meta": [1,]}"#, #"{"prompt": "x" "id": 1}"#, #"{"prompt": "x"} trailing"#, #"{"pro\u006dpt": "escaped key"}"#,
        ]
        let unescaped = ByteBuffer()
        for line in lines {
            let bytes = Array(line.utf8)
            let fast = bytes.withUnsafeBufferPointer { buffer -> String? in
                guard case .prompt(let range, let escaped, _) = JSONLPromptScanner.scan(buffer, unescapeInto: unescaped) else { return nil }
                return escaped ? String(decoding: unescaped.bytes, as: UTF8.self) : String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self)
            }
            let full = (try? JSONParser.parse(bytes))?["prompt"]?.stringValue
            if let fast {
                #expect(fast == full, "\(line)")
            }
        }
    }

    @Test func linesModeMakesEveryNonEmptyLineAPromptAndOtherFilesAreOnePrompt() async throws {
        try await withTable { directory, routesPath in
            let text = try directory.write("notes.txt", "format me\n\n  \none two three four five\r\n")
            let lines = await runCLI(["classify", "--routes", routesPath, "--format", "jsonl", "--lines", text])
            let routes = try objects(lines.stdout).map { $0["route"]?.stringValue }
            #expect(routes == ["fast", "power"])
            let whole = await runCLI(["classify", "--routes", routesPath, "--format", "jsonl", text])
            let wholeRows = try objects(whole.stdout)
            #expect(wholeRows.count == 1)
        }
    }

    @Test func standardInputIsOnePromptUnlessToldOtherwise() async throws {
        try await withTable { _, routes in
            let single = await runCLI(["classify", "--routes", routes, "--format", "jsonl"], stdin: "format\nthis")
            let singleRows = try objects(single.stdout)
            #expect(singleRows.count == 1)
            let jsonl = await runCLI(["classify", "--routes", routes, "--format", "jsonl", "--jsonl", "-"], stdin: "{\"prompt\": \"a\"}\n{\"prompt\": \"b\"}\n")
            let jsonlRows = try objects(jsonl.stdout)
            #expect(jsonlRows.count == 2)
        }
    }

    @Test func csvQuotesFieldsAndHasAHeader() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("p.jsonl", #"{"id": "a,b \"c\"", "prompt": "format"}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--format", "csv", input])
            let rows = result.stdout.split(separator: "\n")
            #expect(rows.first == "index,id,route,model,rule,input_tokens,cost_usd,baseline_cost_usd,difficulty,evidence")
            #expect(rows.dropFirst().first?.hasPrefix(#"1,"a,b ""c""",fast,small,chores,2,"#) == true)
        }
    }

    @Test func theSummaryCountsRoutesSharesAndSavings() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("p.jsonl", (0..<3).map { _ in #"{"prompt": "format"}"# }.joined(separator: "\n") + "\n" + #"{"prompt": "hello"}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--summary-only", input])
            #expect(result.status == 0)
            #expect(result.stdout.contains("Summary: 4 prompts"))
            #expect(result.stdout.contains("75.0%"))
            #expect(result.stdout.contains("25.0%"))
            #expect(result.stdout.contains("all on big"))
            #expect(!result.stdout.contains("{"))
        }
    }

    @Test func tableFormatPrintsAlignedRowsThenTheSummary() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("p.jsonl", #"{"id": "q1", "prompt": "format"}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--format", "table", input])
            let lines = result.stdout.split(separator: "\n")
            #expect(lines.first?.contains("route") == true)
            #expect(lines.dropFirst().first?.contains("q1") == true)
            #expect(result.stdout.contains("Summary: 1 prompt,"))
        }
    }

    @Test func aMissingFileExits66AndTheOthersAreStillRead() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("p.jsonl", #"{"prompt": "format"}"# + "\n")
            let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", directory.path + "/missing.jsonl", input])
            #expect(result.status == 66)
            #expect(result.stderr.contains("missing.jsonl: no such file"))
            #expect(try objects(result.stdout).count == 1)
        }
    }

    @Test func anInvalidUTF8PromptIsAClearErrorExit65() async throws {
        try await withTable { directory, routes in
            let input = try directory.write("latin1.txt", bytes: [0x63, 0x61, 0x66, 0xE9, 0x0A])
            let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", input])
            #expect(result.status == 65)
            #expect(result.stderr.contains("latin1.txt:1: the prompt is not valid UTF-8"))
        }
    }

    @Test func everyExamplePromptClassifiesCleanly() async throws {
        let prompts = repositoryRoot.appendingPathComponent("Examples/prompts.jsonl").path
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let result = await runCLI(["classify", "--routes", routes, "--format", "jsonl", prompts])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = try objects(result.stdout)
        #expect(rows.count >= 30)
        #expect(Set(rows.compactMap { $0["route"]?.stringValue }) == ["fast", "mid", "power"], "the examples exercise every route of the default")
    }
}

@Suite struct ParallelClassifyTests {
    @Test func chunksEndAtLineBreaksAndLongLinesSurvive() throws {
        let text = Array((["short", String(repeating: "x", count: 300_000), "", "tail-without-newline"].joined(separator: "\n")).utf8)
        let reader = LineChunkReader(chunkSize: 1000)
        var source = text[...]
        var joined: [UInt8] = []
        let chunk = ByteBuffer(capacity: 16)
        var chunks = 0
        while try reader.next(into: chunk, from: { buffer in
            let count = min(buffer.count, source.count, 777)
            for index in 0..<count { buffer[index] = source[source.startIndex + index] }
            source = source.dropFirst(count)
            return count
        }) {
            let bytes = Array(chunk.bytes)
            #expect(bytes.last == 0x0A || joined.count + bytes.count == text.count, "a chunk ends at a line break unless it is the last")
            joined += bytes
            chunks += 1
        }
        #expect(joined == text)
        #expect(chunks == 3, "the short line; the long line and the blank one; the unterminated tail")
        #expect(try reader.next(into: chunk, from: { _ in 0 }) == false, "the end stays the end")
        #expect(chunk.count == 0)
    }

    @Test func manyThreadsAndSmallChunksPrintExactlyWhatOneThreadPrints() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var generator = SeededLines(seed: 3)
        var lines: [String] = []
        for index in 0..<400 {
            lines.append(index % 37 == 5 ? "{\"prompt\": broken" : "{\"id\": \(index), \"prompt\": \"\(generator.prompt())\"}")
        }
        let input = try directory.write("p.jsonl", lines.joined(separator: "\n") + "\n")
        let table = try RoutingTableLoader.load(json: Array(try Data(contentsOf: repositoryRoot.appendingPathComponent("routes.json"))), source: "routes.json")
        func run(threads: Int, chunkSize: Int) -> (String, String, ClassifyRun.Summary) {
            var options = ClassifyRun.Options()
            options.threads = threads
            options.chunkSize = chunkSize
            let stdout = OutputSink.memory()
            let stderr = OutputSink.memory()
            var run = ClassifyRun(classifier: Classifier(table: table), options: options, stdout: stdout, stderr: stderr)
            let summary = run.run(inputs: [input], standardInput: .memory(""))
            return (stdout.captured, stderr.captured, summary)
        }
        let one = run(threads: 1, chunkSize: 1 << 20)
        let many = run(threads: 3, chunkSize: 512)
        #expect(one.0 == many.0)
        #expect(one.1 == many.1, "bad lines are reported with the same line numbers")
        #expect(one.2 == many.2)
        #expect(one.2.badLines == 11)
        #expect(one.1.contains("p.jsonl:6:"))
    }
}

@Suite struct ClassifyClosedOutputTests {
    /// `modelroute classify big.jsonl | head -1`: once nobody reads the rows, the run
    /// stops taking chunks instead of classifying the rest of the file.
    @Test func aClosedOutputStopsTheRunEarly() throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let line = #"{"id":"p","prompt":"Please format this list of items for the weekly report, thanks"}"# + "\n"
        let lineCount = 120_000  // about 10 MB: ten chunks
        let input = try directory.write("big.jsonl", String(repeating: line, count: lineCount))
        let (process, output, errors) = pipedProcess(binary, ["classify", "--format", "jsonl", input], environment: ["HOME": input + "-home"])
        try process.run()
        // Read one row, then go away.
        var first = Data()
        while !first.contains(0x0A) {
            let piece = output.fileHandleForReading.availableData
            if piece.isEmpty { break }
            first.append(piece)
        }
        try output.fileHandleForReading.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(String(decoding: first, as: UTF8.self).hasPrefix(#"{"index":1,"id":"p""#))
        #expect(process.terminationReason == .exit)
        let summary = try #require(stderr.split(separator: "\n").first { $0.hasPrefix("Summary: ") }, "\(stderr)")
        let classified = try #require(Int(summary.dropFirst("Summary: ".count).prefix { $0.isNumber }))
        #expect(classified < lineCount / 2, "stopped after \(classified) of \(lineCount) prompts")
    }
}

/// Deterministic short prompts for tests.
struct SeededLines {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    private static let words = ["format", "this", "list", "design", "a", "system", "why", "security", "audit", "hello", "é", "Straße", "翻译", "code;"]
    mutating func prompt() -> String {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        let count = Int(state >> 59) + 1
        return (0..<count).map { offset in SeededLines.words[Int((state >> UInt64(offset * 4)) & 0xF) % SeededLines.words.count] }.joined(separator: " ")
    }
}
