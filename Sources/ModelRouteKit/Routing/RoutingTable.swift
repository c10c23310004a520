/// A validated routing table: what routes.json says, with every cross-reference
/// checked. Built by `RoutingTableLoader`; immutable afterwards.
public struct RoutingTable: Sendable {
    /// The schema version (only 1 exists).
    public var version: Int
    /// Route used when no rule matches.
    public var defaultRoute: String
    /// The model whose prices every call is compared against ("what it would have cost").
    public var baselineModel: String
    /// How keyword lists match unless a rule says otherwise.
    public var keywordMatch: KeywordMatchMode
    /// Providers in file order.
    public var providers: [ProviderConfig]
    /// Models in file order.
    public var models: [ModelConfig]
    /// Routes in file order.
    public var routes: [RouteConfig]
    /// Rules in the order they are tried.
    public var rules: [Rule]
    /// Where the table came from ("routes.json", "embedded default", …), for messages.
    public var source: String
    /// The difficulty model that `difficulty` conditions read.
    public var classifier: ClassifierSource = .builtIn
    /// The control-group experiment, if the table runs one.
    public var experiment: ExperimentConfig?
    /// The response cache, if the table turns it on.
    public var cache: CacheConfig?
    /// Spending limits, in file order.
    public var budgets: [BudgetConfig] = []
    /// Where budget spend is shared across machines: `"state"`, else the cache's Redis.
    public var state: RedisLocation?
    /// When the prices were last brought up to date (`"prices_as_of"`, a `YYYY-MM-DD` date).
    public var pricesAsOf: String?

    public init(
        version: Int = 1, defaultRoute: String, baselineModel: String, keywordMatch: KeywordMatchMode = .word,
        providers: [ProviderConfig], models: [ModelConfig], routes: [RouteConfig], rules: [Rule], source: String
    ) {
        self.version = version
        self.defaultRoute = defaultRoute
        self.baselineModel = baselineModel
        self.keywordMatch = keywordMatch
        self.providers = providers
        self.models = models
        self.routes = routes
        self.rules = rules
        self.source = source
    }

    /// The provider named `name`.
    public func provider(named name: String) -> ProviderConfig? { providers.first { $0.name == name } }
    /// The model named `name` (a routes.json key).
    public func model(named name: String) -> ModelConfig? { models.first { $0.name == name } }
    /// The route named `name`.
    public func route(named name: String) -> RouteConfig? { routes.first { $0.name == name } }
    /// The first provider of type `mock`, which `--offline` sends every call to.
    public var mockProvider: ProviderConfig? { providers.first { $0.type == .mock } }

    /// The estimated cost of `tokens` input tokens on `model` (a routes.json key): what dry
    /// runs, `classify`, `eval` and `--against` show, since output length is unknown before a call.
    public func inputCost(model name: String, tokens: Int) -> Double {
        model(named: name)?.pricing.cost(inputTokens: tokens, outputTokens: 0) ?? 0
    }

    /// Whether any rule reads the difficulty score (a `difficulty` condition, or a rule
    /// that asks a model), so that decisions compute it.
    public var usesDifficulty: Bool {
        rules.contains { rule in
            rule.ask != nil || rule.conditions.contains { if case .difficulty = $0 { return true } else { return false } }
        }
    }

    /// Routes from cheapest to strongest: by the primary model's input price, then its
    /// output price, then file order. `eval` calls the first "cheapest" and the last "strongest".
    public var routesByPrice: [RouteConfig] {
        let indexed = Array(routes.enumerated())
        return indexed.sorted { left, right in
            let a = model(named: left.element.model)?.pricing
            let b = model(named: right.element.model)?.pricing
            let key = { (p: ModelPricing?) in (p?.inputPerMillion ?? 0, p?.outputPerMillion ?? 0) }
            if key(a) != key(b) { return key(a) < key(b) }
            return left.offset < right.offset
        }.map(\.element)
    }
}

/// Where a table's difficulty model comes from.
public enum ClassifierSource: Sendable, Equatable {
    /// The model compiled into modelroute.
    case builtIn
    /// A model file written by `modelroute train` (a path resolved against the table's folder).
    case file(String)

    /// The file's path, for `.file`.
    public var path: String? {
        if case .file(let path) = self { return path }
        return nil
    }
}

/// A rule that lets a cheap model decide: `classify_with`.
public struct AskConfig: Sendable, Equatable {
    /// The model asked (a routes.json key).
    public var model: String
    /// The question; `{prompt}` is replaced by the user's prompt.
    public var prompt: String
    /// Answer label → route, in file order; the answer's first word is matched without regard to case.
    public var labels: [(label: String, route: String)]
    /// Output token limit of the question.
    public var maxTokens: Int
    /// Seconds to wait for the answer before falling through.
    public var timeoutSeconds: Double

    public init(model: String, prompt: String, labels: [(label: String, route: String)], maxTokens: Int = 5, timeoutSeconds: Double = 10) {
        self.model = model
        self.prompt = prompt
        self.labels = labels
        self.maxTokens = maxTokens
        self.timeoutSeconds = timeoutSeconds
    }

    /// The question sent for `prompt`.
    public func question(for prompt: String) -> String { self.prompt.replacing("{prompt}", with: prompt) }

    /// The label an answer starts with, and its route, ignoring case, and white space,
    /// quotes and punctuation before it; nil when none fits ("COMPLEX." fits COMPLEX,
    /// "complexity" does not).
    public func match(answer: String) -> (label: String, route: String)? {
        let cleaned = answer.unicodeScalars.drop { !$0.properties.isAlphabetic && !("0"..."9").contains($0) }
        let text = String(String.UnicodeScalarView(cleaned)).uppercased()
        // Longest labels first, so "VERY_COMPLEX" is not taken for "VERY".
        for entry in labels.sorted(by: { $0.label.count > $1.label.count }) {
            let label = entry.label.uppercased()
            guard text.hasPrefix(label) else { continue }
            let rest = text.dropFirst(label.count)
            if let next = rest.unicodeScalars.first, next.properties.isAlphabetic || ("0"..."9").contains(next) { continue }
            return entry
        }
        return nil
    }

    public static func == (lhs: AskConfig, rhs: AskConfig) -> Bool {
        lhs.model == rhs.model && lhs.prompt == rhs.prompt && lhs.labels.map(\.label) == rhs.labels.map(\.label)
            && lhs.labels.map(\.route) == rhs.labels.map(\.route) && lhs.maxTokens == rhs.maxTokens && lhs.timeoutSeconds == rhs.timeoutSeconds
    }
}

/// Whether keywords match whole words or anywhere.
public enum KeywordMatchMode: String, Sendable, CaseIterable {
    /// Whole words or phrases at word boundaries: "format" does not match "information".
    case word
    /// Anywhere in the text, like a plain substring test.
    case substring
}

/// The wire formats modelroute speaks.
public enum ProviderType: String, Sendable, CaseIterable {
    /// OpenAI Chat Completions, and every OpenAI-compatible server.
    case openai
    /// Anthropic Messages.
    case anthropic
    /// Google Gemini generateContent.
    case gemini
    /// Offline and deterministic; no network.
    case mock

    /// The base URL used when routes.json gives none.
    public var defaultBaseURL: String? {
        switch self {
        case .openai: return "https://api.openai.com/v1"
        case .anthropic: return "https://api.anthropic.com/v1"
        case .gemini: return "https://generativelanguage.googleapis.com/v1beta"
        case .mock: return nil
        }
    }

    /// The environment variable holding the API key when routes.json names none.
    public var defaultAPIKeyEnvironmentVariable: String? {
        switch self {
        case .openai: return "OPENAI_API_KEY"
        case .anthropic: return "ANTHROPIC_API_KEY"
        case .gemini: return "GEMINI_API_KEY"
        case .mock: return nil
        }
    }
}

/// How often and how patiently to retry one model before falling back.
public struct RetryPolicy: Sendable, Equatable {
    /// Retries after the first attempt (so attempts = retries + 1).
    public var retries: Int
    /// Delay before the first retry; doubles each time, with full jitter.
    public var initialDelaySeconds: Double
    /// Cap on any one delay, including a server's Retry-After.
    public var maxDelaySeconds: Double

    public static let `default` = RetryPolicy(retries: 2, initialDelaySeconds: 0.5, maxDelaySeconds: 20)

    public init(retries: Int, initialDelaySeconds: Double, maxDelaySeconds: Double) {
        self.retries = retries
        self.initialDelaySeconds = initialDelaySeconds
        self.maxDelaySeconds = maxDelaySeconds
    }
}

/// One entry of `providers`.
public struct ProviderConfig: Sendable, Equatable {
    /// The routes.json key.
    public var name: String
    public var type: ProviderType
    /// Base URL without a trailing slash; nil only for `mock`.
    public var baseURL: String?
    /// Name of the environment variable holding the key; nil for `mock` or keyless servers.
    public var apiKeyEnvironmentVariable: String?
    /// Extra request headers in file order; values may contain `${VAR}` references.
    public var headers: [(name: String, value: String)]
    /// Retry policy for this provider's models unless a route overrides it.
    public var retry: RetryPolicy?
    /// Per-request timeout in seconds, if set.
    public var timeoutSeconds: Double?

    public init(
        name: String, type: ProviderType, baseURL: String? = nil, apiKeyEnvironmentVariable: String? = nil,
        headers: [(name: String, value: String)] = [], retry: RetryPolicy? = nil, timeoutSeconds: Double? = nil
    ) {
        self.name = name
        self.type = type
        self.baseURL = baseURL
        self.apiKeyEnvironmentVariable = apiKeyEnvironmentVariable
        self.headers = headers
        self.retry = retry
        self.timeoutSeconds = timeoutSeconds
    }

    public static func == (lhs: ProviderConfig, rhs: ProviderConfig) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.baseURL == rhs.baseURL
            && lhs.apiKeyEnvironmentVariable == rhs.apiKeyEnvironmentVariable
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
            && lhs.retry == rhs.retry && lhs.timeoutSeconds == rhs.timeoutSeconds
    }
}

/// Prices in US dollars per million tokens.
public struct ModelPricing: Sendable, Equatable {
    public var inputPerMillion: Double
    public var outputPerMillion: Double
    /// Price of cached input tokens; when absent they cost the normal input price.
    public var cachedInputPerMillion: Double?

    public init(inputPerMillion: Double, outputPerMillion: Double, cachedInputPerMillion: Double? = nil) {
        self.inputPerMillion = inputPerMillion
        self.outputPerMillion = outputPerMillion
        self.cachedInputPerMillion = cachedInputPerMillion
    }

    /// Cost in USD. `cachedInputTokens` is the part of `inputTokens` served from the
    /// provider's cache (OpenAI and Gemini report it that way; Anthropic's separate
    /// cache-read count is folded into input tokens by its adapter).
    public func cost(inputTokens: Int, outputTokens: Int, cachedInputTokens: Int = 0) -> Double {
        let cached = max(0, min(cachedInputTokens, inputTokens))
        let uncached = inputTokens - cached
        let cachedPrice = cachedInputPerMillion ?? inputPerMillion
        let raw = (Double(uncached) * inputPerMillion + Double(cached) * cachedPrice + Double(outputTokens) * outputPerMillion) / 1_000_000
        // Rounded to 1e-10 USD, so logs and reports show 3.6e-06, not 3.6000000000000003e-06.
        return (raw * 1e10).rounded() / 1e10
    }
}

/// One entry of `models`.
public struct ModelConfig: Sendable, Equatable {
    /// The routes.json key, used in logs and reports.
    public var name: String
    /// The provider's key in `providers`.
    public var provider: String
    /// The name sent to the provider (`id`, or the key when `id` is absent).
    public var id: String
    public var pricing: ModelPricing
    /// What the mock provider answers for this model (`echo` unless the table says otherwise).
    public var mock: MockBehaviour = .echo
    /// False for `"prices": "unknown"`: calls are logged `priced: false` and never count as savings.
    public var priced = true
    /// The model's context window in tokens (`"context_tokens"`), if known: a longer prompt skips it.
    public var contextTokens: Int?

    public init(name: String, provider: String, id: String? = nil, pricing: ModelPricing, mock: MockBehaviour = .echo) {
        self.name = name
        self.provider = provider
        self.id = id ?? name
        self.pricing = pricing
        self.mock = mock
    }
}

/// One entry of `routes`: a model and what to try when it fails.
public struct RouteConfig: Sendable, Equatable {
    public var name: String
    /// The primary model's key.
    public var model: String
    /// Models tried in order after the primary one fails.
    public var fallbacks: [String]
    /// Output token limit sent to the provider, if set.
    public var maxTokens: Int?
    /// A system prompt sent with every call on this route, if set.
    public var system: String?
    /// Retry policy overriding the provider's.
    public var retry: RetryPolicy?
    /// Checks the answer must pass before it is printed, in file order.
    public var checks: [AnswerCheck] = []
    /// The route that answers instead when a check fails.
    public var escalateTo: String?
    /// What the answer is asked to be; `json` arms the `json` check.
    public var answerFormat: AnswerFormat = .text
    /// False when the route's answers stay out of the response cache (`"cache": false`).
    public var cache = true

    public init(
        name: String, model: String, fallbacks: [String] = [], maxTokens: Int? = nil, system: String? = nil, retry: RetryPolicy? = nil,
        checks: [AnswerCheck] = [], escalateTo: String? = nil, answerFormat: AnswerFormat = .text
    ) {
        self.name = name
        self.model = model
        self.fallbacks = fallbacks
        self.maxTokens = maxTokens
        self.system = system
        self.retry = retry
        self.checks = checks
        self.escalateTo = escalateTo
        self.answerFormat = answerFormat
    }

    /// The primary model followed by the fallbacks.
    public var candidateModels: [String] { [model] + fallbacks }
}

/// One entry of `rules`: all of its conditions must hold for it to decide.
public struct Rule: Sendable, Equatable {
    /// The rule's name (its `name`, or `rule-N` counting from 1 when absent).
    public var name: String
    /// The route it sends matching prompts to.
    public var route: String
    /// How this rule's keyword lists match.
    public var match: KeywordMatchMode
    /// Conditions, all of which must hold; none means the rule always matches.
    public var conditions: [Condition]
    /// For a `classify_with` rule: the model to ask and how its answer maps to routes
    /// (`route` is then empty: the answer decides).
    public var ask: AskConfig?

    public init(name: String, route: String, match: KeywordMatchMode = .word, conditions: [Condition], ask: AskConfig? = nil) {
        self.name = name
        self.route = route
        self.match = match
        self.conditions = conditions
        self.ask = ask
    }
}

/// A test on a prompt or its context. Numeric bounds are inclusive.
public enum Condition: Sendable, Equatable {
    /// At least one of the keywords occurs.
    case any([String])
    /// Every keyword occurs.
    case all([String])
    /// None of the keywords occurs.
    case none([String])
    /// A measure is at least (`min_…`) or at most (`max_…`) a bound.
    case bound(Measure, BoundKind, Int)
    /// The prompt contains code (true) or does not (false).
    case hasCode(Bool)
    /// The caller's tier is one of these.
    case tier([String])
    /// The local time is inside this window.
    case hours(HourWindow)
    /// The learned difficulty score (0 to 1) is within these inclusive bounds.
    case difficulty(min: Double?, max: Double?)

    /// The routes.json key this condition was written as.
    public var key: String {
        switch self {
        case .any: return "any"
        case .all: return "all"
        case .none: return "none"
        case .bound(let measure, let kind, _): return "\(kind.rawValue)_\(measure.rawValue)"
        case .hasCode: return "has_code"
        case .tier: return "tier"
        case .hours: return "hours"
        case .difficulty: return "difficulty"
        }
    }
}

/// Things about a prompt that can be counted.
public enum Measure: String, Sendable, CaseIterable {
    /// Maximal runs of non-white-space characters; each CJK, kana or hangul character counts as one.
    case words
    /// Unicode scalars (what Python's `len` counts).
    case chars
    /// The token estimate of `TokenEstimator`.
    case tokens
    /// Lines: newline characters plus one, for a non-empty prompt.
    case lines
}

/// Lower or upper bound.
public enum BoundKind: String, Sendable {
    case min
    case max
}

/// A window of local hours, `"9-17"` (09:00 up to 17:00) or `"22-6"` (across midnight).
public struct HourWindow: Sendable, Equatable, CustomStringConvertible {
    /// First hour inside the window, 0–23.
    public var start: Int
    /// First hour after the window, 0–24.
    public var end: Int

    public init(start: Int, end: Int) {
        self.start = start
        self.end = end
    }

    /// Whether `hour` (0–23) is inside; the start hour is in, the end hour is out.
    public func contains(hour: Int) -> Bool {
        if start == end { return true }  // "0-24" style: the whole day
        if start < end { return hour >= start && hour < end }
        return hour >= start || hour < end
    }

    public var description: String { "\(start)-\(end)" }
}
