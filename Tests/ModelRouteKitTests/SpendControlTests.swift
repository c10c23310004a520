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
