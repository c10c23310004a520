/// The Redis serialization protocol (RESP 2), both ways: commands are arrays of bulk
/// strings; replies are read from a growing buffer by a parser that can stop at any byte
/// and resume when more arrives, like hiredis's `read.c`. Every length is range-checked
/// where it is read.
public enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8]?)
    case array([RESPValue]?)
}

public enum RESP {
    /// Bulk strings larger than this are refused (Redis's own limit is 512 MB).
    public static let maximumBulkBytes = 64 << 20
    /// Arrays longer than this are refused.
    public static let maximumArrayCount = 1 << 20
    /// Arrays nested deeper than this are refused.
    public static let maximumDepth = 8

    /// A command as sent: `*N`, then each argument as `$LEN` and its bytes.
    public static func command(_ arguments: [[UInt8]]) -> [UInt8] {
        var bytes = Array("*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            bytes += Array("$\(argument.count)\r\n".utf8)
            bytes += argument
            bytes += [13, 10]
        }
        return bytes
    }

    /// A reply that breaks the protocol.
    public struct Malformed: Error, Sendable, Equatable {
        public var detail: String
        init(_ detail: String) { self.detail = detail }
    }

    /// Parses one reply starting at `start`: the value and where it ends, nil when the
    /// buffer holds only part of it, or `Malformed`.
    public static func parse(_ bytes: [UInt8], from start: Int = 0) throws(Malformed) -> (value: RESPValue, end: Int)? {
        try parse(bytes, from: start, depth: 0)
    }

    private static func parse(_ bytes: [UInt8], from start: Int, depth: Int) throws(Malformed) -> (value: RESPValue, end: Int)? {
        guard start < bytes.count else { return nil }
        guard let (line, afterLine) = try self.line(bytes, from: start + 1) else { return nil }
        switch bytes[start] {
        case UInt8(ascii: "+"):
            return (.simple(String(decoding: line, as: UTF8.self)), afterLine)
        case UInt8(ascii: "-"):
            return (.error(String(decoding: line, as: UTF8.self)), afterLine)
        case UInt8(ascii: ":"):
            return (.integer(try integer(line)), afterLine)
        case UInt8(ascii: "$"):
            let length = try integer(line)
            if length == -1 { return (.bulk(nil), afterLine) }
            guard length >= 0, length <= maximumBulkBytes else { throw Malformed("a bulk string of \(length) bytes") }
            let end = afterLine + Int(length)
            guard end + 2 <= bytes.count else { return nil }
            guard bytes[end] == 13, bytes[end + 1] == 10 else { throw Malformed("a bulk string not ended by CRLF") }
            return (.bulk(Array(bytes[afterLine..<end])), end + 2)
        case UInt8(ascii: "*"):
            let count = try integer(line)
            if count == -1 { return (.array(nil), afterLine) }
            guard count >= 0, count <= maximumArrayCount else { throw Malformed("an array of \(count) elements") }
            guard depth < maximumDepth else { throw Malformed("arrays nested more than \(maximumDepth) deep") }
            var elements: [RESPValue] = []
            var position = afterLine
            for _ in 0..<count {
                guard let (element, next) = try parse(bytes, from: position, depth: depth + 1) else { return nil }
                elements.append(element)
                position = next
            }
            return (.array(elements), position)
        default:
            throw Malformed("an unknown reply type byte \(bytes[start])")
        }
    }

    /// The bytes up to the next CRLF, and where the line after it starts; nil when no CRLF yet.
    private static func line(_ bytes: [UInt8], from start: Int) throws(Malformed) -> (ArraySlice<UInt8>, Int)? {
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == 13 {
                guard bytes[index + 1] == 10 else { throw Malformed("a CR without LF") }
                return (bytes[start..<index], index + 2)
            }
            guard index - start < 64 * 1024 else { throw Malformed("a reply line over 64 KiB") }
            index += 1
        }
        return nil
    }

    /// A signed decimal of at most 19 digits.
    private static func integer(_ text: ArraySlice<UInt8>) throws(Malformed) -> Int64 {
        var digits = text[...]
        var negative = false
        if digits.first == UInt8(ascii: "-") {
            negative = true
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0 >= 48 && $0 <= 57 }) else {
            throw Malformed("\"\(String(decoding: text.prefix(24), as: UTF8.self))\" is not a number")
        }
        let value = digits.reduce(Int64(0)) { $0 * 10 + Int64($1 - 48) }
        return negative ? -value : value
    }
}
