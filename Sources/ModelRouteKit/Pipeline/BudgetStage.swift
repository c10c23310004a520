/// The budget stage of a call, before any network: from each applicable budget's spend so
/// far and this call's estimate (the prompt's estimated input tokens at the model's input
/// price, plus `max_tokens` of output at its output price; 1024 when nothing sets one), a
/// call that would break a budget is downgraded (its route replaced by the budget's
/// `downgrade` entry, again while it still breaks a limit) or refused. The strictest
/// outcome wins: a refusal (a `block` budget, or a route with no downgrade entry) beats a
/// downgrade. The record names the budget that acted.
///
/// Concurrent calls each see the spend before the others finish, so near the limit they may
/// together overshoot it by up to the estimates of the calls in flight.
public enum BudgetStage {
    /// What the budgets say of a call.
    public enum Verdict: Sendable, Equatable {
        /// Go ahead with `decision`; `budget` names the one that downgraded it, if any.
        case proceed(RoutingDecision, budget: String?)
        /// Refused by `budget`.
        case refuse(PolicyError, budget: String)
    }

    /// The output tokens assumed when neither the route nor `--max-tokens` sets `max_tokens`.
    public static let assumedMaxTokens = 1024

    /// The estimate of a call on `decision`.
    public static func estimate(_ decision: RoutingDecision, table: RoutingTable, request: (RouteConfig?) -> ChatRequest) -> Double {
        let call = request(table.route(named: decision.route))
        guard let model = table.model(named: decision.model) else { return 0 }
        return model.pricing.cost(inputTokens: call.estimatedInputTokens, outputTokens: call.maxTokens ?? assumedMaxTokens)
    }

    /// Decides. `spent` is each budget's spend in its current window.
    public static func decide(
        _ decision: RoutingDecision, table: RoutingTable, tags: [(key: String, value: String)], spent: [String: Double],
        request: (RouteConfig?) -> ChatRequest, nowMillis: Int64, zone: LocalZone
    ) -> Verdict {
        var current = decision
        var acting: String?
        for _ in 0...table.routes.count {
            let cost = estimate(current, table: table, request: request)
            let breaking = table.budgets.filter { budget in
                budget.applies(route: current.route, model: current.model, tags: tags) && (spent[budget.name] ?? 0) + cost > budget.limitUSD
            }
            guard let first = breaking.first else { return .proceed(current, budget: acting) }
            let refusing = breaking.first { $0.over == .block || $0.downgrade[current.route] == nil }
            if let budget = refusing {
                let window = BudgetWindow.current(budget.period, nowMillis: nowMillis, zone: zone)
                return .refuse(
                    .overBudget(
                        budget: budget.name, limit: budget.limitUSD, spent: spent[budget.name] ?? 0, estimate: cost, period: budget.period.description,
                        resets: window.end.map { LedgerTimestamp.localString(epochMilliseconds: $0, zone: zone) }, downgradedFrom: acting == nil ? nil : decision.route),
                    budget: budget.name)
            }
            guard let next = first.downgrade[current.route], let route = table.route(named: next) else { break }
            acting = first.name
            current = RoutingDecision(route: next, model: route.model, reason: current.reason, evidence: current.evidence, features: current.features, difficulty: current.difficulty)
        }
        return .proceed(current, budget: acting)
    }

    /// The budgets' verdict on a call, nil when the table has none: the spend so far comes
    /// from the shared store when there is one, else (or when it cannot be read, with a
    /// warning) from the local index; a store that is down refuses the call only when a
    /// budget says `fail_closed`.
    public static func check(
        _ decision: RoutingDecision, table: RoutingTable, tags: [(key: String, value: String)], index: SpendIndex?, shared: SharedSpend?,
        request: (RouteConfig?) -> ChatRequest, nowMillis: Int64, zone: LocalZone, warn: (String) -> Void
    ) -> Verdict? {
        guard !table.budgets.isEmpty else { return nil }
        var spent: [String: Double]?
        if let shared {
            switch shared.spent(nowMillis: nowMillis) {
            case .success(let values): spent = values
            case .failure(let failure):
                if let closed = table.budgets.first(where: \.failClosed) {
                    return .refuse(.budgetStoreDown(budget: closed.name, reason: failure.message), budget: closed.name)
                }
                warn("shared budgets are counted on this machine only for this call: \(failure.message)")
            }
        }
        return decide(
            decision, table: table, tags: tags, spent: spent ?? index?.spent(nowMillis: nowMillis) ?? [:], request: request, nowMillis: nowMillis, zone: zone)
    }
}
