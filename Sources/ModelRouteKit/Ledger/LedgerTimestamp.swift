import FoundationEssentials

/// The log's times: UTC RFC 3339 with milliseconds (`2026-11-23T07:56:02.123Z`), and
/// the calendar arithmetic to turn them into epoch milliseconds without Foundation's
/// date parsers, which would dominate a report over millions of lines.
public enum LedgerTimestamp {
    /// The record timestamp for `date`: UTC, milliseconds, `Z`.
    public static func string(from date: Date) -> String {
        string(epochMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.down)))
    }

    /// The record timestamp for a number of milliseconds since 1970-01-01T00:00:00Z.
    public static func string(epochMilliseconds: Int64) -> String {
        let millis = floorMod(epochMilliseconds, 1000)
        let seconds = floorDiv(epochMilliseconds, 1000)
        let day = floorDiv(seconds, 86_400)
        let secondOfDay = seconds - day * 86_400
        let (year, month, dayOfMonth) = civil(fromDays: day)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(24)
        appendDigits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(dayOfMonth, 2, &bytes)
        bytes.append(UInt8(ascii: "T"))
        appendDigits(secondOfDay / 3600, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay / 60 % 60, 2, &bytes)
        bytes.append(UInt8(ascii: ":"))
        appendDigits(secondOfDay % 60, 2, &bytes)
        bytes.append(UInt8(ascii: "."))
        appendDigits(millis, 3, &bytes)
        bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A calendar date as `YYYY-MM-DD` from days since 1970-01-01.
    /// A local time for people: `2026-12-04 00:00` in `zone`.
    public static func localString(epochMilliseconds millis: Int64, zone: LocalZone) -> String {
        let local = floorDiv(millis, 1000) + Int64(zone.secondsFromGMT(atEpochSeconds: floorDiv(millis, 1000)))
        let minutes = floorDiv(local, 60) - floorDiv(local, 86_400) * 1440
        return dateString(days: floorDiv(local, 86_400)) + formatted(" %02d:%02d", Int32(minutes / 60), Int32(minutes % 60))
    }

    /// Days since 1970-01-01 of a `YYYY-MM-DD` date; nil for anything else.
    public static func parseDate(_ text: String) -> Int64? {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            let year = Int64(text.prefix(4)), let month = Int64(text.dropFirst(5).prefix(2)), let day = Int64(text.suffix(2)),
            (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        return days(year: year, month: month, day: day)
    }

    public static func dateString(days: Int64) -> String {
        let (year, month, day) = civil(fromDays: days)
        var bytes: [UInt8] = []
        appendDigits(year, 4, &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(month, 2, &bytes)
        bytes.append(UInt8(ascii: "-"))
        appendDigits(day, 2, &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Parses any RFC 3339 date-time (`T` or space, optional fraction, `Z` or `±HH:MM`)
    /// into epoch milliseconds; digits past milliseconds are dropped. Nil if invalid.
    public static func parse(_ text: String) -> Int64? {
        var text = text
        return text.withUTF8 { parse(UnsafeRawBufferPointer($0)) }
    }

    /// `parse(_:)` over UTF-8 bytes.
    public static func parse(_ bytes: UnsafeRawBufferPointer) -> Int64? {
        guard bytes.count >= 20 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int64? {
            var value: Int64 = 0
            for index in start..<(start + count) {
                let digit = bytes[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int64(digit)
            }
            return value
        }
        guard bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
            bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t") || bytes[10] == UInt8(ascii: " "),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
        else { return nil }
        var index = 19
        var millis: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] &- UInt8(ascii: "0") < 10 {
                if digits < 3 { millis = millis * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millis *= 10 }
        }
        guard index < bytes.count else { return nil }
        var offsetMinutes: Int64 = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                let offsetHours = number(index + 1, 2), let offsetMinute = number(index + 4, 2),
                offsetHours < 24, offsetMinute < 60
            else { return nil }
            offsetMinutes = (offsetHours * 60 + offsetMinute) * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count,
            let utc = epochMilliseconds(year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millis)
        else { return nil }
        return utc - offsetMinutes * 60_000
    }

    /// Epoch milliseconds of a UTC calendar time, or nil when a field is out of range.
    /// (A leap second, `:60`, is rejected: the log never writes one.)
    @inline(__always)
    public static func epochMilliseconds(
        year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64, millisecond: Int64
    ) -> Int64? {
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
            hour < 24, minute < 60, second < 60, millisecond < 1000
        else { return nil }
        let days = self.days(year: year, month: month, day: day)
        return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + millisecond
    }

    /// Days in a month of the proleptic Gregorian calendar.
    public static func daysInMonth(year: Int64, month: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
    public static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDiv(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The civil date of a number of days since 1970-01-01.
    public static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Division rounding towards negative infinity.
    @inline(__always)
    public static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// The remainder matching `floorDiv`, always in 0..<b for positive b.
    @inline(__always)
    public static func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

    /// Appends `value` zero-padded to `width` digits.
    private static func appendDigits(_ value: Int64, _ width: Int, _ bytes: inout [UInt8]) {
        var digits: [UInt8] = []
        var rest = max(0, value)
        for _ in 0..<width {
            digits.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        }
        bytes.append(contentsOf: digits.reversed())
    }
}
