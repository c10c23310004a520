/// Reads a prompt once: validates its UTF-8, counts words, characters, tokens and
/// lines, and writes its case-folded form (white space runs collapsed to one space)
/// for keyword matching. Holds reusable buffers, so one scanner serves a stream of
/// prompts without allocating; it belongs to one thread at a time.
public final class PromptScanner {
    private var folded: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Length of the folded text of the last prompt scanned.
    private(set) var foldedCount = 0
    /// Case folds of non-ASCII scalars seen so far.
    private var foldCache: [UInt32: [UInt8]] = [:]

    public init() {
        capacity = 4096
        folded = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        folded.deallocate()
    }

    /// The folded text of the last prompt scanned with `fold: true`.
    var foldedText: UnsafePointer<UInt8> { UnsafePointer(folded) }

    /// Measures a prompt and, when `fold` is true, folds it. Returns nil when the bytes
    /// are not valid UTF-8, with `invalidOffset` set to the first bad byte.
    public func scan(_ text: UnsafeBufferPointer<UInt8>, fold: Bool) -> PromptMeasurements? {
        invalidOffset = nil
        if fold { reserve(text.count * 3 + 8) }
        guard let base = text.baseAddress, text.count > 0 else {
            foldedCount = 0
            return PromptMeasurements()
        }
        let count = text.count
        var out = 0
        var lastWasSpace = true  // drops leading white space from the folded text
        var inWord = false
        var words = 0
        var chars = 0
        var quarters = 0
        var newlines = 0
        var index = 0
        let flags = TextFolding.asciiFlags
        let lower = TextFolding.asciiLowercase
        let output = folded
        while index < count {
            let byte = base[index]
            if byte < 0x80 {
                chars &+= 1
                quarters &+= 1
                if flags[Int(byte)] & TextFolding.whitespaceFlag != 0 {
                    if byte == 0x0A { newlines &+= 1 }
                    inWord = false
                    if fold && !lastWasSpace {
                        output[out] = 0x20
                        out &+= 1
                        lastWasSpace = true
                    }
                } else {
                    if !inWord {
                        words &+= 1
                        inWord = true
                    }
                    if fold {
                        output[out] = lower[Int(byte)]
                        out &+= 1
                        lastWasSpace = false
                    }
                }
                index &+= 1
                continue
            }
            guard let (value, length) = PromptScanner.decode(base, index, count) else {
                invalidOffset = index
                return nil
            }
            index &+= length
            chars &+= 1
            quarters &+= TokenEstimator.weight(value)
            if TextFolding.isWhitespace(value) {
                inWord = false
                if fold && !lastWasSpace {
                    output[out] = 0x20
                    out &+= 1
                    lastWasSpace = true
                }
                continue
            }
            if !inWord {
                words &+= 1
                inWord = true
            }
            if fold {
                let bytes = foldedBytes(value)
                for byte in bytes {
                    output[out] = byte
                    out &+= 1
                }
                lastWasSpace = false
            }
        }
        if fold && out > 0 && lastWasSpace { out -= 1 }  // no trailing space
        foldedCount = out
        // A final line break ends the last line rather than starting another, as in `wc -l` plus an unterminated last line.
        let lines = chars == 0 ? 0 : newlines + (base[count - 1] == 0x0A ? 0 : 1)
        return PromptMeasurements(words: words, chars: chars, tokens: (quarters + 3) / 4, lines: lines)
    }

    /// Byte offset of the first invalid UTF-8 sequence found by the last `scan`.
    public private(set) var invalidOffset: Int?

    private func foldedBytes(_ value: UInt32) -> [UInt8] {
        if let cached = foldCache[value] { return cached }
        let bytes = TextFolding.foldedUTF8(value)
        if foldCache.count < 65_536 { foldCache[value] = bytes }
        return bytes
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        folded.deallocate()
        capacity = max(needed, capacity * 2)
        folded = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    /// Decodes one non-ASCII scalar, rejecting overlong forms, surrogates and values
    /// above U+10FFFF; nil for invalid UTF-8.
    @inline(__always)
    static func decode(_ bytes: UnsafePointer<UInt8>, _ index: Int, _ count: Int) -> (UInt32, Int)? {
        let lead = bytes[index]
        @inline(__always) func continuation(_ offset: Int) -> UInt32? {
            guard index + offset < count else { return nil }
            let byte = bytes[index + offset]
            return byte & 0xC0 == 0x80 ? UInt32(byte & 0x3F) : nil
        }
        switch lead {
        case 0xC2...0xDF:
            guard let b1 = continuation(1) else { return nil }
            return (UInt32(lead & 0x1F) << 6 | b1, 2)
        case 0xE0...0xEF:
            guard let b1 = continuation(1), let b2 = continuation(2) else { return nil }
            let value = UInt32(lead & 0x0F) << 12 | b1 << 6 | b2
            guard value >= 0x800, !(0xD800...0xDFFF).contains(value) else { return nil }
            return (value, 3)
        case 0xF0...0xF4:
            guard let b1 = continuation(1), let b2 = continuation(2), let b3 = continuation(3) else { return nil }
            let value = UInt32(lead & 0x07) << 18 | b1 << 12 | b2 << 6 | b3
            guard value >= 0x10000, value <= 0x10FFFF else { return nil }
            return (value, 4)
        default:
            return nil
        }
    }
}

/// Decides whether a prompt contains code. The definition, also in the README:
///
/// A prompt contains code when it has a Markdown code fence (a line whose first
/// non-blank characters are ``` or ~~~), or at least two lines that look like code.
/// A line looks like code when, trimmed, it
/// - ends with `;`, `{` or `}`; or
/// - starts with `#include`, `#!/`, `def `, `fn `, `func `, `function `, `class `,
///   `import ` or `package ` and contains `(`, `{`, `:`, `;` or `.`, or is just two words; or
/// - contains one of ` => `, `::`, ` != `, ` == `, ` && `, ` || `, `):`, `) {`.
public enum CodeDetector {
    /// Whether `text` (valid UTF-8) contains code.
    public static func containsCode(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var codeLines = 0
        var lineStart = 0
        let count = text.count
        while lineStart < count {
            var lineEnd = lineStart
            while lineEnd < count, text[lineEnd] != 0x0A { lineEnd += 1 }
            var first = lineStart
            var last = lineEnd
            while first < last, text[first] == 0x20 || text[first] == 0x09 { first += 1 }
            while last > first, text[last - 1] == 0x20 || text[last - 1] == 0x09 || text[last - 1] == 0x0D { last -= 1 }
            if first < last {
                let line = UnsafeBufferPointer(rebasing: text[first..<last])
                if startsWith(line, "```") || startsWith(line, "~~~") { return true }
                if looksLikeCode(line) {
                    codeLines += 1
                    if codeLines >= 2 { return true }
                }
            }
            lineStart = lineEnd + 1
        }
        return false
    }

    private static let declarationStarts = ["#include", "#!/", "def ", "fn ", "func ", "function ", "class ", "import ", "package "]
    private static let operators = [" => ", "::", " != ", " == ", " && ", " || ", "):", ") {"]

    static func looksLikeCode(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let lastByte = line.last else { return false }
        if lastByte == UInt8(ascii: ";") || lastByte == UInt8(ascii: "{") || lastByte == UInt8(ascii: "}") { return true }
        for start in declarationStarts where startsWith(line, start) {
            let punctuation = line.contains { [UInt8(ascii: "("), UInt8(ascii: "{"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: ".")].contains($0) }
            let spaces = line.reduce(0) { $0 + ($1 == 0x20 ? 1 : 0) }
            if punctuation || spaces == 1 { return true }
        }
        for symbol in operators where contains(line, symbol) { return true }
        return false
    }

    private static func startsWith(_ line: UnsafeBufferPointer<UInt8>, _ prefix: String) -> Bool {
        let utf8 = prefix.utf8
        guard line.count >= utf8.count else { return false }
        return zip(line, utf8).allSatisfy { $0 == $1 }
    }

    private static func contains(_ line: UnsafeBufferPointer<UInt8>, _ needle: String) -> Bool {
        let pattern = Array(needle.utf8)
        guard line.count >= pattern.count else { return false }
        for start in 0...(line.count - pattern.count) where line[start] == pattern[0] {
            var matched = true
            for offset in 1..<pattern.count where line[start + offset] != pattern[offset] {
                matched = false
                break
            }
            if matched { return true }
        }
        return false
    }
}
