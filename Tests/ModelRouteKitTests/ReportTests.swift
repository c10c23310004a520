import Foundation
import Testing
import ModelRouteTestSupport
@testable import ModelRouteKit
@testable import modelroute

/// One record line, built from the fields that matter to a report.
func recordLine(
    _ ts: String, route: String?, model: String?, provider: String?, rule: String? = "default", input: Int, output: Int,
    cached: Int? = nil, cost: Double, baseline: Double?, latency: Int, status: LedgerRecord.Status = .ok,
    fallbackFrom: String? = nil, cacheHit: Bool = false, tags: [(key: String, value: String)] = []
) -> String {
    let record = LedgerRecord(
        timestamp: ts, id: UUID().uuidString, route: route, rule: rule, model: model, provider: provider, inputTokens: input,
        outputTokens: output, cachedInputTokens: cached, usageEstimated: false, costUSD: cost,
        baselineModel: baseline == nil ? nil : "claude-sonnet-4-5", baselineCostUSD: baseline, latencyMilliseconds: latency,
        timeToFirstTokenMilliseconds: nil, status: status, error: status == .ok ? nil : "HTTP 529", attempts: fallbackFrom == nil ? 1 : 3,
        fallbackFrom: fallbackFrom, cacheHit: cacheHit, promptSHA256: String(repeating: "0", count: 64), promptChars: 10, tags: tags)
    return String(decoding: record.jsonLine(), as: UTF8.self)
}

/// Four calls whose sums are worked out by hand in the tests below.
let handLog = [
    recordLine("2026-11-01T10:00:00.000Z", route: "fast", model: "gpt-4.1-mini", provider: "openai", rule: "short-question",
               input: 1000, output: 500, cost: 0.0012, baseline: 0.0105, latency: 100, tags: [("team", "search")]),
    recordLine("2026-11-01T11:00:00.000Z", route: "power", model: "claude-sonnet-4-5", provider: "anthropic", rule: "deep-reasoning",
               input: 2000, output: 1000, cached: 1000, cost: 0.0183, baseline: 0.0183, latency: 2000, cacheHit: true, tags: [("team", "billing")]),
    recordLine("2026-11-02T09:00:00.000Z", route: "fast", model: "claude-haiku-4-5", provider: "anthropic", rule: "short-question",
               input: 100, output: 0, cost: 0.0001, baseline: 0.0003, latency: 50, status: .error, fallbackFrom: "gpt-4.1-mini"),
    recordLine("2026-11-02T10:00:00.000Z", route: "mid", model: "gpt-4.1", provider: "openai", input: 500, output: 250,
               cost: 0.003, baseline: 0.00525, latency: 300, status: .cancelled, tags: [("team", "search")]),
].joined()

/// Parses the JSON report on standard output.
func reportJSON(_ result: CLIResult) throws -> JSONNode {
    try JSONParser.parse(Array(result.stdout.utf8))
}

/// A number inside a JSON report.
func number(_ node: JSONNode?, _ path: String...) -> Double? {
    var current = node
    for key in path { current = current?[key] }
    if case .number(let value)? = current?.value { return value }
    return nil
}

/// The strings of a JSON array.
func strings(_ node: JSONNode?) -> [String] {
    if case .array(let items)? = node?.value { return items.compactMap(\.stringValue) }
    return []
}

/// The groups array of a JSON report node.
func groups(_ node: JSONNode?) -> [JSONNode] {
    if case .array(let items)? = node?["groups"]?.value { return items }
    return []
}

/// The figures of a report, checked by hand, in every grouping and format.
@Suite struct ReportNumberTests {
    @Test func totalsOfAHandCheckedLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let result = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(result.status == 0)
        #expect(result.stderr == "")
        let json = try reportJSON(result)
        #expect(number(json, "totals", "calls") == 4)
        #expect(number(json, "totals", "input_tokens") == 3600)
        #expect(number(json, "totals", "output_tokens") == 1750)
        #expect(number(json, "totals", "cached_input_tokens") == 1000)
        #expect(number(json, "totals", "cost_usd") == 0.0226)
        #expect(number(json, "totals", "baseline_cost_usd") == 0.03435)
        #expect(number(json, "totals", "saved_usd") == 0.01175)
        #expect(number(json, "totals", "saved_percent") == 34.21)
        #expect(number(json, "totals", "cache_hits") == 1)
        #expect(number(json, "totals", "fallbacks") == 1)
        #expect(number(json, "totals", "errors") == 1)
        #expect(number(json, "totals", "cancelled") == 1)
        // Nearest rank of 50, 100, 300, 2000: p50 is 100 (bucket 100–101, shown as 101), p95 is 2000 (1984–2015).
        #expect(number(json, "totals", "latency_p50_ms") == 101)
        #expect(number(json, "totals", "latency_p95_ms") == 2000)
        #expect(strings(json["baseline_models"]) == ["claude-sonnet-4-5"])
    }

    @Test func groupsByRouteSortedByCost() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let json = try reportJSON(await runCLI(["report", "--log", log, "--by", "route", "--format", "json"]))
        let routes = groups(json)
        #expect(routes.map { $0["value"]?.stringValue } == ["power", "mid", "fast"])
        #expect(number(routes[2], "stats", "calls") == 2)
        #expect(number(routes[2], "stats", "cost_usd") == 0.0013)
        #expect(number(routes[2], "stats", "baseline_cost_usd") == 0.0108)
        #expect(number(routes[2], "stats", "latency_p50_ms") == 50)
        #expect(number(routes[0], "stats", "share_of_cost") == 0.8097)
    }

    @Test func nestsLevelsInTheOrderGiven() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let json = try reportJSON(await runCLI(["report", "--log", log, "--by", "provider", "--by", "route,model", "--format", "json"]))
        #expect(strings(json["by"]) == ["provider", "route", "model"])
        let providers = groups(json)
        #expect(providers.map { $0["value"]?.stringValue } == ["anthropic", "openai"])
        let anthropicRoutes = groups(providers[0])
        #expect(anthropicRoutes.map { $0["value"]?.stringValue } == ["power", "fast"])
        #expect(groups(anthropicRoutes[1]).map { $0["value"]?.stringValue } == ["claude-haiku-4-5"])
        #expect(number(providers[1], "stats", "calls") == 2)
    }

    @Test func everyGroupingAsCSV() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let expected: [String: [String]] = [
            "route": ["power", "mid", "fast"],
            "model": ["claude-sonnet-4-5", "gpt-4.1", "gpt-4.1-mini", "claude-haiku-4-5"],
            "provider": ["anthropic", "openai"],
            "rule": ["deep-reasoning", "default", "short-question"],
            "status": ["ok", "cancelled", "error"],
            "day": ["2026-11-01", "2026-11-02"],
            "tag:team": ["billing", "search", ""],
        ]
        for (dimension, values) in expected {
            let result = await runCLI(["report", "--log", log, "--by", dimension, "--format", "csv"])
            #expect(result.status == 0)
            let rows = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
            #expect(rows.first?.hasPrefix("\(dimension),calls,input_tokens,output_tokens,") == true, "\(dimension)")
            #expect(rows.dropFirst().map { String($0.prefix(while: { $0 != "," })) } == values, "\(dimension)")
        }
        let totals = await runCLI(["report", "--log", log, "--format", "csv"])
        #expect(totals.stdout.hasPrefix("calls,input_tokens,output_tokens,cached_input_tokens,cost_usd,baseline_cost_usd,saved_usd,saved_percent"))
        #expect(totals.stdout.contains("\n4,3600,1750,1000,0.0226,0.03435,0.01175,34.21,"))
    }

    @Test func tableIsAlignedAndPlainASCIIWhenNotATerminal() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let result = await runCLI(["report", "--log", log, "--by", "route,model"])
        #expect(result.status == 0)
        #expect(result.stdout.utf8.allSatisfy { $0 < 0x80 })
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let header = try #require(lines.first { $0.hasPrefix("route / model") })
        let power = try #require(lines.first { $0.hasPrefix("power ") })
        let child = try #require(lines.first { $0.hasPrefix("  claude-sonnet-4-5") })
        // Columns line up: the calls column ends at the same place in every row.
        let end = header.range(of: "calls")?.upperBound.utf16Offset(in: header)
        #expect(power.prefix(end ?? 0).hasSuffix("1"))
        #expect(child.prefix(end ?? 0).hasSuffix("1"))
        #expect(power.contains("#############") && power.contains("81.0%"))
        #expect(result.stdout.contains("saved         $0.0118  (34.2%)"))
        #expect(result.stdout.contains("errors        1  (and 1 cancelled)"))
    }

    @Test func barsUseUnicodeBlocksOnATerminal() throws {
        #expect(ReportRenderer.bar(0.5, decorated: true) == String(repeating: "█", count: 8) + String(repeating: " ", count: 8))
        #expect(ReportRenderer.bar(1.0 / 32, decorated: true).hasPrefix("▌"))
        #expect(ReportRenderer.bar(0.5, decorated: false) == String(repeating: "#", count: 8) + String(repeating: " ", count: 8))
    }

    @Test func baselineRepricesWithARoutesModel() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let result = await runCLI(["report", "--log", log, "--baseline", "gpt-4.1", "--routes", routes, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try reportJSON(result)
        // gpt-4.1: $2 in, $0.50 cached in, $8 out per million: 0.006 + 0.0105 + 0.0002 + 0.003.
        #expect(number(json, "totals", "baseline_cost_usd") == 0.0197)
        #expect(json["repriced"]?.value == .bool(true))
        let unknown = await runCLI(["report", "--log", log, "--baseline", "gpt-41", "--routes", routes])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("no model \"gpt-41\""))
        #expect(unknown.stderr.contains("did you mean \"gpt-4.1\"?"))
    }

    @Test func histogramPrecisionIsAsDocumented() {
        var histogram = LatencyHistogram()
        for value in 0..<64 { #expect(LatencyHistogram.representative(LatencyHistogram.bucket(value)) == value) }
        var random = SeededGenerator(seed: 3)
        for _ in 0..<10_000 {
            let value = Int(random.next() % 5_000_000)
            let shown = LatencyHistogram.representative(LatencyHistogram.bucket(value))
            #expect(abs(Double(shown - value)) <= Double(value) / 64 + 0.5, "\(value) → \(shown)")
            histogram.record(value)
        }
        #expect(histogram.total == 10_000)
        #expect(LatencyHistogram.bucketCount == 896)
    }
}

/// Which logs are read and what happens to lines that are not records.
@Suite struct ReportInputTests {
    @Test func mergesFilesAndDirectories() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let lines = handLog.split(separator: "\n").map { String($0) + "\n" }
        try directory.write("machines/a.jsonl", lines[0] + lines[1])
        try directory.write("machines/b.jsonl", String(lines[2]))
        try directory.write("machines/notes.txt", "not a log")
        let single = try directory.write("laptop.jsonl", String(lines[3]))
        // A file named twice (here directly and through its directory) is read once.
        let result = await runCLI(["report", "--log", directory.path + "/machines", "--log", single, "--log", directory.path + "/machines/a.jsonl", "--format", "json"])
        #expect(result.status == 0)
        let json = try reportJSON(result)
        #expect(number(json, "totals", "calls") == 4)
        if case .array(let logs)? = json["logs"]?.value { #expect(logs.count == 3) } else { Issue.record("no logs") }
        let empty = try TemporaryDirectory()
        defer { empty.cleanUp() }
        let none = await runCLI(["report", "--log", empty.path])
        #expect(none.status == 66)
        #expect(none.stderr.contains("no *.jsonl files"))
    }

    @Test func aMissingLogIsExplainedWithExit66() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let named = await runCLI(["report", "--log", directory.path + "/nope.jsonl"])
        #expect(named.status == 66)
        #expect(named.stderr.contains("no usage log at"))
        let byDefault = await runCLI(["report"], environment: ["HOME": directory.path])
        #expect(byDefault.status == 66)
        #expect(byDefault.stderr.contains("no usage log yet at \(directory.path)/.local/state/modelroute/usage.jsonl"))
        #expect(byDefault.stderr.contains("modelroute --offline"))
        let fromEnvironment = await runCLI(["report"], environment: ["MODELROUTE_LOG": directory.path + "/env.jsonl"])
        #expect(fromEnvironment.stderr.contains("env.jsonl"))
    }

    @Test func anEmptyLogIsExplained() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", "")
        let table = await runCLI(["report", "--log", log])
        #expect(table.status == 0)
        #expect(table.stdout == "")
        #expect(table.stderr.contains("holds no calls yet"))
        let json = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(number(try reportJSON(json), "totals", "calls") == 0)
    }

    @Test func badLinesAreSkippedCountedAndNamed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let lines = handLog.split(separator: "\n").map(String.init)
        let text = [
            lines[0],
            "this is not JSON",
            lines[1].replacingOccurrences(of: #""input_tokens":2000"#, with: #""input_tokens":"2000""#),
            "[1, 2]",
            "",
            lines[2].replacingOccurrences(of: #""v":2"#, with: #""v":7"#),
            lines[3].replacingOccurrences(of: #""latency_ms":300,"#, with: ""),
            lines[1],
        ].joined(separator: "\n") + "\n" + lines[3].prefix(90)
        let log = try directory.write("bad.jsonl", text)
        let result = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(result.status == 0)
        #expect(number(try reportJSON(result), "totals", "calls") == 2)
        #expect(number(try reportJSON(result), "skipped_lines") == 6)
        #expect(result.stderr.contains("bad.jsonl:2: skipped: not JSON"))
        #expect(result.stderr.contains("bad.jsonl:3: skipped: \"input_tokens\" should be a whole number, found a string"))
        #expect(result.stderr.contains("bad.jsonl:4: skipped: not a JSON object"))
        #expect(result.stderr.contains("bad.jsonl:6: skipped: schema version 7"))
        #expect(result.stderr.contains("bad.jsonl:7: skipped: missing key \"latency_ms\""))
        #expect(!result.stderr.contains("bad.jsonl:9:"))
        #expect(result.stderr.contains("and 1 more bad line(s); 6 skipped in all"))
        let table = await runCLI(["report", "--log", log])
        #expect(table.stdout.contains("Skipped 6 lines that are not records"))
        let lastOnly = try directory.write("cut.jsonl", lines[0] + "\n" + lines[1].prefix(50))
        let cut = await runCLI(["report", "--log", lastOnly])
        #expect(cut.stderr.contains("cut.jsonl:2: skipped: incomplete last line"))
    }

    @Test func aHugeLineIsSkippedWithoutBeingHeld() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let lines = handLog.split(separator: "\n").map(String.init)
        let path = try directory.write("huge.jsonl", lines[0] + "\n" + String(repeating: "x", count: 3 << 20) + "\n" + lines[1] + "\n")
        var request = ReportRequest(logs: [path], timeZone: TimeZone(identifier: "UTC") ?? .current, workers: 1)
        request.maximumLineBytes = 1 << 20
        let result = try ReportEngine.run(request, files: [path])
        #expect(result.totals.calls == 2)
        #expect(result.badLines == 1)
        #expect(result.badLineSamples.first?.line == 2)
        #expect(result.badLineSamples.first?.reason == .tooLong(bytes: 1 << 20))
    }

    @Test func acceptsRecordsInAnyLayoutThroughTheGeneralDecoder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        // Pretty-printed keys in another order, CRLF, a final line without a newline.
        let line = #"{ "status": "ok", "v": 1, "ts": "2026-11-01T10:00:00+01:00", "id": "a", "input_tokens": 10, "output_tokens": 5, "usage_estimated": false, "cost_usd": 1e-3, "latency_ms": 70, "attempts": 1, "cache_hit": false, "prompt_sha256": "", "prompt_chars": 1, "model": "m", "extra": [1] }"#
        let log = try directory.write("other.jsonl", line + "\r\n" + line)
        let json = try reportJSON(await runCLI(["report", "--log", log, "--by", "model,day", "--format", "json"]))
        #expect(number(json, "totals", "calls") == 2)
        #expect(number(json, "totals", "cost_usd") == 0.002)
        #expect(number(json, "totals", "baseline_cost_usd") == 0.002)
        #expect(groups(groups(json).first).first?["value"]?.stringValue == "2026-11-01")
    }

    @Test func rejectsBadOptions() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let by = await runCLI(["report", "--log", log, "--by", "modle"])
        #expect(by.status == 64)
        #expect(by.stderr.contains("did you mean \"model\"?"))
        #expect(await runCLI(["report", "--log", log, "--by", "model,model"]).status == 64)
        let since = await runCLI(["report", "--log", log, "--since", "yesterday"])
        #expect(since.status == 64)
        #expect(since.stderr.contains("expected a duration"))
        #expect(await runCLI(["report", "--log", log, "--since", "2026-11-02", "--until", "2026-11-01"]).status == 64)
        #expect(await runCLI(["report", "--log", log, "--format", "xml"]).status == 64)
        let help = await runCLI(["report", "--help"])
        #expect(help.stdout.contains("--baseline MODEL"))
        #expect(help.stdout.contains("EXAMPLES:"))
    }
}

/// --since, --until and --by day around daylight-saving changes and at the edges.
@Suite struct ReportTimeWindowTests {
    /// A zone with daylight-saving time.
    let newYork = TimeZone(identifier: "America/New_York") ?? .current

    /// Calls around the autumn 2026 change in New York (01:00 EST follows 01:59 EDT on 1 November).
    let autumn = [
        "2026-11-01T03:59:59.999Z",  // 31 Oct 23:59:59.999 EDT
        "2026-11-01T04:00:00.000Z",  // 1 Nov 00:00 EDT: the day's first instant
        "2026-11-02T04:59:59.999Z",  // 1 Nov 23:59:59.999 EST: the 25-hour day's last instant
        "2026-11-02T05:00:00.000Z",  // 2 Nov 00:00 EST
    ]

    /// Writes one small record per timestamp and returns the log's path.
    func log(_ directory: TemporaryDirectory, _ stamps: [String]) throws -> String {
        try directory.write("usage.jsonl", stamps.map {
            recordLine($0, route: "fast", model: "m", provider: "p", input: 1, output: 1, cost: 1, baseline: 2, latency: 10)
        }.joined())
    }

    /// The calls a JSON report counts, with the run itself.
    func calls(_ arguments: [String], timeZone: TimeZone) async throws -> (Double?, CLIResult) {
        let result = await runCLI(["report", "--format", "json"] + arguments, timeZone: timeZone)
        return (number(try reportJSON(result), "totals", "calls"), result)
    }

    @Test func daysFollowTheLocalZoneAcrossAnAutumnChange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try log(directory, autumn)
        let result = await runCLI(["report", "--log", path, "--by", "day", "--format", "csv"], timeZone: newYork)
        let days = result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
        #expect(days == ["2026-10-31,1", "2026-11-01,2", "2026-11-02,1"])
        let utc = await runCLI(["report", "--log", path, "--by", "day", "--format", "csv"], timeZone: TimeZone(identifier: "UTC") ?? .current)
        #expect(utc.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
            == ["2026-11-01,2", "2026-11-02,2"])
    }

    @Test func dateBoundsAreLocalMidnightSinceInclusiveUntilExclusive() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try log(directory, autumn)
        #expect(try await calls(["--log", path, "--since", "2026-11-01", "--until", "2026-11-02"], timeZone: newYork).0 == 2)
        #expect(try await calls(["--log", path, "--since", "2026-11-02"], timeZone: newYork).0 == 1)
        #expect(try await calls(["--log", path, "--until", "2026-11-01"], timeZone: newYork).0 == 1)
        let (count, result) = try await calls(["--log", path, "--since", "2026-11-01T04:00:00Z", "--until", "2026-11-02T05:00:00Z"], timeZone: newYork)
        #expect(count == 2)
        #expect(number(try reportJSON(result), "outside_window") == 2)
        #expect(try await calls(["--log", path, "--since", "2026-11-01T00:00:00-04:00", "--until", "2026-11-02T00:00:00.001-05:00"], timeZone: newYork).0 == 3)
    }

    @Test func aSpringDayHas23Hours() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        // 8 March 2026 in New York runs from 05:00Z to 04:00Z the next day.
        let path = try log(directory, ["2026-03-08T04:59:59.999Z", "2026-03-08T05:00:00.000Z", "2026-03-09T03:59:59.999Z", "2026-03-09T04:00:00.000Z"])
        #expect(try await calls(["--log", path, "--since", "2026-03-08", "--until", "2026-03-09"], timeZone: newYork).0 == 2)
        let result = await runCLI(["report", "--log", path, "--by", "day", "--format", "csv"], timeZone: newYork)
        #expect(result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
            == ["2026-03-07,1", "2026-03-08,2", "2026-03-09,1"])
    }

    @Test func durationsCountBackFromNow() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let now: Int64 = 1_795_000_000_000  // runCLI's clock
        let path = try log(directory, [now - 86_400_000 - 1, now - 86_400_000, now - 1].map(LedgerTimestamp.string(epochMilliseconds:)))
        let utc = TimeZone(identifier: "UTC") ?? .current
        #expect(try await calls(["--log", path, "--since", "24h"], timeZone: utc).0 == 2)
        #expect(try await calls(["--log", path, "--since", "1d"], timeZone: utc).0 == 2)
        #expect(try await calls(["--log", path, "--since", "1441m", "--until", "1s"], timeZone: utc).0 == 2)
        #expect(try await calls(["--log", path, "--until", "24h"], timeZone: utc).0 == 1)
        let none = await runCLI(["report", "--log", path, "--since", "0s"], timeZone: utc)
        #expect(none.status == 0)
        #expect(none.stderr.contains("none of the 3 calls are inside"))
    }
}

/// The fast path against the general decoder, and reading in parallel pieces.
@Suite struct ReportScannerTests {
    /// Schema 1 lines (written before schema 2) and schema 2 lines read together: the fast
    /// path takes both, a v1 line reads with the v2 defaults, and report counts every call.
    @Test func versionOneAndTwoLinesReadTogether() async throws {
        var old = fullRecord()
        old.tags = [("team", "search")]
        old.version = 1
        let oldLine = old.jsonLine()
        #expect(!String(decoding: oldLine, as: UTF8.self).contains("\"offline\""))
        var new = fullRecord()
        new.tags = [("team", "search")]
        new.difficulty = 0.7312
        new.offline = true
        new.overheadCostUSD = 0.0001
        let newLine = new.jsonLine()
        #expect(String(decoding: newLine, as: UTF8.self).hasPrefix(#"{"v":2,"#))
        let decodedOld = try LedgerRecord.decode(line: Array(oldLine.dropLast()))
        #expect(decodedOld.version == 1 && decodedOld.difficulty == nil && decodedOld.offline == false && decodedOld.priced && decodedOld.messages == 1)
        #expect(try LedgerRecord.decode(line: Array(newLine.dropLast())) == new)
        var scanner = LedgerScanner(plan: ScanPlan([.model]), timeZone: TimeZone(identifier: "UTC") ?? .current)
        for line in [oldLine, newLine] {
            var bytes = line
            let taken = bytes.withUnsafeMutableBufferPointer { buffer -> Bool in
                guard let base = buffer.baseAddress else { return false }
                var record = ScannedRecord()
                return scanner.scan(base, end: base + buffer.count, into: &record) == UnsafePointer(base + buffer.count)
            }
            #expect(taken, "\(String(decoding: line, as: UTF8.self))")
        }
        // A v2 line with a bad v2 value is declined by the fast path, as the decoder refuses it.
        var bad = Array(String(decoding: newLine, as: UTF8.self).replacingOccurrences(of: #""difficulty":0.7312"#, with: #""difficulty":7"#).utf8)
        let declined = bad.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var record = ScannedRecord()
            return scanner.scan(base, end: base + buffer.count, into: &record) == nil
        }
        #expect(declined)
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("mixed.jsonl", bytes: oldLine + newLine)
        let result = await runCLI(["report", "--log", log, "--format", "json", "--include-offline"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(number(try reportJSON(result), "totals", "calls") == 2)
        #expect(number(try reportJSON(result), "skipped_lines") == 0)
        // The v2 line was answered offline: without --include-offline it is counted apart.
        let real = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(number(try reportJSON(real), "totals", "calls") == 1)
        #expect(number(try reportJSON(real), "offline_left_out") == 1)
    }

    /// Every line of a generated log (escapes, non-ASCII tags and errors included) is
    /// taken by the fast path, with exactly what the general decoder reads.
    @Test func fastPathAgreesWithTheGeneralDecoderOnEveryRecord() throws {
        var generator = LedgerLogGenerator(seed: 11, exotic: true)
        let dimensions: [ReportDimension] = [.route, .model, .provider, .rule, .status, .day, .tag("team"), .tag("note")]
        var scanner = LedgerScanner(plan: ScanPlan(dimensions), timeZone: TimeZone(identifier: "Europe/Berlin") ?? .current)
        var escaped = 0
        var nonASCII = 0
        for _ in 0..<3000 {
            let line = generator.next().jsonLine()
            if line.contains(UInt8(ascii: "\\")) { escaped += 1 }
            if line.contains(where: { $0 >= 0x80 }) { nonASCII += 1 }
            try line.withUnsafeBufferPointer { buffer in
                let base = try #require(buffer.baseAddress)
                var fast = ScannedRecord()
                let next = scanner.scan(base, end: base + buffer.count, into: &fast)
                #expect(next == base + buffer.count, "the fast path declined \(String(decoding: line, as: UTF8.self))")
                let decoded = try LedgerRecord.decode(line: UnsafeBufferPointer(rebasing: buffer.dropLast()))
                let summary = scanner.summary(of: decoded)
                let general = try #require(summary)
                #expect(fast == general, "\(String(decoding: line, as: UTF8.self))")
            }
        }
        #expect(escaped > 100)
        #expect(nonASCII > 100)
    }

    /// Lines a little off the writer's layout are declined, never misread.
    @Test func fastPathDeclinesWhatItCannotTake() throws {
        var base = fullRecord()
        base.tags = [("team", "naïve café 🚀")]
        let line = String(decoding: base.jsonLine(), as: UTF8.self)
        let variants = [
            line.replacingOccurrences(of: #""v":2,"#, with: #""v": 2,"#),
            line.replacingOccurrences(of: #""input_tokens":1200"#, with: #""input_tokens":1200.0"#),
            line.replacingOccurrences(of: #""input_tokens":1200"#, with: #""input_tokens":01200"#),
            line.replacingOccurrences(of: #""cost_usd":0.00885"#, with: #""cost_usd":"0.00885""#),
            line.replacingOccurrences(of: ".125Z", with: ".125+00:00"),
            line.replacingOccurrences(of: #""status":"error""#, with: #""status":"failed""#),
            line.replacingOccurrences(of: "café", with: "caf\u{FFFD}"),  // fine: valid UTF-8, still taken
            line.replacingOccurrences(of: #""team""#, with: #""quote\"key""#),
            line.replacingOccurrences(of: "\n", with: " \n"),
        ]
        var scanner = LedgerScanner(plan: ScanPlan([.tag("team")]), timeZone: TimeZone(identifier: "UTC") ?? .current)
        for (index, variant) in variants.enumerated() {
            var bytes = Array(variant.utf8)
            let taken = bytes.withUnsafeMutableBufferPointer { buffer -> Bool in
                guard let base = buffer.baseAddress else { return false }
                var record = ScannedRecord()
                return scanner.scan(base, end: base + buffer.count, into: &record) != nil
            }
            #expect(taken == (index == 6), "variant \(index)")
        }
        // Invalid UTF-8 inside a skipped string is caught, as the general decoder would.
        var bytes = Array(line.utf8)
        if let position = bytes.firstIndex(of: UInt8(ascii: "H")) { bytes[position] = 0xC3 }
        let taken = bytes.withUnsafeMutableBufferPointer { buffer -> Bool in
            guard let base = buffer.baseAddress else { return false }
            var record = ScannedRecord()
            return scanner.scan(base, end: base + buffer.count, into: &record) != nil
        }
        #expect(!taken)
        #expect(throws: LedgerLineError.self) { try LedgerRecord.decode(line: Array(bytes.dropLast())) }
    }

    /// Splitting a file between threads changes nothing, line numbers of bad lines included.
    @Test func piecesReadInParallelGiveTheSameReport() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/big.jsonl"
        try LedgerLogGenerator.writeLog(path: path, count: 2000, seed: 5, exotic: true)
        var text = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        text[1499] = "garbage"
        try text.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let utc = TimeZone(identifier: "UTC") ?? .current
        var request = ReportRequest(logs: [path], dimensions: [.model, .tag("team")], timeZone: utc, workers: 1)
        let one = try ReportEngine.run(request, files: [path])
        request.workers = 3
        request.minimumSplitBytes = 1000
        #expect(try ReportEngine.plan(files: [path], workers: 3, splitAt: 1000).count == 3)
        let three = try ReportEngine.run(request, files: [path])
        #expect(one.totals.calls == 1999)
        #expect(three.totals.calls == 1999)
        #expect(one.totals.inputTokens == three.totals.inputTokens)
        #expect(abs(one.totals.cost - three.totals.cost) < 1e-9)
        #expect(one.totals.latency == three.totals.latency)
        #expect(one.badLineSamples == three.badLineSamples)
        #expect(three.badLineSamples.first?.line == 1500)
        #expect(one.groups.map(\.value) == three.groups.map(\.value))
        #expect(one.groups.map(\.stats.calls) == three.groups.map(\.stats.calls))
    }
}

/// Offline calls (a mock provider answered) are not real spend.
@Suite struct ReportOfflineTests {
    @Test func offlineCallsAreLeftOutOfTheFiguresUnlessAsked() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        var real = fullRecord()
        real.tags = []
        real.status = .ok
        real.offline = false
        var offline = real
        offline.id = "offline-1"
        offline.offline = true
        offline.costUSD = 1
        let log = try directory.write("usage.jsonl", bytes: real.jsonLine() + offline.jsonLine() + offline.jsonLine())
        let json = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(number(try reportJSON(json), "totals", "calls") == 1)
        #expect(number(try reportJSON(json), "totals", "cost_usd") == real.costUSD)
        #expect(number(try reportJSON(json), "offline_left_out") == 2)
        let table = await runCLI(["report", "--log", log])
        #expect(table.stdout.contains("Left out 2 offline calls (answered by the mock provider: not real spend); --include-offline counts them."))
        let all = await runCLI(["report", "--log", log, "--format", "json", "--include-offline"])
        #expect(number(try reportJSON(all), "totals", "calls") == 3)
        #expect(number(try reportJSON(all), "offline_left_out") == 0)

        let onlyOffline = try directory.write("offline.jsonl", bytes: offline.jsonLine())
        let none = await runCLI(["report", "--log", onlyOffline])
        #expect(none.status == 0 && none.stdout.isEmpty)
        #expect(none.stderr.contains("the 1 call in the window was answered offline (mock provider)"))
    }
}

/// Logs that are pipes or FIFOs (`--log <(zcat old.jsonl.gz)`) are read from start to end;
/// a FIFO nobody writes to reads as empty instead of hanging; appending to one is refused.
@Suite struct PipeLogTests {
    @Test func aFIFOIsReadSequentiallyAndAnUnwrittenOneDoesNotHang() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let fifo = directory.path + "/log.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let quiet = await runCLI(["report", "--log", fifo])
        #expect(quiet.status == 0 && quiet.stderr.contains("holds no calls yet"))

        var record = fullRecord()
        record.tags = []
        let lines = record.jsonLine() + record.jsonLine()
        let writer = Thread {
            let descriptor = open(fifo, O_WRONLY)
            guard descriptor >= 0 else { return }
            _ = lines.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            close(descriptor)
        }
        writer.start()
        let result = await runCLI(["report", "--log", fifo, "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(number(try reportJSON(result), "totals", "calls") == 2)
    }

    @Test func anAnonymousPipeIsReadToItsEnd() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        var record = fullRecord()
        record.tags = []
        let lines = Array(repeating: record.jsonLine(), count: 3).flatMap { $0 }
        let writeEnd = ends[1]
        let writer = Thread {
            _ = lines.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            close(writeEnd)
        }
        writer.start()
        let result = await runCLI(["report", "--log", "/dev/fd/\(ends[0])", "--format", "json"])
        close(ends[0])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(number(try reportJSON(result), "totals", "calls") == 3)
    }

    @Test func appendingToAFIFOIsRefusedAndDevNullIsAllowed() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let fifo = directory.path + "/log.fifo"
        #expect(mkfifo(fifo, 0o600) == 0)
        let refused = await runCLI(["--offline", "--log", fifo, "hi"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("the usage log \(fifo) is a FIFO (named pipe), not a file"))
        #expect(refused.stdout.contains("[mock"))
        let discarded = await runCLI(["--offline", "--log", "/dev/null", "hi"])
        #expect(discarded.status == 0)
    }
}

/// Local time in the shipped binary, which links FoundationEssentials only (no zone data of
/// its own): `$TZ` must decide days, dates and `hours` rules. Run through the built
/// executable, since the test process links full Foundation and would pass either way.
@Suite struct TimeZoneInTheBinaryTests {
    func run(_ arguments: [String], tz: String, directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
        let binary = try #require(builtProduct("modelroute"))
        let (process, output, errors) = pipedProcess(binary, arguments, environment: ["TZ": tz, "HOME": directory, "PATH": "/usr/bin:/bin"])
        try process.run()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }

    @Test func reportDaysAndDatesFollowTZAcrossDaylightSavingChanges() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let stamps = [
            "2026-11-01T03:59:59.999Z", "2026-11-01T04:00:00.000Z", "2026-11-02T04:59:59.999Z", "2026-11-02T05:00:00.000Z",  // autumn
            "2026-03-08T04:59:59.999Z", "2026-03-08T05:00:00.000Z", "2026-03-09T03:59:59.999Z", "2026-03-09T04:00:00.000Z",  // spring
        ]
        let path = try directory.write("usage.jsonl", stamps.map {
            recordLine($0, route: "fast", model: "m", provider: "p", input: 1, output: 1, cost: 1, baseline: 2, latency: 10)
        }.joined())
        func days(_ tz: String) throws -> [String] {
            let result = try run(["report", "--log", path, "--by", "day", "--format", "csv"], tz: tz, directory: directory.path)
            #expect(result.status == 0, "\(result.stderr)")
            // Days without calls are listed too (as zero rows); these compare the days with calls.
            return result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
                .filter { !$0.hasSuffix(",0") }
        }
        #expect(try days("America/New_York") == ["2026-03-07,1", "2026-03-08,2", "2026-03-09,1", "2026-10-31,1", "2026-11-01,2", "2026-11-02,1"])
        #expect(try days("UTC") == ["2026-03-08,2", "2026-03-09,2", "2026-11-01,2", "2026-11-02,2"])
        func count(_ arguments: [String], tz: String) throws -> Double? {
            let result = try run(["report", "--log", path, "--format", "json"] + arguments, tz: tz, directory: directory.path)
            return number(try JSONParser.parse(Array(result.stdout.utf8)), "totals", "calls")
        }
        // 1 November 2026 in New York is 25 hours long, 8 March 23.
        #expect(try count(["--since", "2026-11-01", "--until", "2026-11-02"], tz: "America/New_York") == 2)
        #expect(try count(["--since", "2026-03-08", "--until", "2026-03-09"], tz: "America/New_York") == 2)
        #expect(try count(["--since", "2026-11-01", "--until", "2026-11-02"], tz: "UTC") == 2)
        #expect(try count(["--since", "2026-11-02"], tz: "America/New_York") == 1)
        #expect(try count(["--since", "2026-11-02"], tz: "Asia/Tokyo") == 2)
    }

    @Test func hoursRulesReadTheLocalHourOfTZ() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let table = tableJSON(rules: #"{"name": "clock", "route": "fast", "hours": "0-24"}"#)
        let routes = try directory.write("routes.json", table)
        // The hour each zone reports now differs by its offset; compare with Foundation's tz data here.
        for tz in ["America/New_York", "Asia/Kolkata", "UTC"] {
            let result = try run(["--dry-run", "--explain", "--routes", routes, "hi"], tz: tz, directory: directory.path)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = try #require(TimeZone(identifier: tz))
            let hour = calendar.component(.hour, from: Date())
            // The hour may have turned between the binary's reading and this one.
            let shown = [hour, (hour + 23) % 24].map { "local hour \($0) is inside 0-24" }
            #expect(shown.contains { result.stdout.contains($0) }, "\(tz): \(result.stdout)")
        }
    }
}

/// `modelroute log`: the newest calls first, read backwards from the end of the log.
@Suite struct RecentCallsTests {
    /// 400 records a minute apart (about 280 KB, so several 64 KB blocks), every 7th an
    /// error, every 11th on route "power", some schema 1, and a bad line in the middle.
    func makeLog(_ directory: TemporaryDirectory) throws -> (path: String, records: [LedgerRecord]) {
        var records: [LedgerRecord] = []
        var bytes: [UInt8] = []
        for index in 0..<400 {
            var record = fullRecord()
            record.tags = [("n", String(index))]
            record.id = "call-\(index)"
            record.timestamp = LedgerTimestamp.string(epochMilliseconds: 1_795_000_000_000 - Int64(400 - index) * 60_000)
            record.status = index % 7 == 0 ? .error : .ok
            record.route = index % 11 == 0 ? "power" : "fast"
            if index % 5 == 0 { record.version = 1 }
            records.append(record)
            bytes += record.jsonLine()
            if index == 200 { bytes += Array("not a record\n".utf8) }
        }
        return (try directory.write("usage.jsonl", bytes: bytes), records)
    }

    @Test func theNewestCallsComeFirstAndFiltersApply() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let (path, records) = try makeLog(directory)
        let newest = await runCLI(["log", "--log", path, "-n", "5", "--json"])
        #expect(newest.status == 0)
        let ids = newest.stdout.split(separator: "\n").compactMap { try? LedgerRecord.decode(line: Array($0.utf8)).id }
        #expect(ids == ["call-399", "call-398", "call-397", "call-396", "call-395"])
        // --json prints the lines as stored.
        #expect(newest.stdout.split(separator: "\n").first.map { Array($0.utf8) + [0x0A] } == records[399].jsonLine())
        let errors = await runCLI(["log", "--log", path, "-n", "3", "--status", "error", "--json"])
        #expect(errors.stdout.split(separator: "\n").compactMap { try? LedgerRecord.decode(line: Array($0.utf8)).id } == ["call-399", "call-392", "call-385"])
        let power = await runCLI(["log", "--log", path, "-n", "1000", "--route", "power", "--json"])
        #expect(power.stdout.split(separator: "\n").count == 37)  // 0, 11, …, 396
        #expect(power.stderr.contains("1 line that is not a record was passed over"))
        // runCLI's clock is 1_795_000_000 s: the last 10 minutes hold the newest 10 calls.
        let recent = await runCLI(["log", "--log", path, "-n", "100", "--since", "10m", "--json"])
        #expect(recent.stdout.split(separator: "\n").count == 10)
        let table = await runCLI(["log", "--log", path, "-n", "2"])
        #expect(table.stdout.hasPrefix("time"))
        #expect(table.stdout.split(separator: "\n").count == 3 && table.stdout.contains("n=399"))
        let missing = await runCLI(["log", "--log", directory.path + "/none.jsonl"])
        #expect(missing.status == 66)
        #expect(await runCLI(["log", "--log", path, "--status", "done"]).status == 64)
    }

    @Test func aPipedLogIsReadToItsEnd() async throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        var record = fullRecord()
        record.tags = []
        let lines = (0..<3).flatMap { index -> [UInt8] in
            var copy = record
            copy.id = "piped-\(index)"
            return copy.jsonLine()
        }
        let writeEnd = ends[1]
        let writer = Thread {
            _ = lines.withUnsafeBytes { write(writeEnd, $0.baseAddress, $0.count) }
            close(writeEnd)
        }
        writer.start()
        let result = await runCLI(["log", "--log", "/dev/fd/\(ends[0])", "-n", "2", "--json"])
        close(ends[0])
        #expect(result.stdout.split(separator: "\n").compactMap { try? LedgerRecord.decode(line: Array($0.utf8)).id } == ["piped-2", "piped-1"])
    }
}

/// `report --by day` lists every day of the window, with zero rows for days without calls.
@Suite struct ReportEveryDayTests {
    @Test func daysWithoutCallsAreZeroRows() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try directory.write("usage.jsonl", ["2026-11-01T10:00:00.000Z", "2026-11-04T10:00:00.000Z"].map {
            recordLine($0, route: "fast", model: "m", provider: "p", input: 1, output: 1, cost: 1, baseline: 2, latency: 10)
        }.joined())
        func days(_ extra: [String]) async -> [String] {
            let result = await runCLI(["report", "--log", path, "--by", "day", "--format", "csv"] + extra)
            return result.stdout.split(separator: "\n").dropFirst().map { $0.split(separator: ",").prefix(2).joined(separator: ",") }
        }
        #expect(await days([]) == ["2026-11-01,1", "2026-11-02,0", "2026-11-03,0", "2026-11-04,1"])
        #expect(await days(["--since", "2026-10-31", "--until", "2026-11-03"]) == ["2026-10-31,0", "2026-11-01,1", "2026-11-02,0"])
        // Nested levels and other first levels are left as they are.
        let byModel = await runCLI(["report", "--log", path, "--by", "model,day", "--format", "csv"])
        #expect(byModel.stdout.split(separator: "\n").count == 3)
    }
}
