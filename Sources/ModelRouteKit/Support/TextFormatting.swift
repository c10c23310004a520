import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Dollar amounts for people and for CSV.
public enum Money {
    /// "$12.34", "$0.0123", "$0.000045": enough digits to show small per-call costs.
    public static func format(_ usd: Double) -> String {
        format(usd, decimals: decimals(for: usd))
    }

    /// The decimals `format` gives an amount: 2 from a dollar up (and for zero), else 4
    /// from a cent up, else 6.
    static func decimals(for usd: Double) -> Int {
        let magnitude = abs(usd)
        return magnitude >= 1 || magnitude == 0 ? 2 : magnitude >= 0.01 ? 4 : 6
    }

    /// "$12.340000": the amount with exactly `decimals` decimals.
    public static func format(_ usd: Double, decimals: Int) -> String {
        (usd < 0 ? "-$" : "$") + formatted("%.\(decimals)f", abs(usd))
    }

    /// Amounts for one column: the same number of decimals for all (the most any of them
    /// needs under `format`'s rule), so that the figures line up.
    public static func column(_ amounts: [Double]) -> [String] {
        let digits = amounts.map(decimals(for:)).max() ?? 2
        return amounts.map { format($0, decimals: digits) }
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
    /// A size for people: `812 B`, `4.2 KB`, `37.5 MB`, `1.2 GB` (powers of 1024).
    public static func bytes(_ count: Int) -> String {
        if count < 1024 { return "\(count) B" }
        let units = ["KB", "MB", "GB", "TB"]
        var value = Double(count) / 1024
        var unit = 0
        while value >= 1024, unit + 1 < units.count {
            value /= 1024
            unit += 1
        }
        return formatted("%.1f ", value) + units[unit]
    }

    /// Pads (or cuts, with "…") `value` to `width` characters.
    public static func pad(_ value: String, _ width: Int, right: Bool = false) -> String {
        let count = value.count
        if count > width { return String(value.prefix(max(0, width - 1))) + "…" }
        let padding = String(repeating: " ", count: width - count)
        return right ? padding + value : value + padding
    }

    /// `words` after `first`, as many to a line as fit in `width`.
    /// One line of prose fitted to `width` (nil: left as it is), later lines indented by `indent`.
    public static func fit(_ line: String, width: Int?, indent: Int = 2) -> String {
        guard let width, line.count > width else { return line }
        return wrap(line, width: width, first: String(line.prefix { $0 == " " }), indent: indent)
    }

    /// `value` cut in the middle with "…" to at most `width` characters (paths keep both ends).
    public static func middleCut(_ value: String, _ width: Int) -> String {
        guard value.count > width, width > 3 else { return value }
        let head = (width - 1) / 2
        return String(value.prefix(head)) + "…" + String(value.suffix(width - 1 - head))
    }

    /// `text` after `first`, broken at spaces so no line passes `width` (a word longer than
    /// a line stays whole), later lines indented by `indent` spaces.
    public static func wrap(_ text: String, width: Int, first: String, indent: Int, firstWidth: Int? = nil) -> String {
        wrap(words: text.split(separator: " ").map(String.init), width: width, first: first, indent: indent, firstWidth: firstWidth)
    }

    /// `words` after `first`, as many to a line as fit in `width`.
    public static func wrap(words: [String], width: Int, first: String, indent: Int, firstWidth: Int? = nil) -> String {
        var lines: [String] = []
        var line = first
        var limit = firstWidth ?? width
        var lineHasWord = false
        for word in words {
            if lineHasWord && line.count + 1 + word.count > limit {
                lines.append(line)
                line = String(repeating: " ", count: indent)
                limit = width
                lineHasWord = false
            }
            line += (lineHasWord ? " " : "") + word
            lineHasWord = true
        }
        lines.append(line)
        return lines.joined(separator: "\n")
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
