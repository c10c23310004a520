#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// RFC 3339 timestamps for the log, formatted by hand: `ISO8601DateFormatter` costs
/// more than the rest of a call's bookkeeping.
public enum Timestamp {
    /// `2026-11-23T07:30:00.123Z`: UTC with milliseconds.
    public static func rfc3339Milliseconds(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return two(Int(parts.tm_year) + 1900, width: 4) + "-" + two(Int(parts.tm_mon) + 1) + "-" + two(Int(parts.tm_mday))
            + "T" + two(Int(parts.tm_hour)) + ":" + two(Int(parts.tm_min)) + ":" + two(Int(parts.tm_sec))
            + "." + two(fraction, width: 3) + "Z"
    }

    /// A number zero-padded to `width` digits.
    private static func two(_ value: Int, width: Int = 2) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
