/// Builds JSON text into a byte buffer without Foundation: used for every JSONL
/// line modelroute prints or logs, where `JSONEncoder` would dominate the cost.
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public var bytes: [UInt8] = []
    private var needsComma: [Bool] = []

    public init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// Clears the buffer, keeping its capacity, so one writer can serve a whole stream.
    public mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        needsComma.removeAll(keepingCapacity: true)
    }

    public mutating func beginObject() { separate(); bytes.append(UInt8(ascii: "{")); needsComma.append(false) }
    public mutating func endObject() { bytes.append(UInt8(ascii: "}")); needsComma.removeLast() }
    public mutating func beginArray() { separate(); bytes.append(UInt8(ascii: "[")); needsComma.append(false) }
    public mutating func endArray() { bytes.append(UInt8(ascii: "]")); needsComma.removeLast() }

    /// Writes `"key":`; the value written next belongs to it.
    public mutating func key(_ key: String) {
        separate()
        JSONWriter.appendQuoted(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
        if !needsComma.isEmpty { needsComma[needsComma.count - 1] = false }
    }

    public mutating func string(_ value: String) { separate(); JSONWriter.appendQuoted(value, to: &bytes) }
    public mutating func string(_ value: String?) { if let value { string(value) } else { null() } }
    public mutating func int(_ value: Int) { separate(); bytes.append(contentsOf: String(value).utf8) }
    public mutating func int(_ value: Int?) { if let value { int(value) } else { null() } }
    public mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    public mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }

    /// Writes a number in its shortest round-trip form; non-finite values become null.
    public mutating func double(_ value: Double) {
        separate()
        JSONWriter.appendNumber(value, to: &bytes)
    }
    public mutating func double(_ value: Double?) { if let value { double(value) } else { null() } }

    /// Writes a value that is already JSON text.
    public mutating func raw(_ json: String) { separate(); bytes.append(contentsOf: json.utf8) }

    /// Writes a string-to-string object with keys in the given order.
    public mutating func stringObject(_ pairs: [(String, String)]) {
        beginObject()
        for (key, value) in pairs {
            self.key(key)
            string(value)
        }
        endObject()
    }

    private mutating func separate() {
        guard !needsComma.isEmpty else { return }
        if needsComma[needsComma.count - 1] {
            bytes.append(UInt8(ascii: ","))
        } else {
            needsComma[needsComma.count - 1] = true
        }
    }

    /// The text written so far.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Appends a number as JSON: integers without a fraction, others in shortest form.
    public static func appendNumber<Sink: ByteSink>(_ value: Double, to bytes: inout Sink) {
        guard value.isFinite else {
            bytes.append(ascii: "null")
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            appendInteger(Int(value), to: &bytes)
        } else if value > 0, value < 1e6, (value * 1e10).rounded() == value * 1e10 {
            // Amounts already rounded to 1e-10 (costs) print as plain decimals, which is
            // also cheaper than the general shortest-form conversion.
            let scaled = UInt64((value * 1e10).rounded())
            let integer = scaled / 10_000_000_000
            if integer == 0 { bytes.append(UInt8(ascii: "0")) } else { appendInteger(Int(integer), to: &bytes) }
            // The ten fraction digits, without the trailing zeros.
            var fraction = scaled % 10_000_000_000
            var digits: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &digits) { buffer in
                buffer[0] = UInt8(ascii: ".")
                for position in stride(from: 10, through: 1, by: -1) {
                    buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: fraction % 10)
                    fraction /= 10
                }
                var end = 11
                while buffer[end - 1] == UInt8(ascii: "0") { end -= 1 }
                bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: end))
            }
        } else {
            var text = value.description
            text.withUTF8 { bytes.append(contentsOf: $0) }
        }
    }

    /// Appends a whole number in decimal, without going through `String`.
    public static func appendInteger<Sink: ByteSink>(_ value: Int, to bytes: inout Sink) {
        var magnitude = value.magnitude
        // Digits from the right end of a 24-byte scratch, then one append.
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { buffer in
            var start = 24
            repeat {
                start -= 1
                buffer[start] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if value < 0 {
                start -= 1
                buffer[start] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeBufferPointer(start: buffer.baseAddress.map { ($0 + start).assumingMemoryBound(to: UInt8.self) }, count: 24 - start))
        }
    }

    /// Appends `value` as a quoted JSON string, escaping only what JSON requires.
    public static func appendQuoted<Sink: ByteSink>(_ value: String, to bytes: inout Sink) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { appendEscaped($0, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends text with JSON escapes, without quotes.
    public static func appendEscaped<Sink: ByteSink>(_ value: String, to bytes: inout Sink) {
        var value = value
        value.withUTF8 { appendEscaped($0, to: &bytes) }
    }

    /// Appends UTF-8 text with JSON escapes, without quotes: plain runs in one append each.
    public static func appendEscaped<Sink: ByteSink>(_ utf8: UnsafeBufferPointer<UInt8>, to bytes: inout Sink) {
        guard let base = utf8.baseAddress else { return }
        var runStart = 0
        while runStart < utf8.count {
            let special = JSONByteScan.nextSpecial(base, from: runStart, to: utf8.count)
            if runStart < special { bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<special])) }
            guard special < utf8.count else { return }
            let byte = utf8[special]
            runStart = special + 1
            bytes.append(0x5C)
            switch byte {
            case UInt8(ascii: "\""): bytes.append(0x22)
            case UInt8(ascii: "\\"): bytes.append(0x5C)
            case 0x0A: bytes.append(UInt8(ascii: "n"))
            case 0x0D: bytes.append(UInt8(ascii: "r"))
            case 0x09: bytes.append(UInt8(ascii: "t"))
            default:
                let hex = Array("0123456789abcdef".utf8)
                for digit in [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xF)]] { bytes.append(digit) }
            }
        }
    }
}

/// Where JSON and row text are written: an array, or a `ByteBuffer` for the hot paths.
public protocol ByteSink {
    mutating func append(_ byte: UInt8)
    mutating func append(contentsOf bytes: UnsafeBufferPointer<UInt8>)
}

extension ByteSink {
    /// Appends a literal's bytes.
    public mutating func append(ascii text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func append(contentsOf bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append(contentsOf: $0) }
    }

    /// Appends a string's UTF-8 as it is.
    public mutating func append(utf8 text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}

extension Array: ByteSink where Element == UInt8 {}
