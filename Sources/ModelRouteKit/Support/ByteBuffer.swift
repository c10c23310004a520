/// A growable run of bytes that a file can be read straight into, reused from chunk to
/// chunk so a bulk run allocates its buffers once. Used by one thread at a time.
final class ByteBuffer {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private(set) var capacity: Int
    /// Bytes in use: `base[0..<count]`.
    var count = 0

    init(capacity: Int = 64 * 1024) {
        self.capacity = max(capacity, 16)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// The bytes in use.
    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    /// Makes room for at least `extra` more bytes and returns that room, uninitialized;
    /// the caller adds what it filled to `count`.
    func spareCapacity(atLeast extra: Int) -> UnsafeMutableRawBufferPointer {
        if capacity - count < extra {
            let larger = max(capacity * 2, count + extra)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: larger)
            grown.update(from: base, count: count)
            base.deallocate()
            base = grown
            capacity = larger
        }
        return UnsafeMutableRawBufferPointer(start: base + count, count: capacity - count)
    }
}

extension ByteBuffer: ByteSink {
    @inline(__always)
    func append(_ byte: UInt8) {
        if count == capacity { _ = spareCapacity(atLeast: 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(contentsOf bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress else { return }
        if capacity - count < bytes.count { _ = spareCapacity(atLeast: bytes.count) }
        (base + count).update(from: source, count: bytes.count)
        count += bytes.count
    }
}
