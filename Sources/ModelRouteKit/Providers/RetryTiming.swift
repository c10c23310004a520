import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// How long to wait before the next attempt of the same model.
public enum RetryTiming {
    /// Exponential backoff with full jitter: a uniform draw from 0 up to
    /// `initial × 2^retry`, capped at `maxDelaySeconds`. `unit` is a draw from [0, 1).
    public static func backoff(retry: Int, policy: RetryPolicy, unit: Double) -> Double {
        let ceiling = min(policy.maxDelaySeconds, policy.initialDelaySeconds * pow(2, Double(min(retry, 30))))
        return max(0, ceiling * min(max(unit, 0), 1))
    }

    /// Seconds a response asks to wait: `retry-after-ms`, else `Retry-After` as
    /// seconds or an HTTP date; nil when absent or unreadable. Headers are lowercased.
    /// A value is range-checked where it is read: not a finite, non-negative number is
    /// unreadable (nil), and anything above `longestWait` is `longestWait`, which every
    /// route's `max_delay_s` is below, so such an answer is never waited for.
    public static func retryAfter(headers: [String: String], now: Date) -> Double? {
        if let text = headers["retry-after-ms"], let milliseconds = Double(text.trimmingWhitespace()), milliseconds.isFinite, milliseconds >= 0 {
            return min(milliseconds / 1000, longestWait)
        }
        guard let text = headers["retry-after"]?.trimmingWhitespace(), !text.isEmpty else { return nil }
        if let seconds = Double(text) { return seconds >= 0 && seconds.isFinite ? min(seconds, longestWait) : nil }
        guard let date = httpDate(text) else { return nil }
        let wait = date.timeIntervalSince(now)
        return wait.isFinite ? min(max(0, wait), longestWait) : nil
    }

    /// The longest any one wait can be, one day: a bound for `Retry-After` values and
    /// above every `max_delay_s` a table may set (at most an hour).
    public static let longestWait = 86_400.0

    /// Parses an HTTP date (RFC 9110): IMF-fixdate ("Wed, 21 Oct 2026 07:28:00 GMT"),
    /// and the obsolete RFC 850 ("Wednesday, 21-Oct-26 07:28:00 GMT") and asctime
    /// ("Wed Oct 21 07:28:00 2026") forms.
    public static func httpDate(_ text: String) -> Date? {
        let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
        let parts = text.split { $0 == " " || $0 == "," || $0 == "-" }.map { $0.lowercased() }
        var day: Int?, month: Int?, year: Int?, clock: [Int]?
        for part in parts.dropFirst() {
            if let index = months.firstIndex(of: part) {
                month = index
            } else if part.contains(":") {
                let fields = part.split(separator: ":").compactMap { Int($0) }
                guard fields.count == 3 else { return nil }
                clock = fields
            } else if let number = Int(part) {
                if part.count == 4 {
                    year = number
                } else if day == nil {
                    day = number
                } else {
                    year = number < 70 ? 2000 + number : 1900 + number
                }
            } else if part != "gmt" {
                return nil
            }
        }
        guard let day, let month, let year, let clock, (1...31).contains(day), (0...23).contains(clock[0]),
            (0...59).contains(clock[1]), (0...60).contains(clock[2])
        else { return nil }
        var fields = tm()
        (fields.tm_year, fields.tm_mon, fields.tm_mday) = (Int32(year - 1900), Int32(month), Int32(day))
        (fields.tm_hour, fields.tm_min, fields.tm_sec) = (Int32(clock[0]), Int32(clock[1]), Int32(clock[2]))
        return Date(timeIntervalSince1970: Double(timegm(&fields)))
    }
}
