/// Latency counts in fixed buckets, so p50/p95 need the same memory for ten calls or
/// ten million: exact below 64 ms, then 32 buckets per power of two, so a quantile is
/// reported within 1/64 (1.6 %) of the true value. Values from 2^32 ms up share the last bucket.
public struct LatencyHistogram: Sendable, Equatable {
    /// Values below this are counted exactly.
    static let exactLimit = 64
    /// Buckets per power of two above `exactLimit`.
    static let subBuckets = 32
    /// Powers of two covered above `exactLimit` (2^6 … 2^31).
    static let octaves = 26
    /// Total buckets.
    static let bucketCount = exactLimit + octaves * subBuckets

    /// Calls per bucket.
    private(set) var counts: [UInt32]
    /// Calls counted.
    public private(set) var total: Int = 0

    /// An empty histogram.
    public init() {
        counts = [UInt32](repeating: 0, count: LatencyHistogram.bucketCount)
    }

    /// The bucket of a latency in milliseconds (negative counts as 0).
    @inline(__always)
    static func bucket(_ value: Int) -> Int {
        if value < exactLimit { return max(0, value) }
        let octave = (Int.bitWidth - 1) - value.leadingZeroBitCount  // 6…
        if octave >= 6 + octaves { return bucketCount - 1 }
        let sub = (value >> (octave - 5)) & (subBuckets - 1)
        return exactLimit + (octave - 6) * subBuckets + sub
    }

    /// The value a bucket stands for: itself below 64 ms, else the bucket's midpoint.
    static func representative(_ bucket: Int) -> Int {
        if bucket < exactLimit { return bucket }
        let octave = (bucket - exactLimit) / subBuckets + 6
        let sub = (bucket - exactLimit) % subBuckets
        let width = 1 << (octave - 5)
        return (subBuckets + sub) * width + width / 2
    }

    /// Counts one call.
    @inline(__always)
    public mutating func record(_ milliseconds: Int) {
        counts[LatencyHistogram.bucket(milliseconds)] &+= 1
        total += 1
    }

    /// Adds another histogram's counts.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in 0..<counts.count { counts[index] &+= other.counts[index] }
        total += other.total
    }

    /// The nearest-rank quantile `q` (0…1): the smallest value with at least q of the
    /// calls at or below it. Nil when empty.
    public func quantile(_ q: Double) -> Int? {
        guard total > 0 else { return nil }
        let rank = max(1, Int((q * Double(total)).rounded(.up)))
        var seen = 0
        for (index, count) in counts.enumerated() {
            seen += Int(count)
            if seen >= rank { return LatencyHistogram.representative(index) }
        }
        return LatencyHistogram.representative(counts.count - 1)
    }
}
