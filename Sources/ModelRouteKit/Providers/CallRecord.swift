import FoundationEssentials

/// Builds the log record of a call from its outcome: the one place where a call's
/// facts become the schema-1 fields.
public enum CallRecord {
    /// A fresh unique id for a call.
    public static func newID() -> String { UUID().uuidString.lowercased() }

    /// The record for `outcome`. `finishedAt` becomes `ts`; costs use the answering
    /// model's prices and, for `baseline_cost_usd`, the table's baseline model's
    /// prices on the same tokens. `overheadCost` (a `classify_with` question, say) is
    /// added to `cost_usd` and recorded as `overhead_cost_usd`.
    public static func make(
        outcome: CallOutcome, decision: RoutingDecision, table: RoutingTable, prompt: String,
        tags: [(key: String, value: String)], finishedAt: Date, id: String, overheadCost: Double = 0
    ) -> LedgerRecord {
        let input = outcome.usage.inputTokens ?? 0
        let output = outcome.usage.outputTokens ?? 0
        let cached = outcome.usage.cachedInputTokens
        let modelName: String = outcome.model ?? decision.model
        let pricing = table.model(named: modelName)?.pricing
        let cost = pricing?.cost(inputTokens: input, outputTokens: output, cachedInputTokens: cached ?? 0) ?? 0
        let baseline = table.model(named: table.baselineModel)
        let baselineCost = baseline?.pricing.cost(inputTokens: input, outputTokens: output, cachedInputTokens: cached ?? 0)
        var record = LedgerRecord(
            timestamp: LedgerTimestamp.string(from: finishedAt), id: id, route: decision.route,
            rule: decision.reason.ruleName, model: modelName, provider: outcome.provider,
            inputTokens: input, outputTokens: output, cachedInputTokens: cached, usageEstimated: outcome.usageEstimated,
            costUSD: cost, baselineModel: baseline == nil ? nil : table.baselineModel, baselineCostUSD: baselineCost,
            latencyMilliseconds: outcome.latencyMilliseconds, timeToFirstTokenMilliseconds: outcome.timeToFirstTokenMilliseconds,
            status: outcome.status, error: outcome.error?.shortMessage, attempts: outcome.attempts,
            fallbackFrom: outcome.fallbackFrom, cacheHit: (cached ?? 0) > 0, promptSHA256: SHA256.hexDigest(of: prompt),
            promptChars: prompt.unicodeScalars.count, tags: tags)
        record.offline = table.provider(named: outcome.provider ?? "")?.type == .mock
        record.difficulty = decision.difficulty.map(DifficultyText.rounded)
        record.priced = table.model(named: modelName)?.priced ?? false
        record.overheadCostUSD = (overheadCost * 1e10).rounded() / 1e10
        record.costUSD = ((cost + overheadCost) * 1e10).rounded() / 1e10
        return record
    }
}
