import Foundation

/// Who is asking and when: the parts of a decision that do not come from the prompt.
public struct ClassificationContext: Sendable {
    /// The caller's tier (`--tier` or `MODELROUTE_TIER`), if any.
    public var tier: String?
    /// The moment of the call; `hours` conditions read its local hour.
    public var date: Date
    /// The time zone `hours` windows are in.
    public var timeZone: TimeZone

    public init(tier: String? = nil, date: Date = Date(), timeZone: TimeZone = .current) {
        self.tier = tier
        self.date = date
        self.timeZone = timeZone
    }
}

/// Decides a route for a prompt from a routing table, locally and in microseconds.
public struct Classifier: Sendable {
    public let table: RoutingTable

    public init(table: RoutingTable) {
        self.table = table
    }

    /// Classifies a prompt.
    public func classify(_ prompt: String, context: ClassificationContext) -> RoutingDecision {
        let route = table.route(named: table.defaultRoute)
        return RoutingDecision(route: table.defaultRoute, model: route?.model ?? "", reason: .defaultRoute, evidence: [], features: PromptMeasurements())
    }
}
