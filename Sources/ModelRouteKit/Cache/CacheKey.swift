/// The response cache's key: SHA-256, in hex, of a canonical encoding of everything that
/// changes the answer. The encoding is a JSON array with no white space, in this order:
///
///     ["modelroute-response-2", PROVIDER_TYPE, BASE_URL, MODEL_ID, MOCK, SYSTEM, PROMPT, MAX_TOKENS, TEMPERATURE, HEADERS]
///
/// PROVIDER_TYPE is `openai`, `anthropic`, `gemini` or `mock`; BASE_URL the provider's
/// (`""` for mock); MODEL_ID the id sent to the provider; MOCK the model's `mock` answer for a
/// mock provider, else null; SYSTEM, MAX_TOKENS and TEMPERATURE are null when not sent.
/// HEADERS are the provider's extra `headers` (a beta flag or a gateway's routing header can
/// change the answer) as `[NAME, VALUE]` pairs, names in lower case and sorted, values as the
/// table writes them: a `${VAR}` reference stays unexpanded, so no secret enters the key and a
/// changed variable does not change it.
/// Strings are JSON-escaped as modelroute writes them (UTF-8, `\"`, `\\`, `\n`, …, `\u00XX`
/// for other control characters). Streaming is not part of the key: it does not change
/// the answer.
public enum CacheKey {
    /// The encoding's first element; a new one starts a new key space.
    public static let scheme = "modelroute-response-2"

    /// The canonical bytes for a request to `model` on `provider`.
    public static func canonical(provider: ProviderConfig, model: ModelConfig, request: ChatRequest) -> [UInt8] {
        var json = JSONWriter(reservingCapacity: request.prompt.utf8.count + 256)
        json.beginArray()
        json.string(scheme)
        json.string(provider.type.rawValue)
        json.string(provider.baseURL ?? "")
        json.string(model.id)
        json.string(provider.type == .mock ? model.mock.rawValue : nil)
        json.string(request.system)
        json.string(request.prompt)
        json.int(request.maxTokens)
        json.double(request.temperature)
        json.beginArray()
        for header in provider.headers.map({ (name: $0.name.lowercased(), value: $0.value) }).sorted(by: { ($0.name, $0.value) < ($1.name, $1.value) }) {
            json.beginArray(); json.string(header.name); json.string(header.value); json.endArray()
        }
        json.endArray()
        json.endArray()
        return json.bytes
    }

    /// The key, 64 hex digits.
    public static func key(provider: ProviderConfig, model: ModelConfig, request: ChatRequest) -> String {
        SHA256.hexDigest(of: canonical(provider: provider, model: model, request: request))
    }
}
