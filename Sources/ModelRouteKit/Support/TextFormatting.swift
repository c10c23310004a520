import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Dollar amounts for people and for CSV.
public enum Money {
    /// "$12.34", "$0.0123", "$0.000045": enough digits to show small per-call costs.
    public static func format(_ usd: Double) -> String {
        let magnitude = abs(usd)
        let digits = magnitude >= 1 || magnitude == 0 ? 2 : magnitude >= 0.01 ? 4 : 6
        return (usd < 0 ? "-$" : "$") + formatted("%.\(digits)f", magnitude)
    }

    /// A plain number with up to 8 decimals and no trailing zeros, for CSV.
    public static func plain(_ usd: Double) -> String {
        var text = formatted("%.8f", usd)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text == "-0" ? "0" : text
    }
}

/// RFC 4180 quoting.
public enum CSV {
    /// The field, quoted when it holds a comma, a quote or a line break.
    public static func field(_ value: String) -> String {
        guard value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return value }
        return "\"" + value.replacing("\"", with: "\"\"") + "\""
    }
}

/// Column layout helpers.
public enum Text {
    /// Pads (or cuts, with "…") `value` to `width` characters.
    public static func pad(_ value: String, _ width: Int, right: Bool = false) -> String {
        let count = value.count
        if count > width { return String(value.prefix(max(0, width - 1))) + "…" }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + value : value + padding
    }
}

/// Seconds from an arbitrary fixed point, unaffected by changes to the wall clock.
public enum MonotonicClock {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
