import FoundationEssentials

/// Budget spend counted in Redis, so that a fleet shares one budget: per budget and bucket
/// (the period's start, or the hour of a rolling window) a key
/// `modelroute:budget:1:NAME:BUCKET`, raised by each call's final cost with `INCRBYFLOAT`
/// and expiring a day after its period could still need it.
public final class SharedSpend: Sendable {
    public static let prefix = "modelroute:budget:1:"

    let session: RedisSession
    let budgets: [BudgetConfig]
    let zone: LocalZone

    public init(location: RedisLocation, password: String?, budgets: [BudgetConfig], zone: LocalZone) {
        session = RedisSession(location: location, password: password)
        self.budgets = budgets
        self.zone = zone
    }

    /// The table's shared budget store (`state`, or the cache's Redis); nil without budgets or one.
    public convenience init?(table: RoutingTable, environment: [String: String], zone: LocalZone) {
        guard !table.budgets.isEmpty, let location = table.state else { return nil }
        self.init(location: location, password: location.password(in: environment), budgets: table.budgets, zone: zone)
    }

    public var location: String { session.redis.display }

    func key(_ budget: BudgetConfig, bucket: Int64) -> [UInt8] { Array((SharedSpend.prefix + budget.name + ":" + String(bucket)).utf8) }

    /// The buckets of a budget's current window.
    func buckets(_ budget: BudgetConfig, nowMillis: Int64) -> [Int64] {
        let window = BudgetWindow.current(budget.period, nowMillis: nowMillis, zone: zone)
        guard case .rolling = budget.period else { return [window.start] }
        return Array(stride(from: window.start, through: nowMillis, by: Int(BudgetWindow.rollingBucketMillis)))
    }

    /// The spend of each budget so far, or why Redis could not tell.
    public func spent(nowMillis: Int64) -> Result<[String: Double], RedisFailure> {
        var result: [String: Double] = [:]
        for budget in budgets {
            let keys = buckets(budget, nowMillis: nowMillis).map { key(budget, bucket: $0) }
            switch session.run([Array("MGET".utf8)] + keys) {
            case .failure(let failure): return .failure(failure)
            case .success(.array(let values?)):
                var sum = 0.0
                for case .bulk(let bytes?) in values {
                    guard let value = Double(String(decoding: bytes, as: UTF8.self)), value.isFinite, value >= 0 else { continue }
                    sum += value
                }
                result[budget.name] = sum
            case .success(let other): return .failure(RedisFailure("\(location) answered MGET with \(other)"))
            }
        }
        return .success(result)
    }

    /// Adds a call's cost to every budget whose scope holds it; the failure, if any.
    public func add(_ record: LedgerRecord, nowMillis: Int64) -> RedisFailure? {
        guard record.costUSD > 0 else { return nil }
        let millis = LedgerTimestamp.parse(record.timestamp) ?? nowMillis
        for budget in budgets where budget.applies(route: record.route, model: record.model, tags: record.tags) {
            let bucket = BudgetWindow.bucket(budget.period, millis: millis, zone: zone)
            let key = key(budget, bucket: bucket)
            let window = BudgetWindow.current(budget.period, nowMillis: millis, zone: zone)
            let lifetime: Int64
            switch budget.period {
            case .rolling(let seconds): lifetime = seconds + 86_400
            default: lifetime = ((window.end ?? millis) - millis) / 1000 + 86_400
            }
            if case .failure(let failure) = session.run([Array("INCRBYFLOAT".utf8), key, Array(formatted("%.10f", record.costUSD).utf8)]) { return failure }
            if case .failure(let failure) = session.run([Array("EXPIRE".utf8), key, Array(String(lifetime).utf8)]) { return failure }
        }
        return nil
    }
}
