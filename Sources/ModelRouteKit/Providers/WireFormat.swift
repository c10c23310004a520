/// Token counts for one call, as the provider reported them (nil where it said nothing).
public struct TokenUsage: Sendable, Equatable {
    /// All input tokens, cached ones included.
    public var inputTokens: Int?
    /// Output tokens, reasoning tokens included (they are billed as output).
    public var outputTokens: Int?
    /// The part of `inputTokens` served from the provider's prompt cache.
    public var cachedInputTokens: Int?

    public init(inputTokens: Int? = nil, outputTokens: Int? = nil, cachedInputTokens: Int? = nil) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
    }

    /// Takes every count `newer` has: streamed usage is cumulative, so the latest wins.
    public mutating func merge(_ newer: TokenUsage) {
        if let value = newer.inputTokens { inputTokens = value }
        if let value = newer.outputTokens { outputTokens = value }
        if let value = newer.cachedInputTokens { cachedInputTokens = value }
    }

    /// Whether the provider reported both input and output counts.
    public var isComplete: Bool { inputTokens != nil && outputTokens != nil }
}

/// What one call asks a model for, whatever the wire format.
public struct ChatRequest: Sendable, Equatable {
    /// The user's prompt.
    public var prompt: String
    /// The system prompt (`--system`, else the route's `system`), if any.
    public var system: String?
    /// The output token limit, if any (Anthropic always gets one: default 1024).
    public var maxTokens: Int?
    /// Sampling temperature, if given.
    public var temperature: Double?
    /// Whether to ask for a streamed (SSE) answer.
    public var stream: Bool

    public init(prompt: String, system: String? = nil, maxTokens: Int? = nil, temperature: Double? = nil, stream: Bool = true) {
        self.prompt = prompt
        self.system = system
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.stream = stream
    }

    /// Input tokens estimated from the text sent (prompt and system prompt), for when a
    /// provider reports none.
    public var estimatedInputTokens: Int {
        TokenEstimator.estimate(prompt) + (system.map(TokenEstimator.estimate) ?? 0)
    }
}

/// An HTTP request ready to send: a full URL, headers and a JSON body.
public struct HTTPRequestSpec: Sendable {
    /// The absolute URL.
    public var url: String
    /// Header names and values in order; values may be secret and are never printed.
    public var headers: [(name: String, value: String)]
    /// The JSON body.
    public var body: [UInt8]

    public init(url: String, headers: [(name: String, value: String)], body: [UInt8]) {
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// Why the request cannot go on the wire, if it cannot: a header with an empty name,
    /// or a line break (or NUL) in a header or the URL, which would add lines to the
    /// request. Values are secret, so only the header's name is told.
    public var unsendable: String? {
        func unsafe(_ text: String) -> Bool { text.utf8.contains { $0 == 13 || $0 == 10 || $0 == 0 } }
        if let bad = headers.first(where: { unsafe($0.name + $0.value) || $0.name.isEmpty }) {
            return "header \(bad.name.debugDescription) contains a line break"
        }
        return unsafe(url) ? "the URL contains a line break" : nil
    }
}

/// A whole (non-streamed) answer.
public struct ParsedReply: Sendable, Equatable {
    /// The answer's text.
    public var text: String
    /// The usage the provider reported.
    public var usage: TokenUsage
    /// The provider said the answer stopped at the token limit.
    public var truncated: Bool

    public init(text: String, usage: TokenUsage, truncated: Bool = false) {
        self.text = text
        self.usage = usage
        self.truncated = truncated
    }
}

/// What one SSE event contributed to a streamed answer.
public struct StreamUpdate: Sendable, Equatable {
    /// Text to print now (may be empty).
    public var text: String = ""
    /// Usage counts the event carried, if any.
    public var usage: TokenUsage?
    /// The event proves the answer is complete (a final event or a finish reason).
    public var complete: Bool = false
    /// The provider reported an error inside the stream.
    public var error: String?
    /// The stream's last event: nothing more is coming, so the answer is done now, even
    /// if the server leaves the connection open (OpenAI `[DONE]`, Anthropic
    /// `message_stop`, Gemini's chunk with a finish reason).
    public var final: Bool = false
    /// The provider said the answer stopped at the token limit.
    public var truncated: Bool = false

    public init(text: String = "", usage: TokenUsage? = nil, complete: Bool = false, error: String? = nil, final: Bool = false, truncated: Bool = false) {
        self.text = text
        self.usage = usage
        self.complete = complete || final
        self.error = error
        self.final = final
        self.truncated = truncated
    }
}

/// A response body that is not what the wire format promises; the message says what is wrong.
public struct FormatViolation: Error, Sendable, Equatable {
    /// What was wrong, in plain words ("no choices[0].message.content").
    public var detail: String

    public init(_ detail: String) {
        self.detail = detail
    }
}

/// One provider API's shape: how to ask, and how to read the answer, whole or streamed.
/// Adding a provider type means adding one conforming type in its own file.
public protocol WireFormat: Sendable {
    /// Builds the HTTP request for `model` (the wire id) at `baseURL`, authenticated with `apiKey` if any.
    func makeRequest(_ request: ChatRequest, model: String, baseURL: String, apiKey: String?) -> HTTPRequestSpec
    /// Reads a non-streamed 2xx body.
    func parseReply(_ body: JSONNode) throws(FormatViolation) -> ParsedReply
    /// Reads one SSE event of a streamed answer.
    func parseEvent(_ event: SSEEvent) throws(FormatViolation) -> StreamUpdate
    /// The provider's own error message inside an error body, if it has one.
    func errorMessage(_ body: JSONNode) -> String?
}

extension WireFormat {
    /// The common `{"error": {"message": …}}` shape (OpenAI, Gemini, most proxies),
    /// also accepting `{"error": "text"}` and `{"message": …}`.
    public func errorMessage(_ body: JSONNode) -> String? {
        if let error = body["error"] {
            if let text = error.stringValue { return text }
            if let text = error["message"]?.stringValue { return text }
        }
        return body["message"]?.stringValue ?? body["detail"]?.stringValue
    }
}

extension JSONNode {
    /// The integer, if this is a number with no fraction (token counts).
    public var intValue: Int? {
        if case .number(let value) = value, value == value.rounded(), abs(value) < 9e15 { return Int(value) }
        return nil
    }

    /// A token count a provider reported, range-checked where it is read: a whole number
    /// from 0 to 10^12; anything else (negative, fractional, huge) counts as not reported,
    /// so the call's usage is estimated instead of logged wrong.
    public var tokenCount: Int? {
        guard let count = intValue, count >= 0, count <= 1_000_000_000_000 else { return nil }
        return count
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONNode]? {
        if case .array(let elements) = value { return elements }
        return nil
    }

    /// Whether this is JSON `null`.
    public var isNull: Bool { value == .null }
}

/// Shared request-building pieces.
enum WireSupport {
    /// The `User-Agent` sent with every call. Setting it also spares Foundation from
    /// building its own, which reads the executable's bundle (milliseconds per process).
    static let userAgent = "modelroute/0.1"

    /// The `Content-Type`, `Accept` and `User-Agent` headers every JSON API call sends.
    static func jsonHeaders(stream: Bool) -> [(name: String, value: String)] {
        [("Content-Type", "application/json"), ("Accept", stream ? "text/event-stream" : "application/json"), ("User-Agent", userAgent)]
    }

    /// Parses an SSE event's data as JSON, naming the event on failure.
    static func parseData(_ event: SSEEvent) throws(FormatViolation) -> JSONNode {
        do {
            return try JSONParser.parse(Array(event.data.utf8))
        } catch {
            throw FormatViolation("a streamed event is not valid JSON (\(error.message)): \(snippet(event.data))")
        }
    }

    /// The start of a text, for messages about bodies that are not what was promised.
    static func snippet(_ text: String, limit: Int = 120) -> String {
        let flat = text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).joined(separator: " ")
        return flat.count <= limit ? flat : String(flat.prefix(limit)) + "…"
    }
}
