/// OpenAI Chat Completions (`POST {base_url}/chat/completions`), which every
/// OpenAI-compatible server (vLLM, Ollama, LM Studio, OpenRouter, Groq, DeepSeek,
/// LiteLLM) also speaks. Only the published fields are assumed; optional ones may be
/// missing or null.
public struct OpenAIFormat: WireFormat {
    public init() {}

    /// Builds the Chat Completions request.
    public func makeRequest(_ request: ChatRequest, model: String, baseURL: String, apiKey: String?) -> HTTPRequestSpec {
        var json = JSONWriter(reservingCapacity: request.prompt.utf8.count + 256)
        json.beginObject()
        json.key("model")
        json.string(model)
        json.key("messages")
        json.beginArray()
        if let system = request.system {
            json.stringObject([("role", "system"), ("content", system)])
        }
        json.stringObject([("role", "user"), ("content", request.prompt)])
        json.endArray()
        if let maxTokens = request.maxTokens {
            json.key("max_tokens")
            json.int(maxTokens)
        }
        if let temperature = request.temperature {
            json.key("temperature")
            json.double(temperature)
        }
        if request.stream {
            json.key("stream")
            json.bool(true)
            // Without this, streamed answers carry no token counts at all.
            json.key("stream_options")
            json.raw(#"{"include_usage":true}"#)
        }
        json.endObject()
        var headers = WireSupport.jsonHeaders(stream: request.stream)
        if let apiKey { headers.append(("Authorization", "Bearer " + apiKey)) }
        return HTTPRequestSpec(url: baseURL + "/chat/completions", headers: headers, body: json.bytes)
    }

    /// Reads a whole Chat Completions response body.
    public func parseReply(_ body: JSONNode) throws(FormatViolation) -> ParsedReply {
        guard let choices = body["choices"]?.arrayValue else {
            if let message = errorMessage(body) { throw FormatViolation("the provider returned an error: \(message)") }
            throw FormatViolation("the response has no \"choices\"")
        }
        guard let first = choices.first, let message = first["message"] else {
            throw FormatViolation("the response has no choices[0].message")
        }
        let content = message["content"]
        guard content?.isNull ?? true || content?.stringValue != nil else {
            throw FormatViolation("choices[0].message.content is not a string")
        }
        return ParsedReply(text: content?.stringValue ?? "", usage: usage(body["usage"]), truncated: first["finish_reason"]?.stringValue == "length")
    }

    /// Reads one Chat Completions SSE event.
    public func parseEvent(_ event: SSEEvent) throws(FormatViolation) -> StreamUpdate {
        if event.data == "[DONE]" { return StreamUpdate(final: true) }
        let node = try WireSupport.parseData(event)
        if body(node, hasErrorWithout: "choices") {
            return StreamUpdate(error: errorMessage(node) ?? WireSupport.snippet(event.data))
        }
        var update = StreamUpdate()
        if let usageNode = node["usage"], !usageNode.isNull { update.usage = usage(usageNode) }
        for choice in node["choices"]?.arrayValue ?? [] {
            if let text = choice["delta"]?["content"]?.stringValue { update.text += text }
            if let reason = choice["finish_reason"], !reason.isNull {
                update.complete = true
                if reason.stringValue == "length" { update.truncated = true }
            }
        }
        return update
    }

    /// Whether an event is an error object rather than a chunk.
    private func body(_ node: JSONNode, hasErrorWithout key: String) -> Bool {
        guard let error = node["error"], !error.isNull else { return false }
        return node[key] == nil
    }

    /// Reads `usage`, including cached prompt tokens (OpenAI's `prompt_tokens_details`,
    /// DeepSeek's `prompt_cache_hit_tokens`).
    private func usage(_ node: JSONNode?) -> TokenUsage {
        guard let node, !node.isNull else { return TokenUsage() }
        let cached = node["prompt_tokens_details"]?["cached_tokens"]?.tokenCount ?? node["prompt_cache_hit_tokens"]?.tokenCount
        return TokenUsage(inputTokens: node["prompt_tokens"]?.tokenCount, outputTokens: node["completion_tokens"]?.tokenCount, cachedInputTokens: cached)
    }
}
