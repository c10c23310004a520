#if canImport(Glibc)
import Glibc
#endif

/// The careful path for prompts the one-pass keyword scan leaves alone (invalid UTF-8,
/// a case fold that changes length): validates the UTF-8, measures the prompt, and
/// writes its case-folded form (white space runs collapsed to one space) for keyword
/// matching. Holds a reusable buffer; it belongs to one thread at a time.
public final class PromptScanner {
    private var folded: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Length of the folded text of the last prompt scanned.
    private(set) var foldedCount = 0

    public init() {
        capacity = 4096
        folded = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
    }

    deinit {
        folded.deallocate()
    }

    /// The folded text of the last prompt scanned with `fold: true`.
    var foldedText: UnsafePointer<UInt8> { UnsafePointer(folded) }

    /// Byte offset of the first invalid UTF-8 sequence found by the last `scan`.
    public private(set) var invalidOffset: Int?

    /// Measures a prompt and, when `fold` is true, folds it. Returns nil when the bytes
    /// are not valid UTF-8, with `invalidOffset` set to the first bad byte.
    public func scan(_ text: UnsafeBufferPointer<UInt8>, fold: Bool) -> PromptMeasurements? {
        var folds = FoldTable()
        return scan(text, fold: fold, folds: &folds)
    }

    /// `scan(_:fold:)` with the caller's fold cache.
    func scan(_ text: UnsafeBufferPointer<UInt8>, fold: Bool, folds: inout FoldTable) -> PromptMeasurements? {
        invalidOffset = nil
        if fold { reserve(text.count * 3 + 8) }
        guard let base = text.baseAddress, text.count > 0 else {
            foldedCount = 0
            return PromptMeasurements()
        }
        let count = text.count
        var out = 0
        var lastWasSpace = true  // drops leading white space from the folded text
        var continuationBytes = 0  // bytes after the first of each non-ASCII scalar
        var extraQuarters = 0  // quarter-tokens beyond one per scalar
        var index = 0
        let output = folded
        func emit(space: Bool) {
            if space && lastWasSpace { return }
            if fold && space {
                output[out] = 0x20
                out &+= 1
            }
            lastWasSpace = space
        }
        while index < count {
            let byte = base[index]
            if byte < 0x80 {
                let space = TextFolding.asciiSpace[Int(byte)] == 1
                emit(space: space)
                if fold && !space {
                    output[out] = TextFolding.asciiLowercase[Int(byte)]
                    out &+= 1
                }
                index &+= 1
                continue
            }
            guard let (value, length) = UTF8Decoding.decode(base, index, count) else {
                invalidOffset = index
                return nil
            }
            index &+= length
            continuationBytes &+= length &- 1
            extraQuarters &+= TokenEstimator.weight(value) - 1
            let action = folds.action(for: value)
            emit(space: action == .space)
            guard fold else { continue }
            switch action {
            case .space:
                break
            case .feed(let packed):
                for offset in 0..<length {
                    output[out] = UInt8(truncatingIfNeeded: packed >> UInt32(8 * offset))
                    out &+= 1
                }
            case .bail:
                for byte in TextFolding.foldedUTF8(value) {
                    output[out] = byte
                    out &+= 1
                }
            }
        }
        if fold && out > 0 && lastWasSpace { out -= 1 }  // no trailing space
        foldedCount = out
        let chars = count - continuationBytes
        return PromptMeasurements(
            words: WordCounter.count(text), chars: chars, tokens: (chars + extraQuarters + 3) / 4, lines: LineCounter.lines(in: text))
    }

    private func reserve(_ needed: Int) {
        guard needed > capacity else { return }
        folded.deallocate()
        capacity = max(needed, capacity * 2)
        folded = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
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
            var lineEnd = count
            if let base = text.baseAddress, let found = memchr(base + lineStart, 0x0A, count - lineStart) {
                lineEnd = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
            }
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
    private static let operators = [" => ", "::", " != ", " == ", " && ", " || ", "):", ") {"].map { Array($0.utf8) }

    static func looksLikeCode(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let lastByte = line.last else { return false }
        if lastByte == UInt8(ascii: ";") || lastByte == UInt8(ascii: "{") || lastByte == UInt8(ascii: "}") { return true }
        let first = line[0]
        if first == UInt8(ascii: "#") || first == UInt8(ascii: "d") || first == UInt8(ascii: "f") || first == UInt8(ascii: "c")
            || first == UInt8(ascii: "i") || first == UInt8(ascii: "p") {
            for start in declarationStarts where startsWith(line, start) {
                let punctuation = line.contains { [UInt8(ascii: "("), UInt8(ascii: "{"), UInt8(ascii: ":"), UInt8(ascii: ";"), UInt8(ascii: ".")].contains($0) }
                let spaces = line.reduce(0) { $0 + ($1 == 0x20 ? 1 : 0) }
                if punctuation || spaces == 1 { return true }
            }
        }
        return containsOperator(line)
    }

    /// Whether the line holds one of `operators`: each is found from the occurrences
    /// (by memchr) of its rarest byte, so prose lines cost almost nothing.
    private static func containsOperator(_ line: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = line.baseAddress else { return false }
        for anchor in [UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "&"), UInt8(ascii: "|"), UInt8(ascii: ")")] {
            var position = 0
            while position < line.count, let found = memchr(base + position, Int32(anchor), line.count - position) {
                let at = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
                for pattern in operators {
                    for (offset, byte) in pattern.enumerated() where byte == anchor {
                        let start = at - offset
                        guard start >= 0, start + pattern.count <= line.count else { continue }
                        var matched = true
                        for (index, expected) in pattern.enumerated() where line[start + index] != expected {
                            matched = false
                            break
                        }
                        if matched { return true }
                    }
                }
                position = at + 1
            }
        }
        return false
    }

    private static func startsWith(_ line: UnsafeBufferPointer<UInt8>, _ prefix: String) -> Bool {
        let utf8 = prefix.utf8
        guard line.count >= utf8.count else { return false }
        return zip(line, utf8).allSatisfy { $0 == $1 }
    }
}
