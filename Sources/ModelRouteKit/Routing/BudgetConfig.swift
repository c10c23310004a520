/// One entry of the top-level `"budgets"`: a spending limit over a period, for the calls in
/// its scope, and what happens to a call that would break it.
public struct BudgetConfig: Sendable, Equatable {
    /// How a budget's period is counted.
    public enum Period: Sendable, Equatable {
        /// The local calendar day (`$TZ`).
        case day
        /// The ISO week, from Monday 00:00 local time.
        case week
        /// The local calendar month.
        case month
        /// The last this many seconds (`"24h"`, `"7d"`).
        case rolling(seconds: Int64)

        public var description: String {
            switch self {
            case .day: return "day"
            case .week: return "week"
            case .month: return "month"
            case .rolling(let seconds): return seconds % 86_400 == 0 ? "rolling \(seconds / 86_400)d" : "rolling \(seconds / 3600)h"
            }
        }
    }

    /// What a call that would break the limit gets.
    public enum Over: String, Sendable, Equatable {
        /// Its route is replaced by `downgrade[route]`, again while it still breaks the limit; a route with no entry is refused.
        case downgrade
        /// It is refused.
        case block
    }

    public var name: String
    public var limitUSD: Double
    public var period: Period
    /// The scope: every `tags` pair must be among the call's `--tag`s; `routes` and `models` (when given) must hold its route and model.
    public var tags: [(key: String, value: String)]
    public var routes: [String]?
    public var models: [String]?
    public var over: Over
    /// Route → cheaper route.
    public var downgrade: [String: String]
    /// Refuse calls when the shared store (Redis) is down, instead of counting locally.
    public var failClosed: Bool

    public init(
        name: String, limitUSD: Double, period: Period, tags: [(key: String, value: String)] = [], routes: [String]? = nil, models: [String]? = nil,
        over: Over = .downgrade, downgrade: [String: String] = [:], failClosed: Bool = false
    ) {
        self.name = name
        self.limitUSD = limitUSD
        self.period = period
        self.tags = tags
        self.routes = routes
        self.models = models
        self.over = over
        self.downgrade = downgrade
        self.failClosed = failClosed
    }

    /// Whether a call of `route` and `model` with `tags` is in the budget's scope.
    public func applies(route: String?, model: String?, tags callTags: [(key: String, value: String)]) -> Bool {
        for tag in tags where !callTags.contains(where: { $0.key == tag.key && $0.value == tag.value }) { return false }
        if let routes, !routes.contains(route ?? "") { return false }
        if let models, !models.contains(model ?? "") { return false }
        return true
    }

    public static func == (lhs: BudgetConfig, rhs: BudgetConfig) -> Bool {
        lhs.name == rhs.name && lhs.limitUSD == rhs.limitUSD && lhs.period == rhs.period && lhs.tags.map(\.key) == rhs.tags.map(\.key)
            && lhs.tags.map(\.value) == rhs.tags.map(\.value) && lhs.routes == rhs.routes && lhs.models == rhs.models && lhs.over == rhs.over
            && lhs.downgrade == rhs.downgrade && lhs.failClosed == rhs.failClosed
    }
}

/// A shared store for state across machines (`"state": {"url": "redis://…"}`, or the cache's Redis).
public typealias StateLocation = RedisLocation
