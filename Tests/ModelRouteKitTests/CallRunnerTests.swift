import Foundation
import Testing
@testable import ModelRouteKit
import ModelRouteTestSupport

@Suite struct StreamingCallTests {
    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func anOpenAIStreamPrintsEachPieceAndReportsUsageWithCache(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["Hel", "lo", " world"], input: 30, output: 3, cached: 16))])
        let capture = Capture()
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: capture, client: client)
        #expect(outcome.status == .ok)
        #expect(capture.printedPieces == ["Hel", "lo", " world"])
        #expect(outcome.text == "Hello world")
        #expect(outcome.usage == TokenUsage(inputTokens: 30, outputTokens: 3, cachedInputTokens: 16))
        #expect(!outcome.usageEstimated)
        #expect(outcome.attempts == 1 && outcome.model == "gpt" && outcome.provider == "openai")
        #expect(outcome.timeToFirstTokenMilliseconds != nil)
        let request = try #require(server.requests.first)
        #expect(request.path == "/chat/completions")
        #expect(request.header("authorization") == "Bearer " + fakeOpenAIKey)
        #expect(request.bodyText.contains(#""include_usage":true"#))
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func anAnthropicStreamReadsUsageFromStartAndDelta(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.anthropicStream(["Bon", "jour"], input: 20, cacheRead: 100, output: 9))])
        let capture = Capture()
        let outcome = await call("claude", in: providerTable(baseURL: server.baseURL), capture: capture, client: client)
        #expect(outcome.status == .ok && capture.printed == "Bonjour")
        #expect(outcome.usage == TokenUsage(inputTokens: 120, outputTokens: 9, cachedInputTokens: 100))
        let request = try #require(server.requests.first)
        #expect(request.path == "/messages")
        #expect(request.header("x-api-key") == fakeAnthropicKey)
        #expect(request.header("anthropic-version") == "2023-06-01")
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aGeminiStreamEndsAtItsFinishReason(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.geminiStream(["Ha", "llo"], input: 9, output: 4, cached: 5))])
        let capture = Capture()
        let outcome = await call("gemini", in: providerTable(baseURL: server.baseURL), capture: capture, client: client)
        #expect(outcome.status == .ok && capture.printed == "Hallo")
        #expect(outcome.usage == TokenUsage(inputTokens: 9, outputTokens: 4, cachedInputTokens: 5))
        let request = try #require(server.requests.first)
        #expect(request.path == "/models/gemini-test:streamGenerateContent?alt=sse")
        #expect(request.header("x-goog-api-key") == fakeGeminiKey)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func streamsSplitAtEveryFewBytesWithCRLFAndKeepAlivesStillParse(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .sse(Canned.anthropicStream(["α", "β", "γ"]), lineEnding: "\r\n", splitEvery: 1, pause: 0.0002, keepAlive: true),
            .sse(Canned.openAIStream(["x", "y"]), lineEnding: "\r\n", splitEvery: 7, keepAlive: true, framing: .close),
        ])
        let table = providerTable(baseURL: server.baseURL)
        let first = Capture()
        #expect(await call("claude", in: table, capture: first, client: client).status == .ok)
        #expect(first.printed == "αβγ")
        let second = Capture()
        #expect(await call("solo", in: table, capture: second, client: client).status == .ok)
        #expect(second.printed == "xy")
    }

    @Test(arguments: [1, 2, 3, 5, 8, 13, 64], HTTPClient.PlainHTTPClient.allCases)
    func everyProviderStreamSurvivesAnyWriteSize(size: Int, client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .sse(Canned.openAIStream(["é", "🎉", "z"]), splitEvery: size),
            .sse(Canned.anthropicStream(["é", "🎉", "z"]), lineEnding: "\r\n", splitEvery: size),
            .sse(Canned.geminiStream(["é", "🎉", "z"]), splitEvery: size, keepAlive: true),
        ])
        let table = providerTable(baseURL: server.baseURL)
        for route in ["solo", "claude", "gemini"] {
            let capture = Capture()
            let outcome = await call(route, in: table, capture: capture, client: client)
            #expect(outcome.status == .ok && capture.printed == "é🎉z", "\(route) with \(size)-byte writes")
            #expect(!outcome.usageEstimated)
        }
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aLargePromptIsSentWhole(client: HTTPClient.PlainHTTPClient) async throws {
        let prompt = String(repeating: "lorem ipsum ", count: 200_000)  // 2.4 MB
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["ok"]))])
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), prompt: prompt, client: client)
        #expect(outcome.status == .ok)
        let body = try JSONParser.parse(try #require(server.requests.first).body)
        #expect(body["messages"]?.arrayValue?.last?["content"]?.stringValue == prompt)
    }

    @Test func aServerWithoutUsageGetsEstimatedUsage() async throws {
        // An OpenAI-compatible server that ignores stream_options.
        let events = [#"data: {"choices":[{"delta":{"content":"four words right here"}}]}"#, #"data: {"choices":[{"delta":{},"finish_reason":"stop"}]}"#, "data: [DONE]"]
        let server = try TestHTTPServer(responses: [.sse(events)])
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), prompt: "count to four")
        #expect(outcome.status == .ok && outcome.usageEstimated)
        #expect(outcome.usage.inputTokens == TokenEstimator.estimate("count to four"))
        #expect(outcome.usage.outputTokens == TokenEstimator.estimate("four words right here"))
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func nonStreamedAnswersParseForEveryProvider(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .json(Canned.openAIReply("one", input: 11, output: 1, cached: 8)),
            .json(Canned.anthropicReply("two", input: 5, cacheRead: 50, output: 2)),
            .json(Canned.geminiReply("three", input: 7, output: 1, thoughts: 20)),
        ])
        let table = providerTable(baseURL: server.baseURL)
        let openai = await call("solo", in: table, stream: false, client: client)
        #expect(openai.text == "one" && openai.usage == TokenUsage(inputTokens: 11, outputTokens: 1, cachedInputTokens: 8))
        let anthropic = await call("claude", in: table, stream: false, client: client)
        #expect(anthropic.text == "two" && anthropic.usage == TokenUsage(inputTokens: 55, outputTokens: 2, cachedInputTokens: 50))
        let gemini = await call("gemini", in: table, stream: false, client: client)
        #expect(gemini.text == "three" && gemini.usage == TokenUsage(inputTokens: 7, outputTokens: 21, cachedInputTokens: nil))
        #expect(server.requests.map(\.path) == ["/chat/completions", "/messages", "/models/gemini-test:generateContent"])
        #expect(!server.requests[0].bodyText.contains("stream"))
    }
}

@Suite struct RetryAndFallbackTests {
    @Test(arguments: [408, 409, 429, 500, 502, 503, 504, 529], HTTPClient.PlainHTTPClient.allCases)
    func retryableStatusesAreRetriedOnTheSameModel(status: Int, client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"busy"}}"#, status: status), .sse(Canned.openAIStream(["ok"]))])
        let capture = Capture()
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: capture, client: client)
        #expect(outcome.status == .ok && outcome.attempts == 2 && outcome.fallbackFrom == nil)
        #expect(capture.printed == "ok")
        #expect(capture.said.contains("HTTP \(status)"))
    }

    @Test(arguments: [400, 401, 403, 404, 422])
    func clientErrorsAreNotRetriedAndReportTheProvidersMessage(status: Int) async throws {
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"the provider says no (\#(status))"}}"#, status: status)])
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL))
        #expect(outcome.status == .error && outcome.attempts == 1)
        let error = try #require(outcome.error)
        #expect(error.message.contains("the provider says no (\(status))"))
        #expect(error.message.contains("HTTP \(status)") && error.message.contains("openai"))
        #expect(error.exitCode == .unavailable)
        #expect(error.message.contains("TEST_OPENAI_KEY") == (status == 401 || status == 403))
    }

    @Test func retriesStopAfterThePolicysCountThenExitTemporary() async throws {
        let server = try TestHTTPServer(responses: Array(repeating: .json(#"{"error":{"message":"overloaded"}}"#, status: 503), count: 3))
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL))
        #expect(outcome.status == .error && outcome.attempts == 3)  // 1 + 2 retries
        #expect(outcome.error?.exitCode == .temporaryFailure)
        #expect(server.requests.count == 3)
    }

    @Test func retryAfterIsHonouredAndOneOverTheCapMovesOnAtOnce() async throws {
        let server = try TestHTTPServer(responses: [
            .json(#"{"error":{"message":"slow down"}}"#, status: 429, headers: [("Retry-After", "0")]),
            .json(#"{"error":{"message":"slow down more"}}"#, status: 429, headers: [("Retry-After", "3600")]),
            .sse(Canned.anthropicStream(["from claude"])),
        ])
        let capture = Capture()
        let outcome = await call("chat", in: providerTable(baseURL: server.baseURL), capture: capture)
        #expect(outcome.status == .ok && outcome.model == "claude" && outcome.fallbackFrom == "gpt")
        #expect(outcome.attempts == 3)
        #expect(capture.said.contains("over the 0.5 s cap"))
        #expect(capture.said.contains("falling back to claude"))
    }

    @Test func aFailingModelFallsBackToTheNextProviderAndTheRecordSaysSo() async throws {
        let server = try TestHTTPServer(responses: [
            .json(#"{"error":{"message":"no such model"}}"#, status: 404),
            .sse(Canned.anthropicStream(["saved"], input: 10, output: 2)),
        ])
        let table = providerTable(baseURL: server.baseURL)
        let outcome = await call("chat", in: table, prompt: "hello")
        #expect(outcome.status == .ok && outcome.model == "claude" && outcome.provider == "anthropic")
        #expect(outcome.fallbackFrom == "gpt" && outcome.attempts == 2)
        let record = CallRecord.make(
            outcome: outcome, decision: decision("chat", in: table), table: table, prompt: "hello", tags: [("team", "a")],
            finishedAt: Date(timeIntervalSince1970: 1_795_000_000), id: "id-1")
        #expect(record.model == "claude" && record.fallbackFrom == "gpt" && record.attempts == 2 && record.status == .ok)
        #expect(record.costUSD == (10 * 3.0 + 2 * 15.0) / 1_000_000)
        #expect(record.baselineModel == "big" && record.baselineCostUSD == (10 * 10.0 + 2 * 30.0) / 1_000_000)
    }

    @Test func whenEveryModelFailsEachIsNamedAndTheLastDecidesTheExit() async throws {
        let server = try TestHTTPServer(responses: [
            .json(#"{"error":{"message":"bad key"}}"#, status: 401),
            .json(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, status: 529),
            .json(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, status: 529),
            .json(#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#, status: 529),
        ])
        let outcome = await call("chat", in: providerTable(baseURL: server.baseURL))
        #expect(outcome.status == .error && outcome.attempts == 4)
        let error = try #require(outcome.error)
        #expect(error.exitCode == .temporaryFailure)
        #expect(error.message.contains("bad key") && error.message.contains("TEST_OPENAI_KEY") && error.message.contains("Overloaded"))
        #expect(outcome.usage == TokenUsage(inputTokens: 0, outputTokens: 0) && !outcome.usageEstimated)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func connectionRefusedIsRetriedThenFallsBack(client: HTTPClient.PlainHTTPClient) async throws {
        // Nothing listens on this port, and no other test's server can take it meanwhile.
        let refusing = try RefusingPort()
        let deadURL = refusing.baseURL
        let server = try TestHTTPServer(responses: [.sse(Canned.anthropicStream(["up"]))])
        var table = providerTable(baseURL: server.baseURL)
        table.providers[0].baseURL = deadURL
        let outcome = await call("chat", in: table, client: client)
        #expect(outcome.status == .ok && outcome.model == "claude" && outcome.attempts == 4)
        withExtendedLifetime(refusing) {}
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aTimeoutIsRetried(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .json(Canned.openAIReply("late"), delay: 2),
            .json(Canned.openAIReply("on time")),
        ])
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL, timeout: 0.3), stream: false, client: client)
        #expect(outcome.status == .ok && outcome.text == "on time" && outcome.attempts == 2)
    }

    @Test func aMissingKeyOnAFallbackSkipsItWithANote() async throws {
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"down"}}"#, status: 400)])
        let capture = Capture()
        let outcome = await call("chat", in: providerTable(baseURL: server.baseURL), capture: capture, environment: ["TEST_OPENAI_KEY": fakeOpenAIKey])
        #expect(outcome.status == .error && outcome.attempts == 1)
        #expect(outcome.error?.message.contains("TEST_ANTHROPIC_KEY") == true)
    }
}

@Suite struct BrokenResponseTests {
    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func anHTMLPageIsAClearErrorNamingProviderAndStatus(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.html(status: 200), .html(status: 502), .html(status: 502), .html(status: 502)])
        let table = providerTable(baseURL: server.baseURL)
        let ok = await call("solo", in: table, stream: false, client: client)
        #expect(ok.status == .error && ok.attempts == 1)
        #expect(ok.error?.message.contains("openai") == true && ok.error?.message.contains("HTTP 200") == true)
        #expect(ok.error?.message.contains("HTML page") == true)
        let gateway = await call("solo", in: table, stream: false, client: client)
        #expect(gateway.attempts == 3 && gateway.error?.message.contains("HTTP 502") == true)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func truncatedOrMalformedJSONIsAClearError(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .json(#"{"choices":[{"message":{"content":"cut"#),
            .json(#"{"choices": nope}"#),
            .json(#"{"error":{"message":"model is overloaded"}}"#),
        ])
        let table = providerTable(baseURL: server.baseURL)
        let truncated = await call("solo", in: table, stream: false, client: client)
        #expect(truncated.error?.message.contains("truncated") == true)
        let malformed = await call("solo", in: table, stream: false, client: client)
        #expect(malformed.error?.message.contains("not valid JSON") == true)
        let errorBody = await call("solo", in: table, stream: false, client: client)
        #expect(errorBody.error?.message.contains("model is overloaded") == true)
        #expect(errorBody.error?.message.contains("HTTP 200") == true)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aStreamCutAfterOutputBeganFailsWithoutRetrying(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .sse(Canned.openAIStream(["partial ", "answer"]), hangUpAfter: 2),
            .sse(Canned.openAIStream(["must not be used"])),
        ])
        let capture = Capture()
        let outcome = await call("chat", in: providerTable(baseURL: server.baseURL), prompt: "tell me", capture: capture, client: client)
        #expect(outcome.status == .error && outcome.attempts == 1)
        #expect(capture.printed == "partial answer")
        #expect(outcome.error?.exitCode == .temporaryFailure)
        #expect(outcome.error?.message.contains("broke off") == true)
        // Usage so far, estimated because the provider's count never came.
        #expect(outcome.usageEstimated && outcome.usage.outputTokens == TokenEstimator.estimate("partial answer"))
        #expect(server.requests.count == 1)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aStreamCutBeforeAnyOutputIsRetried(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [
            .sse(Canned.anthropicStream(["never"]), hangUpAfter: 1),
            .sse(Canned.anthropicStream(["second try"])),
        ])
        let capture = Capture()
        let outcome = await call("claude", in: providerTable(baseURL: server.baseURL), capture: capture, client: client)
        #expect(outcome.status == .ok && outcome.attempts == 2 && capture.printed == "second try")
    }

    @Test func anErrorEventMidStreamStopsWithTheProvidersMessage() async throws {
        var events = Canned.anthropicStream(["start"])
        events.insert("event: error\n" + #"data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded mid-stream"}}"#, at: 4)
        let server = try TestHTTPServer(responses: [.sse(events)])
        let capture = Capture()
        let outcome = await call("claude", in: providerTable(baseURL: server.baseURL), capture: capture)
        #expect(outcome.status == .error && capture.printed == "start")
        #expect(outcome.error?.message.contains("Overloaded mid-stream") == true)
    }

    @Test func malformedJSONInsideAStreamIsAnError() async throws {
        let server = try TestHTTPServer(responses: [.sse(["data: {not json"])])
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL))
        #expect(outcome.status == .error)
        #expect(outcome.error?.message.contains("not valid JSON") == true)
    }

    @Test func aJSONAnswerToAStreamRequestIsAccepted() async throws {
        let server = try TestHTTPServer(responses: [.json(Canned.openAIReply("whole", input: 3, output: 1))])
        let capture = Capture()
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: capture)
        #expect(outcome.status == .ok && capture.printed == "whole" && !outcome.usageEstimated)
    }
}

@Suite struct CancellationAndOutputTests {
    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func cancellingMidStreamStopsAtOnceAndReportsCancelled(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(Array(repeating: "tick ", count: 50)), pause: 0.2)])
        let cancellation = CancellationSignal()
        let capture = Capture()
        // The watcher is a thread of its own, not a task nor a Dispatch worker: busy test
        // threads cannot starve it, and it takes none of theirs.
        let watched = DispatchSemaphore(value: 0)
        Thread {
            while capture.printedPieces.isEmpty { usleep(1000) }
            cancellation.cancel()
            watched.signal()
        }.start()
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: capture, cancellation: cancellation, client: client)
        watched.wait()
        #expect(outcome.status == .cancelled && outcome.error == .cancelled)
        #expect(capture.printedPieces.count < 50)
        #expect(outcome.usageEstimated && outcome.attempts == 1)
    }

    @Test func cancellingDuringABackoffWaitStopsTheWait() async throws {
        let slow = RetryPolicy(retries: 3, initialDelaySeconds: 600, maxDelaySeconds: 600)
        let server = try TestHTTPServer(responses: [.json(#"{"error":{"message":"busy"}}"#, status: 503)])
        let cancellation = CancellationSignal()
        let watcher = Task.detached {
            _ = server.waitForRequests(1)
            try? await Task.sleep(nanoseconds: 20_000_000)
            cancellation.cancel()
        }
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL, retry: slow), cancellation: cancellation)
        await watcher.value
        #expect(outcome.status == .cancelled && outcome.attempts == 1)
    }

    @Test func aClosedOutputEndsTheCallQuietly() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["a", "b", "c", "d"]), pause: 0.01)])
        let capture = Capture(closeAfter: 2)
        let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: capture)
        #expect(outcome.outputClosed && outcome.status == .cancelled)
        #expect(capture.printedPieces.count == 2)
    }
}

@Suite struct OfflineAndKeyTests {
    @Test func offlineAnswersFromTheMockProviderWithTheRoutedModelsPrices() async throws {
        let table = providerTable(baseURL: "http://127.0.0.1:9")
        let capture = Capture()
        let outcome = await call("claude", in: table, prompt: "What is routing?", capture: capture, environment: [:], offline: true)
        #expect(outcome.status == .ok && outcome.provider == "local" && outcome.model == "claude")
        #expect(capture.printed == "[mock claude-test] What is routing?")
        #expect(capture.printedPieces.count == 4)
        #expect(outcome.usageEstimated && outcome.attempts == 1)
        let record = CallRecord.make(
            outcome: outcome, decision: decision("claude", in: table), table: table, prompt: "What is routing?", tags: [],
            finishedAt: Date(), id: "x")
        let tokens = (input: outcome.usage.inputTokens ?? 0, output: outcome.usage.outputTokens ?? 0)
        #expect(record.costUSD == (Double(tokens.input) * 3 + Double(tokens.output) * 15) / 1_000_000)
    }

    @Test func aMissingKeyIsFoundBeforeAnyNetworkNamingVariableAndProvider() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["no"]))])
        let table = providerTable(baseURL: server.baseURL)
        let runner = CallRunner(
            table: table, environment: [:], transport: HTTPClient(), cancellation: CancellationSignal(), output: nil,
            diagnostics: { _ in })
        #expect(throws: ProviderError.missingAPIKey(provider: "openai", variable: "TEST_OPENAI_KEY")) {
            try runner.preflight(decision: decision("chat", in: table))
        }
        #expect(ProviderError.missingAPIKey(provider: "openai", variable: "TEST_OPENAI_KEY").exitCode == .configuration)
        #expect(server.requests.isEmpty)
    }

    @Test func headerValuesExpandEnvironmentVariables() async throws {
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["ok"]))])
        var table = providerTable(baseURL: server.baseURL)
        table.providers[0].headers = [("HTTP-Referer", "https://example.test"), ("X-Org", "org-${TEST_ORG}")]
        var environment = keyedEnvironment
        environment["TEST_ORG"] = "42"
        #expect(await call("solo", in: table, environment: environment).status == .ok)
        #expect(server.requests.first?.header("x-org") == "org-42")
        #expect(server.requests.first?.header("http-referer") == "https://example.test")
        #expect(throws: ProviderError.missingHeaderVariable(provider: "openai", header: "X-Org", variable: "TEST_ORG")) {
            try CallTarget.prepare(modelName: "gpt", table: table, route: nil, environment: keyedEnvironment, offline: false, timeoutOverride: nil)
        }
    }

    @Test func theKeyNeverAppearsInMessagesEvenWhenTheServerEchoesIt() async throws {
        let echo = #"{"error":{"message":"Incorrect API key provided: \#(fakeOpenAIKey). You can find your API key at ..."}}"#
        let streamedEcho = TestHTTPServer.Response.sse(["data: {\"error\":{\"message\":\"bad \(fakeOpenAIKey)\"}}"])
        // An error event before any output is retried, so the stream is scripted three times.
        let server = try TestHTTPServer(responses: [.json(echo, status: 401), .json(echo, status: 200), streamedEcho, streamedEcho, streamedEcho])
        let table = providerTable(baseURL: server.baseURL)
        for stream in [false, false, true] {
            let capture = Capture()
            let outcome = await call("solo", in: table, stream: stream, capture: capture, verbose: true)
            let record = CallRecord.make(outcome: outcome, decision: decision("solo", in: table), table: table, prompt: "p", tags: [], finishedAt: Date(), id: "i")
            for text in [capture.said, capture.printed, outcome.error?.message ?? "", String(describing: record)] {
                #expect(!text.contains(fakeOpenAIKey))
                #expect(!text.contains("NEVER-PRINT"))
            }
            #expect(outcome.error?.message.contains("[redacted]") == true, "\(outcome.error?.message ?? "")")
        }
    }
}

/// A redirect is never followed, by either client, so the API key never reaches another
/// address; the failure says where the server pointed.
@Suite struct RedirectTests {
    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aRedirectToAnotherOriginIsNotFollowed(client: HTTPClient.PlainHTTPClient) async throws {
        let elsewhere = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["stolen"]))])
        for status in [301, 302, 307, 308] {
            let server = try TestHTTPServer(responses: [
                TestHTTPServer.Response(status: status, headers: [("Location", elsewhere.baseURL + "/chat/completions")], parts: [.bytes(Array("moved".utf8))]),
            ])
            let outcome = await call("solo", in: providerTable(baseURL: server.baseURL), capture: Capture(), client: client)
            #expect(outcome.status == .error, "\(status)")
            let message = outcome.error?.message ?? ""
            #expect(message.contains("HTTP \(status)") && message.contains("redirects are not followed") && message.contains(elsewhere.baseURL), "\(message)")
            #expect(server.requests.count == 1, "not retried")
        }
        #expect(elsewhere.requests.isEmpty, "nothing, and no key, was sent to the other address")
    }
}
