/// Sums over a set of calls (one group, or all of them).
public struct GroupStats: Sendable, Equatable {
    /// Records counted.
    public var calls = 0
    /// Sum of `input_tokens`.
    public var inputTokens = 0
    /// Sum of `output_tokens`.
    public var outputTokens = 0
    /// Sum of `cached_input_tokens`.
    public var cachedInputTokens = 0
    /// Sum of `cost_usd`.
    public var cost = 0.0
    /// Sum of the baseline costs (`baseline_cost_usd`, or the `--baseline` repricing).
    public var baselineCost = 0.0
    /// Records with `cache_hit` true.
    public var cacheHits = 0
    /// Records answered by a fallback model.
    public var fallbacks = 0
    /// Records with status `error`.
    public var errors = 0
    /// Records with status `cancelled`.
    public var cancelled = 0
    /// Records whose first answer failed a check and was replaced (`escalated_from` set).
    public var escalations = 0
    /// Sum of `overhead_cost_usd`: discarded answers, judge and classify_with calls.
    public var overheadCost = 0.0
    /// Records answered from the response cache (`response_cache: "hit"`).
    public var responseHits = 0
    /// Records that looked the cache up (`hit` or `miss`).
    public var responseLookups = 0
    /// Sum of `cache_saved_usd`.
    public var cacheSaved = 0.0
    /// With `--reprice`: the cost and baseline cost as logged (`cost` and `baselineCost` are then repriced).
    public var loggedCost = 0.0
    public var loggedBaselineCost = 0.0
    /// Records with `priced: false`, and their tokens (input and output): their cost is not
    /// known, so they count no savings.
    public var unpricedCalls = 0
    public var unpricedTokens = 0
    /// Sum of `cost_usd` squared, for the spread of cost per call.
    public var costSquares = 0.0
    /// `latency_ms` distribution.
    public var latency = LatencyHistogram()

    /// Empty sums.
    public init() {}

    /// Dollars saved against the baseline.
    public var saved: Double { baselineCost - cost }
    /// Savings as a percentage of the baseline cost; nil when the baseline cost is 0.
    public var savedPercent: Double? { baselineCost > 0 ? saved / baselineCost * 100 : nil }
    /// Median latency in milliseconds.
    public var latencyP50: Int? { latency.quantile(0.5) }
    /// 95th percentile latency in milliseconds.
    public var latencyP95: Int? { latency.quantile(0.95) }

    /// Adds another set's sums.
    public mutating func merge(_ other: GroupStats) {
        calls += other.calls
        inputTokens += other.inputTokens
        outputTokens += other.outputTokens
        cachedInputTokens += other.cachedInputTokens
        cost += other.cost
        baselineCost += other.baselineCost
        cacheHits += other.cacheHits
        fallbacks += other.fallbacks
        errors += other.errors
        cancelled += other.cancelled
        escalations += other.escalations
        overheadCost += other.overheadCost
        costSquares += other.costSquares
        responseHits += other.responseHits
        responseLookups += other.responseLookups
        cacheSaved += other.cacheSaved
        loggedCost += other.loggedCost
        loggedBaselineCost += other.loggedBaselineCost
        unpricedCalls += other.unpricedCalls
        unpricedTokens += other.unpricedTokens
        latency.merge(other.latency)
    }
}

/// One value of one `--by` level, as it sorts and prints.
public enum GroupValue: Sendable, Hashable {
    /// The field was null, or the tag absent.
    case none
    /// A string value (route, model, provider, rule, status, tag value).
    case text(String)
    /// A local calendar day, in days since 1970-01-01.
    case day(Int64)

    /// How the value prints.
    public var label: String {
        switch self {
        case .none: return "(none)"
        case .text(let text): return text
        case .day(let days): return LedgerTimestamp.dateString(days: days)
        }
    }
}

/// A group at one `--by` level with its sub-groups at the next.
public struct ReportGroup: Sendable {
    /// The level's dimension.
    public var dimension: ReportDimension
    /// The group's value.
    public var value: GroupValue
    /// Its sums.
    public var stats: GroupStats
    /// Groups of the next level inside this one (empty at the last level).
    public var children: [ReportGroup]
}

/// A line that was skipped, for the message on standard error.
public struct BadLine: Sendable, Equatable {
    /// The log file.
    public var file: String
    /// 1-based line number.
    public var line: Int
    /// What was wrong.
    public var reason: LedgerLineError
}

/// Everything a report shows.
public struct ReportResult: Sendable {
    /// The log files read, in order.
    public var files: [String]
    /// `--by`, outermost first.
    public var dimensions: [ReportDimension]
    /// The window records were counted in.
    public var window: TimeWindow
    /// Sums over every record in the window.
    public var totals: GroupStats
    /// The first `--by` level's groups, sorted (days by date, others by cost, highest first).
    public var groups: [ReportGroup]
    /// Records read, inside the window or not.
    public var records: Int
    /// Records outside the window.
    public var outsideWindow: Int
    /// Offline calls in the window left out of every figure (0 with `--include-offline`).
    public var offlineLeftOut = 0
    /// Lines skipped as not being records.
    public var badLines: Int
    /// The first few skipped lines, in file and line order.
    public var badLineSamples: [BadLine]
    /// The baseline the savings are against: the `--baseline` model, or the distinct
    /// `baseline_model` values of the records, sorted.
    public var baselineModels: [String]
    /// Whether costs were repriced with `--baseline`.
    public var repriced: Bool
    /// Whether every record was repriced with `--reprice`.
    public var repricedAll = false
    /// The earliest and latest record in the window, epoch milliseconds.
    public var firstMillis: Int64?
    /// See `firstMillis`.
    public var lastMillis: Int64?
    /// Escalations per route the decision chose, busiest first.
    public var escalationsByRoute: [EscalationRate] = []
    /// Escalations per model that gave the first answer (`escalated_from`, else `model`), busiest first.
    public var escalationsByModel: [EscalationRate] = []
    /// Each experiment in the window with both of its groups, by name.
    public var experiments: [ExperimentResult] = []
}

/// How often the first answers of one route (or model) were replaced.
public struct EscalationRate: Sendable, Equatable {
    /// The route or model.
    public var name: String
    /// Calls whose first answer came from it.
    public var calls: Int
    /// Of those, the ones escalated.
    public var escalations: Int

    /// Escalations per call, 0 to 1.
    public var rate: Double { calls > 0 ? Double(escalations) / Double(calls) : 0 }
    /// Calls before a rate is worth a warning.
    public static let warningCalls = 50
    /// A rate above this is worth a warning: a cheap model that fails one call in five
    /// usually costs more than it saves.
    public static let warningRate = 0.2
    /// Whether `report` warns about this rate.
    public var deservesWarning: Bool { calls >= EscalationRate.warningCalls && rate > EscalationRate.warningRate }
}

/// One experiment's two groups and the verdict drawn from them.
public struct ExperimentResult: Sendable, Equatable {
    /// The experiment's name.
    public var name: String
    /// Calls sent to the control model.
    public var control: GroupStats
    /// Calls routed as usual.
    public var routed: GroupStats

    /// Mean cost per call of a group.
    static func mean(_ stats: GroupStats) -> Double { stats.calls > 0 ? stats.cost / Double(stats.calls) : 0 }

    /// The measured savings, 1 − (routed cost per call ÷ control cost per call), with a
    /// 95 % confidence interval by the delta method: the variance of the ratio of two
    /// independent means r = m_r / m_c is about r² (s_r² / (n_r m_r²) + s_c² / (n_c m_c²)),
    /// with s² each group's sample variance of cost per call; the interval is the
    /// savings ± 1.96 standard errors. Nil without at least two priced calls in each group.
    public var measuredSavings: (savings: Double, low: Double, high: Double)? {
        let nr = Double(routed.calls), nc = Double(control.calls)
        guard nr >= 2, nc >= 2 else { return nil }
        let mr = ExperimentResult.mean(routed), mc = ExperimentResult.mean(control)
        guard mc > 0 else { return nil }
        func variance(_ stats: GroupStats, _ mean: Double, _ n: Double) -> Double {
            max(0, (stats.costSquares - n * mean * mean) / (n - 1))
        }
        let ratio = mr / mc
        let relative = (mr > 0 ? variance(routed, mr, nr) / (nr * mr * mr) : 0) + variance(control, mc, nc) / (nc * mc * mc)
        let error = abs(ratio) * relative.squareRoot()
        let savings = 1 - ratio
        return (savings, savings - 1.96 * error, savings + 1.96 * error)
    }

    public static func == (lhs: ExperimentResult, rhs: ExperimentResult) -> Bool {
        lhs.name == rhs.name && lhs.control == rhs.control && lhs.routed == rhs.routed
    }
}
