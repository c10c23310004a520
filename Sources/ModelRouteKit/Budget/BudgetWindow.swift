/// The stretch of time a budget counts: its current period, in the local time zone.
public struct BudgetWindow: Sendable, Equatable {
    /// The first instant counted, epoch milliseconds.
    public var start: Int64
    /// When the period ends and the spend resets; nil for a rolling window (it never resets at once).
    public var end: Int64?

    /// Rolling windows are counted in whole hours: the window's first hour counts whole.
    public static let rollingBucketMillis: Int64 = 3_600_000

    /// The current window of `period` at `nowMillis` in `zone`: local midnight to midnight,
    /// Monday to Monday (ISO weeks), the first of the month to the next, whatever length
    /// daylight saving time gives the day; or, rolling, the last `seconds` (from the start
    /// of the hour they begin in).
    public static func current(_ period: BudgetConfig.Period, nowMillis: Int64, zone: LocalZone) -> BudgetWindow {
        let offset = Int64(zone.secondsFromGMT(atEpochSeconds: LedgerTimestamp.floorDiv(nowMillis, 1000))) * 1000
        let today = LedgerTimestamp.floorDiv(nowMillis + offset, 86_400_000)
        func start(_ days: Int64) -> Int64 {
            let (year, month, day) = LedgerTimestamp.civil(fromDays: days)
            return zone.startOfDay(year: Int(year), month: Int(month), day: Int(day))
        }
        switch period {
        case .day:
            return BudgetWindow(start: start(today), end: start(today + 1))
        case .week:
            // 1970-01-01 was a Thursday, three days after a Monday.
            let monday = today - (((today + 3) % 7) + 7) % 7
            return BudgetWindow(start: start(monday), end: start(monday + 7))
        case .month:
            let (year, month, _) = LedgerTimestamp.civil(fromDays: today)
            let first = LedgerTimestamp.days(year: year, month: month, day: 1)
            let next = month == 12 ? LedgerTimestamp.days(year: year + 1, month: 1, day: 1) : LedgerTimestamp.days(year: year, month: month + 1, day: 1)
            return BudgetWindow(start: start(first), end: start(next))
        case .rolling(let seconds):
            let from = nowMillis - seconds * 1000
            return BudgetWindow(start: LedgerTimestamp.floorDiv(from, rollingBucketMillis) * rollingBucketMillis, end: nil)
        }
    }

    /// The bucket a cost at `millis` goes into: the window's start for a calendar period,
    /// the start of the hour for a rolling one.
    public static func bucket(_ period: BudgetConfig.Period, millis: Int64, zone: LocalZone) -> Int64 {
        if case .rolling = period { return LedgerTimestamp.floorDiv(millis, rollingBucketMillis) * rollingBucketMillis }
        return current(period, nowMillis: millis, zone: zone).start
    }
}
