import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Maps the bytes of group values (model names, tag values, …) to small numbers, so
/// a report hashes and compares integers per record rather than building strings.
struct ValueInterner {
    /// Every distinct value's bytes, back to back.
    private var storage: [UInt8] = []
    /// Where each value lives in `storage`.
    private var spans: [(start: Int, count: Int)] = []
    /// Open-addressing table of value numbers (-1: empty), a power of two long.
    private var slots = [Int32](repeating: -1, count: 64)
    /// Each value's hash, to grow the table without rehashing bytes.
    private var hashes: [UInt64] = []

    /// How many distinct values there are.
    var count: Int { spans.count }

    /// The number for these bytes, adding them if new; nil if new and not valid UTF-8.
    @inline(__always)
    mutating func intern(_ start: UnsafePointer<UInt8>, _ length: Int) -> Int32? {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for index in 0..<length { hash = (hash ^ UInt64(start[index])) &* 0x100_0000_01b3 }
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while true {
            let found = slots[slot]
            if found < 0 { break }
            let span = spans[Int(found)]
            if hashes[Int(found)] == hash, span.count == length, equalBytes(span.start, start, length) {
                return found
            }
            slot = (slot + 1) & mask
        }
        guard UTF8Decoding.isValid(start, length) else { return nil }
        let number = Int32(spans.count)
        spans.append((storage.count, length))
        hashes.append(hash)
        storage.append(contentsOf: UnsafeBufferPointer(start: start, count: length))
        slots[slot] = number
        if spans.count * 2 > slots.count { grow() }
        return number
    }

    /// Whether the stored bytes at `offset` equal `length` bytes at `other`.
    @inline(__always)
    private func equalBytes(_ offset: Int, _ other: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        if length == 0 { return true }
        return storage.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return false }
            return memcmp(base + offset, other, length) == 0
        }
    }

    /// The number for a string, adding it if new.
    mutating func intern(_ text: String) -> Int32 {
        var text = text
        return text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else {
                var empty: UInt8 = 0
                return intern(&empty, 0) ?? -1
            }
            return intern(base, buffer.count) ?? -1
        }
    }

    /// The value of a number.
    func string(_ number: Int32) -> String {
        let span = spans[Int(number)]
        return String(decoding: storage[span.start..<(span.start + span.count)], as: UTF8.self)
    }

    /// Doubles the table, placing every value again.
    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (number, hash) in hashes.enumerated() {
            var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(number)
        }
    }
}
