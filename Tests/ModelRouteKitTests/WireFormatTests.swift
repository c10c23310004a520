import Foundation
import Testing
@testable import ModelRouteKit

@Suite struct WireFormatTests {
    func json(_ text: String) throws -> JSONNode { try JSONParser.parse(Array(text.utf8)) }
    func body(_ spec: HTTPRequestSpec) throws -> JSONNode { try JSONParser.parse(spec.body) }
    func header(_ spec: HTTPRequestSpec, _ name: String) -> String? { spec.headers.first { $0.name.lowercased() == name.lowercased() }?.value }

    @Test func everyFormatSaysWhenTheAnswerStoppedAtTheTokenLimit() throws {
        func node(_ text: String) throws -> JSONNode { try JSONParser.parse(Array(text.utf8)) }
        // OpenAI: finish_reason "length", whole and streamed.
        #expect(try OpenAIFormat().parseReply(node(#"{"choices":[{"message":{"content":"a"},"finish_reason":"length"}]}"#)).truncated)
        #expect(try !OpenAIFormat().parseReply(node(#"{"choices":[{"message":{"content":"a"},"finish_reason":"stop"}]}"#)).truncated)
        #expect(try OpenAIFormat().parseEvent(SSEEvent(data: #"{"choices":[{"delta":{},"finish_reason":"length"}]}"#)).truncated)
        #expect(try !OpenAIFormat().parseEvent(SSEEvent(data: #"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#)).truncated)
        // Anthropic: stop_reason "max_tokens".
        #expect(try AnthropicFormat().parseReply(node(#"{"content":[{"type":"text","text":"a"}],"stop_reason":"max_tokens"}"#)).truncated)
        #expect(try !AnthropicFormat().parseReply(node(#"{"content":[{"type":"text","text":"a"}],"stop_reason":"end_turn"}"#)).truncated)
        #expect(try AnthropicFormat().parseEvent(SSEEvent(data: #"{"type":"message_delta","delta":{"stop_reason":"max_tokens"},"usage":{"output_tokens":9}}"#)).truncated)
        #expect(try !AnthropicFormat().parseEvent(SSEEvent(data: #"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#)).truncated)
        // Gemini: finishReason "MAX_TOKENS".
        #expect(try GeminiFormat().parseReply(node(#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"MAX_TOKENS"}]}"#)).truncated)
        #expect(try !GeminiFormat().parseReply(node(#"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"STOP"}]}"#)).truncated)
        #expect(try GeminiFormat().parseEvent(SSEEvent(data: #"{"candidates":[{"content":{"parts":[{"text":"a"}]},"finishReason":"MAX_TOKENS"}]}"#)).truncated)
    }

    @Test func openAIRequestsAskForUsageWhenStreaming() throws {
        let spec = OpenAIFormat().makeRequest(ChatRequest(prompt: "hi", system: "be brief", maxTokens: 50, temperature: 0.2), model: "gpt-x", baseURL: "http://h/v1", apiKey: "k")
        #expect(spec.url == "http://h/v1/chat/completions")
        #expect(header(spec, "Authorization") == "Bearer k")
        let node = try body(spec)
        #expect(node["model"]?.stringValue == "gpt-x")
        #expect(node["stream"]?.value == .bool(true))
        #expect(node["stream_options"]?["include_usage"]?.value == .bool(true))
        #expect(node["max_tokens"]?.intValue == 50)
        #expect(node["messages"]?.arrayValue?.first?["role"]?.stringValue == "system")
    }

    @Test func keylessOpenAICompatibleServersGetNoAuthorizationHeader() {
        let spec = OpenAIFormat().makeRequest(ChatRequest(prompt: "hi", stream: false), model: "llama", baseURL: "http://localhost:11434/v1", apiKey: nil)
        #expect(header(spec, "Authorization") == nil)
    }

    @Test func openAIUsageIncludesCachedTokensWholeAndStreamed() throws {
        let reply = try OpenAIFormat().parseReply(json(#"{"choices":[{"message":{"content":"Hi"}}],"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":64}}}"#))
        #expect(reply == ParsedReply(text: "Hi", usage: TokenUsage(inputTokens: 100, outputTokens: 5, cachedInputTokens: 64)))
        let update = try OpenAIFormat().parseEvent(SSEEvent(data: #"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":5,"prompt_tokens_details":{"cached_tokens":64}}}"#))
        #expect(update.usage == TokenUsage(inputTokens: 100, outputTokens: 5, cachedInputTokens: 64))
        #expect(try OpenAIFormat().parseEvent(SSEEvent(data: "[DONE]")).complete)
    }

    @Test func openAICompatibleServersMayOmitOptionalFields() throws {
        // No usage, null content, no id: tolerated.
        let reply = try OpenAIFormat().parseReply(json(#"{"choices":[{"message":{"role":"assistant","content":null}}]}"#))
        #expect(reply.text == "" && reply.usage == TokenUsage())
        let update = try OpenAIFormat().parseEvent(SSEEvent(data: #"{"choices":[{"delta":{"role":"assistant"}}],"usage":null}"#))
        #expect(update == StreamUpdate())
        // DeepSeek reports cache hits under its own name.
        let deepseek = try OpenAIFormat().parseReply(json(#"{"choices":[{"message":{"content":"x"}}],"usage":{"prompt_tokens":10,"completion_tokens":1,"prompt_cache_hit_tokens":8}}"#))
        #expect(deepseek.usage.cachedInputTokens == 8)
    }

    @Test func anthropicAlwaysSendsMaxTokensAndFoldsCacheReadsIntoInput() throws {
        let spec = AnthropicFormat().makeRequest(ChatRequest(prompt: "hi", system: "sys"), model: "claude-x", baseURL: "http://h/v1", apiKey: "k")
        #expect(spec.url == "http://h/v1/messages")
        #expect(header(spec, "x-api-key") == "k")
        #expect(header(spec, "anthropic-version") == "2023-06-01")
        let node = try body(spec)
        #expect(node["max_tokens"]?.intValue == 1024)
        #expect(node["system"]?.stringValue == "sys")
        let reply = try AnthropicFormat().parseReply(json(#"{"type":"message","content":[{"type":"text","text":"A"},{"type":"text","text":"B"}],"usage":{"input_tokens":10,"cache_read_input_tokens":90,"cache_creation_input_tokens":5,"output_tokens":3}}"#))
        #expect(reply == ParsedReply(text: "AB", usage: TokenUsage(inputTokens: 105, outputTokens: 3, cachedInputTokens: 90)))
    }

    @Test func anthropicStreamUsageComesFromMessageStartAndMessageDelta() throws {
        var usage = TokenUsage()
        let start = try AnthropicFormat().parseEvent(SSEEvent(name: "message_start", data: #"{"type":"message_start","message":{"usage":{"input_tokens":20,"cache_read_input_tokens":30,"output_tokens":1}}}"#))
        usage.merge(start.usage ?? TokenUsage())
        let delta = try AnthropicFormat().parseEvent(SSEEvent(name: "message_delta", data: #"{"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":42}}"#))
        usage.merge(delta.usage ?? TokenUsage())
        #expect(usage == TokenUsage(inputTokens: 50, outputTokens: 42, cachedInputTokens: 30))
        #expect(try AnthropicFormat().parseEvent(SSEEvent(name: "message_stop", data: #"{"type":"message_stop"}"#)).complete)
        let error = try AnthropicFormat().parseEvent(SSEEvent(name: "error", data: #"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#))
        #expect(error.error == "Overloaded")
    }

    @Test func geminiSendsTheKeyInAHeaderAndStreamsWithSSE() throws {
        let spec = GeminiFormat().makeRequest(ChatRequest(prompt: "hi", maxTokens: 9), model: "models/gemini-x", baseURL: "http://h/v1beta", apiKey: "secret")
        #expect(spec.url == "http://h/v1beta/models/gemini-x:streamGenerateContent?alt=sse")
        #expect(!spec.url.contains("secret"))
        #expect(header(spec, "x-goog-api-key") == "secret")
        #expect(try body(spec)["generationConfig"]?["maxOutputTokens"]?.intValue == 9)
        let whole = GeminiFormat().makeRequest(ChatRequest(prompt: "hi", stream: false), model: "gemini-x", baseURL: "http://h/v1beta", apiKey: nil)
        #expect(whole.url == "http://h/v1beta/models/gemini-x:generateContent")
    }

    @Test func geminiUsageMetadataCountsThoughtsAsOutputAndReadsCache() throws {
        let reply = try GeminiFormat().parseReply(json(#"{"candidates":[{"content":{"parts":[{"text":"ok"}]},"finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":40,"candidatesTokenCount":2,"thoughtsTokenCount":10,"cachedContentTokenCount":32}}"#))
        #expect(reply == ParsedReply(text: "ok", usage: TokenUsage(inputTokens: 40, outputTokens: 12, cachedInputTokens: 32)))
        let update = try GeminiFormat().parseEvent(SSEEvent(data: #"{"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]}"#))
        #expect(update.complete && update.text == "x")
        #expect(throws: FormatViolation.self) { try GeminiFormat().parseReply(json(#"{"unexpected":true}"#)) }
    }

    @Test func aTwoHundredWithAnErrorBodyIsAnError() throws {
        #expect(throws: FormatViolation.self) { try OpenAIFormat().parseReply(json(#"{"error":{"message":"model overloaded"}}"#)) }
        #expect(throws: FormatViolation.self) { try AnthropicFormat().parseReply(json(#"{"type":"error","error":{"type":"x","message":"m"}}"#)) }
        #expect(throws: FormatViolation.self) { try GeminiFormat().parseReply(json(#"{"error":{"code":400,"message":"bad"}}"#)) }
    }

    @Test func mockAnswersDeterministicallyWithEstimatedUsage() {
        let request = ChatRequest(prompt: "  Explain   the\nrouting table  ")
        #expect(MockProvider.answer(for: request, model: "m1") == "[mock m1] Explain the routing table")
        #expect(MockProvider.pieces(for: request, model: "m1") == ["[mock m1]", " Explain", " the", " routing", " table"])
        let long = ChatRequest(prompt: (1...70).map(String.init).joined(separator: " "))
        #expect(MockProvider.answer(for: long, model: "m").hasSuffix(" 64 …"))
        let answer = MockProvider.answer(for: request, model: "m1")
        #expect(MockProvider.usage(for: request, answer: answer) == TokenUsage(inputTokens: TokenEstimator.estimate(request.prompt), outputTokens: TokenEstimator.estimate(answer)))
    }

    @Test func retryAfterIsReadAsSecondsOrAnHTTPDate() {
        let now = RetryTiming.httpDate("Wed, 21 Oct 2026 07:28:00 GMT")
        #expect(now != nil)
        guard let now else { return }
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "3"], now: now) == 3)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "Wed, 21 Oct 2026 07:28:10 GMT"], now: now) == 10)
        #expect(RetryTiming.retryAfter(headers: ["retry-after-ms": "250"], now: now) == 0.25)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "soon"], now: now) == nil)
        #expect(RetryTiming.retryAfter(headers: [:], now: now) == nil)
    }

    /// Hostile values are range-checked where they are read: never a trap, never an endless wait.
    @Test func hugeOrInfiniteRetryAfterValuesAreBounded() {
        let now = Date(timeIntervalSince1970: 1_792_567_680)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "1e300"], now: now) == RetryTiming.longestWait)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "99999999999999999999"], now: now) == RetryTiming.longestWait)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "inf"], now: now) == nil)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "-5"], now: now) == nil)
        #expect(RetryTiming.retryAfter(headers: ["retry-after-ms": "inf"], now: now) == nil)
        #expect(RetryTiming.retryAfter(headers: ["retry-after-ms": "1e300"], now: now) == RetryTiming.longestWait)
        #expect(RetryTiming.retryAfter(headers: ["retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"], now: now) == RetryTiming.longestWait)
    }

    @Test func aByteOrderMarkBeforeTheFirstEventIsDropped() {
        var parser = SSEParser()
        #expect(parser.feed(Array("\u{FEFF}data: first\n\ndata: second\n\n".utf8)) == [SSEEvent(data: "first"), SSEEvent(data: "second")])
        var split = SSEParser()
        var events = split.feed([0xEF])
        events += split.feed([0xBB, 0xBF] + Array("data: a\n\n".utf8))
        #expect(events == [SSEEvent(data: "a")])
        // Only at the very start: a later one is part of the line.
        var later = SSEParser()
        #expect(later.feed(Array("data: x\n\n\u{FEFF}data: y\n\n".utf8)) == [SSEEvent(data: "x")])
    }

    @Test func everyHTTPDateFormIsReadAndNonsenseIsNot() {
        let expected = Date(timeIntervalSince1970: 1_792_567_680)  // 2026-10-21 07:28:00 UTC
        #expect(RetryTiming.httpDate("Wed, 21 Oct 2026 07:28:00 GMT") == expected)
        #expect(RetryTiming.httpDate("Wednesday, 21-Oct-26 07:28:00 GMT") == expected)
        #expect(RetryTiming.httpDate("Wed Oct 21 07:28:00 2026") == expected)
        for nonsense in ["Wed, 32 Oct 2026 07:28:00 GMT", "Wed, 21 Foo 2026 07:28:00 GMT", "Wed, 21 Oct 2026 25:00:00 GMT", "tomorrow", ""] {
            #expect(RetryTiming.httpDate(nonsense) == nil, "\(nonsense)")
        }
    }

    @Test func numbersAndTrimmingNeedNoFoundation() {
        #expect(formatted("%.2f|%5.1f|%d|%.1f%%", 3.14159, 2.25, 42, 99.95) == "3.14|  2.2|42|100.0%")
        #expect(formatted("%.1f", 1e300).count > 64)  // longer than the first buffer
        #expect("\u{3000} key \n\t".trimmingWhitespace() == "key")
        #expect(" \n ".trimmingWhitespace() == "")
    }

    @Test func backoffDoublesWithFullJitterUpToTheCap() {
        let policy = RetryPolicy(retries: 5, initialDelaySeconds: 0.5, maxDelaySeconds: 3)
        #expect(RetryTiming.backoff(retry: 0, policy: policy, unit: 1) == 0.5)
        #expect(RetryTiming.backoff(retry: 2, policy: policy, unit: 1) == 2)
        #expect(RetryTiming.backoff(retry: 3, policy: policy, unit: 1) == 3)
        #expect(RetryTiming.backoff(retry: 3, policy: policy, unit: 0.5) == 1.5)
        #expect(RetryTiming.backoff(retry: 9, policy: policy, unit: 0) == 0)
    }
}

/// Token counts a provider reports are range-checked where they are read.
@Suite struct TokenCountTests {
    @Test func negativeFractionalOrHugeCountsAreTakenAsNotReported() throws {
        for bad in ["-1", "1.5", "1e300", "\"12\""] {
            let body = try JSONParser.parse(Array(#"{"choices":[{"message":{"content":"Hi"}}],"usage":{"prompt_tokens":\#(bad),"completion_tokens":2}}"#.utf8))
            let reply = try OpenAIFormat().parseReply(body)
            #expect(reply.usage.inputTokens == nil && reply.usage.outputTokens == 2, "\(bad)")
        }
        let anthropic = try JSONParser.parse(Array(#"{"content":[{"type":"text","text":"Hi"}],"usage":{"input_tokens":-7,"output_tokens":3}}"#.utf8))
        #expect(try AnthropicFormat().parseReply(anthropic).usage.inputTokens == nil)
    }
}
