/// Why a call to a model failed. Every case names the provider and model, and an
/// HTTP status where there was one; none ever contains an API key.
public enum ProviderError: ModelRouteError, Equatable {
    /// The provider's key variable is unset or empty (found before any network).
    case missingAPIKey(provider: String, variable: String)
    /// A `${VAR}` in one of the provider's `headers` is unset.
    case missingHeaderVariable(provider: String, header: String, variable: String)
    /// The provider's base URL cannot be used.
    case invalidBaseURL(provider: String, url: String)
    /// A value that goes into the request line or a header holds a line break or another
    /// control character (it would add lines on the wire); `what` names it, never its value.
    case unsafeValue(provider: String, what: String)
    /// A route or override names a model or provider the table lacks.
    case unknownModel(model: String)
    /// `--offline` was asked for, but the table has no provider of type `mock`.
    case noMockProvider(table: String)
    /// The server answered with an error status; `message` is the provider's own words.
    case http(provider: String, model: String, status: Int, message: String, keyVariable: String?)
    /// The connection could not be made or broke before the answer began. `lasting`
    /// marks what trying again cannot fix (a TLS certificate, a missing library): 69, not 75.
    case connection(provider: String, model: String, detail: String, lasting: Bool = false)
    /// No response or no next piece within the timeout.
    case timeout(provider: String, model: String, seconds: Double)
    /// The body is not what the format promises (HTML, truncated JSON, a missing field, an error inside a 200).
    case badResponse(provider: String, model: String, status: Int, detail: String)
    /// A stream ended without its final event, or reported an error, after output had begun.
    case streamInterrupted(provider: String, model: String, status: Int, detail: String)
    /// Ctrl-C.
    case cancelled
    /// The prompt is longer than the model's `context_tokens`; it was skipped without a request.
    case contextTooLong(model: String, tokens: Int, window: Int)
    /// Every model of the route failed; one line per model, in the order tried.
    case allFailed(route: String, failures: [String], temporary: Bool)

    /// HTTP statuses worth retrying: timeouts, conflicts, rate limits, overload, server errors.
    public static let retryableStatuses: Set<Int> = [408, 409, 429, 500, 502, 503, 504, 529]

    /// 78 for configuration, 130 for Ctrl-C, 75 for temporary failures, else 69.
    public var exitCode: ExitCode {
        switch self {
        case .missingAPIKey, .missingHeaderVariable, .invalidBaseURL, .unsafeValue, .unknownModel, .noMockProvider: return .configuration
        case .cancelled: return .interrupted
        case .allFailed(_, _, let temporary): return temporary ? .temporaryFailure : .unavailable
        default: return isTemporary ? .temporaryFailure : .unavailable
        }
    }

    /// Whether trying again later could help (75) rather than not (69).
    public var isTemporary: Bool {
        switch self {
        case .http(_, _, let status, _, _): return ProviderError.retryableStatuses.contains(status)
        case .connection(_, _, _, let lasting): return !lasting
        case .timeout, .streamInterrupted: return true
        case .allFailed(_, _, let temporary): return temporary
        default: return false
        }
    }

    /// The text for stderr: provider, model, HTTP status and the provider's own words.
    public var message: String {
        switch self {
        case .missingAPIKey(let provider, let variable):
            return "provider \"\(provider)\" needs an API key: set the environment variable \(variable) (or add --offline to answer with the mock provider)"
        case .missingHeaderVariable(let provider, let header, let variable):
            return "provider \"\(provider)\": header \(header) uses ${\(variable)}, but the environment variable \(variable) is not set"
        case .invalidBaseURL(let provider, let url):
            return "provider \"\(provider)\": base_url \"\(url)\" is not a valid http or https URL"
        case .unsafeValue(let provider, let what):
            return "provider \"\(provider)\": \(what) contains a line break or another control character, so it cannot be sent (it would add lines to the request); nothing was sent"
        case .unknownModel(let model):
            return "model \"\(model)\" is not in the routing table"
        case .noMockProvider(let table):
            return "--offline needs a provider of type \"mock\" in the routing table (\(table)); add \"mock\": {\"type\": \"mock\"} to providers"
        case .http(let provider, let model, let status, let message, let keyVariable):
            var text = "\(provider) (model \(model)) answered HTTP \(status): \(message)"
            if status == 401 || status == 403, let keyVariable { text += "; check the API key in \(keyVariable)" }
            return text
        case .connection(let provider, let model, let detail, _):
            return "\(provider) (model \(model)): \(detail)"
        case .timeout(let provider, let model, let seconds):
            return "\(provider) (model \(model)): no answer within \(Self.format(seconds)) s (raise it with --timeout or timeout_s)"
        case .badResponse(let provider, let model, let status, let detail):
            return "\(provider) (model \(model)) sent an unusable response (HTTP \(status)): \(detail)"
        case .streamInterrupted(let provider, let model, let status, let detail):
            return "\(provider) (model \(model)): the streamed answer broke off (HTTP \(status)): \(detail); the output above is incomplete"
        case .contextTooLong(let model, let tokens, let window):
            return "the prompt (about \(tokens) tokens) is over the context window of \(model) (\(window) tokens)"
        case .cancelled:
            return "cancelled"
        case .allFailed(let route, let failures, _):
            if failures.count == 1 { return failures[0] }
            return "every model of route \"\(route)\" failed:\n" + failures.map { "  " + $0 }.joined(separator: "\n")
        }
    }

    /// A short form for the log's `error` field (first line, at most 200 characters).
    public var shortMessage: String {
        let first = message.split(separator: "\n", maxSplits: 1).first.map(String.init) ?? message
        let text: String
        if case .allFailed(_, let failures, _) = self, let last = failures.last, failures.count > 1 {
            text = "all \(failures.count) models failed; last: " + last
        } else {
            text = first
        }
        return text.count <= 200 ? text : String(text.prefix(199)) + "…"
    }

    /// Seconds without a trailing ".0".
    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
