/// Estimates tokens without a tokenizer, cheaply and predictably.
///
/// Rule: every ASCII scalar counts a quarter token (English averages about four
/// characters per token with OpenAI's and Anthropic's tokenizers); every CJK, kana or
/// hangul scalar counts one token; every other non-ASCII scalar counts half a token.
/// The total is rounded up. An empty text is 0 tokens.
public enum TokenEstimator {
    /// Estimated tokens in `text`.
    public static func estimate(_ text: String) -> Int {
        var quarters = 0
        for scalar in text.unicodeScalars { quarters += weight(scalar.value) }
        return (quarters + 3) / 4
    }

    /// Quarter-tokens one scalar contributes.
    @inline(__always)
    public static func weight(_ value: UInt32) -> Int {
        if value < 0x80 { return 1 }
        if isDenseScript(value) { return 4 }
        return 2
    }

    /// CJK ideographs, kana, hangul and their compatibility and fullwidth forms.
    @inline(__always)
    static func isDenseScript(_ value: UInt32) -> Bool {
        (0x2E80...0x9FFF).contains(value) || (0xAC00...0xD7AF).contains(value)
            || (0xF900...0xFAFF).contains(value) || (0xFF00...0xFFEF).contains(value)
            || (0x20000...0x3FFFF).contains(value)
    }
}
