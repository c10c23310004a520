import FoundationEssentials

/// One model made ready to call: its provider, wire format, URL, key and policies.
/// Built before any network, so a missing key or variable is reported first.
public struct CallTarget: Sendable {
    /// The model (routes.json entry) whose prices apply.
    public var model: ModelConfig
    /// The provider actually called (the mock one under `--offline`).
    public var provider: ProviderConfig
    /// The wire format; nil for the mock provider.
    public var wire: (any WireFormat)?
    /// Base URL without a trailing slash; empty for the mock provider.
    public var baseURL: String
    /// The API key, if the provider uses one. Never printed.
    public var apiKey: String?
    /// Extra headers with `${VAR}` expanded. Never printed.
    public var headers: [(name: String, value: String)]
    /// Retries and delays for this model.
    public var retry: RetryPolicy
    /// Seconds to wait for a response or its next piece.
    public var timeoutSeconds: Double
    /// Secret values (key, expanded header variables) to scrub from any message.
    public var secrets: [String]

    /// The per-request timeout when neither `--timeout` nor `timeout_s` sets one.
    public static let defaultTimeoutSeconds: Double = 300

    /// The wire format that speaks a provider type, nil for `mock`.
    public static func wireFormat(for type: ProviderType) -> (any WireFormat)? {
        switch type {
        case .openai: return OpenAIFormat()
        case .anthropic: return AnthropicFormat()
        case .gemini: return GeminiFormat()
        case .mock: return nil
        }
    }

    /// Resolves `modelName` against `table`: under `offline` the call goes to the
    /// table's mock provider with the model's prices kept.
    public static func prepare(
        modelName: String, table: RoutingTable, route: RouteConfig?, environment: [String: String],
        offline: Bool, timeoutOverride: Double?
    ) throws(ProviderError) -> CallTarget {
        guard let model = table.model(named: modelName) else { throw .unknownModel(model: modelName) }
        let provider: ProviderConfig
        if offline {
            guard let mock = table.mockProvider else { throw .noMockProvider(table: table.source) }
            provider = mock
        } else {
            guard let found = table.provider(named: model.provider) else { throw .unknownModel(model: modelName) }
            provider = found
        }
        let retry = route?.retry ?? provider.retry ?? .default
        let timeout = timeoutOverride ?? provider.timeoutSeconds ?? defaultTimeoutSeconds
        guard provider.type != .mock else {
            return CallTarget(model: model, provider: provider, wire: nil, baseURL: "", apiKey: nil, headers: [], retry: retry, timeoutSeconds: timeout, secrets: [])
        }
        var secrets: [String] = []
        var apiKey: String?
        if let variable = provider.apiKeyEnvironmentVariable {
            guard let value = environment[variable], !value.trimmingWhitespace().isEmpty else {
                throw .missingAPIKey(provider: provider.name, variable: variable)
            }
            apiKey = value.trimmingWhitespace()
            secrets.append(value)
        }
        var headers: [(name: String, value: String)] = []
        for header in provider.headers {
            var expanded = ""
            var rest = Substring(header.value)
            while let start = rest.firstRange(of: "${") {
                expanded += rest[..<start.lowerBound]
                guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                    expanded += rest[start.lowerBound...]
                    rest = ""
                    break
                }
                let variable = String(rest[start.upperBound..<end])
                guard let value = environment[variable] else {
                    throw .missingHeaderVariable(provider: provider.name, header: header.name, variable: variable)
                }
                expanded += value
                if !value.isEmpty { secrets.append(value) }
                rest = rest[rest.index(after: end)...]
            }
            expanded += rest
            headers.append((header.name, expanded))
        }
        var baseURL = provider.baseURL ?? provider.type.defaultBaseURL ?? ""
        while baseURL.hasSuffix("/") { baseURL.removeLast() }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            throw .invalidBaseURL(provider: provider.name, url: baseURL)
        }
        // Nothing that reaches the request line or a header may carry a line break: checked
        // here, before any network and for every client, naming the value but never showing it.
        if let apiKey, hasControlCharacters(apiKey) {
            throw .unsafeValue(provider: provider.name, what: "the API key in $\(provider.apiKeyEnvironmentVariable ?? "")")
        }
        for header in headers {
            if header.name.isEmpty || !header.name.unicodeScalars.allSatisfy(isTokenCharacter) {
                throw .unsafeValue(provider: provider.name, what: "the header name \"\(header.name.unicodeScalars.filter(isTokenCharacter).map(String.init).joined())\"")
            }
            if hasControlCharacters(header.value) { throw .unsafeValue(provider: provider.name, what: "the value of header \(header.name)") }
        }
        if hasControlCharacters(baseURL) || baseURL.contains(" ") { throw .unsafeValue(provider: provider.name, what: "base_url") }
        if hasControlCharacters(model.id) || model.id.contains(" ") { throw .unsafeValue(provider: provider.name, what: "the id of model \"\(model.name)\"") }
        return CallTarget(
            model: model, provider: provider, wire: wireFormat(for: provider.type), baseURL: baseURL, apiKey: apiKey,
            headers: headers, retry: retry, timeoutSeconds: timeout, secrets: secrets)
    }

    /// The models a decision may be answered by, in order: the route's primary and
    /// fallbacks, or only the model named by `--model` when it is not the route's primary.
    public static func candidates(for decision: RoutingDecision, table: RoutingTable, offline: Bool) -> [String] {
        guard let route = table.route(named: decision.route), route.model == decision.model else { return [decision.model] }
        // Offline too: the mock provider never fails, but a prompt over a model's
        // `context_tokens` still moves on to the next.
        return route.candidateModels
    }

    /// Whether a value holds a control character (CR, LF, NUL, …).
    static func hasControlCharacters(_ value: String) -> Bool {
        value.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }

    /// RFC 9110 token characters, the only ones a header name may have.
    static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        guard scalar.isASCII else { return false }
        return ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "!#$%&'*+-.^_`|~".unicodeScalars.contains(scalar)
    }

    /// Every form in which a secret can show up in a server's words: as set, trimmed
    /// (what was sent), and percent-encoded (as some servers echo a URL).
    static func secretForms(_ secret: String) -> [String] {
        let trimmed = secret.trimmingWhitespace()
        var encoded = ""
        for byte in trimmed.utf8 {
            let scalar = Unicode.Scalar(byte)
            if scalar.isASCII, ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar) || "-._~".unicodeScalars.contains(scalar) {
                encoded.unicodeScalars.append(scalar)
            } else {
                encoded += formatted("%%%02X", Int32(byte))
            }
        }
        return Array(Set([secret, trimmed, encoded].filter { $0.count >= 4 })).sorted { $0.count > $1.count }
    }

    /// Replaces every secret in `text` with `[redacted]`, in each form it can take; a
    /// message cut short ("…") that ends in the start of a secret loses that start too.
    public func redact(_ text: String) -> String {
        var text = text
        let forms = secrets.flatMap(CallTarget.secretForms)
        for form in forms { text = text.replacing(form, with: "[redacted]") }
        for form in forms {
            let body = text.hasSuffix("…") ? String(text.dropLast()) : text
            for length in stride(from: min(form.count - 1, body.count), through: 4, by: -1) where body.hasSuffix(form.prefix(length)) {
                text = String(body.dropLast(length)) + "[redacted]" + (text.hasSuffix("…") ? "…" : "")
                break
            }
        }
        return text
    }
}
