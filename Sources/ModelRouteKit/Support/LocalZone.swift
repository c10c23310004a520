import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The time zone local times are read in: `hours` rules, `report --by day`, and dates
/// such as `--since 2026-11-01` (local midnight).
///
/// The program links FoundationEssentials only, which carries no time-zone data on
/// Linux (its `TimeZone.current` is always GMT), so the system zone comes from the C
/// library instead: glibc's tz database reads `$TZ` (`America/New_York`, `UTC`, or a
/// POSIX rule such as `EST5EDT`), else `/etc/localtime`, with every daylight-saving
/// change. Tests fix a Foundation `TimeZone` instead.
public struct LocalZone: Sendable {
    private let fixed: TimeZone?

    /// The system's zone, as the C library sees it.
    public static let system: LocalZone = {
        tzset()
        return LocalZone(fixed: nil)
    }()

    private init(fixed: TimeZone?) {
        self.fixed = fixed
    }

    /// A fixed zone (tests, and callers that know the zone they want).
    public init(_ timeZone: TimeZone) {
        fixed = timeZone
    }

    /// Seconds the zone is ahead of UTC at `epochSeconds`.
    public func secondsFromGMT(atEpochSeconds epochSeconds: Int64) -> Int {
        if let fixed { return fixed.secondsFromGMT(for: Date(timeIntervalSince1970: Double(epochSeconds))) }
        var time = time_t(epochSeconds)
        var parts = tm()
        guard localtime_r(&time, &parts) != nil else { return 0 }
        return Int(parts.tm_gmtoff)
    }

    /// The local hour (0–23) at `date`.
    public func hour(at date: Date) -> Int {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let local = seconds + Int64(secondsFromGMT(atEpochSeconds: seconds))
        return Int((local - LedgerTimestamp.floorDiv(local, 86_400) * 86_400) / 3600)
    }

    /// Epoch milliseconds of the first instant of a local calendar day (later than
    /// midnight on the rare days a clock change skips it).
    public func startOfDay(year: Int, month: Int, day: Int) -> Int64 {
        let days = LedgerTimestamp.days(year: Int64(year), month: Int64(month), day: Int64(day))
        let midnightUTC = days * 86_400
        // The offset in force at local midnight: try the offset at UTC midnight, then
        // the offset at the instant that gives; a clock change between them moves it.
        var guess = midnightUTC - Int64(secondsFromGMT(atEpochSeconds: midnightUTC))
        guess = midnightUTC - Int64(secondsFromGMT(atEpochSeconds: guess))
        // A skipped midnight (the clock jumped over it): the day starts when the jump lands.
        let localOfGuess = guess + Int64(secondsFromGMT(atEpochSeconds: guess))
        if LedgerTimestamp.floorDiv(localOfGuess, 86_400) < days {
            var probe = guess
            while LedgerTimestamp.floorDiv(probe + Int64(secondsFromGMT(atEpochSeconds: probe)), 86_400) < days { probe += 900 }
            guess = probe
        }
        return guess * 1000
    }
}
