import Foundation
import Synchronization
import Testing
import ModelRouteKit
import ModelRouteTestSupport
@testable import modelroute

/// What one in-process run of the main command produced, with the records it logged.
struct CallRun {
    var status: Int32
    var stdout: String
    var stderr: String
    var records: [LedgerRecord]
}

/// Runs the main command in-process against `table`, capturing stdout, stderr and log records.
func runCall(
    _ arguments: [String], table: RoutingTable, stdin: [UInt8] = [], environment: [String: String] = keyedEnvironment,
    cancellation: CancellationSignal = CancellationSignal(), realLog: Bool = false,
    stdout: OutputSink = .memory()
) async -> CallRun {
    let stderr = OutputSink.memory()
    let records = Mutex<[LedgerRecord]>([])
    let context = CommandContext(
        stdout: stdout, stderr: stderr, stdin: .memory(stdin), environment: environment, currentDirectory: "/nonexistent",
        now: { Date(timeIntervalSince1970: 1_795_000_000.25) }, timeZone: TimeZone(identifier: "UTC") ?? .current)
    let capture: RouteCommand.RecordAppender = { record in
        records.withLock { $0.append(record) }
        return nil
    }
    var status: Int32
    do {
        let parsed = try ArgumentParser.parse(arguments, for: RouteCommand.spec)
        let code = try await RouteCommand.execute(
            parsed, context: context, cancellation: cancellation,
            append: realLog ? nil : capture, table: table)
        status = code.rawValue
    } catch let error as any ModelRouteError {
        context.diagnose(error.message)
        status = error.exitCode.rawValue
    } catch {
        status = -1
    }
    stdout.flush()
    return CallRun(status: status, stdout: stdout.captured, stderr: stderr.captured, records: records.withLock { $0 })
}

@Suite struct CallCommandTests {
    let offlineTable = providerTable(baseURL: "http://127.0.0.1:9")

    @Test func offlineCallStreamsTheMockAnswerAndLogsOneRecord() async throws {
        let run = await runCall(["--offline", "--tag", "team=search", "--tag", "env=dev", "What", "is", "2+2?"], table: offlineTable, environment: [:])
        #expect(run.status == 0)
        #expect(run.stdout == "[mock gpt-test] What is 2+2?\n")
        #expect(run.stderr == "")
        let record = try #require(run.records.first)
        #expect(run.records.count == 1)
        #expect(record.timestamp == "2026-11-18T11:06:40.250Z")
        #expect(record.route == "chat" && record.rule == "default" && record.model == "gpt" && record.provider == "local")
        #expect(record.status == .ok && record.error == nil && record.attempts == 1 && record.fallbackFrom == nil)
        #expect(record.usageEstimated && !record.cacheHit)
        #expect(record.promptSHA256 == SHA256.hexDigest(of: "What is 2+2?") && record.promptChars == 12)
        #expect(record.tags.map(\.key) == ["team", "env"] && record.tags.map(\.value) == ["search", "dev"])
        #expect(record.baselineModel == "big" && (record.baselineCostUSD ?? 0) > record.costUSD)
        #expect(record.id.count == 36)
    }

    @Test func offlineCanBeSwitchedOnByTheEnvironment() async {
        let run = await runCall(["hello"], table: offlineTable, environment: ["MODELROUTE_OFFLINE": "1"])
        #expect(run.status == 0 && run.stdout == "[mock gpt-test] hello\n")
    }

    @Test func thePromptIsReadFromStandardInputWithoutItsTrailingNewline() async throws {
        let run = await runCall(["--offline"], table: offlineTable, stdin: Array("line one\nline two\n".utf8), environment: [:])
        #expect(run.stdout == "[mock gpt-test] line one line two\n")
        #expect(run.records.first?.promptChars == 17)
    }

    @Test func invalidUTF8OnStandardInputExits65() async {
        let run = await runCall(["--offline"], table: offlineTable, stdin: [0x68, 0xFF, 0xFE], environment: [:])
        #expect(run.status == 65 && run.stderr.contains("not valid UTF-8") && run.records.isEmpty)
    }

    @Test func anEmptyPromptExits66() async {
        let run = await runCall(["--offline"], table: offlineTable, stdin: Array(" \n".utf8), environment: [:])
        #expect(run.status == 66 && run.stderr.contains("empty") && run.records.isEmpty)
    }

    @Test func jsonPrintsOneObjectWithTheCallsNumbers() async throws {
        let run = await runCall(["--offline", "--json", "--route", "claude", "hi there"], table: offlineTable, environment: [:])
        #expect(run.status == 0)
        let node = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(node["content"]?.stringValue == "[mock claude-test] hi there")
        #expect(node["route"]?.stringValue == "claude" && node["rule"]?.stringValue == "override")
        #expect(node["model"]?.stringValue == "claude" && node["provider"]?.stringValue == "local")
        #expect(node["attempts"]?.intValue == 1 && node["input_tokens"]?.intValue != nil && node["cost_usd"] != nil)
        #expect(node["baseline_cost_usd"] != nil && node["latency_ms"] != nil)
        #expect(run.stdout.filter { $0 == "\n" }.count == 1)
    }

    /// `--json` prints one object for every outcome, with the status the command exits with.
    @Test func jsonAlwaysAnswersWithTheRecordAndTheExitCode() async throws {
        func object(_ run: CallRun) throws -> JSONNode {
            let lines = run.stdout.split(separator: "\n")
            #expect(lines.count == 1, "\(run.stdout)")
            return try JSONParser.parse(Array((lines.first ?? "").utf8))
        }
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"bad request"}}"#, status: 400)])
        let refused = await runCall(["--json", "--route", "solo", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(refused.status == 69)
        let failed = try object(refused)
        #expect(failed["exit_code"]?.value == .number(69) && failed["status"]?.stringValue == "error")
        #expect(failed["content"]?.stringValue == "" && failed["error"]?.stringValue?.contains("400") == true)
        #expect(failed["id"]?.stringValue == refused.records.first?.id && failed["v"]?.value == .number(2))

        let keyless = await runCall(["--json", "hi"], table: providerTable(baseURL: server.baseURL), environment: [:])
        #expect(keyless.status == 78)
        #expect(try object(keyless)["exit_code"]?.value == .number(78))

        let answered = await runCall(["--offline", "--json", "hi"], table: offlineTable, environment: [:])
        let ok = try object(answered)
        #expect(ok["exit_code"]?.value == .number(0) && ok["content"]?.stringValue == "[mock gpt-test] hi" && ok["offline"]?.value == .bool(true))
    }

    @Test func aDryRunWithJSONPrintsTheDecision() async throws {
        let run = await runCall(["--dry-run", "--json", "--route", "claude", "hi"], table: offlineTable, environment: [:])
        let node = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(node["route"]?.stringValue == "claude" && node["model"]?.stringValue == "claude" && node["rule"]?.stringValue == "override")
        #expect(node["input_tokens"]?.value == .number(1) && node["baseline_model"]?.stringValue == "big")
        #expect(node["difficulty"]?.value == .null && node["would_ask"]?.value == .null)
        #expect(run.records.isEmpty)
    }

    /// A server that sent its last event but keeps the connection open: the answer is
    /// whole at that event, not broken after `--timeout`.
    @Test func aStreamIsDoneAtItsFinalEventEvenIfTheConnectionStaysOpen() async throws {
        func openAfter(_ events: [String]) -> TestHTTPServer.Response {
            let stream = events.map { $0 + "\n\n" }.joined()
            return TestHTTPServer.Response(
                headers: [("Content-Type", "text/event-stream")], parts: [.bytes(Array(stream.utf8)), .pause(90)], framing: .chunked)
        }
        let server = try TestHTTPServer(responses: [openAfter(Canned.openAIStream(["all ", "here"])), openAfter(Canned.anthropicStream(["yes"]))], lifetime: 120)
        let start = Date()
        let openAI = await runCall(["--route", "solo", "--timeout", "80", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(openAI.status == 0 && openAI.stdout == "all here\n")
        #expect(openAI.records.first?.status == .ok && openAI.records.first?.outputTokens == 5)
        let anthropic = await runCall(["--route", "claude", "--timeout", "80", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(anthropic.status == 0 && anthropic.stdout == "yes\n")
        // Waiting for the server would take 90 s (or the 80 s timeout); a busy machine running
        // the whole suite at once may slow the two calls by seconds, never by a minute.
        #expect(Date().timeIntervalSince(start) < 40, "neither call waited for the server to close")
        server.stop()
    }

    @Test func modelOverrideCallsOnlyThatModelAndLogsOverride() async throws {
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"down"}}"#, status: 400)])
        let run = await runCall(["--model", "big", "hi"], table: providerTable(baseURL: server.baseURL))
        let record = try #require(run.records.first)
        #expect(record.rule == "override" && record.model == "big" && record.route == "big")
        #expect(record.attempts == 1 && record.fallbackFrom == nil && server.requests.count == 1)
        #expect(run.status == 69)
        #expect(server.requests.first?.bodyText.contains(#""model":"big-test""#) == true)
    }

    @Test func unknownRouteOrModelIsAUsageErrorWithASuggestion() async {
        let run = await runCall(["--route", "claud", "hi"], table: offlineTable, environment: [:])
        #expect(run.status == 64 && run.stderr.contains("did you mean \"claude\"?"))
        let model = await runCall(["--model", "gtp", "hi"], table: offlineTable, environment: [:])
        #expect(model.status == 64 && model.stderr.contains("did you mean \"gpt\"?"))
    }

    @Test func aMissingKeyExits78BeforeAnyNetworkAndIsStillLogged() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["no"]))])
        let run = await runCall(["hi"], table: providerTable(baseURL: server.baseURL), environment: [:])
        #expect(run.status == 78)
        #expect(run.stderr.contains("TEST_OPENAI_KEY") && run.stderr.contains("\"openai\""))
        #expect(run.stdout == "" && server.requests.isEmpty)
        let record = try #require(run.records.first)
        #expect(record.status == .error && record.attempts == 0 && record.error?.contains("TEST_OPENAI_KEY") == true)
    }

    @Test func aStreamCutMidAnswerExits75WithTheRecordAndNoRetry() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["half ", "an answer"]), hangUpAfter: 2)])
        let run = await runCall(["hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 75)
        #expect(run.stdout == "half an answer\n")
        #expect(run.stderr.contains("broke off"))
        let record = try #require(run.records.first)
        #expect(record.status == .error && record.attempts == 1 && record.usageEstimated && record.outputTokens > 0)
        #expect(server.requests.count == 1)
    }

    @Test func everyModelFailingExits69WithOneRecord() async throws {
        let server = try TestHTTPServer(responses: [
            .json(#"{"error":{"message":"bad request"}}"#, status: 400),
            .json(#"{"type":"error","error":{"type":"invalid_request_error","message":"also bad"}}"#, status: 400),
        ])
        let run = await runCall(["hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 69 && run.stdout == "")
        #expect(run.stderr.contains("bad request") && run.stderr.contains("also bad"))
        #expect(run.records.count == 1 && run.records.first?.status == .error && run.records.first?.attempts == 2)
        #expect(run.records.first?.fallbackFrom == "gpt" && run.records.first?.model == "claude")
    }

    @Test func aFailedLogAppendKeepsTheAnswerButExitsNonZero() async {
        // Nothing can be created under /proc, so the append fails.
        let run = await runCall(["--offline", "--log", "/proc/modelroute-test/usage.jsonl", "keep me"], table: offlineTable, environment: [:], realLog: true)
        #expect(run.stdout == "[mock gpt-test] keep me\n")
        #expect(run.status != 0 && run.stderr.contains("log"))
    }

    @Test func ctrlCStopsTheCallExits130AndLogsCancelled() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["a", "b", "c"]), pause: 5)])
        let cancellation = CancellationSignal()
        let watcher = Task.detached {
            _ = server.waitForRequests(1)
            try? await Task.sleep(nanoseconds: 30_000_000)
            cancellation.cancel()
        }
        let run = await runCall(["hi"], table: providerTable(baseURL: server.baseURL), cancellation: cancellation)
        await watcher.value
        #expect(run.status == 130)
        let record = try #require(run.records.first)
        #expect(record.status == .cancelled && record.error == "cancelled")
    }

    @Test func noKeyValueEverReachesStdoutStderrOrTheLog() async throws {
        let echo = #"{"error":{"message":"Incorrect API key provided: \#(fakeOpenAIKey)"}}"#
        let server = try TestHTTPServer(responses: [.json(echo, status: 401), .sse(Canned.anthropicStream(["fine"]))])
        let run = await runCall(["--verbose", "--explain", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 0 && run.stdout == "fine\n")
        let logged = run.records.map { String(describing: $0) }.joined()
        for secret in [fakeOpenAIKey, fakeAnthropicKey, fakeGeminiKey] {
            #expect(!run.stdout.contains(secret) && !run.stderr.contains(secret) && !logged.contains(secret))
        }
        #expect(run.stderr.contains("TEST_OPENAI_KEY"))  // the variable's name is fine, and useful
        #expect(run.stderr.contains("attempt 1") && run.stderr.contains("route chat"))
    }

    @Test func systemMaxTokensAndTemperatureReachTheRequest() async throws {
        let server = try TestHTTPServer(responses: [.json(Canned.anthropicReply("ok"))])
        let run = await runCall(
            ["--route", "claude", "--system", "Be terse.", "--max-tokens", "77", "--temperature", "0.3", "--no-stream", "hi"],
            table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 0 && run.stdout == "ok\n")
        let body = try JSONParser.parse(try #require(server.requests.first).body)
        #expect(body["system"]?.stringValue == "Be terse.")
        #expect(body["max_tokens"]?.intValue == 77)
        #expect(body["temperature"]?.value == .number(0.3))
        #expect(body["stream"] == nil)
        #expect(run.records.first?.timeToFirstTokenMilliseconds == nil)
    }

    @Test func jsonModeMayRetryAStreamCutMidwayBecauseNothingWasPrinted() async throws {
        let server = try TestHTTPServer(responses: [
            .sse(Canned.openAIStream(["half"]), hangUpAfter: 1),
            .sse(Canned.openAIStream(["whole ", "answer"])),
        ])
        let run = await runCall(["--json", "--route", "solo", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 0)
        let node = try JSONParser.parse(Array(run.stdout.utf8))
        #expect(node["content"]?.stringValue == "whole answer" && node["attempts"]?.intValue == 2)
        #expect(node["ttft_ms"]?.intValue != nil)
    }

    @Test func timeoutOptionOverridesTheProvidersTimeout() async throws {
        let server = try TestHTTPServer(responses: [
            .json(Canned.openAIReply("late"), delay: 3), .json(Canned.openAIReply("late"), delay: 3), .json(Canned.openAIReply("late"), delay: 3),
        ])
        let run = await runCall(["--timeout", "0.2", "--route", "solo", "--no-stream", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 75)
        #expect(run.stderr.contains("no answer within 0.2 s"))
        #expect(run.records.first?.attempts == 3)
    }

    @Test func retryAfterAsAnHTTPDateIsHonoured() async throws {
        let past = "Wed, 21 Oct 2015 07:28:00 GMT"
        let server = try TestHTTPServer(responses: [
            .json(#"{"error":{"message":"later"}}"#, status: 503, headers: [("Retry-After", past)]),
            .json(Canned.openAIReply("now"), status: 200),
        ])
        let run = await runCall(["--route", "solo", "--no-stream", "--verbose", "hi"], table: providerTable(baseURL: server.baseURL))
        #expect(run.status == 0 && run.stdout == "now\n")
        #expect(run.stderr.contains("retrying in 0.00 s"))
    }

    @Test func headerSecretsFromTheEnvironmentNeverAppear() async throws {
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"org org-SECRET-HEADER-9 is not allowed"}}"#, status: 403)])
        var table = providerTable(baseURL: server.baseURL)
        table.providers[0].headers = [("OpenAI-Organization", "${TEST_ORG}")]
        var environment = keyedEnvironment
        environment["TEST_ORG"] = "org-SECRET-HEADER-9"
        let run = await runCall(["--route", "solo", "--verbose", "hi"], table: table, environment: environment)
        #expect(run.status == 69)
        #expect(server.requests.first?.header("openai-organization") == "org-SECRET-HEADER-9")
        #expect(!run.stderr.contains("SECRET-HEADER") && !run.stdout.contains("SECRET-HEADER"))
        #expect(!run.records.map { String(describing: $0) }.joined().contains("SECRET-HEADER"))
        #expect(run.stderr.contains("TEST_OPENAI_KEY"))
    }

    @Test func theLogGetsOneWholeRecordPerCallAndNeverAKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("modelroute-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = directory + "/state/usage.jsonl"
        let echo = #"{"error":{"message":"Incorrect API key provided: \#(fakeOpenAIKey)"}}"#
        let server = try TestHTTPServer(responses: [.json(echo, status: 401), .sse(Canned.anthropicStream(["fine"], input: 10, output: 3))])
        let run = await runCall(["--log", log, "--verbose", "--tag", "team=search", "hi"], table: providerTable(baseURL: server.baseURL), realLog: true)
        #expect(run.status == 0 && run.stdout == "fine\n")
        let text = try String(contentsOfFile: log, encoding: .utf8)
        for secret in [fakeOpenAIKey, fakeAnthropicKey, "NEVER-PRINT"] { #expect(!text.contains(secret)) }
        let lines = text.split(separator: "\n")
        #expect(lines.count == 1)
        let record = try LedgerRecord.decode(line: Array(lines[0].utf8))
        #expect(record.model == "claude" && record.provider == "anthropic" && record.fallbackFrom == "gpt" && record.attempts == 2)
        #expect(record.inputTokens == 10 && record.outputTokens == 3 && record.status == .ok && record.rule == "default")
        #expect(record.timestamp == "2026-11-18T11:06:40.250Z" && record.tags.first?.value == "search")
    }
}

/// Values that reach the request line or a header are checked before any network, for
/// every client; secrets are scrubbed in every form, even when a message was cut inside one.
@Suite struct SecretHandlingTests {
    @Test func aLineBreakInAKeyHeaderOrModelIdIsRefusedBeforeAnyNetwork() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["no"]))])
        var table = providerTable(baseURL: server.baseURL)
        table.providers[0].headers = [("X-Team", "${TEAM}")]
        let injected = await runCall(["--route", "solo", "hi"], table: table, environment: keyedEnvironment.merging(["TEAM": "a\r\nX-Injected: 1"]) { $1 })
        #expect(injected.status == 78)
        #expect(injected.stderr.contains("the value of header X-Team contains a line break") && !injected.stderr.contains("X-Injected"))
        var key = keyedEnvironment
        key["TEST_OPENAI_KEY"] = "sk-abc\ndef"
        let badKey = await runCall(["--route", "solo", "hi"], table: providerTable(baseURL: server.baseURL), environment: key)
        #expect(badKey.status == 78 && badKey.stderr.contains("the API key in $TEST_OPENAI_KEY contains a line break"))
        #expect(!badKey.stderr.contains("sk-abc"))
        var badModel = providerTable(baseURL: server.baseURL)
        badModel.models[0].id = "gpt\r\nHost: elsewhere"
        let model = await runCall(["--route", "solo", "hi"], table: badModel)
        #expect(model.status == 78 && model.stderr.contains("the id of model \"gpt\""))
        var badName = providerTable(baseURL: server.baseURL)
        badName.providers[0].headers = [("X-Bad\r\nInjected", "1")]
        #expect(await runCall(["--route", "solo", "hi"], table: badName).status == 78)
        #expect(server.requests.isEmpty, "nothing reached the server")
    }

    @Test func aKeyEchoedBackIsScrubbedTrimmedEncodedOrCutInHalf() async throws {
        let key = "sk-test-ECHO-0123456789abcdefghijklmnop"
        // A key set with white space around it is sent trimmed, and scrubbed as sent.
        let echoed = try TestHTTPServer(responses: [.json(#"{"error":{"message":"bad key \#(key) here"}}"#, status: 401)])
        var environment = keyedEnvironment
        environment["TEST_OPENAI_KEY"] = "  \(key)\n"
        let run = await runCall(["--route", "solo", "hi"], table: providerTable(baseURL: echoed.baseURL), environment: environment)
        #expect(run.status == 69)
        #expect(!run.stderr.contains(key) && run.stderr.contains("[redacted]"))
        #expect(run.records.first?.error?.contains(key) == false)
        // Percent-encoded, as a server that echoes a URL would show it.
        let url = try TestHTTPServer(responses: [.json(#"{"error":{"message":"see https://x.test/?k=sk-test-ECHO%2B1"}}"#, status: 401)])
        environment["TEST_OPENAI_KEY"] = "sk-test-ECHO+1"
        let encoded = await runCall(["--route", "solo", "hi"], table: providerTable(baseURL: url.baseURL), environment: environment)
        #expect(!encoded.stderr.contains("sk-test-ECHO%2B1") && encoded.stderr.contains("[redacted]"))
        // A body that is not JSON is cut to 120 characters: the cut falls inside the key.
        let cut = try TestHTTPServer(responses: [.json(String(repeating: "x", count: 100) + key + " trailing text", status: 500)])
        environment["TEST_OPENAI_KEY"] = key
        var table = providerTable(baseURL: cut.baseURL)
        table.providers[0].retry = RetryPolicy(retries: 0, initialDelaySeconds: 0, maxDelaySeconds: 0)
        let half = await runCall(["--route", "solo", "hi"], table: table, environment: environment)
        #expect(!half.stderr.contains(String(key.prefix(12))), "\(half.stderr)")
        #expect(half.stderr.contains("[redacted]"))
    }
}
