import Foundation
import Synchronization
import ModelRouteKit
import ModelRouteTestSupport

/// A key no test may ever see printed or logged.
let fakeOpenAIKey = "sk-test-NEVER-PRINT-7f3a9c2e41"
let fakeAnthropicKey = "sk-ant-test-NEVER-PRINT-b8d0e5"
let fakeGeminiKey = "AIza-test-NEVER-PRINT-c4f1a7"
/// The environment with every test key set.
let keyedEnvironment = ["TEST_OPENAI_KEY": fakeOpenAIKey, "TEST_ANTHROPIC_KEY": fakeAnthropicKey, "TEST_GEMINI_KEY": fakeGeminiKey]

/// Retries that take microseconds, so the suite stays fast.
let quickRetry = RetryPolicy(retries: 2, initialDelaySeconds: 0.001, maxDelaySeconds: 0.5)

/// A table whose three real providers all point at `baseURL` (the test server).
/// Routes: `chat` (gpt, falling back to claude), `claude`, `gemini`, `solo` (gpt, no fallback).
func providerTable(baseURL: String, retry: RetryPolicy = quickRetry, timeout: Double? = nil) -> RoutingTable {
    RoutingTable(
        defaultRoute: "chat", baselineModel: "big",
        providers: [
            ProviderConfig(name: "openai", type: .openai, baseURL: baseURL, apiKeyEnvironmentVariable: "TEST_OPENAI_KEY", retry: retry, timeoutSeconds: timeout),
            ProviderConfig(name: "anthropic", type: .anthropic, baseURL: baseURL, apiKeyEnvironmentVariable: "TEST_ANTHROPIC_KEY", retry: retry, timeoutSeconds: timeout),
            ProviderConfig(name: "gemini", type: .gemini, baseURL: baseURL, apiKeyEnvironmentVariable: "TEST_GEMINI_KEY", retry: retry, timeoutSeconds: timeout),
            ProviderConfig(name: "local", type: .mock),
        ],
        models: [
            ModelConfig(name: "gpt", provider: "openai", id: "gpt-test", pricing: ModelPricing(inputPerMillion: 1, outputPerMillion: 2, cachedInputPerMillion: 0.5)),
            ModelConfig(name: "claude", provider: "anthropic", id: "claude-test", pricing: ModelPricing(inputPerMillion: 3, outputPerMillion: 15, cachedInputPerMillion: 0.3)),
            ModelConfig(name: "gem", provider: "gemini", id: "gemini-test", pricing: ModelPricing(inputPerMillion: 0.5, outputPerMillion: 1)),
            ModelConfig(name: "big", provider: "openai", id: "big-test", pricing: ModelPricing(inputPerMillion: 10, outputPerMillion: 30)),
        ],
        routes: [
            RouteConfig(name: "chat", model: "gpt", fallbacks: ["claude"]),
            RouteConfig(name: "claude", model: "claude"),
            RouteConfig(name: "gemini", model: "gem"),
            RouteConfig(name: "solo", model: "gpt"),
        ],
        rules: [], source: "test table")
}

/// A decision for `route` as the default route would make it.
func decision(_ route: String, in table: RoutingTable) -> RoutingDecision {
    RoutingDecision(route: route, model: table.route(named: route)?.model ?? "", reason: .defaultRoute, evidence: [], features: PromptMeasurements())
}

/// Collects what a call printed and said.
final class Capture: Sendable {
    private let pieces = Mutex<[String]>([])
    private let lines = Mutex<[String]>([])
    /// Pieces accepted before the reader "goes away" (nil: never).
    let closeAfter: Int?

    init(closeAfter: Int? = nil) {
        self.closeAfter = closeAfter
    }

    var output: @Sendable (String) -> Bool {
        { piece in
            self.pieces.withLock { pieces in
                pieces.append(piece)
                return self.closeAfter.map { pieces.count < $0 } ?? true
            }
        }
    }

    var diagnostics: @Sendable (String) -> Void { { line in self.lines.withLock { $0.append(line) } } }

    /// Everything printed, joined.
    var printed: String { pieces.withLock { $0.joined() } }
    /// Pieces in the order printed.
    var printedPieces: [String] { pieces.withLock { $0 } }
    /// Diagnostic lines, joined with newlines.
    var said: String { lines.withLock { $0.joined(separator: "\n") } }
}

/// Runs one call against `table` and returns its outcome.
func call(
    _ route: String, in table: RoutingTable, prompt: String = "Say hello", stream: Bool = true, capture: Capture = Capture(),
    environment: [String: String] = keyedEnvironment, cancellation: CancellationSignal = CancellationSignal(),
    offline: Bool = false, verbose: Bool = true, withOutput: Bool = true, client: HTTPClient.PlainHTTPClient = .builtin
) async -> CallOutcome {
    let transport = HTTPClient(plainHTTP: client)
    defer { transport.shutdown() }
    let runner = CallRunner(
        table: table, environment: environment, offline: offline, transport: transport, cancellation: cancellation,
        output: withOutput ? capture.output : nil, diagnostics: capture.diagnostics, verbose: verbose, random: { 0.5 })
    return await runner.run(decision: decision(route, in: table), request: ChatRequest(prompt: prompt, stream: stream))
}

/// Canned provider responses.
enum Canned {
    /// An OpenAI streamed answer in `pieces`, with a usage chunk and `[DONE]`.
    static func openAIStream(_ pieces: [String], input: Int = 12, output: Int = 5, cached: Int = 0) -> [String] {
        var events = pieces.map { piece in
            #"data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\#(piece)"},"finish_reason":null}]}"#
        }
        events.append(#"data: {"id":"c1","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null}"#)
        events.append(#"data: {"id":"c1","choices":[],"usage":{"prompt_tokens":\#(input),"completion_tokens":\#(output),"total_tokens":\#(input + output),"prompt_tokens_details":{"cached_tokens":\#(cached)}}}"#)
        events.append("data: [DONE]")
        return events
    }

    /// An OpenAI non-streamed answer.
    static func openAIReply(_ text: String, input: Int = 12, output: Int = 5, cached: Int? = nil) -> String {
        let details = cached.map { #","prompt_tokens_details":{"cached_tokens":\#($0)}"# } ?? ""
        return #"{"id":"c1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"\#(text)"},"finish_reason":"stop"}],"usage":{"prompt_tokens":\#(input),"completion_tokens":\#(output)\#(details)}}"#
    }

    /// An Anthropic streamed answer.
    static func anthropicStream(_ pieces: [String], input: Int = 20, cacheRead: Int = 0, output: Int = 7) -> [String] {
        var events = [
            "event: message_start\n" + #"data: {"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","content":[],"model":"claude-test","usage":{"input_tokens":\#(input),"cache_read_input_tokens":\#(cacheRead),"cache_creation_input_tokens":0,"output_tokens":1}}}"#,
            "event: content_block_start\n" + #"data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            "event: ping\n" + #"data: {"type":"ping"}"#,
        ]
        for piece in pieces {
            events.append("event: content_block_delta\n" + #"data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\#(piece)"}}"#)
        }
        events.append("event: content_block_stop\n" + #"data: {"type":"content_block_stop","index":0}"#)
        events.append("event: message_delta\n" + #"data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"output_tokens":\#(output)}}"#)
        events.append("event: message_stop\n" + #"data: {"type":"message_stop"}"#)
        return events
    }

    /// An Anthropic non-streamed answer.
    static func anthropicReply(_ text: String, input: Int = 20, cacheRead: Int = 0, output: Int = 7) -> String {
        #"{"id":"m1","type":"message","role":"assistant","model":"claude-test","content":[{"type":"text","text":"\#(text)"}],"stop_reason":"end_turn","usage":{"input_tokens":\#(input),"cache_read_input_tokens":\#(cacheRead),"output_tokens":\#(output)}}"#
    }

    /// A Gemini streamed answer (usage in every piece, cumulative).
    static func geminiStream(_ pieces: [String], input: Int = 9, output: Int = 4, cached: Int? = nil) -> [String] {
        let cachedField = cached.map { #","cachedContentTokenCount":\#($0)"# } ?? ""
        return pieces.enumerated().map { index, piece in
            let finish = index == pieces.count - 1 ? #","finishReason":"STOP""# : ""
            return #"data: {"candidates":[{"content":{"parts":[{"text":"\#(piece)"}],"role":"model"}\#(finish),"index":0}],"usageMetadata":{"promptTokenCount":\#(input),"candidatesTokenCount":\#(index == pieces.count - 1 ? output : index + 1)\#(cachedField)}}"#
        }
    }

    /// A Gemini non-streamed answer.
    static func geminiReply(_ text: String, input: Int = 9, output: Int = 4, thoughts: Int? = nil) -> String {
        let thoughtsField = thoughts.map { #","thoughtsTokenCount":\#($0)"# } ?? ""
        return #"{"candidates":[{"content":{"parts":[{"text":"\#(text)"}],"role":"model"},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":\#(input),"candidatesTokenCount":\#(output)\#(thoughtsField)}}"#
    }
}
