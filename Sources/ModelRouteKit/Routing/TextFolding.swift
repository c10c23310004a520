/// Character facts the classifier needs, answered from tables for ASCII and from
/// Unicode properties otherwise.
///
/// Case folding is Unicode full case folding, computed per scalar as the lowercase
/// mapping of the uppercase mapping ("ß" → "ss", "ς" → "σ", "ﬁ" → "fi", "İ" → "i̇").
enum TextFolding {
    /// ASCII byte → its lowercase byte.
    static let asciiLowercase: [UInt8] = (0...255).map { byte in
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(UInt8(byte)) ? UInt8(byte) + 32 : UInt8(byte)
    }

    /// ASCII byte → 1 for white space, else 0.
    static let asciiSpace: [UInt8] = (0...255).map { (0x09...0x0D).contains($0) || $0 == 0x20 ? 1 : 0 }

    /// Whether a byte is ASCII white space: ' ' or 0x09...0x0D (tab to carriage return).
    @inline(__always)
    static func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte &- 0x09 < 5 }

    /// ASCII byte → whether it is a word character (letter, digit, `_`).
    static let asciiWord: [Bool] = (0...255).map { value in
        let byte = UInt8(value)
        return (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
    }

    /// Whether a non-ASCII scalar is white space (Unicode White_Space).
    @inline(__always)
    static func isWhitespace(_ value: UInt32) -> Bool {
        switch value {
        case 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: return true
        default: return false
        }
    }

    /// Whether a scalar counts as part of a word for keyword boundaries: letters, digits,
    /// `_` and combining marks, except in scripts written without spaces between words
    /// (CJK, kana), where every character edge is a boundary.
    static func isWordCharacter(_ value: UInt32) -> Bool {
        if value < 0x80 { return asciiWord[Int(value)] }
        if TokenEstimator.isDenseScript(value) && !(0xAC00...0xD7AF).contains(value) { return false }
        guard let scalar = Unicode.Scalar(value) else { return false }
        let properties = scalar.properties
        if properties.isAlphabetic { return true }
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber, .nonspacingMark, .spacingMark, .enclosingMark, .connectorPunctuation:
            return true
        default:
            return false
        }
    }

    /// The UTF-8 of a non-ASCII scalar's case fold.
    static func foldedUTF8(_ value: UInt32) -> [UInt8] {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        var bytes: [UInt8] = []
        if !scalar.properties.changesWhenCaseMapped {
            JSONStringUnescaper.appendUTF8(scalar, to: &bytes)
            return bytes
        }
        for upper in scalar.properties.uppercaseMapping.unicodeScalars {
            for lower in upper.properties.lowercaseMapping.unicodeScalars {
                JSONStringUnescaper.appendUTF8(lower, to: &bytes)
            }
        }
        return bytes
    }

    /// Case-folds a keyword the way prompts are folded, with white space runs collapsed
    /// to one space and trimmed, so "Security  Audit" matches "security\naudit".
    static func normalizeKeyword(_ keyword: String) -> [UInt8] {
        var output: [UInt8] = []
        var pendingSpace = false
        for scalar in keyword.unicodeScalars {
            let value = scalar.value
            let isSpace = value < 0x80 ? asciiSpace[Int(value)] == 1 : isWhitespace(value)
            if isSpace {
                pendingSpace = !output.isEmpty
                continue
            }
            if pendingSpace {
                output.append(0x20)
                pendingSpace = false
            }
            if value < 0x80 {
                output.append(asciiLowercase[Int(value)])
            } else {
                output.append(contentsOf: foldedUTF8(value))
            }
        }
        return output
    }

    /// Decodes the scalar that starts at `index` of valid UTF-8.
    @inline(__always)
    static func scalar(at index: Int, in bytes: UnsafePointer<UInt8>) -> UInt32 {
        let lead = UInt32(bytes[index])
        if lead < 0x80 { return lead }
        if lead < 0xE0 { return (lead & 0x1F) << 6 | UInt32(bytes[index + 1] & 0x3F) }
        if lead < 0xF0 { return (lead & 0x0F) << 12 | UInt32(bytes[index + 1] & 0x3F) << 6 | UInt32(bytes[index + 2] & 0x3F) }
        return (lead & 0x07) << 18 | UInt32(bytes[index + 1] & 0x3F) << 12 | UInt32(bytes[index + 2] & 0x3F) << 6 | UInt32(bytes[index + 3] & 0x3F)
    }

    /// Decodes the scalar that ends just before `index` of valid UTF-8.
    @inline(__always)
    static func scalar(before index: Int, in bytes: UnsafePointer<UInt8>) -> UInt32 {
        var start = index - 1
        while start > 0, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(at: start, in: bytes)
    }
}
