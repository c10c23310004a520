/// UTF-8 decoding and validation on raw bytes, with the rules of Swift's
/// `String(validating:)`: no overlong forms, no surrogates, nothing above U+10FFFF.
enum UTF8Decoding {
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

    /// Whether `length` bytes at `start` are valid UTF-8.
    static func isValid(_ start: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        var index = 0
        while index < length {
            if start[index] < 0x80 {
                index += 1
                continue
            }
            guard let (_, width) = decode(start, index, length) else { return false }
            index += width
        }
        return true
    }
}
