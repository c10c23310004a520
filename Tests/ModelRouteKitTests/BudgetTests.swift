import Foundation
import ModelRouteTestSupport
import Synchronization
import Testing

@testable import ModelRouteKit
@testable import modelroute

/// An offline table with `budgets` (a JSON array) and fast / mid / power routes.
func budgetTable(_ budgets: String, top: String = "", unit: Int = 1) -> String {
    """
    {"version": 1, "default_route": "power", "baseline_model": "big", \(top)
     "budgets": \(budgets),
     "providers": {"offline": {"type": "mock"}},
     "models": {"small": {"provider": "offline", "input_per_mtok": \(unit), "output_per_mtok": \(unit)},
                "medium": {"provider": "offline", "input_per_mtok": \(10 * unit), "output_per_mtok": \(10 * unit)},
                "big": {"provider": "offline", "input_per_mtok": \(100 * unit), "output_per_mtok": \(100 * unit)}},
     "routes": {"fast": {"model": "small", "max_tokens": 100}, "mid": {"model": "medium", "max_tokens": 100}, "power": {"model": "big", "max_tokens": 100}}}
    """
}

@Suite struct BudgetWindowTests {
    func zone(_ name: String) -> LocalZone { LocalZone(TimeZone(identifier: name) ?? .current) }
    func millis(_ text: String) -> Int64 { LedgerTimestamp.parse(text) ?? -1 }

    @Test func daysWeeksAndMonthsAreLocalIncludingDaylightSavingChanges() {
        let utc = zone("UTC")
        let day = BudgetWindow.current(.day, nowMillis: millis("2026-12-03T13:00:00.000Z"), zone: utc)
        #expect(day == BudgetWindow(start: millis("2026-12-03T00:00:00.000Z"), end: millis("2026-12-04T00:00:00.000Z")))
        // 2026-12-03 is a Thursday: the ISO week began on Monday the 1st.
        let week = BudgetWindow.current(.week, nowMillis: millis("2026-12-03T13:00:00.000Z"), zone: utc)
        #expect(week == BudgetWindow(start: millis("2026-11-30T00:00:00.000Z"), end: millis("2026-12-07T00:00:00.000Z")))
        let sunday = BudgetWindow.current(.week, nowMillis: millis("2026-12-06T23:59:59.000Z"), zone: utc)
        #expect(sunday.start == week.start, "Sunday is the week's last day")
        let month = BudgetWindow.current(.month, nowMillis: millis("2026-12-31T23:59:00.000Z"), zone: utc)
        #expect(month == BudgetWindow(start: millis("2026-12-01T00:00:00.000Z"), end: millis("2027-01-01T00:00:00.000Z")))
        // New York springs forward on 2026-03-08 (a 23-hour day) and falls back on 2026-11-01 (25 hours).
        let newYork = zone("America/New_York")
        let spring = BudgetWindow.current(.day, nowMillis: millis("2026-03-08T15:00:00.000Z"), zone: newYork)
        #expect(spring.start == millis("2026-03-08T05:00:00.000Z") && spring.end == millis("2026-03-09T04:00:00.000Z"))
        let autumn = BudgetWindow.current(.day, nowMillis: millis("2026-11-01T15:00:00.000Z"), zone: newYork)
        #expect(autumn.start == millis("2026-11-01T04:00:00.000Z") && autumn.end == millis("2026-11-02T05:00:00.000Z"))
        // Just before local midnight in Berlin is still the last day of March.
        let berlin = BudgetWindow.current(.month, nowMillis: millis("2026-03-31T21:59:00.000Z"), zone: zone("Europe/Berlin"))
        #expect(berlin.start == millis("2026-02-28T23:00:00.000Z") && berlin.end == millis("2026-03-31T22:00:00.000Z"))
        let rolling = BudgetWindow.current(.rolling(seconds: 86_400), nowMillis: millis("2026-12-03T13:30:00.000Z"), zone: utc)
        #expect(rolling == BudgetWindow(start: millis("2026-12-02T13:00:00.000Z"), end: nil), "rolling windows count whole hours")
    }
}

@Suite struct BudgetDecisionTests {
    func decide(_ budgets: String, route: String = "power", tags: [(key: String, value: String)] = [], spent: [String: Double]) throws -> BudgetStage.Verdict {
        let table = try RoutingTableLoader.load(json: Array(budgetTable(budgets).utf8), source: "b.json")
        let model = try #require(table.route(named: route)).model
        let decision = RoutingDecision(route: route, model: model, reason: .defaultRoute, evidence: [], features: PromptMeasurements())
        return BudgetStage.decide(
            decision, table: table, tags: tags, spent: spent, request: { ChatRequest(prompt: "hi", maxTokens: $0?.maxTokens) },
            nowMillis: 1_795_000_000_000, zone: LocalZone(TimeZone(identifier: "UTC") ?? .current))
    }

    /// The route a verdict calls, or "refused by NAME".
    func outcome(_ verdict: BudgetStage.Verdict) -> String {
        switch verdict {
        case .proceed(let decision, let budget): return decision.route + (budget.map { " (\($0))" } ?? "")
        case .refuse(_, let budget): return "refused by \(budget)"
        }
    }

    @Test func downgradeChainsBlocksScopesAndTheStrictestWins() throws {
        // Estimates of "hi" (1 token) with 100 output tokens: power $0.0101, mid $0.00101, fast $0.000101.
        let chain = #"[{"name": "d", "limit_usd": 0.005, "period": "day", "downgrade": {"power": "mid", "mid": "fast"}}]"#
        #expect(outcome(try decide(chain, spent: [:])) == "mid (d)")
        #expect(outcome(try decide(chain, spent: ["d": 0.0045])) == "fast (d)", "downgraded again while it still breaks the limit")
        #expect(outcome(try decide(chain, spent: ["d": 0.00499])) == "refused by d", "fast has no downgrade entry")
        #expect(outcome(try decide(chain, route: "fast", spent: [:])) == "fast")
        let block = #"[{"name": "b", "limit_usd": 0.005, "period": "day", "over": "block"}]"#
        #expect(outcome(try decide(block, spent: [:])) == "refused by b")
        #expect(outcome(try decide(block, route: "mid", spent: [:])) == "mid")
        let scoped = #"[{"name": "team", "limit_usd": 0.001, "period": "week", "tags": {"team": "search"}, "over": "block"}, {"name": "routes", "limit_usd": 0.001, "period": "month", "routes": ["mid"], "over": "block"}, {"name": "models", "limit_usd": 0.001, "period": "24h", "models": ["small"], "over": "block"}]"#
        #expect(outcome(try decide(scoped, tags: [("team", "search"), ("env", "ci")], spent: [:])) == "refused by team")
        #expect(outcome(try decide(scoped, spent: [:])) == "power", "a call without the tag is not in the team's scope")
        #expect(outcome(try decide(scoped, tags: [("team", "ads")], spent: [:])) == "power", "another team's call is not in scope")
        #expect(outcome(try decide(scoped, route: "mid", spent: [:])) == "refused by routes")
        #expect(outcome(try decide(scoped, route: "fast", spent: ["models": 0.00095])) == "refused by models")
        let several = #"[{"name": "soft", "limit_usd": 0.005, "period": "day", "downgrade": {"power": "mid"}}, {"name": "hard", "limit_usd": 0.0005, "period": "day", "over": "block", "routes": ["mid"]}]"#
        #expect(outcome(try decide(several, spent: [:])) == "refused by hard", "the downgrade lands on a route another budget blocks: the strictest wins")
    }

    @Test func badBudgetsAreClearErrors() {
        func error(_ budgets: String) -> String {
            do {
                _ = try RoutingTableLoader.load(json: Array(budgetTable(budgets).utf8), source: "b.json")
                return ""
            } catch { return error.message }
        }
        #expect(error(#"[{"name": "x", "limit_usd": 1, "period": "fortnight"}]"#).contains("expected \"day\", \"week\""))
        #expect(error(#"[{"name": "x", "limit_usd": 0, "period": "day"}]"#).contains("above 0"))
        #expect(error(#"[{"name": "x", "limit_usd": 1, "period": "day", "downgrade": {"powr": "mid"}}]"#).contains("did you mean \"power\"?"))
        #expect(error(#"[{"name": "x", "limit_usd": 1, "period": "day", "downgrade": {"power": "mid", "mid": "power"}}]"#).contains("the downgrades loop"))
        #expect(error(#"[{"name": "x", "limit_usd": 1, "period": "day", "over": "stop"}]"#).contains("expected \"downgrade\" or \"block\""))
        #expect(error(#"[{"name": "x", "limit_usd": 1, "period": "day"}, {"name": "x", "limit_usd": 2, "period": "week"}]"#).contains("duplicate budget name"))
    }
}

@Suite struct BudgetCallTests {
    @Test func theOfflineCallsDowngradeThenRefuseAndTheIndexComesBackFromTheLog() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        // At these prices "hi" may cost $1.01 on power, $0.101 on mid, $0.0101 on fast (100
        // output tokens), and costs about $0.0006 offline: fast stays under the limit for three calls.
        let routes = try directory.write("routes.json", budgetTable(#"[{"name": "daily", "limit_usd": 0.0115, "period": "day", "downgrade": {"power": "mid", "mid": "fast"}}]"#, unit: 100))
        let log = directory.path + "/usage.jsonl"
        func call() async -> CLIResult { await runCLI(["--routes", routes, "--offline", "--log", log, "hi"]) }
        var statuses: [Int32] = []
        for _ in 0..<6 { statuses.append(await call().status) }
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.first?.contains(#""route":"fast","rule":"default","model":"small""#) == true && lines.first?.contains(#""budget":"daily""#) == true, "\(lines.first ?? "")")
        #expect(statuses == [0, 0, 0, 77, 77, 77], "downgraded power → mid → fast, then refused")
        let refused = try #require(lines.first { $0.contains(#""status":"error""#) })
        #expect(refused.contains(#""budget":"daily""#) && refused.contains(#""cost_usd":0,"#) && refused.contains(#""error":"refused by budget daily""#))
        let index = SpendIndex(logPath: log, budgets: try RoutingTableLoader.load(json: Array(try String(contentsOfFile: routes, encoding: .utf8).utf8), source: routes).budgets, zone: LocalZone(TimeZone(identifier: "UTC") ?? .current))
        let now = Int64(1_795_000_000_000)
        let before = index.spent(nowMillis: now)["daily"] ?? -1
        #expect(before > 0 && FileManager.default.fileExists(atPath: log + ".spend"))
        // Deleting the index loses nothing.
        try FileManager.default.removeItem(atPath: log + ".spend")
        #expect(index.spent(nowMillis: now)["daily"] == before)
        // A record appended by a writer that does not keep the index (another tool, an older modelroute).
        var foreign = try LedgerRecord.decode(line: Array(lines[0].utf8))
        foreign.costUSD = 0.0001
        try LedgerWriter(path: log).append(foreign)
        #expect(abs((index.spent(nowMillis: now)["daily"] ?? 0) - (before + 0.0001)) < 1e-12, "an index behind the log is rebuilt from it")
        let status = await runCLI(["budget", "--routes", routes, "--log", log, "--json"])
        #expect(status.stdout.contains(#""name":"daily""#) && status.stdout.contains(#""refusals":"#), "\(status.stdout)")
    }

    @Test func concurrentCallsNearTheLimitOvershootByNoMoreThanTheCallsInFlight() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        // A call to fast is estimated at $0.0102 (2 input tokens and max_tokens 100 at $100 per
        // million) and costs $0.0007 (5 output tokens). A call goes ahead while the spend before it
        // plus its estimate stays within $0.012: alone, the third passes (0.0014 + 0.0102 = 0.0116)
        // and the fourth is refused (0.0021 + 0.0102 = 0.0123).
        let limit = 0.012, estimate = 0.0102
        let routes = try directory.write("routes.json", budgetTable(#"[{"name": "cap", "limit_usd": \#(limit), "period": "day", "over": "block"}]"#, unit: 100))
        let script = #"for i in 1 2 3 4 5; do "$0" --routes "$1" --log "$2" --offline --route fast "call $i" > /dev/null 2>&1; done; exit 0"#
        func run(workers count: Int, log: String) async throws -> [LedgerRecord] {
            var workers: [Process] = []
            for _ in 0..<count {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/bin/sh")
                process.arguments = ["-c", script, binary, routes, log]
                process.environment = ["HOME": directory.path, "PATH": "/usr/bin:/bin", "TZ": "UTC"]
                try process.run()
                workers.append(process)
            }
            let started = workers
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread {
                    for process in started { process.waitUntilExit() }
                    continuation.resume()
                }.start()
            }
            return try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { try LedgerRecord.decode(line: Array($0.utf8)) }
        }
        let alone = try await run(workers: 1, log: directory.path + "/alone.jsonl").filter { $0.status == .ok }.count
        #expect(alone == 3, "the arithmetic above holds for one process")
        let records = try await run(workers: 8, log: directory.path + "/usage.jsonl")
        #expect(records.count == 40)
        let spent = records.reduce(0) { $0 + $1.costUSD }
        #expect(records.contains { $0.status == .error && $0.budget == "cap" }, "the limit was reached")
        let ok = records.filter { $0.status == .ok }.count
        // However the processes interleave, the limit lets through at least what one process alone
        // gets, and at most one more call for each process in flight.
        #expect(ok >= alone && ok <= alone + 8, "at most one more call per process in flight: \(ok)")
        #expect(spent <= limit + 8 * estimate, "over by at most one estimate per process in flight: \(spent)")
    }

    @Test func budgetsAreSharedThroughRedisAndAStoreThatIsDownFailsOpenUnlessClosed() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let redis = try RedisTestServer()
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", budgetTable(#"[{"name": "fleet", "limit_usd": 0.0115, "period": "day", "over": "block"}]"#, top: #""state": {"url": "\#(redis.url())", "timeout_ms": 300},"#, unit: 100))
        func call(_ machine: String) async throws -> (status: Int32, stdout: String, stderr: String) {
            try await runProductOffPool(binary, ["--routes", routes, "--log", directory.path + "/\(machine).jsonl", "--offline", "--route", "fast", "hello"], environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"])
        }
        var statuses: [Int32] = []
        for index in 0..<8 { statuses.append(try await call(index % 2 == 0 ? "a" : "b").status) }
        // The first calls fill the shared budget, whichever machine makes them; then both are refused.
        let answered = statuses.prefix { $0 == 0 }.count
        #expect(answered >= 2 && statuses.dropFirst(answered).allSatisfy { $0 == 77 }, "\(statuses)")
        let a = try String(contentsOfFile: directory.path + "/a.jsonl", encoding: .utf8).split(separator: "\n").filter { $0.contains(#""status":"ok""#) }.count
        let b = try String(contentsOfFile: directory.path + "/b.jsonl", encoding: .utf8).split(separator: "\n").filter { $0.contains(#""status":"ok""#) }.count
        // Machine b alone spent one call's worth, far from the limit, and was refused all the same.
        #expect(a >= 1 && b >= 1 && a + b == answered, "neither machine's own log holds the whole spend: \(a) + \(b)")
        let bRefused = try String(contentsOfFile: directory.path + "/b.jsonl", encoding: .utf8).contains(#""error":"refused by budget fleet""#)
        #expect(bRefused)
        redis.stop()
        let open = try await call("c")
        #expect(open.status == 0 && open.stderr.contains("counted on this machine only"), "\(open.stderr)")
        let closedRoutes = try directory.write("closed.json", budgetTable(#"[{"name": "fleet", "limit_usd": 5, "period": "day", "fail_closed": true}]"#, top: #""state": {"url": "\#(redis.url())", "timeout_ms": 300},"#))
        let closed = try await runProductOffPool(binary, ["--routes", closedRoutes, "--log", directory.path + "/d.jsonl", "--offline", "hello"], environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"])
        #expect(closed.status == 77 && closed.stderr.contains("fail_closed"), "\(closed.stderr)")
    }
}

@Suite struct SpendIndexTests {
    let utc = LocalZone(TimeZone(identifier: "UTC") ?? .current)
    /// 2026-12-03T01:00:00Z; the generated records run from 2026-12-02T22:00Z for about three hours.
    let now = LedgerTimestamp.parse("2026-12-03T01:00:00.000Z") ?? 0

    /// Budgets of every period and scope, crossing the records' span.
    var budgets: [BudgetConfig] {
        [
            BudgetConfig(name: "day-search", limitUSD: 1, period: .day, tags: [("team", "search")]),
            BudgetConfig(name: "2h-power", limitUSD: 1, period: .rolling(seconds: 7200), routes: ["power"]),
            BudgetConfig(name: "month-models", limitUSD: 1, period: .month, models: ["gpt-4.1", "claude-sonnet-4-5"]),
            BudgetConfig(name: "week-staging-fast", limitUSD: 1, period: .week, tags: [("env", "staging")], routes: ["fast"]),
            BudgetConfig(name: "day-cafe", limitUSD: 1, period: .day, tags: [("team", "naïve café")]),
            BudgetConfig(name: "all-day", limitUSD: 1, period: .day),
        ]
    }

    /// A log of generated records, some of them laid out differently from the writer (which
    /// the fast scanner declines and the general decoder reads), some older than every window.
    func writeLog(_ path: String) throws -> [LedgerRecord] {
        var generator = LedgerLogGenerator(seed: 11, exotic: true, start: (LedgerTimestamp.parse("2026-12-02T22:00:00.000Z") ?? 0))
        var old = LedgerLogGenerator(seed: 12, start: (LedgerTimestamp.parse("2026-10-01T00:00:00.000Z") ?? 0))
        var records: [LedgerRecord] = []
        var bytes: [UInt8] = []
        for index in 0..<5000 {
            let record = index % 10 == 0 ? old.next() : generator.next()
            records.append(record)
            var line = record.jsonLine()
            if index % 7 == 0, line.first == UInt8(ascii: "{") { line.insert(UInt8(ascii: " "), at: 1) }
            bytes += line
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return records
    }

    /// Each budget's spend counted the plain way: every record decoded, every budget asked.
    func reference(_ records: [LedgerRecord], _ budgets: [BudgetConfig]) -> [String: Double] {
        var result: [String: Double] = [:]
        for budget in budgets {
            let window = BudgetWindow.current(budget.period, nowMillis: now, zone: utc)
            result[budget.name] = records.filter { record in
                let millis = LedgerTimestamp.parse(record.timestamp) ?? 0
                return millis >= window.start && budget.applies(route: record.route, model: record.model, tags: record.tags)
            }.reduce(0) { $0 + $1.costUSD }
        }
        return result
    }

    func expectClose(_ actual: [String: Double], _ expected: [String: Double], _ comment: Comment) {
        #expect(actual.keys.sorted() == expected.keys.sorted(), comment)
        for (name, value) in expected {
            #expect(abs((actual[name] ?? -1) - value) < 1e-9, "\(comment): \(name) \(actual[name] ?? -1) ≠ \(value)")
        }
    }

    @Test func theRebuildCountsWhatTheGeneralDecoderCountsOnEveryScopeAndPeriod() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = directory.path + "/usage.jsonl"
        let records = try writeLog(log)
        let expected = reference(records, budgets)
        #expect(expected.values.allSatisfy { $0 > 0 }, "every budget has something to count: \(expected)")
        #expect((expected["all-day"] ?? 0) < records.reduce(0) { $0 + $1.costUSD }, "some records are outside the day")
        expectClose(SpendIndex(logPath: log, budgets: budgets, zone: utc).spent(nowMillis: now), expected, "rebuilt")
        // Budgets naming more tag keys than the fast scanner carries are counted by the decoder alone.
        let keys = ["team", "env", "user", "note", "k5", "k6", "k7", "k8", "k9"]
        let many = keys.enumerated().map { BudgetConfig(name: "tag-\($0.offset)", limitUSD: 1, period: .month, tags: [($0.element, $0.element == "env" ? "production" : "search")]) }
        expectClose(SpendIndex(logPath: log, budgets: many, zone: utc).spent(nowMillis: now), reference(records, many), "nine tag keys")
    }

    /// A generated log in a new folder, with its index built.
    func indexedLog() throws -> (directory: TemporaryDirectory, log: String, records: [LedgerRecord], index: SpendIndex) {
        let directory = try TemporaryDirectory()
        let log = directory.path + "/usage.jsonl"
        let records = try writeLog(log)
        let index = SpendIndex(logPath: log, budgets: budgets, zone: utc)
        _ = index.spent(nowMillis: now)
        return (directory, log, records, index)
    }

    @Test func anIndexBehindTheLogCatchesUpAndARewrittenLogIsReadAgain() throws {
        let (directory, log, written, index) = try indexedLog()
        defer { directory.cleanUp() }
        var records = written
        // Another writer appends without touching the index: only the new lines are read.
        var generator = LedgerLogGenerator(seed: 13, start: (LedgerTimestamp.parse("2026-12-03T00:30:00.000Z") ?? 0))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        handle.seekToEndOfFile()
        for _ in 0..<50 {
            let record = generator.next()
            records.append(record)
            handle.write(Data(record.jsonLine()))
        }
        try handle.close()
        expectClose(index.spent(nowMillis: now), reference(records, budgets), "caught up")
        let caughtUp = try #require(index.read())
        #expect(caughtUp.logBytes == SpendIndex.size(of: log))
        // The log replaced by a longer one with other contents: the index's tail no longer
        // matches, so the whole log is read again rather than only what lies past the old size.
        var other = LedgerLogGenerator(seed: 14, start: (LedgerTimestamp.parse("2026-12-03T00:00:00.000Z") ?? 0))
        let replacement = (0..<6000).map { _ in other.next() }
        try Data(replacement.flatMap { $0.jsonLine() }).write(to: URL(fileURLWithPath: log))
        #expect(SpendIndex.size(of: log) > caughtUp.logBytes)
        expectClose(index.spent(nowMillis: now), reference(replacement, budgets), "rewritten")
    }

    @Test func downgradesAndRefusalsAreCountedFromTheRecordsThatNameTheBudget() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = directory.path + "/usage.jsonl"
        var generator = LedgerLogGenerator(seed: 21, exotic: true, start: (LedgerTimestamp.parse("2026-12-02T23:00:00.000Z") ?? 0))
        var bytes: [UInt8] = []
        var expected: [String: (downgrades: Int, refusals: Int)] = [:]
        for index in 0..<3000 {
            var record = generator.next()
            if index % 5 == 0 {
                record.budget = index % 2 == 0 ? "day-search" : "all-day"
                if index % 3 == 0 {
                    record.status = .error
                    record.error = "refused by budget \(record.budget ?? "")"
                    record.costUSD = 0
                } else {
                    record.status = .ok
                    record.error = nil
                }
                // The day starts at midnight: earlier records count for nobody.
                if (LedgerTimestamp.parse(record.timestamp) ?? 0) >= (LedgerTimestamp.parse("2026-12-03T00:00:00.000Z") ?? 0), let name = record.budget {
                    var counts = expected[name] ?? (0, 0)
                    if record.status == .error { counts.refusals += 1 } else { counts.downgrades += 1 }
                    expected[name] = counts
                }
            }
            var line = record.jsonLine()
            if index % 7 == 0 { line.insert(UInt8(ascii: " "), at: 1) }  // read by the general decoder
            bytes += line
        }
        try Data(bytes).write(to: URL(fileURLWithPath: log))
        let actions = SpendIndex(logPath: log, budgets: budgets, zone: utc).actions(nowMillis: now)
        #expect((expected["day-search"]?.refusals ?? 0) > 0 && (expected["all-day"]?.downgrades ?? 0) > 0)
        #expect(actions.keys.sorted() == expected.keys.sorted())
        for (name, counts) in expected {
            #expect(actions[name]?.downgrades == counts.downgrades && actions[name]?.refusals == counts.refusals, "\(name): \(String(describing: actions[name])) ≠ \(counts)")
        }
    }

    @Test func aNeedleIsFoundWhereverItsAnchorFalls() {
        func found(_ line: String, _ needle: String, anchor: Int) -> Bool {
            let bytes = Array(line.utf8)
            return bytes.withUnsafeBufferPointer { SpendIndex.contains($0, Array(needle.utf8), anchor: anchor) }
        }
        let needle = #""budget":""#
        #expect(found(#""budget":"x""#, needle, anchor: 5), "at the start")
        #expect(found(#"{"a":1,"budget":""#, needle, anchor: 5), "at the very end")
        #expect(found(#"gggg"budgeg"budget":"daily""#, needle, anchor: 5), "after anchors that do not match")
        #expect(!found(#"{"budget":null}"#, needle, anchor: 5))
        #expect(!found(#"{"budget":"#, needle, anchor: 5), "cut short")
        #expect(!found("g", needle, anchor: 5), "shorter than the needle")
        #expect(!found("", needle, anchor: 5))
        for anchor in 0..<needle.utf8.count { #expect(found("xx" + needle + "yy", needle, anchor: anchor), "anchor \(anchor)") }
    }

    @Test func aDamagedIndexIsRebuiltAndNeverTrusted() throws {
        let (directory, log, records, index) = try indexedLog()
        defer { directory.cleanUp() }
        let good = try String(contentsOfFile: index.indexPath, encoding: .utf8)
        let size = SpendIndex.size(of: log)
        let damaged = [
            "", "\u{0}\u{1}garbage", "[]", #"{"v":2}"#,
            good.replacingOccurrences(of: #""log_bytes":\#(size)"#, with: #""log_bytes":-5"#),
            good.replacingOccurrences(of: #""log_bytes":\#(size)"#, with: #""log_bytes":99999999999999999999"#),
            good.replacingOccurrences(of: #""log_bytes":\#(size)"#, with: #""log_bytes":\#(size + 1_000_000)"#),
            good.replacingOccurrences(of: #""log_bytes":\#(size)"#, with: #""log_bytes":\#(size - 100)"#),
            good.replacingOccurrences(of: #""v":2"#, with: #""v":1"#),
            good.replacingOccurrences(of: #""tail":""#, with: #""tail":"0"#),
            String(good.prefix(good.count / 2)),
        ]
        let expected = reference(records, budgets)
        for (number, text) in damaged.enumerated() {
            try text.write(toFile: index.indexPath, atomically: true, encoding: .utf8)
            expectClose(index.spent(nowMillis: now), expected, "damage \(number)")
        }
    }
}
