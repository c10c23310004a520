/// The difficulty model's features, computed in one pass over a prompt's UTF-8. The
/// definition (also in the README):
///
/// **Tokens.** Lower-cased runs of ASCII letters, digits and `_`; a run of digits alone
/// becomes a number token that keeps only its length (`#1`, `#2`, `#3`, `#4+`), so "17
/// apples" and "42 apples" look alike. Every other ASCII symbol is a token, and so is a
/// line break. Every CJK, kana or hangul scalar is a token of its own, so text written
/// without spaces still has words and word pairs. A run of other non-ASCII scalars
/// (accented Latin, Cyrillic, Greek, …) is a word.
///
/// **Text features.** Every token, every pair of neighbouring tokens, the first token
/// and the first pair (how a prompt opens). Each weighs 1/√n, n being the number of
/// text features in the prompt, so a long prompt is not louder than a short one.
///
/// **Count features**, weighing 1 each: bins of question marks, numbers, math symbols
/// (`= + * / ^ < > %` and LaTeX commands) and CJK share, whether the prompt contains
/// code (`CodeDetector`), and two crossings: numbers × question marks, and estimated
/// tokens × code. Length and line count alone are left out on purpose: in the training
/// data they tell which dataset a prompt came from, not how hard it is, and held-out
/// sources were scored worse with them.
///
/// Every feature is hashed (FNV-1a, then one xor-shift and multiply) into the model's
/// buckets. `version` changes whenever any of this does; a model records the version
/// it was trained with and is refused by a modelroute computing another.
public enum DifficultyFeatures {
    /// The version of the definition above.
    public static let version = 1

    /// Calls `sink` with every feature of `text` (valid UTF-8; an invalid byte is skipped).
    /// Nothing here allocates: tokens are passed as spans of `text`, and only a sink that
    /// wants names (`--explain`) makes strings of them.
    @inline(__always)
    static func extract<Sink: DifficultyFeatureSink>(_ text: UnsafeBufferPointer<UInt8>, into sink: inout Sink) {
        var tokenizer = Tokenizer(text)
        var stream = TokenStream()
        while let (hash, span) = tokenizer.next() { stream.push(hash, span, into: &sink) }
        tokenizer.counts.emit(into: &sink, hasCode: text.isEmpty ? false : CodeDetector.containsCode(text))
    }

    /// Cuts a prompt into tokens, one at a time, counting as it goes.
    struct Tokenizer {
        let base: UnsafePointer<UInt8>?
        let count: Int
        var index = 0
        var counts = Counts()
        let wordFold = DifficultyFeatures.wordFold

        init(_ text: UnsafeBufferPointer<UInt8>) {
            base = text.baseAddress
            count = text.count
        }

        /// The next token's hash and place, or nil at the end.
        @inline(__always)
        mutating func next() -> (UInt64, TokenSpan)? {
            guard let base else { return nil }
            var word = fnvOffset
            var wordStart = -1
            var allDigits = true
            var digitRun = 0
            while index < count {
                let byte = base[index]
                if byte < 0x80 {
                    var folded = wordFold[Int(byte)]
                    if folded != 0 {
                        // A run of ASCII word bytes, hashed in one tight loop.
                        if wordStart < 0 { wordStart = index }
                        let start = index
                        var digits = 0
                        repeat {
                            word = (word ^ UInt64(folded)) &* fnvPrime
                            digits &+= folded &- 0x30 < 10 ? 1 : 0
                            index &+= 1
                            if index == count { break }
                            folded = wordFold[Int(base[index])]
                        } while folded != 0
                        let run = index &- start
                        counts.quarters &+= run
                        if digits != run { allDigits = false }
                        digitRun &+= run
                        continue
                    }
                    if wordStart >= 0 { break }  // the word ends here; this byte is read next time
                    counts.quarters &+= 1
                    index &+= 1
                    if byte > 0x20 && byte < 0x7F {
                        switch byte {
                        case UInt8(ascii: "?"): counts.questions &+= 1
                        case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "^"),
                            UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "%"):
                            counts.math &+= 1
                        case UInt8(ascii: "\\"):
                            if index < count, (base[index] | 0x20) &- 0x61 < 26 { counts.math &+= 1 }
                        default: break
                        }
                        return (symbolHash(byte), TokenSpan(start: index - 1, length: 1, kind: .symbol))
                    }
                    if byte == 0x0A { return (symbolHash(0x0A), TokenSpan(start: index - 1, length: 1, kind: .lineBreak)) }
                    continue
                }
                guard let (value, length) = UTF8Decoding.decode(base, index, count) else {
                    if wordStart >= 0 { break }
                    index &+= 1
                    continue
                }
                if TextFolding.isWhitespace(value) || TokenEstimator.isDenseScript(value) {
                    if wordStart >= 0 { break }
                    counts.quarters &+= TokenEstimator.weight(value)
                    index &+= length
                    if TextFolding.isWhitespace(value) { continue }
                    counts.dense &+= 1
                    if value == 0xFF1F { counts.questions &+= 1 }  // fullwidth question mark
                    return ((fnvOffset ^ UInt64(value) ^ 0x5C00_0000) &* fnvPrime, TokenSpan(start: index - length, length: length, kind: .word))
                }
                // A letter of another script: part of the word.
                counts.quarters &+= TokenEstimator.weight(value)
                if wordStart < 0 { wordStart = index }
                for offset in 0..<length { word = (word ^ UInt64(base[index + offset])) &* fnvPrime }
                allDigits = false
                index &+= length
            }
            guard wordStart >= 0 else { return nil }
            if allDigits {
                counts.numbers &+= 1
                let length = min(digitRun, 4)
                return (numberHash(length), TokenSpan(start: wordStart, length: length, kind: .number))
            }
            return (word, TokenSpan(start: wordStart, length: index - wordStart, kind: .word))
        }
    }

    /// Text-feature state: the previous token, and how many came before.
    struct TokenStream {
        var previous: UInt64 = 0
        var position = 0

        /// The token's own feature first (a naming sink remembers its span for the next
        /// pair), then the pair with the previous token, then the opening ones.
        @inline(__always)
        mutating func push<Sink: DifficultyFeatureSink>(_ token: UInt64, _ span: TokenSpan, into sink: inout Sink) {
            sink.text(mix(token ^ 0x1111_0000_0000_0001), .word, span)
            let pair = (previous &* 0x9E37_79B9_7F4A_7C15) ^ token
            if position > 1 {
                sink.text(mix(pair ^ 0x2222_0000_0000_0002), .pair, span)
            } else if position == 0 {
                sink.text(mix(token ^ 0x3333_0000_0000_0003), .opening, span)
            } else {
                sink.text(mix(pair ^ 0x2222_0000_0000_0002), .pair, span)
                sink.text(mix(pair ^ 0x4444_0000_0000_0004), .openingPair, span)
            }
            previous = token
            position &+= 1
        }
    }

    /// What the count features are made of.
    struct Counts {
        var quarters = 0
        var questions = 0
        var numbers = 0
        var math = 0
        var dense = 0

        /// The estimated tokens, as `TokenEstimator` counts them.
        var tokens: Int { (quarters + 3) / 4 }

        @inline(__always)
        func emit<Sink: DifficultyFeatureSink>(into sink: inout Sink, hasCode: Bool) {
            let size = min(bitWidth(tokens), 13)
            let questionBin = min(questions, 3)
            let numberBin = numbers == 0 ? 0 : min(bitWidth(numbers), 5)
            let mathBin = math == 0 ? 0 : min(bitWidth(math), 5)
            let denseBin = dense == 0 ? 0 : dense * 3 < quarters / 4 ? 1 : 2
            let code = hasCode ? 1 : 0
            @inline(__always) func feature(_ family: CountFamily, _ bin: Int) {
                sink.count(mix((UInt64(family.rawValue) << 32) ^ UInt64(bin) ^ 0x5555_0000_0000_0005), family, bin)
            }
            feature(.questionMarks, questionBin)
            feature(.numbers, numberBin)
            feature(.mathSymbols, mathBin)
            feature(.cjkShare, denseBin)
            feature(.hasCode, code)
            feature(.numbersByQuestions, numberBin * 4 + questionBin)
            feature(.sizeByCode, size * 2 + code)
        }

        private func bitWidth(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }
    }

    /// For each byte: the lower-cased letter, the digit or `_` it is in a word, else 0
    /// (every other ASCII byte, and every byte of a non-ASCII character). Static memory,
    /// so the scan's inner loop reads it without a bounds check.
    nonisolated(unsafe) static let wordFold: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        for byte in 0..<256 {
            let value = UInt8(byte)
            switch value {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"): table[byte] = value
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): table[byte] = value | 0x20
            default: table[byte] = 0
            }
        }
        return UnsafePointer(table)
    }()

    /// The hash of a number token of `length` digits (4 meaning 4 or more).
    @inline(__always)
    static func numberHash(_ length: Int) -> UInt64 { (fnvOffset ^ UInt64(length) ^ 0x6600) &* fnvPrime }

    /// The hash of a one-byte symbol token (or the line break).
    @inline(__always)
    static func symbolHash(_ byte: UInt8) -> UInt64 { (fnvOffset ^ UInt64(byte) ^ 0x7700) &* fnvPrime }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// The final mix of a feature hash before it is reduced to a bucket (the top bits are used).
    @inline(__always)
    static func mix(_ hash: UInt64) -> UInt64 {
        (hash ^ (hash >> 29)) &* 0xD6E8_FEB8_6659_FD93
    }
}

/// A token's place in the prompt, so a sink that wants names can make one.
struct TokenSpan {
    enum Kind: UInt8 {
        /// Letters, digits and `_`, or one CJK character; the name is the lower-cased bytes.
        case word
        /// A run of digits; `length` is its length class (1 to 4, 4 meaning 4 or more).
        case number
        /// One ASCII symbol.
        case symbol
        case lineBreak
    }

    var start: Int
    var length: Int
    var kind: Kind
}

/// The kinds of text feature.
enum TextFeatureKind {
    case word
    case pair
    case opening
    case openingPair
}

/// The families of count feature, by the number their hashes carry.
enum CountFamily: Int, CaseIterable {
    case questionMarks = 3
    case numbers = 4
    case mathSymbols = 5
    case cjkShare = 6
    case hasCode = 7
    case numbersByQuestions = 8
    case sizeByCode = 9

    /// The name `--explain` shows.
    var name: String {
        switch self {
        case .questionMarks: return "question marks"
        case .numbers: return "numbers bin"
        case .mathSymbols: return "math symbols bin"
        case .cjkShare: return "CJK share bin"
        case .hasCode: return "has code"
        case .numbersByQuestions: return "numbers×questions"
        case .sizeByCode: return "size×code"
        }
    }
}

/// Receives features as they are computed: the scorer adds weights, the trainer
/// collects bucket numbers, `--explain` names them.
protocol DifficultyFeatureSink {
    /// A text feature (weighs 1/√n) of the token at `token`; a token's `.word` feature
    /// comes before its pairs, so a sink can keep the previous token's span itself.
    mutating func text(_ hash: UInt64, _ kind: TextFeatureKind, _ token: TokenSpan)
    /// A count feature (weighs 1).
    mutating func count(_ hash: UInt64, _ family: CountFamily, _ bin: Int)
}
