/// A JSON document parsed with the byte offset of every value and key, so that
/// configuration errors can name the line and column a user has to fix.
///
/// Foundation's `JSONSerialization` loses positions and key order; both matter
/// for routes.json (rules are ordered, errors point at text).
public struct JSONNode: Sendable, Equatable {
    /// The value itself.
    public var value: JSONValue
    /// Byte offset of the value's first byte in the source.
    public var offset: Int

    public init(_ value: JSONValue, offset: Int = 0) {
        self.value = value
        self.offset = offset
    }
}

/// One JSON value; objects keep their members in source order.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONNode])
    case object([JSONMember])

    /// The JSON type name used in error messages ("a string", "an object", …).
    public var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A key and its value inside an object.
public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var keyOffset: Int
    public var value: JSONNode

    public init(key: String, keyOffset: Int = 0, value: JSONNode) {
        self.key = key
        self.keyOffset = keyOffset
        self.value = value
    }
}

extension JSONNode {
    /// The member named `key`, if this is an object that has it.
    public subscript(key: String) -> JSONNode? {
        guard case .object(let members) = value else { return nil }
        return members.first(where: { $0.key == key })?.value
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let s) = value { return s }
        return nil
    }
}

/// A syntax error with the byte offset where parsing stopped.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var offset: Int
}

/// 1-based line and column (in Unicode scalars) of a byte offset in a text.
public struct SourceLocation: Sendable, Equatable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// Computes the location of `offset` in `bytes`; counting is done only when an
    /// error is reported, so parsing itself never tracks lines.
    public init(offset: Int, in bytes: [UInt8]) {
        var line = 1
        var column = 1
        var index = 0
        let end = min(offset, bytes.count)
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1  // count scalars, not UTF-8 continuation bytes
            }
            index += 1
        }
        self.init(line: line, column: column)
    }

    public var description: String { "line \(line), column \(column)" }
}

/// A strict RFC 8259 parser (no comments, no trailing commas) that keeps positions.
public struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0
    private static let maximumDepth = 512

    /// Parses a whole document; anything but white space after the value is an error.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONNode {
        let result: Result<JSONNode, JSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONSyntaxError) {
                return .success(try parser.parseDocument())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses a document held in a buffer the caller owns (one JSONL line, say).
    public static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONNode {
        var parser = JSONParser(bytes: buffer)
        return try parser.parseDocument()
    }

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws(JSONSyntaxError) -> JSONNode {
        // A UTF-8 byte order mark is tolerated, as editors on some systems write one.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
        skipWhitespace()
        guard index < bytes.count else { throw fail("the document is empty; expected a JSON value") }
        let node = try parseValue()
        skipWhitespace()
        if index < bytes.count {
            throw fail("unexpected \(describeCurrent()) after the end of the JSON value")
        }
        return node
    }

    private func fail(_ message: String, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: offset ?? index)
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of input" }
        let byte = bytes[index]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        if byte == 0x20 { return "space" }
        if byte < 0x20 { return "control character 0x\(String(byte, radix: 16, uppercase: true))" }
        return "non-ASCII byte"
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONNode {
        let start = index
        guard index < bytes.count else { throw fail("unexpected end of input; expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return JSONNode(try parseObject(), offset: start)
        case UInt8(ascii: "["): return JSONNode(try parseArray(), offset: start)
        case UInt8(ascii: "\""): return JSONNode(.string(try parseString()), offset: start)
        case UInt8(ascii: "t"): try expectLiteral("true"); return JSONNode(.bool(true), offset: start)
        case UInt8(ascii: "f"): try expectLiteral("false"); return JSONNode(.bool(false), offset: start)
        case UInt8(ascii: "n"): try expectLiteral("null"); return JSONNode(.null, offset: start)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return JSONNode(.number(try parseNumber()), offset: start)
        case UInt8(ascii: "'"):
            throw fail("strings must use double quotes, not single quotes")
        default:
            throw fail("unexpected \(describeCurrent()); expected a value")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let start = index
        let count = literal.utf8CodeUnitCount
        let text = literal.utf8Start
        guard index + count <= bytes.count else { throw fail("invalid literal; expected '\(literal)'", at: start) }
        for offset in 0..<count where bytes[index + offset] != text[offset] {
            throw fail("invalid literal; expected '\(literal)'", at: start)
        }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONParser.maximumDepth { throw fail("nesting deeper than \(JSONParser.maximumDepth) levels") }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // {
        var members: [JSONMember] = []
        var keys = Set<String>()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an object; expected '}'") }
            guard bytes[index] == UInt8(ascii: "\"") else {
                if bytes[index] == UInt8(ascii: "}") { throw fail("trailing comma before '}'") }
                throw fail("unexpected \(describeCurrent()); expected a key in double quotes")
            }
            let keyOffset = index
            let key = try parseString()
            // Small objects (records, rules) compare keys directly; a large one (a table
            // with thousands of models) keeps a set, so parsing stays linear.
            let duplicate: Bool
            if members.count < 16 {
                duplicate = members.contains { $0.key == key }
            } else {
                if keys.isEmpty { keys = Set(members.map(\.key)) }
                duplicate = !keys.insert(key).inserted
            }
            if duplicate {
                throw fail("duplicate key \"\(key)\"", at: keyOffset)
            }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw fail("unexpected \(describeCurrent()); expected ':' after the key \"\(key)\"")
            }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            members.append(JSONMember(key: key, keyOffset: keyOffset, value: value))
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an object; expected '}'") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw fail("unexpected \(describeCurrent()); expected ',' or '}' (is a comma missing?)")
            }
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        index += 1  // [
        var elements: [JSONNode] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") { throw fail("trailing comma before ']'") }
            elements.append(try parseValue())
            skipWhitespace()
            guard index < bytes.count else { throw fail("unexpected end of input inside an array; expected ']'") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(elements)
            default: throw fail("unexpected \(describeCurrent()); expected ',' or ']' (is a comma missing?)")
            }
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> Double {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number", at: start) }
        if bytes[index] == UInt8(ascii: "0"), index + 1 < bytes.count, isDigit(bytes[index + 1]) {
            throw fail("numbers must not have leading zeros", at: start)
        }
        while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number: digits must follow '.'", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail("invalid number: digits must follow the exponent", at: start) }
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw fail("number out of range", at: start) }
        return value
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1  // opening quote
        let contentStart = index
        // Fast path: no escapes, valid UTF-8.
        if let base = bytes.baseAddress { index = JSONByteScan.nextSpecial(base, from: index, to: bytes.count) }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[contentStart..<index])
                guard let text = String(validating: slice, as: UTF8.self) else {
                    throw fail("invalid UTF-8 inside a string", at: start)
                }
                index += 1
                return text
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("unescaped control character inside a string (use \\n, \\t, …)") }
            index += 1
        }
        guard index < bytes.count else { throw fail("unterminated string", at: start) }
        var decoded: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        switch JSONStringUnescaper.unescape(bytes, from: &index, into: &decoded) {
        case .success:
            guard let text = String(validating: decoded, as: UTF8.self) else {
                throw fail("invalid UTF-8 inside a string", at: start)
            }
            return text
        case .failure(let error):
            throw error
        }
    }
}

/// Decodes JSON string escapes; shared by the tree parser and the JSONL fast paths.
public enum JSONStringUnescaper {
    /// Continues decoding a string whose opening quote was already consumed; `index`
    /// points at the next unread byte and ends just past the closing quote.
    public static func unescape(
        _ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int, into output: inout [UInt8]
    ) -> Result<Void, JSONSyntaxError> {
        let start = output.count
        // Decoded text is never longer than its JSON form; the core writes eight bytes
        // at a time, so it wants that much more room.
        output.append(contentsOf: repeatElement(0, count: bytes.count - index + 8))
        let result = output.withUnsafeMutableBufferPointer { buffer in
            // The buffer is never empty here.
            unescape(bytes, from: &index, into: buffer.baseAddress.unsafelyUnwrapped + start)
        }
        switch result {
        case .success(let written):
            output.removeLast(output.count - start - written)
            return .success(())
        case .failure(let error):
            output.removeLast(output.count - start)
            return .failure(error)
        }
    }

    /// Decodes into a reusable buffer: its bytes become the decoded string.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int, into output: ByteBuffer) -> Result<Void, JSONSyntaxError> {
        output.count = 0
        let room = output.spareCapacity(atLeast: bytes.count - index + 8)
        guard let base = room.baseAddress else { return .failure(JSONSyntaxError(message: "unterminated string", offset: index)) }
        switch unescape(bytes, from: &index, into: base.assumingMemoryBound(to: UInt8.self)) {
        case .success(let written):
            output.count = written
            return .success(())
        case .failure(let error):
            return .failure(error)
        }
    }

    /// The core: decodes the rest of a string into `output`, which has room for
    /// `bytes.count - index + 8` bytes, and returns how many it wrote. Plain text is
    /// copied eight bytes at a time: each word is stored whole, then the output
    /// advances only as far as the first byte that needs a look (quote, backslash,
    /// control character).
    static func unescape(
        _ bytes: UnsafeBufferPointer<UInt8>, from index: inout Int, into output: UnsafeMutablePointer<UInt8>
    ) -> Result<Int, JSONSyntaxError> {
        guard let base = bytes.baseAddress else { return .failure(JSONSyntaxError(message: "unterminated string", offset: index)) }
        let end = bytes.count
        let input = UnsafeRawPointer(base)
        let target = UnsafeMutableRawPointer(output)
        var written = 0
        while true {
            while index &+ 8 <= end {
                let word = input.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                target.storeBytes(of: word, toByteOffset: written, as: UInt64.self)
                let special = JSONByteScan.specialBytes(word)
                if special == 0 {
                    index &+= 8
                    written &+= 8
                    continue
                }
                let plain = special.trailingZeroBitCount / 8
                index &+= plain
                written &+= plain
                break
            }
            guard index < end else { return .failure(JSONSyntaxError(message: "unterminated string", offset: index)) }
            let byte = base[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                return .success(written)
            case UInt8(ascii: "\\"):
                index += 1
                guard index < end else { return .failure(JSONSyntaxError(message: "unterminated string", offset: index)) }
                let escape = base[index]
                index += 1
                let simple: UInt8
                switch escape {
                case UInt8(ascii: "\""): simple = 0x22
                case UInt8(ascii: "\\"): simple = 0x5C
                case UInt8(ascii: "/"): simple = 0x2F
                case UInt8(ascii: "b"): simple = 0x08
                case UInt8(ascii: "f"): simple = 0x0C
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "r"): simple = 0x0D
                case UInt8(ascii: "t"): simple = 0x09
                case UInt8(ascii: "u"):
                    switch unicodeEscape(bytes, &index) {
                    case .success(let scalar):
                        written += writeUTF8(scalar, to: output + written)
                        continue
                    case .failure(let error):
                        return .failure(error)
                    }
                default:
                    return .failure(JSONSyntaxError(message: "invalid escape '\\\(Character(Unicode.Scalar(escape)))'", offset: index - 2))
                }
                output[written] = simple
                written += 1
            default:
                if byte < 0x20 {
                    return .failure(JSONSyntaxError(message: "unescaped control character inside a string (use \\n, \\t, …)", offset: index))
                }
                // Plain bytes within eight of the end.
                output[written] = byte
                written += 1
                index += 1
            }
        }
    }

    /// The scalar of a `\u` escape (with its low surrogate, if any); `index` is just past the `u`.
    private static func unicodeEscape(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> Result<Unicode.Scalar, JSONSyntaxError> {
        guard let high = readHex4(bytes, &index) else {
            return .failure(JSONSyntaxError(message: "invalid \\u escape: expected four hex digits", offset: index))
        }
        var scalarValue = UInt32(high)
        if (0xD800...0xDBFF).contains(high) {
            // A high surrogate must be followed by an escaped low surrogate.
            guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                return .failure(JSONSyntaxError(message: "unpaired surrogate in \\u escape", offset: index))
            }
            index += 2
            guard let low = readHex4(bytes, &index), (0xDC00...0xDFFF).contains(low) else {
                return .failure(JSONSyntaxError(message: "unpaired surrogate in \\u escape", offset: index))
            }
            scalarValue = 0x10000 + ((UInt32(high) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(high) {
            return .failure(JSONSyntaxError(message: "unpaired surrogate in \\u escape", offset: index))
        }
        guard let scalar = Unicode.Scalar(scalarValue) else {
            return .failure(JSONSyntaxError(message: "invalid \\u escape", offset: index))
        }
        return .success(scalar)
    }

    /// Writes the UTF-8 encoding of a scalar; returns its length.
    private static func writeUTF8(_ scalar: Unicode.Scalar, to output: UnsafeMutablePointer<UInt8>) -> Int {
        var length = 0
        UTF8.encode(scalar) { unit in
            output[length] = unit
            length += 1
        }
        return length
    }

    /// Appends the UTF-8 encoding of a scalar.
    public static func appendUTF8(_ scalar: Unicode.Scalar, to output: inout [UInt8]) {
        UTF8.encode(scalar) { output.append($0) }
    }

    private static func readHex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: inout Int) -> UInt16? {
        guard index + 4 <= bytes.count else { return nil }
        var value: UInt16 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
            index += 1
        }
        return value
    }
}
