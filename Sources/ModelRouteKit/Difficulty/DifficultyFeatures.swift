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
/// Every feature is hashed (FNV-1a, then a multiplicative mix) into the model's
/// buckets. `version` changes whenever any of this does; a model records the version
/// it was trained with and is refused by a modelroute computing another.
public enum DifficultyFeatures {
    /// The version of the definition above.
    public static let version = 1

    /// Calls `sink` with every feature of `text` (valid UTF-8; an invalid byte is skipped).
    @inline(__always)
    static func extract<Sink: DifficultyFeatureSink>(_ text: UnsafeBufferPointer<UInt8>, into sink: inout Sink) {
        var tokens = TokenStream<Sink>()
        var counts = Counts()
        let count = text.count
        guard let base = text.baseAddress, count > 0 else {
            counts.emit(into: &sink, hasCode: false)
            return
        }
        var index = 0
        var word: UInt64 = fnvOffset
        var wordLength = 0
        var wordStart = 0
        var allDigits = true
        @inline(__always) func endWord(_ sink: inout Sink) {
            guard wordLength > 0 else { return }
            if allDigits {
                counts.numbers &+= 1
                let length = min(wordLength, 4)
                tokens.push(numberHashes[length], into: &sink, name: Sink.wantsNames ? "#\(length)\(length == 4 ? "+" : "")" : "")
            } else {
                let name = Sink.wantsNames ? String(decoding: UnsafeBufferPointer(start: base + wordStart, count: index - wordStart), as: UTF8.self).lowercased() : ""
                tokens.push(word, into: &sink, name: name)
            }
            word = fnvOffset
            wordLength = 0
            allDigits = true
        }
        while index < count {
            let byte = base[index]
            if byte < 0x80 {
                counts.quarters &+= 1
                let kind = asciiKind[Int(byte)]
                if kind >= Kind.letter {
                    if wordLength == 0 { wordStart = index }
                    word = (word ^ UInt64(byte | (kind == Kind.letter ? 0x20 : 0))) &* fnvPrime
                    wordLength &+= 1
                    if kind != Kind.digit { allDigits = false } else { counts.digits &+= 1 }
                    index &+= 1
                    continue
                }
                endWord(&sink)
                if kind == Kind.symbol {
                    switch byte {
                    case UInt8(ascii: "?"): counts.questions &+= 1
                    case UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "*"), UInt8(ascii: "/"), UInt8(ascii: "^"),
                        UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "%"):
                        counts.math &+= 1
                    case UInt8(ascii: "\\"):
                        if index + 1 < count, asciiKind[Int(base[index + 1])] == Kind.letter { counts.math &+= 1 }
                    default: break
                    }
                    tokens.push(symbolHashes[Int(byte)], into: &sink, name: Sink.wantsNames ? String(UnicodeScalar(byte)) : "")
                } else if byte == 0x0A {
                    tokens.push(symbolHashes[0x0A], into: &sink, name: Sink.wantsNames ? "⏎" : "")
                }
                index &+= 1
                continue
            }
            guard let (value, length) = UTF8Decoding.decode(base, index, count) else {
                index &+= 1
                continue
            }
            counts.quarters &+= TokenEstimator.weight(value)
            if TextFolding.isWhitespace(value) {
                endWord(&sink)
                index &+= length
                continue
            }
            if TokenEstimator.isDenseScript(value) {
                endWord(&sink)
                counts.dense &+= 1
                if value == 0xFF1F { counts.questions &+= 1 }  // fullwidth question mark
                let hash = (fnvOffset ^ UInt64(value) ^ 0x5C00_0000) &* fnvPrime
                tokens.push(hash, into: &sink, name: Sink.wantsNames ? String(Character(UnicodeScalar(value) ?? " ")) : "")
                index &+= length
                continue
            }
            if wordLength == 0 { wordStart = index }
            for offset in 0..<length { word = (word ^ UInt64(base[index + offset])) &* fnvPrime }
            wordLength &+= 1
            allDigits = false
            index &+= length
        }
        endWord(&sink)
        counts.emit(into: &sink, hasCode: CodeDetector.containsCode(text))
    }

    /// Text-feature state: the previous token, and how many came before.
    struct TokenStream<Sink: DifficultyFeatureSink> {
        var previous: UInt64 = 0
        var previousName = ""
        var position = 0

        @inline(__always)
        mutating func push(_ token: UInt64, into sink: inout Sink, name: @autoclosure () -> String) {
            let own = Sink.wantsNames ? name() : ""
            sink.text(mix(token ^ 0x1111_0000_0000_0001), name: own)
            let pair = (previous &* 0x9E37_79B9_7F4A_7C15) ^ token
            if position > 0 { sink.text(mix(pair ^ 0x2222_0000_0000_0002), name: Sink.wantsNames ? previousName + " " + own : "") }
            if position == 0 { sink.text(mix(token ^ 0x3333_0000_0000_0003), name: Sink.wantsNames ? "opens with " + own : "") }
            if position == 1 { sink.text(mix(pair ^ 0x4444_0000_0000_0004), name: Sink.wantsNames ? "opens with " + previousName + " " + own : "") }
            previous = token
            if Sink.wantsNames { previousName = own }
            position &+= 1
        }
    }

    /// What the count features are made of.
    struct Counts {
        var quarters = 0
        var questions = 0
        var numbers = 0
        var digits = 0
        var math = 0
        var dense = 0

        /// The estimated tokens, as `TokenEstimator` counts them.
        var tokens: Int { (quarters + 3) / 4 }

        func emit<Sink: DifficultyFeatureSink>(into sink: inout Sink, hasCode: Bool) {
            let size = min(bitWidth(tokens), 13)
            let questionBin = min(questions, 3)
            let numberBin = numbers == 0 ? 0 : min(bitWidth(numbers), 5)
            let mathBin = math == 0 ? 0 : min(bitWidth(math), 5)
            let denseBin = dense == 0 ? 0 : dense * 3 < quarters / 4 ? 1 : 2
            let code = hasCode ? 1 : 0
            func feature(_ name: String, _ family: UInt64, _ bin: Int) {
                sink.count(mix((family << 32) ^ UInt64(bin) ^ 0x5555_0000_0000_0005), name: Sink.wantsNames ? "\(name) \(bin)" : "")
            }
            feature("question marks", 3, questionBin)
            feature("numbers bin", 4, numberBin)
            feature("math symbols bin", 5, mathBin)
            feature("CJK share bin", 6, denseBin)
            feature("has code", 7, code)
            feature("numbers×questions", 8, numberBin * 4 + questionBin)
            feature("size×code", 9, size * 2 + code)
        }

        private func bitWidth(_ value: Int) -> Int { value <= 0 ? 0 : Int.bitWidth - value.leadingZeroBitCount }
    }

    static let fnvOffset: UInt64 = 0xCBF2_9CE4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    /// The final mix of a feature hash before it is reduced to a bucket (the top bits are used).
    @inline(__always)
    static func mix(_ hash: UInt64) -> UInt64 {
        var z = hash
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        z = (z ^ (z >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return z ^ (z >> 32)
    }

    /// Character classes of ASCII bytes.
    enum Kind {
        static let space: UInt8 = 0
        static let symbol: UInt8 = 1
        static let letter: UInt8 = 2
        static let digit: UInt8 = 3
        static let underscore: UInt8 = 4
    }

    static let asciiKind: [UInt8] = (0..<128).map { byte -> UInt8 in
        switch UInt8(byte) {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return Kind.letter
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return Kind.digit
        case UInt8(ascii: "_"): return Kind.underscore
        case 0x21...0x7E: return Kind.symbol
        default: return Kind.space
        }
    }

    /// Token hashes of single ASCII symbols (and the line break).
    static let symbolHashes: [UInt64] = (0..<128).map { (fnvOffset ^ UInt64($0) ^ 0x7700) &* fnvPrime }
    /// Token hashes of number tokens by length (index 1 to 4).
    static let numberHashes: [UInt64] = (0..<5).map { (fnvOffset ^ UInt64($0) ^ 0x6600) &* fnvPrime }
}

/// Receives features as they are computed: the scorer adds weights, the trainer
/// collects bucket numbers, `--explain` keeps names.
protocol DifficultyFeatureSink {
    /// Whether `name` arguments are wanted (only for explaining a score).
    static var wantsNames: Bool { get }
    /// A text feature (weighs 1/√n).
    mutating func text(_ hash: UInt64, name: String)
    /// A count feature (weighs 1).
    mutating func count(_ hash: UInt64, name: String)
}
