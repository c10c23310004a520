/// The per-call ceiling (`--max-cost USD`, `$MODELROUTE_MAX_COST`): before any network, a
/// call whose worst case costs more than the ceiling is refused (exit 77).
///
/// The worst case is every answer the call may pay for: on each route of the escalation
/// chain (when checks are on), the dearest of its models at the prompt's estimated input
/// tokens and its `max_tokens` of output, plus each judge's question (prompt and a full
/// answer in, its `max_tokens` out). Without a `max_tokens` (from `--max-tokens` or the
/// route; Anthropic's default 1024 counts) the output is unbounded, and a model with
/// `"prices": "unknown"` cannot be bounded either: both are refused, since the ceiling could
/// not be kept. A cache hit costs nothing and is never refused.
public enum SpendLimitStage {
    /// The worst case of a call, or why there is none.
    public enum Estimate: Sendable, Equatable {
        case bounded(Double)
        case unbounded(reason: String)
    }

    /// The worst-case cost of calling `decision`.
    public static func worstCase(
        _ decision: RoutingDecision, table: RoutingTable, request: (RouteConfig?) -> ChatRequest, checksEnabled: Bool
    ) -> Estimate {
        var total = 0.0
        var routeName: String? = decision.route
        var first = true
        var seen = Set<String>()
        while let name = routeName, seen.insert(name).inserted {
            let route = table.route(named: name)
            let call = request(route)
            let inputTokens = call.estimatedInputTokens
            let models = first ? CallTarget.candidates(for: decision, table: table, offline: false) : route?.candidateModels ?? []
            var dearest = 0.0
            for modelName in models {
                guard let model = table.model(named: modelName) else { continue }
                guard model.priced else { return .unbounded(reason: "model \(modelName) has \"prices\": \"unknown\"") }
                let isAnthropic = table.provider(named: model.provider)?.type == .anthropic
                guard let maxTokens = call.maxTokens ?? (isAnthropic ? AnthropicFormat.defaultMaxTokens : nil) else {
                    return .unbounded(reason: "route \(name) sets no max_tokens, so the answer's length has no bound (set it in the route or with --max-tokens)")
                }
                dearest = max(dearest, model.pricing.cost(inputTokens: inputTokens, outputTokens: maxTokens))
            }
            total += dearest
            let checks = checksEnabled ? route?.checks ?? [] : []
            for case .judge(let judge) in checks {
                guard let model = table.model(named: judge.model) else { continue }
                guard model.priced else { return .unbounded(reason: "judge model \(judge.model) has \"prices\": \"unknown\"") }
                let question = TokenEstimator.estimate(judge.prompt) + inputTokens + (call.maxTokens ?? 0)
                total += model.pricing.cost(inputTokens: question, outputTokens: judge.maxTokens)
            }
            routeName = checks.isEmpty ? nil : route?.escalateTo
            first = false
        }
        return .bounded(total)
    }

    /// The refusal for a call over `limit`, if it is over.
    public static func check(_ estimate: Estimate, limit: Double) -> PolicyError? {
        switch estimate {
        case .bounded(let cost): return cost > limit ? .overMaxCost(estimate: cost, limit: limit) : nil
        case .unbounded(let reason): return .unboundedCost(reason: reason, limit: limit)
        }
    }
}

/// A spending policy refused a call before any network. Exit 77 (EX_NOPERM), apart from
/// provider failures (69, 75) so that scripts can tell "not allowed" from "failed".
public enum PolicyError: ModelRouteError, Equatable {
    /// The worst case is above `--max-cost`.
    case overMaxCost(estimate: Double, limit: Double)
    /// The worst case cannot be bounded.
    case unboundedCost(reason: String, limit: Double)
    /// A budget would be broken, and it blocks or has no cheaper route for the call.
    case overBudget(budget: String, limit: Double, spent: Double, estimate: Double, period: String, resets: String?, downgradedFrom: String?)
    /// A `fail_closed` budget's shared store cannot be reached.
    case budgetStoreDown(budget: String, reason: String)

    /// The record's `budget` for a refusal by the per-call ceiling.
    public static let maxCostName = "--max-cost"

    public var exitCode: ExitCode { .policy }

    public var message: String {
        switch self {
        case .overMaxCost(let estimate, let limit):
            return "refused by --max-cost \(Money.format(limit)): the call may cost up to \(Money.format(estimate)) (estimated input tokens, and max_tokens of output on every model it may use); nothing was sent"
        case .unboundedCost(let reason, let limit):
            return "refused by --max-cost \(Money.format(limit)): the call's cost has no bound: \(reason); nothing was sent"
        case .overBudget(let budget, let limit, let spent, let estimate, let period, let resets, let downgradedFrom):
            return "refused by budget \(budget): \(Money.format(spent)) spent of \(Money.format(limit)) this \(period), and this call may cost \(Money.format(estimate))"
                + (downgradedFrom.map { " even downgraded from route \($0)" } ?? "") + (resets.map { "; it resets at \($0)" } ?? "; the window rolls on as older spend leaves it")
                + "; nothing was sent"
        case .budgetStoreDown(let budget, let reason):
            return "refused by budget \(budget) (fail_closed): its shared spend cannot be read: \(reason); nothing was sent"
        }
    }
}
