import FoundationEssentials

/// One level of `--by`: what records are grouped by.
public enum ReportDimension: Sendable, Hashable, CustomStringConvertible {
    /// The route a call took.
    case route
    /// The model that answered.
    case model
    /// The provider that answered.
    case provider
    /// The rule that decided the route.
    case rule
    /// ok, error or cancelled.
    case status
    /// The calendar day the call finished, in the report's time zone.
    case day
    /// The experiment group: control, routed, or none.
    case group
    /// The response cache's part: hit, miss, bypass, or none (no cache configured).
    case cache
    /// The value of one `--tag key=value` (calls without it form a `(none)` group).
    case tag(String)

    /// The names `--by` accepts, for help and suggestions.
    public static let names = ["route", "model", "provider", "rule", "status", "day", "group", "cache", "tag:KEY"]

    /// Parses `model`, `tag:team`, …; nil for anything else.
    public init?(parsing text: String) {
        switch text {
        case "route": self = .route
        case "model": self = .model
        case "provider": self = .provider
        case "rule": self = .rule
        case "status": self = .status
        case "day": self = .day
        case "group": self = .group
        case "cache": self = .cache
        default:
            guard text.hasPrefix("tag:"), text.count > 4 else { return nil }
            self = .tag(String(text.dropFirst(4)))
        }
    }

    /// The `--by` spelling.
    public var description: String {
        switch self {
        case .route: return "route"
        case .model: return "model"
        case .provider: return "provider"
        case .rule: return "rule"
        case .status: return "status"
        case .day: return "day"
        case .group: return "group"
        case .cache: return "cache"
        case .tag(let key): return "tag:" + key
        }
    }
}

/// Which records count: `since` inclusive, `until` exclusive, both in epoch milliseconds.
public struct TimeWindow: Sendable, Equatable {
    /// First instant included, if bounded.
    public var since: Int64?
    /// First instant excluded, if bounded.
    public var until: Int64?

    /// A window; nil bounds are open.
    public init(since: Int64? = nil, until: Int64? = nil) {
        self.since = since
        self.until = until
    }

    /// Whether a record finished at `millis` is inside.
    @inline(__always)
    public func contains(_ millis: Int64) -> Bool {
        if let since, millis < since { return false }
        if let until, millis >= until { return false }
        return true
    }

    /// Parses a bound: a duration back from `now` (`90s`, `30m`, `24h`, `7d`, `2w`), a
    /// date (`2026-11-01`, midnight in `timeZone`), or an RFC 3339 time
    /// (`2026-11-01T09:30:00Z`, `2026-11-01T09:30:00+01:00`). Nil when it is none of these.
    public static func parseBound(_ text: String, now: Date, timeZone: TimeZone) -> Int64? {
        parseBound(text, now: now, zone: LocalZone(timeZone))
    }

    /// `parseBound` in `zone`.
    public static func parseBound(_ text: String, now: Date, zone: LocalZone) -> Int64? {
        let nowMillis = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        if let seconds = DurationText.seconds(text) { return nowMillis - seconds * 1000 }
        let bytes = Array(text.utf8)
        if bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Int(text.prefix(4)), let month = Int(text.dropFirst(5).prefix(2)), let day = Int(text.suffix(2)),
            (1...12).contains(month), day >= 1, Int64(day) <= LedgerTimestamp.daysInMonth(year: Int64(year), month: Int64(month))
        {
            return zone.startOfDay(year: year, month: month, day: day)
        }
        return LedgerTimestamp.parse(text)
    }
}

/// `--baseline MODEL`: reprice every record's tokens with this model.
public struct BaselineRepricing: Sendable, Equatable {
    /// The routes.json key of the model.
    public var model: String
    /// Its prices.
    public var pricing: ModelPricing

    /// A repricing with `model`'s `pricing`.
    public init(model: String, pricing: ModelPricing) {
        self.model = model
        self.pricing = pricing
    }
}

/// `--reprice`: the current table's prices, by model, and its baseline model's.
public struct TableRepricing: Sendable {
    /// Prices by routes.json model key (unpriced models are left out).
    public var prices: [String: ModelPricing]
    /// The table's baseline model and its prices.
    public var baselineModel: String
    public var baseline: ModelPricing?

    public init(table: RoutingTable) {
        var prices: [String: ModelPricing] = [:]
        for model in table.models where model.priced { prices[model.name] = model.pricing }
        self.prices = prices
        baselineModel = table.baselineModel
        baseline = prices[table.baselineModel]
    }
}

/// Everything a report is asked for.
public struct ReportRequest: Sendable {
    /// Files and directories given with `--log` (directories mean every `*.jsonl` inside).
    public var logs: [String]
    /// `--by`, outermost first.
    public var dimensions: [ReportDimension]
    /// `--since` / `--until`.
    public var window: TimeWindow
    /// `--baseline`, if given.
    public var baseline: BaselineRepricing?
    /// `--reprice`: every record's cost and baseline at the current table's prices.
    public var reprice: TableRepricing?
    /// The zone of `--by day` and of the table's dates.
    public var zone: LocalZone
    /// Threads to read with; 0 means one per core.
    public var workers: Int
    /// Bad lines to keep (with file and line) for the message on standard error.
    public var badLineSampleLimit: Int
    /// Count calls a mock provider answered (`--include-offline`); otherwise they are left
    /// out of every figure, since they are not real spend.
    public var includeOffline = false
    /// Files at least this large are split between threads (tests lower it).
    public var minimumSplitBytes = 4 << 20
    /// A line longer than this cannot be a record and is skipped without being held whole.
    public var maximumLineBytes = 16 << 20

    /// Up to eight dimensions are supported (group keys are fixed-size).
    public static let maximumDimensions = 8

    /// A request in a fixed Foundation time zone; `workers` 0 uses every core.
    public init(
        logs: [String], dimensions: [ReportDimension] = [], window: TimeWindow = TimeWindow(),
        baseline: BaselineRepricing? = nil, timeZone: TimeZone, workers: Int = 0, badLineSampleLimit: Int = 5
    ) {
        self.init(logs: logs, dimensions: dimensions, window: window, baseline: baseline, zone: LocalZone(timeZone), workers: workers,
                  badLineSampleLimit: badLineSampleLimit)
    }

    /// A request whose days and dates are in `zone`; `workers` 0 uses every core.
    public init(
        logs: [String], dimensions: [ReportDimension] = [], window: TimeWindow = TimeWindow(),
        baseline: BaselineRepricing? = nil, zone: LocalZone, workers: Int = 0, badLineSampleLimit: Int = 5
    ) {
        self.logs = logs
        self.dimensions = dimensions
        self.window = window
        self.baseline = baseline
        self.zone = zone
        self.workers = workers
        self.badLineSampleLimit = badLineSampleLimit
    }
}
