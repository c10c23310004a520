import Foundation
import Testing
import ModelRouteTestSupport
@testable import ModelRouteKit
@testable import modelroute

/// Keyword rules whose decisions are easy to check by hand: "prove" → power, "format" → fast.
let handRules = #"{"name": "proof", "route": "power", "any": ["prove"]}, {"name": "chore", "route": "fast", "any": ["format"]}"#

@Suite struct EvalTests {
    /// Each line's route worked out by hand from `handRules` (default route: mid).
    let labelled = #"""
    {"prompt": "prove this", "label": "hard", "source": "a", "id": "h1"}
    {"prompt": "format the list", "label": "hard", "source": "a", "id": "h2"}
    {"prompt": "something else", "label": "hard", "source": "a"}
    {"prompt": "format this", "label": "easy", "source": "b"}
    {"prompt": "prove and format", "label": "easy", "source": "b", "category": "tricky"}
    {"prompt": "hello", "label": "medium", "source": "b"}
    {"prompt": "format x", "route": "fast"}
    {"prompt": "prove y", "route": "mid"}

    """#

    @Test func theLabelByTierMatrixAndHeadlineAreAsCountedByHand() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", tableJSON(rules: handRules))
        let file = try directory.write("labelled.jsonl", labelled)
        let result = await runCLI(["eval", "--routes", routes, "--format", "json", file])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONParser.parse(Array(result.stdout.utf8))
        if case .array(let tiers)? = json["tiers"]?.value {
            #expect(tiers.compactMap(\.stringValue) == ["fast", "mid", "power"])
        } else {
            Issue.record("no tiers")
        }
        func counts(_ label: String) -> [String: Double] {
            guard case .object(let members)? = json["labels"]?[label]?["routes"]?.value else { return [:] }
            var result: [String: Double] = [:]
            for member in members { if case .number(let n) = member.value.value { result[member.key] = n } }
            return result
        }
        #expect(counts("hard") == ["fast": 1, "mid": 1, "power": 1])
        #expect(counts("easy") == ["fast": 1, "mid": 0, "power": 1])
        #expect(counts("medium") == ["fast": 0, "mid": 1, "power": 0])
        let headline = try #require(json["headline"])
        #expect(headline["hard_to_strongest"]?.value == .number(1.0 / 3))
        #expect(headline["hard_to_cheapest"]?.value == .number(1.0 / 3))
        #expect(headline["easy_to_cheapest"]?.value == .number(0.5))
        #expect(headline["easy_to_strongest"]?.value == .number(0.5))
        #expect(json["route_accuracy"]?.value == .number(0.5))
        #expect(json["confusion"]?["mid"]?["power"]?.value == .number(1))
        #expect(json["sources"]?["a"]?["routes"]?["power"]?.value == .number(1))
        guard case .array(let misses)? = json["misroutes"]?.value else {
            Issue.record("no misroutes")
            return
        }
        #expect(misses.count == 2)
        #expect(Set(misses.compactMap { $0["kind"]?.stringValue }) == ["hard → cheapest", "easy → strongest"])
        #expect(misses.contains { $0["id"]?.stringValue == "h2" && $0["rule"]?.stringValue == "chore" && $0["line"]?.value == .number(2) })
        // Input cost: every prompt's tokens at its route's model price, against the baseline "big".
        let cost = try #require(json["cost_usd"]).value
        let baseline = try #require(json["baseline_cost_usd"]).value
        #expect(cost != baseline)

        let table = await runCLI(["eval", "--routes", routes, "--misroutes", "1", file])
        #expect(table.stdout.contains("tiers, cheapest to strongest: fast (small) < mid (medium) < power (big)"))
        #expect(table.stdout.contains("hard → strongest    33.3%"))
        #expect(table.stdout.contains("expected routes: 1 of 2 right (50.0%)"))
        #expect(table.stdout.contains("worst misroutes (1 of 2):"))
        #expect(table.stdout.contains("by source:"))
    }

    @Test func badLinesAreNamedSkippedAndExit65() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", tableJSON(rules: handRules))
        let file = try directory.write("bad.jsonl", """
            {"prompt": "prove this", "label": "hard"}
            {"prompt": "x", "label": "trivial"}
            {"prompt": "y"}
            {"prompt": "z", "label": "easy",}
            """)
        let result = await runCLI(["eval", "--routes", routes, file])
        #expect(result.status == 65)
        #expect(result.stderr.contains("bad.jsonl:2:26: unknown label \"trivial\"; allowed labels: easy, medium, hard"))
        #expect(result.stderr.contains("bad.jsonl:3:1: missing \"label\" (easy, medium, hard) or \"route\""))
        #expect(result.stderr.contains("bad.jsonl:4:"))
        #expect(result.stdout.contains("eval: 1 prompt"))
        let none = await runCLI(["eval", "--routes", routes])
        #expect(none.status == 64)
    }

    @Test func routesByPriceOrderTiersCheapestFirst() throws {
        let table = try table(rules: "")
        #expect(table.routesByPrice.map(\.name) == ["fast", "mid", "power"])
    }
}

@Suite struct ClassifyAgainstTests {
    @Test func onlyPromptsThatMoveArePrintedWithBothRulesAndTheCostChange() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let current = try directory.write("a.json", tableJSON(rules: #"{"name": "proof", "route": "power", "any": ["prove"]}"#))
        let other = try directory.write("b.json", tableJSON(rules: #"{"name": "cheap-proof", "route": "fast", "any": ["prove"]}"#))
        let prompts = try directory.write("p.jsonl", """
            {"id": "1", "prompt": "prove it"}
            {"id": "2", "prompt": "hello there"}
            {"id": "3", "prompt": "prove that"}
            """)
        let result = await runCLI(["classify", "--routes", current, "--against", other, "--format", "jsonl", prompts])
        #expect(result.status == 0, "\(result.stderr)")
        let rows = result.stdout.split(separator: "\n").map { try? JSONParser.parse(Array($0.utf8)) }
        #expect(rows.count == 2)
        #expect(rows.compactMap { $0?["id"]?.stringValue } == ["1", "3"])
        #expect(rows.first??["old_route"]?.stringValue == "power" && rows.first??["old_rule"]?.stringValue == "proof")
        #expect(rows.first??["new_route"]?.stringValue == "fast" && rows.first??["new_rule"]?.stringValue == "cheap-proof")
        // "prove it": 8 characters, 2 tokens; big 10 → small 0.1 USD per million.
        #expect(rows.first??["cost_change_usd"]?.value == .number(-0.0000198))
        #expect(result.stderr.contains("Compared 3 prompts: 2 change route (66.7%)"))
        #expect(result.stderr.contains("power → fast"))
        let csv = await runCLI(["classify", "--routes", current, "--against", other, "--format", "csv", "--no-summary", prompts])
        #expect(csv.stdout.hasPrefix("index,id,old_route,old_model,old_rule,new_route,new_model,new_rule,input_tokens,cost_change_usd\n1,1,power,big,proof,fast,small,cheap-proof,2,"))
        let missing = await runCLI(["classify", "--routes", current, "--against", directory.path + "/none.json", prompts])
        #expect(missing.status == 78 && missing.stderr.contains("none.json"))
    }
}

@Suite struct ClassifyWithTests {
    /// A table whose `ask` rule sends its question to `asker` on the test server; the
    /// routes' own models answer offline (mock provider), so only the question uses HTTP.
    func askTable(baseURL: String, timeout: Double = 5, fallback: String = "fast") throws -> RoutingTable {
        let json = """
            {
              "version": 1, "default_route": "\(fallback)", "baseline_model": "strong",
              "providers": {"remote": {"type": "openai", "base_url": "\(baseURL)", "api_key_env": "TEST_OPENAI_KEY"}, "local": {"type": "mock"}},
              "models": {
                "asker": {"provider": "remote", "input_per_mtok": 1, "output_per_mtok": 2},
                "cheap": {"provider": "local", "input_per_mtok": 0.1, "output_per_mtok": 0.4},
                "strong": {"provider": "local", "input_per_mtok": 10, "output_per_mtok": 40}
              },
              "routes": {"fast": {"model": "cheap"}, "power": {"model": "strong"}},
              "rules": [
                {"name": "ask", "difficulty": {"min": 0, "max": 1},
                 "classify_with": {"model": "asker", "prompt": "Rate: {prompt}\\nAnswer SIMPLE or COMPLEX.", "labels": {"SIMPLE": "fast", "COMPLEX": "power"}, "timeout_s": \(timeout)}}
              ]
            }
            """
        return try RoutingTableLoader.load(json: Array(json.utf8), source: "ask.json")
    }

    @Test func aLabelPicksTheRouteAndTheQuestionIsOverhead() async throws {
        let server = try TestHTTPServer(responses: [.json(Canned.openAIReply("COMPLEX", input: 30, output: 1))])
        let run = await runCall(["--explain", "what is this"], table: try askTable(baseURL: server.baseURL))
        #expect(run.status == 0, "\(run.stderr)")
        let record = try #require(run.records.first)
        #expect(record.route == "power" && record.rule == "ask" && record.model == "strong")
        // 30 input and 1 output token at 1 and 2 USD per million.
        #expect(record.overheadCostUSD == 0.000032)
        #expect(record.costUSD > record.overheadCostUSD && record.attempts == 2)
        #expect(run.stderr.contains("asked asker (rule ask): COMPLEX → route power"))
        let request = try #require(server.requests.first)
        #expect(request.bodyText.contains("Rate: what is this\\nAnswer SIMPLE or COMPLEX."))
        #expect(request.bodyText.contains(#""max_tokens":5"#) && request.bodyText.contains(#""temperature":0"#))
        #expect(!request.bodyText.contains(#""stream":true"#))
    }

    @Test func garbageAnErrorOrASlowAnswerFallsThroughAndNeverFailsTheCall() async throws {
        let garbage = try TestHTTPServer(responses: [.json(Canned.openAIReply("I would say it depends", input: 30, output: 5))])
        let run = await runCall(["--verbose", "hello"], table: try askTable(baseURL: garbage.baseURL))
        #expect(run.status == 0)
        #expect(run.records.first?.route == "fast" && run.records.first?.rule == "default")
        #expect(run.records.first?.overheadCostUSD == 0.00004)
        #expect(run.stderr.contains("fits no label; rule default decides"))

        let failing = try TestHTTPServer(responses: [.json(#"{"error":{"message":"overloaded"}}"#, status: 503)])
        let failed = await runCall(["--verbose", "hello"], table: try askTable(baseURL: failing.baseURL))
        #expect(failed.status == 0 && failed.records.first?.route == "fast")
        #expect(failed.stderr.contains("asked asker (rule ask): no answer ("))
        #expect(failing.requests.count == 1, "the question is not retried")
        #expect(failed.records.first?.overheadCostUSD == 0)

        let slow = try TestHTTPServer(responses: [.json(Canned.openAIReply("COMPLEX"), delay: 5)])
        let start = Date()
        let late = await runCall(["hello"], table: try askTable(baseURL: slow.baseURL, timeout: 0.3))
        #expect(late.status == 0 && late.records.first?.route == "fast")
        #expect(Date().timeIntervalSince(start) < 4, "the question's timeout_s bounds the wait")
        slow.stop()

        // A missing key for the asked model falls through too.
        let keyless = await runCall(["hello"], table: try askTable(baseURL: garbage.baseURL), environment: [:])
        #expect(keyless.status == 0 && keyless.records.first?.route == "fast")
    }

    @Test func offlineTheMockPicksTheFirstLabelForEasyPromptsAndTheLastForHardOnes() async throws {
        let table = try askTable(baseURL: "http://127.0.0.1:9")
        let easy = await runCall(["--offline", "Translate to French: good morning"], table: table, environment: [:])
        #expect(easy.records.first?.route == "fast" && easy.records.first?.rule == "ask")
        let hard = await runCall(["--offline", "Prove that there are infinitely many primes of the form 4k+3."], table: table, environment: [:])
        #expect(hard.records.first?.route == "power" && hard.records.first?.rule == "ask")
        #expect((hard.records.first?.overheadCostUSD ?? 0) > 0)
    }
}
