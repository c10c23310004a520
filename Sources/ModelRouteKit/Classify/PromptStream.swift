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

/// Reads prompts from a byte source in fixed-size chunks, so memory stays flat however
/// large the file is (only the longest line is held at once).
public struct PromptStream {
    public let format: PromptFileFormat
    private let chunkSize: Int
    private var carry: [UInt8] = []
    private var unescaped: [UInt8] = []

    public init(format: PromptFileFormat, chunkSize: Int = 1 << 20) {
        self.format = format
        self.chunkSize = chunkSize
    }

    /// Reads `source` to its end, calling `prompt` for each prompt and `problem` for each
    /// line that is not one. Stops early when `prompt` returns false.
    public mutating func read(
        from source: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int,
        prompt: (PromptItem) -> Bool,
        problem: (PromptLineProblem) -> Void
    ) throws(SystemError) {
        if format == .whole {
            var all: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: chunkSize)
            while true {
                let outcome: Result<Int, SystemError> = chunk.withUnsafeMutableBytes { buffer in
                    do throws(SystemError) { return .success(try source(buffer)) } catch { return .failure(error) }
                }
                let count = try outcome.get()
                if count == 0 { break }
                all.append(contentsOf: chunk[0..<count])
            }
            all.withUnsafeBufferPointer { _ = prompt(PromptItem(line: 1, id: nil, text: $0)) }
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        var lineNumber = 1
        var keepGoing = true
        while keepGoing {
            let count = try source(buffer)
            let bytes = UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: count)
            if count == 0 {
                if !carry.isEmpty {
                    let last = carry
                    carry.removeAll()
                    last.withUnsafeBufferPointer { _ = handleLine($0, number: lineNumber, prompt: prompt, problem: problem) }
                }
                return
            }
            var lineStart = 0
            while keepGoing, let newline = PromptStream.firstNewline(in: bytes, from: lineStart) {
                if carry.isEmpty {
                    keepGoing = handleLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<newline]), number: lineNumber, prompt: prompt, problem: problem)
                } else {
                    carry.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<newline]))
                    let line = carry
                    carry.removeAll(keepingCapacity: true)
                    keepGoing = line.withUnsafeBufferPointer { handleLine($0, number: lineNumber, prompt: prompt, problem: problem) }
                }
                lineNumber += 1
                lineStart = newline + 1
            }
            if lineStart < count { carry.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[lineStart..<count])) }
        }
    }

    private static func firstNewline(in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, 0x0A, bytes.count - start) else { return nil }
        return UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
    }

    private mutating func handleLine(
        _ rawLine: UnsafeBufferPointer<UInt8>, number: Int, prompt: (PromptItem) -> Bool, problem: (PromptLineProblem) -> Void
    ) -> Bool {
        var line = rawLine
        if let last = line.last, last == 0x0D { line = UnsafeBufferPointer(rebasing: line.dropLast()) }
        if format == .lines {
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
            return prompt(PromptItem(line: number, id: nil, text: line))
        }
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }  // blank lines between records are fine
        switch JSONLPromptScanner.scan(line, unescapeInto: &unescaped) {
        case .prompt(let range, let escaped, let id):
            if escaped {
                return unescaped.withUnsafeBufferPointer { prompt(PromptItem(line: number, id: id, text: $0)) }
            }
            return prompt(PromptItem(line: number, id: id, text: UnsafeBufferPointer(rebasing: line[range])))
        case .needsFullParse:
            return handleWithFullParser(line, number: number, prompt: prompt, problem: problem)
        }
    }

    /// The slow path: parse the line as a document, for exact error messages and for
    /// anything the fast scanner leaves alone.
    private func handleWithFullParser(
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

    static func scan(_ line: UnsafeBufferPointer<UInt8>, unescapeInto unescaped: inout [UInt8]) -> Outcome {
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
                    unescaped.removeAll(keepingCapacity: true)
                    var cursor = start
                    guard case .success = JSONStringUnescaper.unescape(line, from: &cursor, into: &unescaped) else { return .needsFullParse }
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
