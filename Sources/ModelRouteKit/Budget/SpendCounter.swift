/// Adds log lines into budget buckets, for rebuilding the spend index or catching it up.
///
/// A line in the writer's layout is read by the report's fast scanner, which interns the
/// route, the model and the budgets' tag values, so that which budgets a record falls under
/// is worked out once per distinct route, model and tags rather than once per record; any
/// other line goes through the general decoder. Records before every budget's current
/// window are skipped on their leading time alone.
struct SpendCounter {
    /// The budgets counted for, with their current windows.
    private let budgets: [(config: BudgetConfig, window: BudgetWindow)]
    /// The earliest window start: anything before it counts for nobody.
    private let earliest: Int64
    /// The zone calendar periods are counted in.
    private let zone: LocalZone
    /// The fast path; nil when the budgets name more tag keys than it can carry.
    private var scanner: LedgerScanner?
    /// The budgets' tag keys, by the scan level that carries each.
    private let tagKeys: [(key: String, level: Int)]
    /// The budgets (indexes into `budgets`) each seen route, model and tags fall under.
    private var scopes: [Scope: [Int]] = [:]
    /// The record the scanner fills.
    private var scanned = ScannedRecord()
    /// Spend per budget name and bucket start.
    var buckets: [String: [Int64: Double]]

    /// An interned route, model and budget tag values.
    private struct Scope: Hashable {
        var route: Int32
        var model: Int32
        var tags: SIMD8<Int32>
    }

    /// A counter of `budgets` at `nowMillis`, adding to `buckets`.
    init(budgets: [BudgetConfig], zone: LocalZone, nowMillis: Int64, buckets: [String: [Int64: Double]] = [:]) {
        let budgets = budgets.map { ($0, BudgetWindow.current($0.period, nowMillis: nowMillis, zone: zone)) }
        self.budgets = budgets
        self.earliest = budgets.map(\.1.start).min() ?? nowMillis
        self.zone = zone
        self.buckets = buckets
        var keys: [String] = []
        for budget in budgets { for tag in budget.0.tags where !keys.contains(tag.key) { keys.append(tag.key) } }
        tagKeys = keys.enumerated().map { ($0.element, $0.offset) }
        scanner = keys.count <= 8 ? LedgerScanner(plan: ScanPlan(keys.map { .tag($0) }), zone: zone) : nil
    }

    /// Adds one line of the log (without its newline).
    mutating func add(line: UnsafeBufferPointer<UInt8>) {
        if let millis = SpendIndex.leadingTimestamp(line), millis < earliest { return }
        if var fast = scanner, let base = line.baseAddress {
            scanner = nil  // held here while it scans, so that it is not copied on write
            let accepted = fast.scan(base, end: base + line.count, into: &scanned) != nil
            if accepted {
                let scope = Scope(route: scanned.route, model: scanned.model, tags: scanned.key)
                let applying = scopes[scope] ?? applicable(scope, interner: fast.interner)
                scopes[scope] = applying
                add(cost: scanned.cost, millis: scanned.millis, to: applying)
            }
            scanner = fast
            if accepted { return }
        }
        guard let record = try? LedgerRecord.decode(line: line), let millis = LedgerTimestamp.parse(record.timestamp) else { return }
        let applying = budgets.indices.filter { budgets[$0].config.applies(route: record.route, model: record.model, tags: record.tags) }
        add(cost: record.costUSD, millis: millis, to: applying)
    }

    /// The budgets a scanned scope falls under.
    private func applicable(_ scope: Scope, interner: ValueInterner) -> [Int] {
        let route = scope.route < 0 ? nil : interner.string(scope.route)
        let model = scope.model < 0 ? nil : interner.string(scope.model)
        let tags = tagKeys.compactMap { tag in scope.tags[tag.level] < 0 ? nil : (key: tag.key, value: interner.string(scope.tags[tag.level])) }
        return budgets.indices.filter { budgets[$0].config.applies(route: route, model: model, tags: tags) }
    }

    /// Adds a cost at `millis` to each of `applying` whose window it is in.
    private mutating func add(cost: Double, millis: Int64, to applying: [Int]) {
        for index in applying {
            let (budget, window) = budgets[index]
            guard millis >= window.start else { continue }
            // Inside the current calendar period its start is the bucket, with no calendar arithmetic.
            let inside = window.end.map { millis < $0 } ?? false
            let bucket = inside ? window.start : BudgetWindow.bucket(budget.period, millis: millis, zone: zone)
            buckets[budget.name, default: [:]][bucket, default: 0] += cost
        }
    }
}
