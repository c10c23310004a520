/// One stored answer: the text, what it cost to make, and who made it. Stored as one
/// JSON object (the same bytes in a file or a Redis value).
public struct CacheEntry: Sendable, Equatable {
    /// The entry format's version.
    public static let version = 1
    /// When the answer was stored, epoch milliseconds.
    public var createdMillis: Int64
    /// The route that answered (after any escalation).
    public var route: String
    /// routes.json key of the model that answered.
    public var model: String
    /// routes.json key of its provider.
    public var provider: String?
    /// The answer's token counts.
    public var inputTokens: Int
    public var outputTokens: Int
    public var cachedInputTokens: Int?
    /// Whether the counts were estimated.
    public var usageEstimated: Bool
    /// Whether a mock provider made the answer.
    public var offline: Bool
    /// The answer.
    public var answer: String

    public init(
        createdMillis: Int64, route: String, model: String, provider: String?, inputTokens: Int, outputTokens: Int, cachedInputTokens: Int?,
        usageEstimated: Bool, offline: Bool, answer: String
    ) {
        self.createdMillis = createdMillis
        self.route = route
        self.model = model
        self.provider = provider
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.usageEstimated = usageEstimated
        self.offline = offline
        self.answer = answer
    }

    /// The stored bytes.
    public func encoded() -> [UInt8] {
        var json = JSONWriter(reservingCapacity: answer.utf8.count + 256)
        json.beginObject()
        json.key("v"); json.int(CacheEntry.version)
        json.key("created_ms"); json.int(Int(createdMillis))
        json.key("route"); json.string(route)
        json.key("model"); json.string(model)
        json.key("provider"); json.string(provider)
        json.key("input_tokens"); json.int(inputTokens)
        json.key("output_tokens"); json.int(outputTokens)
        json.key("cached_input_tokens"); json.int(cachedInputTokens)
        json.key("usage_estimated"); json.bool(usageEstimated)
        json.key("offline"); json.bool(offline)
        json.key("answer"); json.string(answer)
        json.endObject()
        return json.bytes
    }

    /// Reads stored bytes; nil (with why) for anything that is not a whole entry of this version.
    public static func decode(_ bytes: [UInt8]) -> Result<CacheEntry, CacheCorruption> {
        guard let node = try? JSONParser.parse(bytes) else { return .failure(CacheCorruption("not JSON (\(bytes.count) bytes; cut short?)")) }
        guard node["v"]?.intValue == version else { return .failure(CacheCorruption("not an entry of version \(version)")) }
        guard let created = node["created_ms"]?.intValue, created >= 0,
            let route = node["route"]?.stringValue, let model = node["model"]?.stringValue,
            let input = node["input_tokens"]?.tokenCount, let output = node["output_tokens"]?.tokenCount,
            case .bool(let estimated)? = node["usage_estimated"]?.value, case .bool(let offline)? = node["offline"]?.value,
            let answer = node["answer"]?.stringValue
        else { return .failure(CacheCorruption("a field is missing or out of range")) }
        let cached = node["cached_input_tokens"].flatMap { $0.isNull ? nil : $0.tokenCount }
        return .success(CacheEntry(
            createdMillis: Int64(created), route: route, model: model, provider: node["provider"]?.stringValue, inputTokens: input,
            outputTokens: output, cachedInputTokens: cached, usageEstimated: estimated, offline: offline, answer: answer))
    }
}

/// Why a stored entry could not be used (it then counts as a miss).
public struct CacheCorruption: Error, Sendable, Equatable {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
}
