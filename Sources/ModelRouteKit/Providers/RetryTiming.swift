import Foundation

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
    public static func retryAfter(headers: [String: String], now: Date) -> Double? {
        if let text = headers["retry-after-ms"], let milliseconds = Double(text.trimmingCharacters(in: .whitespaces)), milliseconds >= 0 {
            return milliseconds / 1000
        }
        guard let text = headers["retry-after"]?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Double(text) { return seconds >= 0 && seconds.isFinite ? seconds : nil }
        guard let date = httpDate(text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }

    /// Parses an HTTP date (RFC 9110 IMF-fixdate, e.g. "Wed, 21 Oct 2026 07:28:00 GMT").
    public static func httpDate(_ text: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        for format in ["EEE, dd MMM yyyy HH:mm:ss zzz", "EEEE, dd-MMM-yy HH:mm:ss zzz", "EEE MMM d HH:mm:ss yyyy"] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}
