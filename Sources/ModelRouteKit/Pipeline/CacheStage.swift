/// The response cache's stage of a call: before any provider call, look the request up;
/// after a good answer, store it. Only `ok` answers that passed their route's checks are
/// stored, keyed by `CacheKey` for the route's primary model; an escalated answer is stored
/// under the key of the route that answered it and under the key of the route first
/// chosen, so a repeat of the prompt costs nothing either way.
///
/// Not cached: routes with `"cache": false`, calls with a temperature above 0 (unless the
/// table says `"nondeterministic": true`; a call that sets no temperature is cached, as the
/// table's owner turned the cache on), and the experiment's control group (its calls
/// measure real spend). A store that cannot be read or written never fails the call.
public struct CacheStage: Sendable {
    /// How the cache takes part in one call (the record's `response_cache`).
    public enum Lookup: Sendable, Equatable {
        /// No cache in the table (`null`).
        case off
        /// A cache, but this call skips the lookup: `--no-cache`, `--refresh`, not cacheable, or the store is down.
        case bypass
        /// A stored answer.
        case hit(CacheEntry)
        /// Looked up, not found; `key` is where the answer goes.
        case miss(key: String)
        /// `--refresh`: not looked up, but the answer goes to `key` (recorded as `bypass`).
        case refresh(key: String)

        /// The record's `response_cache` value.
        public var recorded: String? {
            switch self {
            case .off: return nil
            case .bypass, .refresh: return "bypass"
            case .hit: return "hit"
            case .miss: return "miss"
            }
        }
    }

    /// `--no-cache` and `--refresh`.
    public enum Mode: Sendable {
        case normal
        /// Neither read nor write.
        case off
        /// Skip the read, write the new answer.
        case refresh
    }

    let table: RoutingTable
    let offline: Bool
    /// The table's cache settings; nil when it has none.
    public let config: CacheConfig?
    /// Where entries live; nil when the table has no cache.
    public let store: (any ResponseStore)?

    /// The stage for a table, its store opened from the environment (Redis's password).
    public init(table: RoutingTable, environment: [String: String], offline: Bool) {
        self.table = table
        self.offline = offline
        config = table.cache
        store = table.cache.map { config -> any ResponseStore in
            switch config.store {
            case .local(let directory):
                return LocalStore(root: LocalStore.root(directory: directory, environment: environment), maxBytes: config.maxBytes)
            case .redis(let location):
                return RedisStore(location: location, password: location.password(in: environment))
            }
        }
    }

    /// The key for a request to `modelName` on route `routeName`; nil when it is not cacheable.
    public func key(route routeName: String, model modelName: String, request: ChatRequest) -> String? {
        guard let config, let route = table.route(named: routeName), route.cache else { return nil }
        if let temperature = request.temperature, temperature > 0, !config.nondeterministic { return nil }
        guard let model = table.model(named: modelName) else { return nil }
        let provider = offline ? table.mockProvider : table.provider(named: model.provider)
        guard let provider else { return nil }
        return CacheKey.key(provider: provider, model: model, request: request)
    }

    /// Looks the call up. `note` takes `--verbose` lines, `warn` a store that is down.
    public func lookup(
        _ decision: RoutingDecision, request: ChatRequest, mode: Mode, nowMillis: Int64, note: (String) -> Void, warn: (String) -> Void
    ) -> Lookup {
        guard let config, let store else { return .off }
        guard mode != .off, let key = key(route: decision.route, model: decision.model, request: request) else { return .bypass }
        if mode == .refresh { return .refresh(key: key) }
        switch store.load(key, nowMillis: nowMillis, ttlSeconds: config.ttlSeconds) {
        case .hit(let entry):
            note("response cache: hit in \(store.location) (stored by \(entry.model), route \(entry.route))")
            return .hit(entry)
        case .miss(let why):
            if let why { note(why) }
            return .miss(key: key)
        case .unavailable(let message):
            warn("the response cache is not used for this call: \(message)")
            return .bypass
        }
    }

    /// Stores the answer of a call that missed (or was refreshed).
    public func save(
        _ result: EscalationStage.Result, lookup: Lookup, mode: Mode, request: (RouteConfig?) -> ChatRequest, nowMillis: Int64, warn: (String) -> Void
    ) {
        let firstKey: String
        switch lookup {
        case .miss(let key), .refresh(let key): firstKey = key
        case .off, .bypass, .hit: return
        }
        guard let config, let store, mode != .off else { return }
        let outcome = result.outcome
        guard outcome.status == .ok, !outcome.outputClosed, result.answerPassed, let model = outcome.model,
            let answering = result.steps.last(where: \.final)
        else { return }
        let entry = CacheEntry(
            createdMillis: nowMillis, route: answering.route, model: model, provider: outcome.provider, inputTokens: outcome.usage.inputTokens ?? 0,
            outputTokens: outcome.usage.outputTokens ?? 0, cachedInputTokens: outcome.usage.cachedInputTokens, usageEstimated: outcome.usageEstimated,
            offline: table.provider(named: outcome.provider ?? "")?.type == .mock, answer: outcome.text)
        var keys = [firstKey]
        if result.escalatedFrom != nil, let route = table.route(named: answering.route),
            let key = key(route: route.name, model: route.model, request: request(route)), key != firstKey
        {
            keys.insert(key, at: 0)
        }
        for key in keys {
            if let warning = store.save(entry, key: key, ttlSeconds: config.ttlSeconds) {
                warn(warning)
                return
            }
        }
    }
}

extension CacheStage {
    /// A hit as a call's outcome: the stored answer, its model and tokens, no attempts.
    public static func outcome(of entry: CacheEntry, latencyMilliseconds: Int) -> CallOutcome {
        CallOutcome(
            text: entry.answer, model: entry.model, provider: entry.provider,
            usage: TokenUsage(inputTokens: entry.inputTokens, outputTokens: entry.outputTokens, cachedInputTokens: entry.cachedInputTokens),
            usageEstimated: entry.usageEstimated, attempts: 0, timeToFirstTokenMilliseconds: latencyMilliseconds, latencyMilliseconds: latencyMilliseconds,
            status: .ok)
    }

    /// Turns a hit's record (priced as if the model had answered) into what it is: `cost_usd`
    /// is only the overhead (a `classify_with` question), `cache_saved_usd` what the model
    /// would have charged, `baseline_cost_usd` as usual, so routing and cache savings stay apart.
    public static func priceHit(_ record: inout LedgerRecord) {
        let saved = ((record.costUSD - record.overheadCostUSD) * 1e10).rounded() / 1e10
        record.cacheSavedUSD = max(0, saved)
        record.costUSD = record.overheadCostUSD
        record.responseCache = "hit"
        record.cacheHit = false
    }
}
