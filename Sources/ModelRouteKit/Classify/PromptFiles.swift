#if canImport(Glibc)
import Glibc
#endif

/// How a file of prompts is cut into prompts.
public enum PromptFileFormat: String, Sendable, CaseIterable {
    /// One JSON object per line with a `prompt` string and an optional `id`.
    case jsonl
    /// Every non-empty line is a prompt.
    case lines
    /// The whole file is one prompt.
    case whole

    /// The format a file's name implies: `.jsonl` and `.ndjson` are JSONL, anything else one prompt.
    public static func forFile(named name: String) -> PromptFileFormat {
        name.hasSuffix(".jsonl") || name.hasSuffix(".ndjson") ? .jsonl : .whole
    }
}

/// One prompt read from a stream; its bytes are valid only during the callback.
public struct PromptItem {
    /// 1-based line where the prompt starts (1 for whole files).
    public var line: Int
    /// The `id` of a JSONL record, as text (a JSON string's content or a number's digits).
    public var id: String?
    /// The prompt's UTF-8 (not yet checked for validity).
    public var text: UnsafeBufferPointer<UInt8>
}

/// A line of a prompt file that could not be read as a prompt.
public struct PromptLineProblem: Sendable, Equatable {
    public var line: Int
    public var column: Int?
    public var message: String
}

/// Turns one line of a prompt file into a prompt, or into a problem to report.
/// Holds a reusable buffer for prompts with JSON escapes.
public struct PromptLineDecoder {
    public let format: PromptFileFormat
    private let unescaped = ByteBuffer()

    public init(format: PromptFileFormat) {
        self.format = format
    }

    /// Calls `prompt` with the line's prompt, `problem` when it has none, or neither for a
    /// blank line. Returns what `prompt` returned (false: stop), else true.
    public mutating func decode(
        _ rawLine: UnsafeBufferPointer<UInt8>, number: Int, prompt: (PromptItem) -> Bool, problem: (PromptLineProblem) -> Void
    ) -> Bool {
        var line = rawLine
        if let last = line.last, last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
        if PromptLineDecoder.isBlank(line) { return true }  // blank lines between records are fine
        if format != .jsonl { return prompt(PromptItem(line: number, id: nil, text: line)) }
        switch JSONLPromptScanner.scan(line, unescapeInto: unescaped) {
        case .prompt(let range, let escaped, let id):
            if escaped {
                return prompt(PromptItem(line: number, id: id, text: unescaped.bytes))
            }
            return prompt(PromptItem(line: number, id: id, text: UnsafeBufferPointer(rebasing: line[range])))
        case .needsFullParse:
            return PromptLineDecoder.decodeWithFullParser(line, number: number, prompt: prompt, problem: problem)
        }
    }

    private static func isBlank(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in line where byte != 0x20 && byte != 0x09 { return false }
        return true
    }

    /// The slow path: parse the line as a document, for exact error messages and for
    /// anything the fast scanner leaves alone.
    private static func decodeWithFullParser(
        _ line: UnsafeBufferPointer<UInt8>, number: Int, prompt: (PromptItem) -> Bool, problem: (PromptLineProblem) -> Void
    ) -> Bool {
        let node: JSONNode
        do {
            node = try JSONParser.parse(line)
        } catch {
            let column = SourceLocation(offset: error.offset, in: Array(line)).column
            problem(PromptLineProblem(line: number, column: column, message: "not valid JSON: \(error.message)"))
            return true
        }
        guard case .object = node.value else {
            problem(PromptLineProblem(line: number, column: nil, message: "expected a JSON object with a \"prompt\" string, found \(node.value.kindDescription)"))
            return true
        }
        guard let promptNode = node["prompt"] else {
            problem(PromptLineProblem(line: number, column: nil, message: "the object has no \"prompt\" key"))
            return true
        }
        guard case .string(var text) = promptNode.value else {
            problem(PromptLineProblem(line: number, column: nil, message: "\"prompt\" must be a string, found \(promptNode.value.kindDescription)"))
            return true
        }
        var id: String?
        if let idNode = node["id"] {
            switch idNode.value {
            case .string(let value): id = value
            case .number(let value):
                var bytes: [UInt8] = []
                JSONWriter.appendNumber(value, to: &bytes)
                id = String(decoding: bytes, as: UTF8.self)
            case .null: id = nil
            default:
                problem(PromptLineProblem(line: number, column: nil, message: "\"id\" must be a string or a number, found \(idNode.value.kindDescription)"))
                return true
            }
        }
        return text.withUTF8 { prompt(PromptItem(line: number, id: id, text: $0)) }
    }
}

/// Reads a byte source in large chunks that each end at a line break (or at the end of
/// input), so lines can be handed to several threads without splitting any. Each chunk
/// is read straight into the caller's buffer; only the start of a line cut off at the
/// end of a chunk is copied, to begin the next one. Memory is the chunk size plus the
/// longest line.
final class LineChunkReader {
    private let chunkSize: Int
    /// The start of a line that did not fit in the previous chunk.
    private let carry = ByteBuffer(capacity: 4096)
    private var finished = false

    /// `chunkSize` is the least a chunk holds before it is cut at its last line break;
    /// `Int.max` reads everything as one chunk.
    init(chunkSize: Int = 1 << 20) {
        self.chunkSize = max(1, chunkSize)
    }

    /// Fills `chunk` with the next chunk; false (and `chunk` empty) at the end of input.
    func next(into chunk: ByteBuffer, from source: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int) throws(SystemError) -> Bool {
        chunk.count = 0
        chunk.append(contentsOf: carry.bytes)
        carry.count = 0
        // No line break before this point: a long line is not searched again.
        var searchedUpTo = 0
        while !finished {
            if chunk.count >= chunkSize {
                if let cut = LineChunkReader.lastLineBreak(in: chunk, from: searchedUpTo) {
                    carry.append(contentsOf: UnsafeBufferPointer(rebasing: chunk.bytes[(cut + 1)...]))
                    chunk.count = cut + 1
                    return true
                }
                searchedUpTo = chunk.count
            }
            // Up to the chunk size in one read; past it (a long line, or one chunk for
            // everything) the buffer doubles.
            let wanted = chunk.count < chunkSize && chunkSize != .max ? chunkSize - chunk.count : max(64 * 1024, chunk.count)
            let read = try source(chunk.spareCapacity(atLeast: wanted))
            if read == 0 { finished = true }
            chunk.count += read
        }
        return chunk.count > 0
    }

    private static func lastLineBreak(in chunk: ByteBuffer, from start: Int) -> Int? {
        // Backwards: the last break is usually within a line of the end.
        var index = chunk.count - 1
        while index >= start {
            if chunk.base[index] == 0x0A { return index }
            index -= 1
        }
        return nil
    }
}

/// The fast path for JSONL prompt lines: finds the top-level `prompt` and `id` values
/// without building a tree, validating the structure of everything it skips. Anything
/// unusual (escaped keys, a missing prompt, any syntax error) is left to the full parser,
/// which also words the error.
enum JSONLPromptScanner {
    enum Outcome {
        /// The prompt's bytes are `line[range]`, or `unescaped` when `escaped` is true.
        case prompt(Range<Int>, escaped: Bool, id: String?)
        case needsFullParse
    }

    static func scan(_ line: UnsafeBufferPointer<UInt8>, unescapeInto unescaped: ByteBuffer) -> Outcome {
        var index = 0
        let count = line.count
        func skipSpace() { while index < count, line[index] == 0x20 || line[index] == 0x09 || line[index] == 0x0D { index += 1 } }
        skipSpace()
        guard index < count, line[index] == UInt8(ascii: "{") else { return .needsFullParse }
        index += 1
        var promptRange: Range<Int>?
        var promptEscaped = false
        var id: String?
        skipSpace()
        if index < count, line[index] == UInt8(ascii: "}") { return .needsFullParse }
        while true {
            skipSpace()
            guard index < count, line[index] == UInt8(ascii: "\"") else { return .needsFullParse }
            let keyStart = index + 1
            guard let keyEnd = plainStringEnd(line, from: keyStart) else { return .needsFullParse }
            let key = UnsafeBufferPointer(rebasing: line[keyStart..<keyEnd])
            index = keyEnd + 1
            skipSpace()
            guard index < count, line[index] == UInt8(ascii: ":") else { return .needsFullParse }
            index += 1
            skipSpace()
            guard index < count else { return .needsFullParse }
            if equals(key, "prompt") {
                guard line[index] == UInt8(ascii: "\""), promptRange == nil else { return .needsFullParse }
                let start = index + 1
                if let end = plainStringEnd(line, from: start) {
                    promptRange = start..<end
                    promptEscaped = false
                    index = end + 1
                } else {
                    var cursor = start
                    guard case .success = JSONStringUnescaper.unescape(line, from: &cursor, into: unescaped) else { return .needsFullParse }
                    promptRange = start..<(cursor - 1)
                    promptEscaped = true
                    index = cursor
                }
            } else if equals(key, "id") {
                let start = index
                guard skipValue(line, &index, depth: 0) else { return .needsFullParse }
                if line[start] == UInt8(ascii: "\"") {
                    guard let end = plainStringEnd(line, from: start + 1), end == index - 1 else { return .needsFullParse }
                    id = String(decoding: UnsafeBufferPointer(rebasing: line[(start + 1)..<end]), as: UTF8.self)
                } else if line[start] == UInt8(ascii: "-") || (line[start] >= 0x30 && line[start] <= 0x39) {
                    id = String(decoding: UnsafeBufferPointer(rebasing: line[start..<index]), as: UTF8.self)
                } else {
                    return .needsFullParse
                }
            } else {
                guard skipValue(line, &index, depth: 0) else { return .needsFullParse }
            }
            skipSpace()
            guard index < count else { return .needsFullParse }
            if line[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard line[index] == UInt8(ascii: "}") else { return .needsFullParse }
            index += 1
            skipSpace()
            guard index == count, let range = promptRange else { return .needsFullParse }
            // Raw bytes must be valid UTF-8 with no control characters; the prompt
            // scanner checks UTF-8, control characters were rejected by plainStringEnd.
            return .prompt(range, escaped: promptEscaped, id: id)
        }
    }

    /// End index of a string with no escapes starting at `start` (just after the quote);
    /// nil when it has escapes, control characters or no end.
    @inline(__always)
    static func plainStringEnd(_ line: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var index = start
        let count = line.count
        if let base = line.baseAddress { index = JSONByteScan.nextSpecial(base, from: start, to: count) }
        while index < count {
            let byte = line[index]
            if byte == UInt8(ascii: "\"") { return index }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
            index += 1
        }
        return nil
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        let start = text.utf8Start
        for index in 0..<bytes.count where bytes[index] != start[index] { return false }
        return true
    }

    /// Skips one JSON value, checking its structure; false on any error.
    static func skipValue(_ line: UnsafeBufferPointer<UInt8>, _ index: inout Int, depth: Int) -> Bool {
        let count = line.count
        guard index < count, depth < 128 else { return false }
        func skipSpace() { while index < count, line[index] == 0x20 || line[index] == 0x09 || line[index] == 0x0D || line[index] == 0x0A { index += 1 } }
        switch line[index] {
        case UInt8(ascii: "\""):
            index += 1
            while index < count {
                let byte = line[index]
                if byte == UInt8(ascii: "\"") { index += 1; return true }
                if byte < 0x20 { return false }
                if byte == UInt8(ascii: "\\") {
                    index += 1
                    guard index < count else { return false }
                    if line[index] == UInt8(ascii: "u") {
                        guard index + 4 < count else { return false }
                        for offset in 1...4 where !isHexDigit(line[index + offset]) { return false }
                        index += 4
                    } else if !"\"\\/bfnrt".utf8.contains(line[index]) {
                        return false
                    }
                }
                index += 1
            }
            return false
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let isObject = line[index] == UInt8(ascii: "{")
            let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
            index += 1
            skipSpace()
            if index < count, line[index] == close { index += 1; return true }
            while true {
                skipSpace()
                if isObject {
                    guard index < count, line[index] == UInt8(ascii: "\""), skipValue(line, &index, depth: depth + 1) else { return false }
                    skipSpace()
                    guard index < count, line[index] == UInt8(ascii: ":") else { return false }
                    index += 1
                    skipSpace()
                }
                guard skipValue(line, &index, depth: depth + 1) else { return false }
                skipSpace()
                guard index < count else { return false }
                if line[index] == UInt8(ascii: ",") { index += 1; continue }
                if line[index] == close { index += 1; return true }
                return false
            }
        case UInt8(ascii: "t"): return skipLiteral(line, &index, "true")
        case UInt8(ascii: "f"): return skipLiteral(line, &index, "false")
        case UInt8(ascii: "n"): return skipLiteral(line, &index, "null")
        default:
            // Numbers: a loose check here; the full parser judges anything odd.
            let start = index
            while index < count, "+-.eE0123456789".utf8.contains(line[index]) { index += 1 }
            guard index > start else { return false }
            let first = line[start]
            return first == UInt8(ascii: "-") || (first >= 0x30 && first <= 0x39)
        }
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (0x30...0x39).contains(byte) || (0x41...0x46).contains(byte) || (0x61...0x66).contains(byte)
    }

    private static func skipLiteral(_ line: UnsafeBufferPointer<UInt8>, _ index: inout Int, _ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard index + length <= line.count else { return false }
        for offset in 0..<length where line[index + offset] != literal.utf8Start[offset] { return false }
        index += length
        return true
    }
}
