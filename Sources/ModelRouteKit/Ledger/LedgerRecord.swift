/// One line of the usage log: everything about one call except the prompt and the
/// answer, which are never stored. The writer writes schema version 2 (version 1's keys,
/// then the keys after `tags` below); readers take version 1 and 2 lines mixed, a
/// version 1 line reading as if the newer keys had their defaults.
public struct LedgerRecord: Sendable, Equatable {
    /// How a call ended.
    public enum Status: String, Sendable, CaseIterable {
        /// An answer was printed in full.
        case ok
        /// Every attempt failed, or a stream broke after it began.
        case error
        /// The user interrupted the call.
        case cancelled
    }

    /// Schema version: 2 for every record written now, 1 for older lines read back.
    public var version: Int = 2
    /// When the call finished (UTC), as RFC 3339 with milliseconds.
    public var timestamp: String
    /// Unique id of the call.
    public var id: String
    /// The route the call took.
    public var route: String?
    /// The deciding rule's name, `default` or `override`.
    public var rule: String?
    /// routes.json key of the model that answered (or was last tried).
    public var model: String?
    /// routes.json key of the provider that answered.
    public var provider: String?
    /// Prompt tokens, cached ones included.
    public var inputTokens: Int
    /// Answer tokens.
    public var outputTokens: Int
    /// The part of `inputTokens` served from the provider's cache; nil when not reported.
    public var cachedInputTokens: Int?
    /// True when a count is modelroute's estimate rather than the provider's.
    public var usageEstimated: Bool
    /// What the call cost at the answering model's prices.
    public var costUSD: Double
    /// The model the call is compared against (routes.json `baseline_model`).
    public var baselineModel: String?
    /// The baseline model's prices applied to the same tokens.
    public var baselineCostUSD: Double?
    /// Wall time of the whole call, retries and fallbacks included.
    public var latencyMilliseconds: Int
    /// Time to the first streamed byte; nil when nothing was streamed.
    public var timeToFirstTokenMilliseconds: Int?
    /// How the call ended.
    public var status: Status
    /// Short error message for `error` and `cancelled`.
    public var error: String?
    /// Every HTTP attempt made, across all models.
    public var attempts: Int
    /// The route's primary model when a fallback answered.
    public var fallbackFrom: String?
    /// Whether the provider reported cached input tokens.
    public var cacheHit: Bool
    /// SHA-256 of the prompt's UTF-8, hex, to join with users' own data.
    public var promptSHA256: String
    /// Prompt length in Unicode scalars.
    public var promptChars: Int
    /// `--tag key=value` pairs in the order given.
    public var tags: [(key: String, value: String)]

    // Version 2 (../RECORD-V2: each key's default is what a version 1 line reads as).

    /// Answered by a `mock` provider: not real spend.
    public var offline = false
    /// The response cache's part: `hit`, `miss`, `bypass`, or nil with no cache configured.
    public var responseCache: String?
    /// On a cache hit, what the answering model would have charged.
    public var cacheSavedUSD: Double?
    /// The model whose answer failed the route's checks and was replaced.
    public var escalatedFrom: String?
    /// The check that failed.
    public var escalationReason: String?
    /// The part of `costUSD` that did not produce the final answer (classifier and judge calls, discarded answers).
    public var overheadCostUSD = 0.0
    /// The learned difficulty score (0 to 1), when the decision computed one.
    public var difficulty: Double?
    /// The budget that changed or refused the call.
    public var budget: String?
    /// The experiment the call belonged to, and its group (`control` or `routed`).
    public var experiment: String?
    public var group: String?
    /// False when a model involved has no known price.
    public var priced = true
    /// Messages in the request.
    public var messages = 1

    /// A record with every version 1 field given; the version 2 fields start at their defaults.
    public init(
        timestamp: String, id: String, route: String?, rule: String?, model: String?, provider: String?,
        inputTokens: Int, outputTokens: Int, cachedInputTokens: Int?, usageEstimated: Bool,
        costUSD: Double, baselineModel: String?, baselineCostUSD: Double?, latencyMilliseconds: Int,
        timeToFirstTokenMilliseconds: Int?, status: Status, error: String?, attempts: Int,
        fallbackFrom: String?, cacheHit: Bool, promptSHA256: String, promptChars: Int,
        tags: [(key: String, value: String)]
    ) {
        self.timestamp = timestamp
        self.id = id
        self.route = route
        self.rule = rule
        self.model = model
        self.provider = provider
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cachedInputTokens = cachedInputTokens
        self.usageEstimated = usageEstimated
        self.costUSD = costUSD
        self.baselineModel = baselineModel
        self.baselineCostUSD = baselineCostUSD
        self.latencyMilliseconds = latencyMilliseconds
        self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
        self.status = status
        self.error = error
        self.attempts = attempts
        self.fallbackFrom = fallbackFrom
        self.cacheHit = cacheHit
        self.promptSHA256 = promptSHA256
        self.promptChars = promptChars
        self.tags = tags
    }

    /// Field-by-field equality (tags compared in order).
    public static func == (lhs: LedgerRecord, rhs: LedgerRecord) -> Bool {
        lhs.version == rhs.version && lhs.timestamp == rhs.timestamp && lhs.id == rhs.id && lhs.route == rhs.route
            && lhs.rule == rhs.rule && lhs.model == rhs.model && lhs.provider == rhs.provider
            && lhs.inputTokens == rhs.inputTokens && lhs.outputTokens == rhs.outputTokens
            && lhs.cachedInputTokens == rhs.cachedInputTokens && lhs.usageEstimated == rhs.usageEstimated
            && lhs.costUSD == rhs.costUSD && lhs.baselineModel == rhs.baselineModel
            && lhs.baselineCostUSD == rhs.baselineCostUSD && lhs.latencyMilliseconds == rhs.latencyMilliseconds
            && lhs.timeToFirstTokenMilliseconds == rhs.timeToFirstTokenMilliseconds && lhs.status == rhs.status
            && lhs.error == rhs.error && lhs.attempts == rhs.attempts && lhs.fallbackFrom == rhs.fallbackFrom
            && lhs.cacheHit == rhs.cacheHit && lhs.promptSHA256 == rhs.promptSHA256
            && lhs.promptChars == rhs.promptChars && lhs.tags.map(\.key) == rhs.tags.map(\.key)
            && lhs.tags.map(\.value) == rhs.tags.map(\.value)
            && lhs.offline == rhs.offline && lhs.responseCache == rhs.responseCache && lhs.cacheSavedUSD == rhs.cacheSavedUSD
            && lhs.escalatedFrom == rhs.escalatedFrom && lhs.escalationReason == rhs.escalationReason
            && lhs.overheadCostUSD == rhs.overheadCostUSD && lhs.difficulty == rhs.difficulty && lhs.budget == rhs.budget
            && lhs.experiment == rhs.experiment && lhs.group == rhs.group && lhs.priced == rhs.priced && lhs.messages == rhs.messages
    }
}
