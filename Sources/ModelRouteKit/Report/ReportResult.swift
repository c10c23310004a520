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
    /// The earliest and latest record in the window, epoch milliseconds.
    public var firstMillis: Int64?
    /// See `firstMillis`.
    public var lastMillis: Int64?
}
