/// The last stage of a call: its one record appended to the usage log, the budgets' spend
/// index kept in step under the log's lock, and the cost added to the shared budgets in
/// Redis when the table has them.
public struct RecordStage: Sendable {
    /// The usage log.
    public let logPath: String
    /// The budgets' index beside the log; nil when the table has no budgets.
    public let spendIndex: SpendIndex?
    /// The budgets counted in Redis; nil without shared state.
    public let shared: SharedSpend?
    /// The call's time, for the budgets' windows.
    public let nowMillis: Int64

    public init(logPath: String, table: RoutingTable, environment: [String: String], zone: LocalZone, nowMillis: Int64) {
        self.logPath = logPath
        spendIndex = table.budgets.isEmpty ? nil : SpendIndex(logPath: logPath, budgets: table.budgets, zone: zone)
        shared = SharedSpend(table: table, environment: environment, zone: zone)
        self.nowMillis = nowMillis
    }

    /// Appends `record`; returns why the log could not take it, if so. A shared store that
    /// cannot be raised is only a warning: the record is in the log, and the local index counts it.
    public func append(_ record: LedgerRecord, warn: (String) -> Void) -> LedgerError? {
        do throws(LedgerError) {
            if let spendIndex {
                try LedgerWriter(path: logPath).append(record) { before, after in spendIndex.add(record, before: before, after: after, nowMillis: nowMillis) }
            } else {
                try LedgerWriter(path: logPath).append(record)
            }
        } catch {
            return error
        }
        if let shared, let failure = shared.add(record, nowMillis: nowMillis) {
            warn("the call's cost was not added to the shared budgets: \(failure.message)")
        }
        return nil
    }
}
