import Foundation
import ModelRouteTestSupport
import Synchronization
import Testing

@testable import ModelRouteKit
@testable import modelroute

/// Loads a table from JSON text, or returns the error it gives.
private func load(_ json: String) -> Result<RoutingTable, ConfigError> {
    do throws(ConfigError) {
        return .success(try RoutingTableLoader.load(json: Array(json.utf8), source: "t.json"))
    } catch {
        return .failure(error)
    }
}

/// The error message a table gives, or "" when it loads.
private func loadError(_ json: String) -> String {
    if case .failure(let error) = load(json) { return error.message }
    return ""
}

/// A small table with `routes` (JSON members) and optional extra top-level members.
private func table(routes: String, models: String? = nil, top: String = "") -> String {
    """
    {"version": 1, "default_route": "fast", "baseline_model": "big", \(top)
     "providers": {"offline": {"type": "mock"}},
     "models": \(models ?? #"{"small": {"provider": "offline", "input_per_mtok": 0.1, "output_per_mtok": 0.4}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}}"#),
     "routes": {\(routes)}}
    """
}

@Suite struct CheckTableTests {
    @Test func checksChainsAndExperimentsLoad() throws {
        let json = table(
            routes: #""fast": {"model": "small", "checks": ["empty", {"refusal": ["Nope"]}, "truncated", {"min_chars": 50, "when_prompt_words_over": 30}, "json", {"judge": {"model": "small", "threshold": 0.7}}], "escalate_to": "power", "answer_format": "json"}, "power": {"model": "big"}"#,
            top: #""experiment": {"name": "exp-1", "control_share": 0.1, "control_model": "big"},"#)
        let loaded = try load(json).get()
        let fast = try #require(loaded.route(named: "fast"))
        #expect(fast.checks == [.empty, .refusal(extraPhrases: ["Nope"]), .truncated, .minChars(50, whenPromptWordsOver: 30), .json, .judge(JudgeConfig(model: "small", threshold: 0.7))])
        #expect(fast.escalateTo == "power" && fast.answerFormat == .json)
        #expect(loaded.experiment == ExperimentConfig(name: "exp-1", controlShare: 0.1, controlModel: "big"))
    }

    @Test func badChecksNameTheirPlaceAndSuggestTheClosest() {
        let unknown = loadError(table(routes: #""fast": {"model": "small", "checks": ["empty", "refusl"]}"#))
        #expect(unknown.contains("t.json:4:") && unknown.contains("routes.fast.checks[1]") && unknown.contains("unknown check \"refusl\"") && unknown.contains("did you mean \"refusal\"?"))
        let unknownObject = loadError(table(routes: #""fast": {"model": "small", "checks": [{"jugde": {"model": "small"}}]}"#))
        #expect(unknownObject.contains("routes.fast.checks[0].jugde") && unknownObject.contains("did you mean \"judge\"?"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": ["min_chars"]}"#)).contains("min_chars needs a length"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": ["empty", "empty"]}"#)).contains("listed twice"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": []}"#)).contains("expected a list of checks"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": [{"judge": {"model": "small", "threshold": 1.5}}]}"#)).contains("ratings run from 0 to 1"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": [{"judge": {"model": "smal", "threshold": 0.5}}]}"#)).contains("did you mean \"small\"?"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": [{"judge": {"model": "small"}}]}"#)).contains("missing the required key \"threshold\""))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": [{"judge": {"model": "small", "threshold": 0.5, "prompt": "Rate {question}"}}]}"#)).contains("must contain {answer}"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "answer_format": "jsn"}"#)).contains("did you mean \"json\"?"))
    }

    @Test func escalationChainsMustEndAndNeedChecks() {
        let loop = loadError(table(routes: #""fast": {"model": "small", "checks": ["empty"], "escalate_to": "mid"}, "mid": {"model": "big", "checks": ["empty"], "escalate_to": "fast"}"#))
        #expect(loop.contains("routes.fast.escalate_to") && loop.contains("the escalation chain loops: fast → mid → fast"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": ["empty"], "escalate_to": "fast"}"#)).contains("cannot escalate to itself"))
        #expect(loadError(table(routes: #""fast": {"model": "small", "escalate_to": "power"}, "power": {"model": "big"}"#)).contains("escalate_to needs \"checks\""))
        #expect(loadError(table(routes: #""fast": {"model": "small", "checks": ["empty"], "escalate_to": "powr"}, "power": {"model": "big"}"#)).contains("did you mean \"power\"?"))
    }

    @Test func experimentsAreChecked() {
        func experiment(_ body: String, routes: String = #""fast": {"model": "small"}"#) -> String {
            loadError(table(routes: routes, top: #""experiment": \#(body),"#))
        }
        #expect(experiment(#"{"name": "e", "control_share": 0, "control_model": "big"}"#).contains("above 0 and below 1"))
        #expect(experiment(#"{"name": "e", "control_share": 1, "control_model": "big"}"#).contains("above 0 and below 1"))
        #expect(experiment(#"{"name": "e", "control_share": 0.1, "control_model": "bgi"}"#).contains("did you mean \"big\"?"))
        #expect(experiment(#"{"name": "e", "control_share": 0.1, "control_model": "big", "share": 2}"#).contains("unknown key \"share\""))
        #expect(experiment(#"{"name": "e", "control_share": 0.1, "control_model": "big"}"#, routes: #""fast": {"model": "small"}, "control": {"model": "big"}"#).contains("rename this route"))
        #expect(loadError(table(routes: #""fast": {"model": "small"}"#, models: #"{"small": {"provider": "offline", "input_per_mtok": 0.1, "output_per_mtok": 0.4, "mock": "refuse"}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}}"#)).contains("did you mean \"refusal\"?"))
    }

    @Test func checkExitsSeventyEightAndDescribesChecks() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let bad = try directory.write("bad.json", table(routes: #""fast": {"model": "small", "checks": ["refusl"]}"#))
        let refused = await runCLI(["check", "--routes", bad])
        #expect(refused.status == 78 && refused.stderr.contains("did you mean \"refusal\"?"))
        let good = await runCLI(["check", "--routes", repositoryRoot.appendingPathComponent("Examples/escalation.json").path])
        #expect(good.status == 0, "\(good.stderr)")
        #expect(good.stdout.contains("checks: empty, refusal, truncated, min_chars 40 (prompts over 12 words) → escalate to mid"))
        #expect(good.stdout.contains("judge gpt-4.1-nano ≥ 0.70 → escalate to power"))
    }
}

@Suite struct LocalCheckTests {
    func answer(_ text: String, truncated: Bool = false, words: Int = 5, json: Bool = false) -> AnswerCheckStage.Answer {
        AnswerCheckStage.Answer(text: text, truncated: truncated, promptWords: words, wantsJSON: json)
    }

    @Test func refusalsAreFoundInManyLanguagesAndOnlyAtTheStart() {
        let refusals = [
            "I'm sorry, but I can't help with that.", "I’m sorry, but I cannot do this.", "  **I can't assist with** that request",
            "As an AI language model, I have no opinions.", "Es tut mir leid, aber ich kann dabei nicht helfen.", "Je suis désolé, mais je ne peux pas.",
            "Lo siento, pero no puedo ayudarte con eso.", "Mi dispiace, ma non posso farlo.", "Desculpe, mas não posso ajudar.",
            "Het spijt me, maar ik kan dat niet.", "Przepraszam, ale nie mogę.", "抱歉，我无法帮助你。", "申し訳ありませんが、お手伝いできません。",
        ]
        for text in refusals { #expect(AnswerCheckStage.refusalPhrase(text) != nil, "\(text)") }
        let answers = [
            "Sure! Here's how: I can't help with being brief, but", "I'm sorry to hear that. Here is what to do.", "As an aide to memory, note",
            "Paris is the capital of France.", "",
        ]
        for text in answers { #expect(AnswerCheckStage.refusalPhrase(text) == nil, "\(text)") }
        #expect(AnswerCheckStage.refusalPhrase("NOPE, not today", extra: ["nope"]) == "nope")
    }

    @Test func eachLocalCheckFailsWithItsReason() {
        #expect(AnswerCheckStage.failure(of: .empty, answer: answer(" \n\t"))?.reason == "empty")
        #expect(AnswerCheckStage.failure(of: .empty, answer: answer("x")) == nil)
        #expect(AnswerCheckStage.failure(of: .truncated, answer: answer("abc", truncated: true))?.reason == "truncated")
        #expect(AnswerCheckStage.failure(of: .truncated, answer: answer("abc")) == nil)
        let short = AnswerCheckStage.failure(of: .minChars(50, whenPromptWordsOver: 30), answer: answer("Yes.", words: 31))
        #expect(short?.reason == "too_short" && short?.detail.contains("4 characters, under 50") == true)
        #expect(AnswerCheckStage.failure(of: .minChars(50, whenPromptWordsOver: 30), answer: answer("Yes.", words: 30)) == nil, "short questions may get short answers")
        #expect(AnswerCheckStage.failure(of: .json, answer: answer("not json", json: true))?.reason == "invalid_json")
        #expect(AnswerCheckStage.failure(of: .json, answer: answer("not json", json: false)) == nil, "json applies only when JSON was asked for")
        #expect(AnswerCheckStage.failure(of: .json, answer: answer(#"{"a": [1, 2]}"#, json: true)) == nil)
        #expect(AnswerCheckStage.failure(of: .json, answer: answer("Here it is:\n```json\n{\"a\": 1}\n```\nDone.", json: true)) == nil)
        #expect(AnswerCheckStage.failure(of: .json, answer: answer("```json\n{\"a\": 1,}\n```", json: true)) != nil)
        #expect(AnswerCheckStage.firstFailure([.empty, .truncated], answer: answer("", truncated: true))?.reason == "empty", "checks run in the route's order")
    }

    @Test func judgeRatingsAreTheFirstNumberFromZeroToOne() {
        #expect(JudgeConfig.rating(in: "0.9") == 0.9)
        #expect(JudgeConfig.rating(in: "Rating: 0.42.") == 0.42)
        #expect(JudgeConfig.rating(in: ".8") == 0.8)
        #expect(JudgeConfig.rating(in: "1") == 1)
        #expect(JudgeConfig.rating(in: "7") == nil)
        #expect(JudgeConfig.rating(in: "great answer") == nil)
        #expect(JudgeConfig(model: "m", threshold: 0.5, prompt: "Q={question} A={answer}").question(prompt: "p {answer}", answer: "a {question}") == "Q=p {answer} A=a {question}")
    }
}

/// A table on the test server: route `fast` (model `cheap`, with `checks`) escalates to
/// `power` (model `strong`, no checks); `rater` is the judge. All speak OpenAI.
private func scriptedTable(baseURL: String, checks: String, escalate: Bool = true, judgeTimeout: Double = 5) throws -> RoutingTable {
    let json = """
        {"version": 1, "default_route": "fast", "baseline_model": "strong",
         "providers": {"remote": {"type": "openai", "base_url": "\(baseURL)", "api_key_env": "TEST_OPENAI_KEY", "retry": {"retries": 0}}, "offline": {"type": "mock"}},
         "models": {
           "cheap": {"provider": "remote", "id": "cheap-id", "input_per_mtok": 1, "output_per_mtok": 2},
           "strong": {"provider": "remote", "id": "strong-id", "input_per_mtok": 10, "output_per_mtok": 20},
           "rater": {"provider": "remote", "id": "rater-id", "input_per_mtok": 0.5, "output_per_mtok": 1}
         },
         "routes": {
           "fast": {"model": "cheap", "checks": \(checks.replacing("TIMEOUT", with: String(judgeTimeout)))\(escalate ? #", "escalate_to": "power""# : "")},
           "power": {"model": "strong"}
         }}
        """
    return try RoutingTableLoader.load(json: Array(json.utf8), source: "scripted.json")
}

/// An OpenAI stream of `pieces` ending with `finish`.
private func stream(_ pieces: [String], finish: String = "stop", input: Int = 10, output: Int = 4) -> [String] {
    var events = pieces.map { #"data: {"choices":[{"index":0,"delta":{"content":"\#($0)"},"finish_reason":null}]}"# }
    events.append(#"data: {"choices":[{"index":0,"delta":{},"finish_reason":"\#(finish)"}]}"#)
    events.append(#"data: {"choices":[],"usage":{"prompt_tokens":\#(input),"completion_tokens":\#(output)}}"#)
    events.append("data: [DONE]")
    return events
}

/// A server answering each model as scripted: `cheap` with `cheap`, `strong` with its
/// answer, `rater` with `rating` (or after `ratingDelay` seconds).
private func scriptedServer(cheap: TestHTTPServer.Response, rating: String = "0.9", ratingDelay: Double = 0, strongStatus: Int = 200) throws -> TestHTTPServer {
    try TestHTTPServer { request, _ in
        let body = request.bodyText
        if body.contains(#""model":"rater-id""#) { return .json(Canned.openAIReply(rating, input: 40, output: 2), delay: ratingDelay) }
        if body.contains(#""model":"strong-id""#) {
            if strongStatus != 200 { return .json(#"{"error":{"message":"down"}}"#, status: strongStatus) }
            return .sse(stream(["STRONG ", "ANSWER"], input: 10, output: 2))
        }
        return cheap
    }
}

@Suite struct EscalationTests {
    let longPrompt = Array(repeating: "word", count: 40).joined(separator: " ")

    /// What one scripted scenario must do: which model answers, and why it escalated.
    struct Scenario: Sendable, CustomStringConvertible {
        var name: String
        var checks: String
        var cheap: TestHTTPServer.Response
        var rating = "0.9"
        var ratingDelay = 0.0
        var arguments: [String] = []
        var escalatesFor: String?
        var description: String { name }
    }

    static let scenarios: [Scenario] = [
        Scenario(name: "empty", checks: #"["empty"]"#, cheap: .sse(stream([]))),
        Scenario(name: "refusal", checks: #"["refusal"]"#, cheap: .sse(stream(["I'm sorry, but I cannot ", "help with that."]))),
        Scenario(name: "length", checks: #"["truncated"]"#, cheap: .sse(stream(["A long answer that was ", "cut"], finish: "length"))),
        Scenario(name: "short", checks: #"[{"min_chars": 30, "when_prompt_words_over": 10}]"#, cheap: .sse(stream(["Yes."]))),
        Scenario(name: "bad json", checks: #"["json"]"#, cheap: .sse(stream(["{\\\"a\\\": "])), arguments: ["--json-answer"]),
        Scenario(name: "judge 0.2", checks: #"[{"judge": {"model": "rater", "threshold": 0.7}}]"#, cheap: .sse(stream(["A fine answer."])), rating: "0.2"),
    ]

    @Test(arguments: scenarios)
    func aFailingCheckEscalatesAndOnlyTheStrongAnswerIsPrinted(_ scenario: Scenario) async throws {
        let server = try scriptedServer(cheap: scenario.cheap, rating: scenario.rating)
        let run = await runCall(scenario.arguments + [longPrompt], table: try scriptedTable(baseURL: server.baseURL, checks: scenario.checks))
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "STRONG ANSWER\n", "the discarded answer is never printed")
        let record = try #require(run.records.first)
        #expect(run.records.count == 1, "one record per call")
        let reason = scenario.name == "judge 0.2" ? "judge 0.20 < 0.70" : ["empty": "empty", "refusal": "refusal", "length": "truncated", "short": "too_short", "bad json": "invalid_json"][scenario.name]
        #expect(record.escalatedFrom == "cheap" && record.escalationReason == reason)
        #expect(record.model == "strong" && record.route == "fast" && record.outputTokens == 2)
        // The discarded answer's 10 + 4 tokens at 1 and 2 USD per million, and the judge's 40 + 2 at 0.5 and 1.
        let judge = scenario.name == "judge 0.2" ? 0.000022 : 0
        #expect(abs(record.overheadCostUSD - (0.000018 + judge)) < 1e-12)
        #expect(abs(record.costUSD - (0.00014 + 0.000018 + judge)) < 1e-12, "cost includes the discarded answer and the judge")
        #expect(record.attempts == (judge > 0 ? 3 : 2))
        #expect(abs((record.baselineCostUSD ?? 0) - 0.00014) < 1e-12, "baseline prices on the final answer's tokens")
    }

    @Test func passingChecksPrintTheHeldAnswerOnce() async throws {
        let checks = #"["empty", "refusal", "truncated", {"min_chars": 5}, {"judge": {"model": "rater", "threshold": 0.7}}]"#
        let server = try scriptedServer(cheap: .sse(stream(["A fine ", "answer."])), rating: "0.9")
        let run = await runCall(["--json", "hello"], table: try scriptedTable(baseURL: server.baseURL, checks: checks))
        #expect(run.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["content"] as? String == "A fine answer.")
        #expect(object["escalated_from"] is NSNull && object["model"] as? String == "cheap")
        let path = try #require(object["path"] as? [[String: Any]])
        #expect(path.count == 1 && path[0]["final"] as? Bool == true && path[0]["failed_check"] is NSNull)
        #expect(server.requests.count == 2, "the answer and the judge; no escalation")

        let plain = await runCall(["hello"], table: try scriptedTable(baseURL: server.baseURL, checks: checks))
        #expect(plain.stdout == "A fine answer.\n")
    }

    @Test func aJudgeThatRamblesOrTimesOutLetsTheAnswerStand() async throws {
        let checks = #"[{"judge": {"model": "rater", "threshold": 0.7, "timeout_s": TIMEOUT}}]"#
        let garbage = try scriptedServer(cheap: .sse(stream(["Cheap answer."])), rating: "It is quite good")
        let rambled = await runCall(["--verbose", "hello"], table: try scriptedTable(baseURL: garbage.baseURL, checks: checks))
        #expect(rambled.status == 0 && rambled.stdout == "Cheap answer.\n")
        #expect(rambled.records.first?.escalatedFrom == nil && rambled.records.first?.model == "cheap")
        #expect(rambled.stderr.contains("not a rating from 0 to 1; the answer stands"))
        #expect((rambled.records.first?.overheadCostUSD ?? 0) > 0, "the judge's call still cost money")

        let slow = try scriptedServer(cheap: .sse(stream(["Cheap answer."])), ratingDelay: 5)
        let start = Date()
        let late = await runCall(["--verbose", "hello"], table: try scriptedTable(baseURL: slow.baseURL, checks: checks, judgeTimeout: 0.3))
        #expect(Date().timeIntervalSince(start) < 4, "the judge's timeout_s bounds the wait")
        #expect(late.status == 0 && late.stdout == "Cheap answer.\n" && late.records.first?.escalatedFrom == nil)
        #expect(late.stderr.contains("gave no rating"))
        slow.stop()
    }

    @Test func withoutEscalateToOrWhenTheEscalationFailsTheHeldAnswerIsPrintedWithAWarning() async throws {
        let refusal = TestHTTPServer.Response.sse(stream(["I can't help with that."]))
        let server = try scriptedServer(cheap: refusal)
        let nowhere = await runCall(["hello"], table: try scriptedTable(baseURL: server.baseURL, checks: #"["refusal"]"#, escalate: false))
        #expect(nowhere.status == 0 && nowhere.stdout == "I can't help with that.\n")
        #expect(nowhere.stderr.contains("warning:") && nowhere.stderr.contains("has no escalate_to"))
        #expect(nowhere.records.first?.escalatedFrom == nil && nowhere.records.first?.escalationReason == "refusal")

        let down = try scriptedServer(cheap: refusal, strongStatus: 400)
        let failed = await runCall(["hello"], table: try scriptedTable(baseURL: down.baseURL, checks: #"["refusal"]"#))
        #expect(failed.status == 0 && failed.stdout == "I can't help with that.\n")
        #expect(failed.stderr.contains("the escalation to route power failed"))
        let record = try #require(failed.records.first)
        #expect(record.model == "cheap" && record.escalatedFrom == nil && record.escalationReason == "refusal; escalation failed")
        #expect(record.overheadCostUSD == 0 && record.attempts == 2)
    }

    @Test func noChecksStreamsTheFirstAnswerAsItIs() async throws {
        let server = try scriptedServer(cheap: .sse(stream(["I can't help with that."])))
        let run = await runCall(["--no-checks", "hello"], table: try scriptedTable(baseURL: server.baseURL, checks: #"["refusal"]"#))
        #expect(run.status == 0 && run.stdout == "I can't help with that.\n" && run.stderr == "")
        #expect(run.records.first?.escalatedFrom == nil && server.requests.count == 1)
    }

    @Test func everyMockAnswerFailsItsCheckOffline() async throws {
        for (mode, check, reason) in [("empty", "\"empty\"", "empty"), ("refusal", "\"refusal\"", "refusal"), ("short", #"{"min_chars": 20}"#, "too_short"), ("truncated", "\"truncated\"", "truncated")] {
            let json = table(
                routes: #""fast": {"model": "small", "checks": [\#(check)], "escalate_to": "power"}, "power": {"model": "big"}"#,
                models: #"{"small": {"provider": "offline", "input_per_mtok": 0.1, "output_per_mtok": 0.4, "mock": "\#(mode)"}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}}"#)
            let run = await runCall(["--offline", "--explain", "what is two and two"], table: try load(json).get(), environment: [:])
            #expect(run.status == 0, "\(mode)")
            #expect(run.stdout == "[mock big] what is two and two\n", "\(mode)")
            #expect(run.records.first?.escalatedFrom == "small" && run.records.first?.escalationReason == reason, "\(mode)")
            #expect(run.stderr.contains("escalating to route power"), "\(mode)")
        }
    }

    @Test func theOfflineExampleEscalatesEndToEnd() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = directory.path + "/usage.jsonl"
        let run = await runCLI(
            ["--routes", repositoryRoot.appendingPathComponent("Examples/escalation.json").path, "--offline", "--json", "--log", log, "Translate good morning into French"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["route"] as? String == "fast" && object["escalated_from"] as? String == "gpt-4.1-mini")
        #expect(object["escalation_reason"] as? String == "refusal" && object["model"] as? String == "gpt-4.1")
        let path = try #require(object["path"] as? [[String: Any]])
        #expect(path.map { $0["route"] as? String } == ["fast", "mid"])
        #expect(path.map { $0["failed_check"] as? String } == ["refusal", nil])
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        #expect(logged.contains(#""escalated_from":"gpt-4.1-mini","escalation_reason":"refusal""#))
        #expect(!logged.contains("\"path\""), "the path is for --json; the record keeps to schema 2")
    }
}

@Suite struct EscalationReportTests {
    func log(_ lines: [String]) throws -> (TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        return (directory, try directory.write("usage.jsonl", lines.joined(separator: "\n") + "\n"))
    }

    /// A v2 record line of route `route`, first answered by `first`, escalated to `final` or not.
    func line(route: String, first: String, escalated: Bool, cost: Double = 0.001, overhead: Double = 0, group: String? = nil) -> String {
        var record = LedgerRecord(
            timestamp: "2026-11-20T10:00:00.000Z", id: UUID().uuidString, route: route, rule: "r", model: escalated ? "big" : first, provider: "p",
            inputTokens: 10, outputTokens: 10, cachedInputTokens: nil, usageEstimated: false, costUSD: cost, baselineModel: "big",
            baselineCostUSD: 0.002, latencyMilliseconds: 10, timeToFirstTokenMilliseconds: nil, status: .ok, error: nil, attempts: 1,
            fallbackFrom: nil, cacheHit: false, promptSHA256: String(repeating: "0", count: 64), promptChars: 5, tags: [])
        if escalated {
            record.escalatedFrom = first
            record.escalationReason = "refusal"
        }
        record.overheadCostUSD = overhead
        if let group {
            record.experiment = "exp"
            record.group = group
        }
        return String(decoding: record.jsonLine(), as: UTF8.self)
    }

    @Test func escalationRatesPerRouteAndFirstModelAndAWarningOverTwentyPercent() async throws {
        var lines: [String] = []
        for index in 0..<60 { lines.append(line(route: "fast", first: "mini", escalated: index < 15, overhead: index < 15 ? 0.0005 : 0)) }
        for index in 0..<40 { lines.append(line(route: "mid", first: "mid-model", escalated: index < 20)) }
        let (directory, path) = try log(lines)
        defer { directory.cleanUp() }
        let report = await runCLI(["report", "--log", path])
        #expect(report.status == 0)
        #expect(report.stdout.contains("escalations   35  (35.0% of calls)"))
        #expect(report.stdout.contains("overhead      $0.0075"))
        #expect(report.stdout.contains("route fast       15 of 60 (25.0%)") && report.stdout.contains("model mini       15 of 60 (25.0%)"))
        #expect(report.stdout.contains("route fast escalates 25.0 % of its 60 calls"))
        #expect(!report.stdout.contains("route mid escalates"), "40 calls are too few to warn about")

        let json = await runCLI(["report", "--log", path, "--format", "json", "--by", "route"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        let rates = try #require(object["escalations_by_route"] as? [[String: Any]])
        #expect(rates.first?["name"] as? String == "fast" && rates.first?["warning"] as? Bool == true)
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["escalations"] as? Int == 35)
    }

    @Test func aLogWithoutChecksReportsNoEscalationsAndVersionOneLinesStillRead() async throws {
        let v1 = recordLine("2026-11-20T10:00:00.000Z", route: "fast", model: "mini", provider: "p", input: 1, output: 1, cost: 0.001, baseline: 0.002, latency: 5)
            .replacing(#"{"v":2,"#, with: #"{"v":1,"#)
        let (directory, path) = try log([v1.components(separatedBy: #","offline""#)[0] + "}", line(route: "fast", first: "mini", escalated: false)])
        defer { directory.cleanUp() }
        let report = await runCLI(["report", "--log", path])
        #expect(report.status == 0 && report.stdout.contains("calls         2"), "\(report.stdout)\(report.stderr)")
        #expect(!report.stdout.contains("Escalations") && !report.stdout.contains("escalations"))
    }

    @Test func theExperimentVerdictMeasuresSavingsWithAnInterval() async throws {
        var lines: [String] = []
        for index in 0..<90 { lines.append(line(route: "fast", first: "mini", escalated: index % 10 == 0, cost: index % 2 == 0 ? 0.0009 : 0.0011, group: "routed")) }
        for index in 0..<10 { lines.append(line(route: "control", first: "big", escalated: false, cost: index % 2 == 0 ? 0.0038 : 0.0042, group: "control")) }
        let (directory, path) = try log(lines)
        defer { directory.cleanUp() }
        let report = await runCLI(["report", "--log", path, "--by", "group"])
        #expect(report.status == 0)
        #expect(report.stdout.contains("Experiment exp"))
        // Routed 0.001 per call against 0.004: 75 % saved.
        #expect(report.stdout.contains("measured savings: 75.0% per call (95% CI 74.0% to 76.0%)"), "\(report.stdout)")
        #expect(report.stdout.contains("routed        90   $0.001000     0.0%       10.0%"))
        #expect(report.stdout.contains("estimated savings of the routed calls from baseline prices: 50.0%"))
        #expect(report.stdout.contains("control") && report.stdout.contains("routed"))
        let result = try #require(ExperimentResult(
            name: "x", control: { var s = GroupStats(); s.calls = 1; s.cost = 1; s.costSquares = 1; return s }(), routed: GroupStats()) as ExperimentResult?)
        #expect(result.measuredSavings == nil, "one call per group gives no interval")
    }
}

@Suite struct ExperimentTests {
    static let experimentTable = table(
        routes: #""fast": {"model": "small"}"#, top: #""experiment": {"name": "routing-test", "control_share": 0.1, "control_model": "big"},"#)

    /// A fixed stream of uniform draws (SplitMix64), so the share test cannot flake.
    final class SeededDraws: Sendable {
        let state = Mutex<UInt64>(0x9E37_79B9_7F4A_7C15)
        func next() -> Double {
            state.withLock { value in
                value &+= 0x9E37_79B9_7F4A_7C15
                var z = value
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
            }
        }
    }

    @Test func aThousandOfflineCallsPutAboutATenthInControlAndReportTheVerdict() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", ExperimentTests.experimentTable)
        let log = directory.path + "/usage.jsonl"
        let draws = SeededDraws()
        for index in 0..<1000 {
            let run = await runCLI(["--routes", routes, "--offline", "--log", log, "prompt number \(index)"], random: { draws.next() })
            #expect(run.status == 0)
        }
        let records = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(records.count == 1000)
        let control = records.filter { $0.contains(#""experiment":"routing-test","group":"control""#) }
        let routed = records.filter { $0.contains(#""experiment":"routing-test","group":"routed""#) }
        #expect(control.count + routed.count == 1000)
        #expect((70...130).contains(control.count), "\(control.count) of 1000 in control")
        #expect(control.allSatisfy { $0.contains(#""route":"control","rule":"experiment","model":"big""#) })
        let report = await runCLI(["report", "--log", log, "--include-offline", "--by", "group"])
        #expect(report.stdout.contains("Experiment routing-test") && report.stdout.contains("measured savings:"))
        #expect(report.stdout.contains("control") && report.stdout.contains("routed"))
    }

    @Test func groupForcesASideAndOverridesLeaveTheExperiment() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", ExperimentTests.experimentTable)
        let log = directory.path + "/usage.jsonl"
        _ = await runCLI(["--routes", routes, "--offline", "--log", log, "--group", "control", "hi"], random: { 0.99 })
        _ = await runCLI(["--routes", routes, "--offline", "--log", log, "--group", "routed", "hi"], random: { 0.0 })
        _ = await runCLI(["--routes", routes, "--offline", "--log", log, "--route", "fast", "hi"], random: { 0.0 })
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].contains(#""group":"control""#) && lines[0].contains(#""model":"big""#))
        #expect(lines[1].contains(#""group":"routed""#) && lines[1].contains(#""model":"small""#))
        #expect(lines[2].contains(#""experiment":null,"group":null"#), "an explicit --route is outside the experiment")
        let wrong = await runCLI(["--routes", routes, "--offline", "--group", "contrl", "hi"])
        #expect(wrong.status == 64 && wrong.stderr.contains("did you mean \"control\"?"))
        let none = await runCLI(["--offline", "--group", "control", "--log", log, "hi"])
        #expect(none.status == 64 && none.stderr.contains("has none"))
    }

    @Test func dryRunsAndClassifyShowOnlyTheShare() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", ExperimentTests.experimentTable)
        let dry = await runCLI(["--routes", routes, "--dry-run", "hello"], random: { 0.0 })
        #expect(dry.stdout.contains("experiment routing-test: 10 % of calls go to control (big)"))
        #expect(dry.stdout.contains("route: fast"), "a dry run never says which side")
        let prompts = try directory.write("p.jsonl", #"{"prompt": "hello"}"# + "\n")
        let classify = await runCLI(["classify", "--routes", routes, "--format", "table", prompts])
        #expect(classify.stdout.contains("experiment routing-test: 10 % of calls go to control"), "\(classify.stdout)")
    }
}
