/// Word-at-a-time searches for the bytes that end a run of plain JSON string text, so
/// long strings are skipped eight bytes per step instead of one.
enum JSONByteScan {
    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// For eight bytes read little-endian: the high bit of the first byte that is `"`,
    /// `\` or a control character is set, and no bit below it; zero when there is none.
    /// A zero byte in (word ^ pattern) marks an equal byte, found by the borrow of a
    /// subtraction; "less than 0x20" uses the same trick. A borrow can flag bytes above
    /// a real match, never below one, so the lowest flag is exact.
    @inline(__always)
    static func specialBytes(_ word: UInt64) -> UInt64 {
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let special = ((quote &- ones) & ~quote) | ((backslash &- ones) & ~backslash) | ((word &- ones &* 0x20) & ~word)
        return special & highBits
    }

    /// Index of the first byte at or after `start` that is `"`, `\` or a control
    /// character (below 0x20), or `end` when there is none.
    @inline(__always)
    static func nextSpecial(_ base: UnsafePointer<UInt8>, from start: Int, to end: Int) -> Int {
        var index = start
        let raw = UnsafeRawPointer(base)
        while index + 8 <= end {
            let special = specialBytes(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            if special != 0 { return index &+ special.trailingZeroBitCount / 8 }
            index &+= 8
        }
        while index < end {
            let byte = base[index]
            if byte == 0x22 || byte == 0x5C || byte < 0x20 { return index }
            index &+= 1
        }
        return end
    }
}
