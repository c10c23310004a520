/// Anthropic Messages (`POST {base_url}/messages`, `x-api-key`, `anthropic-version`).
///
/// Anthropic reports cache reads and cache writes apart from `input_tokens`; both are
/// folded into input tokens here, with cache reads as the cached part, so that every
/// provider's counts mean the same thing.
public struct AnthropicFormat: WireFormat {
    /// The API version sent in `anthropic-version`.
    public static let apiVersion = "2023-06-01"
    /// `max_tokens` is required by the API; this is sent when neither the route nor `--max-tokens` sets it.
    public static let defaultMaxTokens = 1024

    public init() {}

    /// Builds the Messages request.
    public func makeRequest(_ request: ChatRequest, model: String, baseURL: String, apiKey: String?) -> HTTPRequestSpec {
        var json = JSONWriter(reservingCapacity: request.prompt.utf8.count + 256)
        json.beginObject()
        json.key("model")
        json.string(model)
        json.key("max_tokens")
        json.int(request.maxTokens ?? AnthropicFormat.defaultMaxTokens)
        if let system = request.system {
            json.key("system")
            json.string(system)
        }
        json.key("messages")
        json.beginArray()
        json.stringObject([("role", "user"), ("content", request.prompt)])
        json.endArray()
        if let temperature = request.temperature {
            json.key("temperature")
            json.double(temperature)
        }
        if request.stream {
            json.key("stream")
            json.bool(true)
        }
        json.endObject()
        var headers = WireSupport.jsonHeaders(stream: request.stream)
        headers.append(("anthropic-version", AnthropicFormat.apiVersion))
        if let apiKey { headers.append(("x-api-key", apiKey)) }
        return HTTPRequestSpec(url: baseURL + "/messages", headers: headers, body: json.bytes)
    }

    /// Reads a whole Messages response body.
    public func parseReply(_ body: JSONNode) throws(FormatViolation) -> ParsedReply {
        if body["type"]?.stringValue == "error" {
            throw FormatViolation("the provider returned an error: \(errorMessage(body) ?? "no message")")
        }
        guard let content = body["content"]?.arrayValue else { throw FormatViolation("the response has no \"content\" array") }
        var text = ""
        for block in content where block["type"]?.stringValue == "text" {
            text += block["text"]?.stringValue ?? ""
        }
        return ParsedReply(text: text, usage: body["usage"].map(usage) ?? TokenUsage(), truncated: body["stop_reason"]?.stringValue == "max_tokens")
    }

    /// Reads one Messages SSE event.
    public func parseEvent(_ event: SSEEvent) throws(FormatViolation) -> StreamUpdate {
        let node = try WireSupport.parseData(event)
        let type = node["type"]?.stringValue ?? event.name ?? ""
        switch type {
        case "message_start":
            return StreamUpdate(usage: (node["message"]?["usage"]).map(usage))
        case "content_block_delta":
            return StreamUpdate(text: node["delta"]?["text"]?.stringValue ?? "")
        case "message_delta":
            let reason = node["delta"]?["stop_reason"]
            let stopped = reason.map { !$0.isNull } ?? false
            return StreamUpdate(usage: node["usage"].map(usage), complete: stopped, truncated: reason?.stringValue == "max_tokens")
        case "message_stop":
            return StreamUpdate(final: true)
        case "error":
            return StreamUpdate(error: errorMessage(node) ?? WireSupport.snippet(event.data))
        default:
            return StreamUpdate()  // ping, content_block_start/stop, and types added later
        }
    }

    /// Reads `usage`: input = input_tokens + cache reads + cache writes; cached = cache reads.
    private func usage(_ node: JSONNode) -> TokenUsage {
        let cacheRead = node["cache_read_input_tokens"]?.tokenCount
        let cacheWrite = node["cache_creation_input_tokens"]?.tokenCount
        let input = node["input_tokens"]?.tokenCount.map { $0 + (cacheRead ?? 0) + (cacheWrite ?? 0) }
        return TokenUsage(inputTokens: input, outputTokens: node["output_tokens"]?.tokenCount, cachedInputTokens: input == nil ? nil : cacheRead)
    }
}
