import Foundation
import ModelRouteTestSupport
import Testing

@testable import ModelRouteKit
@testable import modelroute

/// A table with an unpriced model (`"prices": "unknown"`).
private let unpricedTable = """
    {"version": 1, "default_route": "fast", "baseline_model": "big",
     "providers": {"offline": {"type": "mock"}},
     "models": {"small": {"provider": "offline", "prices": "unknown"}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}},
     "routes": {"fast": {"model": "small", "max_tokens": 100}, "power": {"model": "big", "max_tokens": 1000}, "open": {"model": "big"}}}
    """

@Suite struct UnpricedModelTests {
    @Test func unknownPricesMustBeSaidAndAreLoggedUnpricedAndNeverSavings() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", unpricedTable)
        let log = directory.path + "/usage.jsonl"
        let unpriced = await runCLI(["--routes", routes, "--offline", "--log", log, "hello there"])
        let priced = await runCLI(["--routes", routes, "--offline", "--log", log, "--route", "power", "hello there"])
        #expect(unpriced.status == 0 && priced.status == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines[0].contains(#""priced":false"#) && lines[0].contains(#""cost_usd":0,"#))
        #expect(lines[1].contains(#""priced":true"#))
        let report = await runCLI(["report", "--log", log, "--include-offline", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        #expect(totals["unpriced_calls"] as? Int == 1)
        #expect((totals["saved_usd"] as? Double) == 0, "the unpriced call is not counted as saving its baseline cost")
        let text = await runCLI(["report", "--log", log, "--include-offline"])
        #expect(text.stdout.contains("unpriced      1 call,"), "\(text.stdout)")
        let check = await runCLI(["check", "--routes", routes])
        #expect(check.stdout.contains("unknown"))
        let dry = await runCLI(["--routes", routes, "--dry-run", "hello"])
        #expect(dry.stdout.contains("estimated input cost: unknown"))
    }

    @Test func aMissingPriceIsAnErrorUnlessUnknownIsSaid() {
        func error(_ model: String) -> String {
            let json = unpricedTable.replacing(#""small": {"provider": "offline", "prices": "unknown"}"#, with: model)
            do {
                _ = try RoutingTableLoader.load(json: Array(json.utf8), source: "t.json")
                return ""
            } catch { return error.message }
        }
        #expect(error(#""small": {"provider": "offline"}"#).contains(#"(or "prices": "unknown") is missing the required key "input_per_mtok""#))
        #expect(error(#""small": {"provider": "offline", "prices": "free"}"#).contains(#"the only value is "unknown""#))
        #expect(error(#""small": {"provider": "offline", "prices": "unknown", "input_per_mtok": 1}"#).contains("do not go together"))
    }
}

@Suite struct MaxCostTests {
    @Test func aCallOverTheCeilingIsRefusedBeforeAnyNetworkWithExitSeventySeven() async throws {
        let server = try TestHTTPServer(responses: [.json(Canned.openAIReply("Paris.", input: 12, output: 2)), .json(Canned.openAIReply("Paris.", input: 12, output: 2))])
        let json = """
            {"version": 1, "default_route": "chat", "baseline_model": "gpt",
             "providers": {"openai": {"type": "openai", "base_url": "\(server.baseURL)", "api_key_env": "TEST_OPENAI_KEY"}},
             "models": {"gpt": {"provider": "openai", "input_per_mtok": 1, "output_per_mtok": 10}},
             "routes": {"chat": {"model": "gpt", "max_tokens": 1000}}}
            """
        let table = try RoutingTableLoader.load(json: Array(json.utf8), source: "t")
        // Worst case: ~3 input tokens at 1 USD/M and 1000 output at 10 USD/M: just over $0.01.
        let refused = await runCall(["--max-cost", "0.01", "--no-stream", "Capital of France?"], table: table)
        #expect(refused.status == 77)
        #expect(refused.stderr.contains("refused by --max-cost $0.0100: the call may cost up to $0.0100") || refused.stderr.contains("may cost up to $0.01"), "\(refused.stderr)")
        #expect(server.requests.isEmpty, "nothing was sent")
        let record = try #require(refused.records.first)
        #expect(record.status == .error && record.budget == "--max-cost" && record.costUSD == 0)

        let allowed = await runCall(["--max-cost", "0.02", "--no-stream", "Capital of France?"], table: table)
        #expect(allowed.status == 0 && allowed.stdout == "Paris.\n" && server.requests.count == 1)
        let smaller = await runCall(["--max-cost", "0.01", "--max-tokens", "10", "--no-stream", "Capital of France?"], table: table)
        #expect(smaller.status == 0 && smaller.stdout == "Paris.\n", "--max-tokens lowers the worst case under the ceiling")
        #expect(server.requests.count == 2)
    }

    @Test func theEnvironmentSetsTheCeilingAndAnUnboundedCallIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", unpricedTable)
        let log = directory.path + "/usage.jsonl"
        let open = await runCLI(["--routes", routes, "--offline", "--log", log, "--route", "open", "hi"], environment: ["MODELROUTE_MAX_COST": "5"])
        #expect(open.status == 77 && open.stderr.contains("sets no max_tokens"))
        let unknown = await runCLI(["--routes", routes, "--offline", "--log", log, "--route", "fast", "hi"], environment: ["MODELROUTE_MAX_COST": "5"])
        #expect(unknown.status == 77 && unknown.stderr.contains("\"prices\": \"unknown\""))
        let fine = await runCLI(["--routes", routes, "--offline", "--log", log, "--route", "power", "hi"], environment: ["MODELROUTE_MAX_COST": "5"])
        #expect(fine.status == 0)
        let bad = await runCLI(["--routes", routes, "--offline", "hi"], environment: ["MODELROUTE_MAX_COST": "lots"])
        #expect(bad.status == 64)
        // The escalation chain counts: fast → power on a checked route.
        let chain = try RoutingTableLoader.load(json: Array(unpricedTable.replacing(#""prices": "unknown""#, with: #""input_per_mtok": 1, "output_per_mtok": 1"#)
            .replacing(#""fast": {"model": "small", "max_tokens": 100}"#, with: #""fast": {"model": "small", "max_tokens": 100, "checks": ["empty"], "escalate_to": "power"}"#).utf8), source: "c")
        let decision = RoutingDecision(route: "fast", model: "small", reason: .defaultRoute, evidence: [], features: PromptMeasurements())
        let request = { (route: RouteConfig?) in ChatRequest(prompt: "hi", maxTokens: route?.maxTokens) }
        guard case .bounded(let checked) = SpendLimitStage.worstCase(decision, table: chain, request: request, checksEnabled: true),
            case .bounded(let unchecked) = SpendLimitStage.worstCase(decision, table: chain, request: request, checksEnabled: false)
        else { Issue.record("unbounded"); return }
        #expect(abs(unchecked - 0.000101) < 1e-9 && abs(checked - (0.000101 + 0.015003)) < 1e-9, "\(checked) \(unchecked)")
    }
}

@Suite struct PriceImportTests {
    /// A small file in LiteLLM's format.
    static let litellm = """
        {
          "sample_spec": {"input_cost_per_token": 0, "litellm_provider": "spec"},
          "gpt-4.1": {"input_cost_per_token": 2.5e-06, "output_cost_per_token": 9e-06, "max_input_tokens": 1047576, "litellm_provider": "openai"},
          "cheap-id": {"input_cost_per_token": 1e-07, "output_cost_per_token": 4e-07, "cache_read_input_token_cost": 2.5e-08, "litellm_provider": "openai"},
          "claude-x": {"input_cost_per_token": 1e-06, "output_cost_per_token": 5e-06, "litellm_provider": "bedrock"},
          "gemini/gemini-flash": {"input_cost_per_token": 3e-07, "output_cost_per_token": 2.5e-06, "max_input_tokens": 1048576, "litellm_provider": "gemini"},
          "broken": {"input_cost_per_token": -1, "output_cost_per_token": 1e9, "litellm_provider": "openai"}
        }
        """

    static let table = """
        {
          "_comment": "kept as it is",
          "version": 1,
          "default_route": "main",
          "providers": {
            "openai": {"type": "openai"},
            "anthropic": {"type": "anthropic"},
            "google": {"type": "gemini"},
            "local": {"type": "openai", "base_url": "http://localhost:11434/v1"}
          },
          "models": {
            "gpt-4.1": {"provider": "openai", "input_per_mtok": 2.00, "output_per_mtok": 8.00},
            "cheap": {"provider": "openai", "id": "cheap-id", "prices": "unknown"},
            "claude-x": {"provider": "anthropic", "input_per_mtok": 1, "output_per_mtok": 5},
            "flash": {"provider": "google", "id": "models/gemini-flash", "input_per_mtok": 0.3, "output_per_mtok": 2.5, "_why": "kept"},
            "llama": {"provider": "local", "id": "gpt-4.1", "input_per_mtok": 0, "output_per_mtok": 0}
          },
          "routes": {"main": {"model": "gpt-4.1"}}
        }
        """

    @Test func importShowsChangesListsTheUnmatchedAndWritesKeepingTheTable() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let prices = try directory.write("prices.json", PriceImportTests.litellm)
        let routes = try directory.write("routes.json", PriceImportTests.table)
        let dry = await runCLI(["prices", "import", prices, "--routes", routes])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout.contains(#"gpt-4.1 ("gpt-4.1"): input 2 → 2.5, output 8 → 9, context - → 1047576"#), "\(dry.stdout)")
        #expect(dry.stdout.contains(#"cheap ("cheap-id"): input 0 → 0.1, output 0 → 0.4, cached - → 0.025"#))
        #expect(dry.stdout.contains(#"flash ("gemini/gemini-flash"): context - → 1048576"#))
        #expect(dry.stdout.contains("claude-x: no entry \"claude-x\" of provider anthropic"), "bedrock's entry is not Anthropic's")
        #expect(dry.stdout.contains("llama: an OpenAI-compatible server at http://localhost:11434/v1"))
        #expect(dry.stdout.contains("3 models would change"))
        #expect(try String(contentsOfFile: routes, encoding: .utf8) == PriceImportTests.table, "nothing is written without --write")

        let write = await runCLI(["prices", "import", prices, "--routes", routes, "--write"], now: Date(timeIntervalSince1970: 1_795_000_000))
        #expect(write.status == 0 && write.stdout.contains("Wrote \(routes): 3 models changed, prices_as_of 2026-11-18"), "\(write.stdout)\(write.stderr)")
        let written = try String(contentsOfFile: routes, encoding: .utf8)
        #expect(written.hasPrefix("{\n  \"prices_as_of\": \"2026-11-18\",\n  \"_comment\": \"kept as it is\",\n  \"version\": 1,"))
        #expect(written.contains(#""gpt-4.1": {"provider": "openai", "input_per_mtok": 2.5, "output_per_mtok": 9, "context_tokens": 1047576}"#))
        #expect(written.contains(#""cheap": {"provider": "openai", "id": "cheap-id", "input_per_mtok": 0.1, "output_per_mtok": 0.4, "cached_input_per_mtok": 0.025}"#), "\(written)")
        #expect(written.contains(#""input_per_mtok": 0.3, "output_per_mtok": 2.5, "_why": "kept", "context_tokens": 1048576}"#))
        #expect(written.contains(#""claude-x": {"provider": "anthropic", "input_per_mtok": 1, "output_per_mtok": 5}"#))
        let table = try RoutingTableLoader.load(json: Array(written.utf8), source: routes)
        #expect(table.model(named: "cheap")?.priced == true && table.pricesAsOf == "2026-11-18")
        // Again: nothing left to change, and the date moves.
        let again = await runCLI(["prices", "import", prices, "--routes", routes])
        #expect(again.stdout.contains("Nothing to change"))
    }

    @Test func badFilesAndTheBuiltInTableAreClearErrors() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let bad = try directory.write("bad.json", "{\"a\": ")
        let broken = await runCLI(["prices", "import", bad])
        #expect(broken.status == 65 && broken.stderr.contains("bad.json:1:"))
        let missing = await runCLI(["prices", "import", directory.path + "/none.json"])
        #expect(missing.status == 66)
        let prices = try directory.write("prices.json", PriceImportTests.litellm)
        let builtIn = await runCLI(["prices", "import", prices, "--write"], environment: ["HOME": directory.path], directory: directory.path)
        #expect(builtIn.status == 66 && builtIn.stderr.contains("cannot be written"), "\(builtIn.stderr)")
        let usage = await runCLI(["prices", "export"])
        #expect(usage.status == 64)
    }

    @Test func stalePricesAreAWarningAndAPromptOverTheWindowSkipsTheModel() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let old = try directory.write("old.json", cacheTable(top: #""prices_as_of": "2026-01-05","#).replacing(#""cache": {"ttl": "7d"},"#, with: ""))
        let check = await runCLI(["check", "--routes", old], now: Date(timeIntervalSince1970: 1_795_000_000))
        #expect(check.status == 0 && check.stderr.contains("prices_as_of 2026-01-05 is 317 days old"), "\(check.stderr)")
        let fresh = try directory.write("fresh.json", cacheTable(top: #""prices_as_of": "2026-11-01","#).replacing(#""cache": {"ttl": "7d"},"#, with: ""))
        #expect(await runCLI(["check", "--routes", fresh], now: Date(timeIntervalSince1970: 1_795_000_000)).stderr.isEmpty)

        let windowed = try directory.write("window.json", """
            {"version": 1, "default_route": "fast", "baseline_model": "big",
             "providers": {"offline": {"type": "mock"}},
             "models": {"small": {"provider": "offline", "input_per_mtok": 0.4, "output_per_mtok": 1.6, "context_tokens": 10},
                        "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}},
             "routes": {"fast": {"model": "small", "fallbacks": ["big"]}, "tight": {"model": "small"}}}
            """)
        let long = Array(repeating: "word", count: 40).joined(separator: " ")
        let skipped = await runCLI(["--routes", windowed, "--offline", "--log", directory.path + "/u.jsonl", long])
        #expect(skipped.status == 0 && skipped.stdout.hasPrefix("[mock big]"))
        #expect(skipped.stderr.contains("is over the context window of small (10 tokens); trying big"), "\(skipped.stderr)")
        let short = await runCLI(["--routes", windowed, "--offline", "--log", directory.path + "/u.jsonl", "hi"])
        #expect(short.stdout.hasPrefix("[mock small]"))
        let nowhere = await runCLI(["--routes", windowed, "--offline", "--log", directory.path + "/u.jsonl", "--route", "tight", long])
        #expect(nowhere.status == 69 && nowhere.stderr.contains("context window"))
        let bad = try directory.write("bad.json", cacheTable(top: #""prices_as_of": "last week","#))
        #expect(await runCLI(["check", "--routes", bad]).stderr.contains("expected a date like"))
    }
}

@Suite struct RepriceTests {
    @Test func repriceRecomputesCostAndBaselineAtTodaysPricesNextToTheLoggedOnes() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        // Logged at 1 and 2 USD per million (cost 0.000004 for 2,000 in and 1,000 out... below).
        let lines = [
            recordLine("2026-11-20T10:00:00.000Z", route: "fast", model: "mini", provider: "p", input: 1000, output: 1000, cost: 0.003, baseline: 0.018, latency: 5),
            recordLine("2026-11-20T11:00:00.000Z", route: "fast", model: "gone", provider: "p", input: 1000, output: 0, cost: 0.001, baseline: 0.003, latency: 5),
        ]
        let log = try directory.write("usage.jsonl", lines.joined(separator: "\n") + "\n")
        let routes = try directory.write("routes.json", """
            {"version": 1, "default_route": "fast", "baseline_model": "claude-sonnet-4-5",
             "providers": {"p": {"type": "mock"}},
             "models": {"mini": {"provider": "p", "input_per_mtok": 2, "output_per_mtok": 4},
                        "claude-sonnet-4-5": {"provider": "p", "input_per_mtok": 3, "output_per_mtok": 10}},
             "routes": {"fast": {"model": "mini"}}}
            """)
        let report = await runCLI(["report", "--log", log, "--reprice", "--routes", routes, "--format", "json"])
        #expect(report.status == 0, "\(report.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.stdout.utf8)) as? [String: Any])
        let totals = try #require(object["totals"] as? [String: Any])
        // mini: 1000 × 2 + 1000 × 4 per million = 0.006; "gone" is not in the table and keeps its 0.001.
        #expect(abs((totals["cost_usd"] as? Double ?? 0) - 0.007) < 1e-9, "\(totals)")
        // Baselines at today's 3 and 10: 0.013 and 0.003.
        #expect(abs((totals["baseline_cost_usd"] as? Double ?? 0) - 0.016) < 1e-9)
        #expect(object["repriced_all"] as? Bool == true && abs((object["logged_cost_usd"] as? Double ?? 0) - 0.004) < 1e-9)
        let text = await runCLI(["report", "--log", log, "--reprice", "--routes", routes])
        #expect(text.stdout.contains("(at today's prices; logged $0.004000, +$0.003000)"), "\(text.stdout)")
        let plain = await runCLI(["report", "--log", log, "--format", "json"])
        #expect(plain.stdout.contains(#""repriced_all":false"#) && !plain.stdout.contains("logged_cost_usd"))
    }
}
