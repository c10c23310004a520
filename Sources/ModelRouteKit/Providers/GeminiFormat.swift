/// Google Gemini `generateContent`, and `streamGenerateContent?alt=sse` when streaming;
/// the key goes in the `x-goog-api-key` header, never in the URL.
public struct GeminiFormat: WireFormat {
    public init() {}

    /// Builds the generateContent request.
    public func makeRequest(_ request: ChatRequest, model: String, baseURL: String, apiKey: String?) -> HTTPRequestSpec {
        var json = JSONWriter(reservingCapacity: request.prompt.utf8.count + 256)
        json.beginObject()
        json.key("contents")
        json.beginArray()
        json.beginObject()
        json.key("role")
        json.string("user")
        json.key("parts")
        json.beginArray()
        json.stringObject([("text", request.prompt)])
        json.endArray()
        json.endObject()
        json.endArray()
        if let system = request.system {
            json.key("systemInstruction")
            json.beginObject()
            json.key("parts")
            json.beginArray()
            json.stringObject([("text", system)])
            json.endArray()
            json.endObject()
        }
        if request.maxTokens != nil || request.temperature != nil {
            json.key("generationConfig")
            json.beginObject()
            if let maxTokens = request.maxTokens {
                json.key("maxOutputTokens")
                json.int(maxTokens)
            }
            if let temperature = request.temperature {
                json.key("temperature")
                json.double(temperature)
            }
            json.endObject()
        }
        json.endObject()
        // Model ids may be written "models/gemini-…" as the API lists them.
        let id = model.hasPrefix("models/") ? String(model.dropFirst("models/".count)) : model
        let method = request.stream ? ":streamGenerateContent?alt=sse" : ":generateContent"
        var headers = WireSupport.jsonHeaders(stream: request.stream)
        if let apiKey { headers.append(("x-goog-api-key", apiKey)) }
        return HTTPRequestSpec(url: baseURL + "/models/" + id + method, headers: headers, body: json.bytes)
    }

    /// Reads a whole generateContent response body.
    public func parseReply(_ body: JSONNode) throws(FormatViolation) -> ParsedReply {
        let update = try read(body)
        if let error = update.error { throw FormatViolation("the provider returned an error: \(error)") }
        return ParsedReply(text: update.text, usage: update.usage ?? TokenUsage(), truncated: update.truncated)
    }

    /// Reads one generateContent SSE event.
    public func parseEvent(_ event: SSEEvent) throws(FormatViolation) -> StreamUpdate {
        try read(WireSupport.parseData(event))
    }

    /// Reads one GenerateContentResponse, whole or one streamed piece of it.
    private func read(_ node: JSONNode) throws(FormatViolation) -> StreamUpdate {
        if let error = node["error"], !error.isNull { return StreamUpdate(error: errorMessage(node) ?? "unknown error") }
        var update = StreamUpdate()
        if let metadata = node["usageMetadata"], !metadata.isNull {
            // Thinking tokens are billed as output.
            let candidates = metadata["candidatesTokenCount"]?.tokenCount
            let thoughts = metadata["thoughtsTokenCount"]?.tokenCount
            let output = (candidates == nil && thoughts == nil) ? nil : (candidates ?? 0) + (thoughts ?? 0)
            update.usage = TokenUsage(
                inputTokens: metadata["promptTokenCount"]?.tokenCount, outputTokens: output,
                cachedInputTokens: metadata["cachedContentTokenCount"]?.tokenCount)
        }
        guard let candidates = node["candidates"]?.arrayValue else {
            if let reason = node["promptFeedback"]?["blockReason"]?.stringValue {
                return StreamUpdate(error: "the prompt was blocked (\(reason))")
            }
            if update.usage != nil { return update }  // a usage-only piece
            throw FormatViolation("the response has no \"candidates\"")
        }
        if let first = candidates.first {
            for part in first["content"]?["parts"]?.arrayValue ?? [] where part["thought"]?.value != .bool(true) {
                update.text += part["text"]?.stringValue ?? ""
            }
            if let reason = first["finishReason"], !reason.isNull {
                update.complete = true
                update.final = true  // Gemini sends its usage in this same last chunk
                if reason.stringValue == "MAX_TOKENS" { update.truncated = true }
            }
        }
        return update
    }
}
