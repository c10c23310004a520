import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// What a report takes from one record, with group values already turned into numbers.
struct ScannedRecord: Equatable {
    /// One number per `--by` level: an interned value (-1 for null or a missing tag),
    /// a status index, or a local day number.
    var key: SIMD8<Int32> = .zero
    /// `ts` in epoch milliseconds.
    var millis: Int64 = 0
    /// `input_tokens`.
    var inputTokens = 0
    /// `output_tokens`.
    var outputTokens = 0
    /// `cached_input_tokens` (0 when null).
    var cachedInputTokens = 0
    /// `cost_usd`.
    var cost = 0.0
    /// `baseline_cost_usd`, if not null.
    var baselineCost: Double?
    /// Interned `baseline_model` (-1 when null).
    var baselineModel: Int32 = -1
    /// `latency_ms`.
    var latency = 0
    /// Index of `status` in `LedgerRecord.Status.allCases`.
    var status: UInt8 = 0
    /// Whether `fallback_from` is set.
    var fallback = false
    /// `cache_hit`.
    var cacheHit = false
    /// `offline` (false for a schema 1 record).
    var offline = false
    /// Interned `route` (-1 when null).
    var route: Int32 = -1
    /// Interned model that gave the first answer: `escalated_from`, else `model` (-1 when null).
    var firstModel: Int32 = -1
    /// Whether `escalated_from` is set.
    var escalated = false
    /// `overhead_cost_usd` (0 for a schema 1 record).
    var overhead = 0.0
    /// Interned `experiment` (-1 when null).
    var experiment: Int32 = -1
    /// `group`: 0 control, 1 routed, -1 none or another value.
    var group: Int8 = -1
    /// `response_cache`: 0 null, 1 hit, 2 miss, 3 bypass.
    var responseCache: UInt8 = 0
    /// `cache_saved_usd` (0 when null).
    var cacheSaved = 0.0
    /// `priced` (true for a schema 1 record).
    var priced = true
    /// Interned `model` (-1 when null): the model that answered.
    var model: Int32 = -1
}

extension ScannedRecord {
    /// 0 for `control`, 1 for `routed`, -1 for anything else.
    static func groupIndex(_ group: String) -> Int8 { group == "control" ? 0 : group == "routed" ? 1 : -1 }
    /// The `response_cache` values by their index (0 is null).
    static let responseCacheValues = ["", "hit", "miss", "bypass"]
    /// The index of a `response_cache` value (0 for null or anything else).
    static func responseCacheIndex(_ value: String?) -> UInt8 { UInt8(value.flatMap { responseCacheValues.firstIndex(of: $0) } ?? 0) }
}

/// Which fields feed which `--by` level (-1: not grouped by).
struct ScanPlan: Sendable {
    /// Level of `route`, `rule`, `model`, `provider`, `status`, `day`, `group`, `cache`.
    var route = -1, rule = -1, model = -1, provider = -1, status = -1, day = -1, group = -1, cache = -1
    /// Requested tag keys (UTF-8) with their level.
    var tags: [(key: [UInt8], level: Int)] = []

    /// The plan for these dimensions.
    init(_ dimensions: [ReportDimension]) {
        for (level, dimension) in dimensions.enumerated() {
            switch dimension {
            case .route: route = level
            case .rule: rule = level
            case .model: model = level
            case .provider: provider = level
            case .status: status = level
            case .day: day = level
            case .group: group = level
            case .cache: cache = level
            case .tag(let key): tags.append((Array(key.utf8), level))
            }
        }
    }
}

/// Local calendar days of UTC instants, with the zone's offset cached per quarter hour
/// (every offset in use is a multiple of 15 minutes, so it cannot change inside one).
struct LocalDays {
    /// The zone days are counted in.
    let zone: LocalZone
    /// The quarter hour (since 1970) whose offset is cached.
    private var cachedSlot = Int64.min
    /// The zone's offset from UTC during `cachedSlot`.
    private var cachedOffsetMillis: Int64 = 0

    /// Days are counted in `zone`.
    init(zone: LocalZone) {
        self.zone = zone
    }

    /// Days since 1970-01-01 of the local date at `millis`.
    @inline(__always)
    mutating func day(_ millis: Int64) -> Int64 {
        let slot = LedgerTimestamp.floorDiv(millis, 900_000)
        if slot != cachedSlot {
            cachedSlot = slot
            cachedOffsetMillis = Int64(zone.secondsFromGMT(atEpochSeconds: slot * 900)) * 1000
        }
        return LedgerTimestamp.floorDiv(millis + cachedOffsetMillis, 86_400_000)
    }
}

/// The fast path: reads records exactly as `LedgerWriter` writes them (schema key
/// order, no white space), skipping what a report does not use but checking it as
/// strictly as the general decoder would, so that whenever it accepts a line it gets
/// exactly what `LedgerRecord.decode` would. Anything else it declines, and the caller
/// uses the general decoder.
struct LedgerScanner {
    /// Which fields to group by.
    let plan: ScanPlan
    /// Group values seen so far.
    var interner = ValueInterner()
    /// Local days for `--by day`.
    var days: LocalDays
    /// Holds unescaped strings.
    private var scratch: [UInt8] = []
    /// The keys of the tags object being read, to refuse duplicates as the parser does.
    private var tagKeys: [(start: UnsafePointer<UInt8>, count: Int)] = []

    /// A scanner for `plan`, counting days in a fixed Foundation time zone (tests).
    init(plan: ScanPlan, timeZone: TimeZone) {
        self.init(plan: plan, zone: LocalZone(timeZone))
    }

    /// A scanner for `plan`, counting days in `zone`.
    init(plan: ScanPlan, zone: LocalZone) {
        self.plan = plan
        self.days = LocalDays(zone: zone)
        scratch.reserveCapacity(256)
    }

    /// Scans the record starting at `start`; returns where the next line starts, or nil
    /// when this line is not a well-formed record in the writer's layout.
    mutating func scan(_ start: UnsafePointer<UInt8>, end: UnsafePointer<UInt8>, into record: inout ScannedRecord) -> UnsafePointer<UInt8>? {
        var c = Cursor(p: start, end: end)
        record.key = .zero
        let version: Int
        if c.literal("{\"v\":2,\"ts\":") {
            version = 2
        } else if c.literal("{\"v\":1,\"ts\":") {
            version = 1
        } else {
            return nil
        }
        guard let millis = c.timestamp() else { return nil }
        record.millis = millis
        guard c.literal(",\"id\":"), skipString(&c) else { return nil }
        guard c.literal(",\"route\":"), let route = internedOrNull(&c) else { return nil }
        record.route = route
        if plan.route >= 0 { record.key[plan.route] = route }
        guard c.literal(",\"rule\":"), nullableString(&c, level: plan.rule, into: &record.key) else { return nil }
        guard c.literal(",\"model\":"), let model = internedOrNull(&c) else { return nil }
        record.firstModel = model
        record.model = model
        if plan.model >= 0 { record.key[plan.model] = model }
        guard c.literal(",\"provider\":"), nullableString(&c, level: plan.provider, into: &record.key) else { return nil }
        guard c.literal(",\"input_tokens\":"), let input = c.integer() else { return nil }
        guard c.literal(",\"output_tokens\":"), let output = c.integer() else { return nil }
        guard c.literal(",\"cached_input_tokens\":") else { return nil }
        var cached = 0
        if !c.literal("null") {
            guard let value = c.integer() else { return nil }
            cached = value
        }
        record.inputTokens = input
        record.outputTokens = output
        record.cachedInputTokens = cached
        guard c.literal(",\"usage_estimated\":"), c.boolean() != nil else { return nil }
        guard c.literal(",\"cost_usd\":"), let cost = c.number() else { return nil }
        record.cost = cost
        guard c.literal(",\"baseline_model\":") else { return nil }
        if c.literal("null") {
            record.baselineModel = -1
        } else {
            guard let number = internString(&c) else { return nil }
            record.baselineModel = number
        }
        guard c.literal(",\"baseline_cost_usd\":") else { return nil }
        if c.literal("null") {
            record.baselineCost = nil
        } else {
            guard let value = c.number() else { return nil }
            record.baselineCost = value
        }
        guard c.literal(",\"latency_ms\":"), let latency = c.integer() else { return nil }
        record.latency = latency
        guard c.literal(",\"ttft_ms\":"), c.literal("null") || c.integer() != nil else { return nil }
        guard c.literal(",\"status\":") else { return nil }
        if c.literal("\"ok\"") {
            record.status = 0
        } else if c.literal("\"error\"") {
            record.status = 1
        } else if c.literal("\"cancelled\"") {
            record.status = 2
        } else {
            return nil
        }
        if plan.status >= 0 { record.key[plan.status] = Int32(record.status) }
        guard c.literal(",\"error\":"), c.literal("null") || skipString(&c) else { return nil }
        guard c.literal(",\"attempts\":"), c.integer() != nil else { return nil }
        guard c.literal(",\"fallback_from\":") else { return nil }
        if c.literal("null") {
            record.fallback = false
        } else {
            guard skipString(&c) else { return nil }
            record.fallback = true
        }
        guard c.literal(",\"cache_hit\":"), let cacheHit = c.boolean() else { return nil }
        record.cacheHit = cacheHit
        guard c.literal(",\"prompt_sha256\":"), skipString(&c) else { return nil }
        guard c.literal(",\"prompt_chars\":"), c.integer() != nil else { return nil }
        guard c.literal(",\"tags\":{") else { return nil }
        for tag in plan.tags { record.key[tag.level] = -1 }
        if !c.literal("}") {
            guard scanTags(&c, into: &record.key), c.literal("}") else { return nil }
        }
        record.offline = false
        record.escalated = false
        record.overhead = 0
        record.experiment = -1
        record.group = -1
        record.responseCache = 0
        record.cacheSaved = 0
        record.priced = true
        if plan.group >= 0 { record.key[plan.group] = -1 }
        if version == 2 {
            // Checked as strictly as the general decoder would; of these a report reads `offline`.
            guard c.literal(",\"offline\":"), let offline = c.boolean() else { return nil }
            record.offline = offline
            guard c.literal(",\"response_cache\":") else { return nil }
            if !c.literal("null") {
                if c.literal("\"hit\"") {
                    record.responseCache = 1
                } else if c.literal("\"miss\"") {
                    record.responseCache = 2
                } else if c.literal("\"bypass\"") {
                    record.responseCache = 3
                } else {
                    return nil
                }
            }
            guard c.literal(",\"cache_saved_usd\":") else { return nil }
            if !c.literal("null") {
                guard let saved = c.number() else { return nil }
                record.cacheSaved = saved
            }
            guard c.literal(",\"escalated_from\":"), let from = internedOrNull(&c) else { return nil }
            if from >= 0 {
                record.escalated = true
                record.firstModel = from
            }
            guard c.literal(",\"escalation_reason\":"), c.literal("null") || skipString(&c) else { return nil }
            guard c.literal(",\"overhead_cost_usd\":"), let overhead = c.number() else { return nil }
            record.overhead = overhead
            guard c.literal(",\"difficulty\":") else { return nil }
            if !c.literal("null") {
                guard let score = c.number(), score >= 0, score <= 1 else { return nil }
            }
            guard c.literal(",\"budget\":"), c.literal("null") || skipString(&c) else { return nil }
            guard c.literal(",\"experiment\":"), let experiment = internedOrNull(&c) else { return nil }
            record.experiment = experiment
            guard c.literal(",\"group\":"), let group = internedOrNull(&c) else { return nil }
            if group >= 0 {
                if plan.group >= 0 { record.key[plan.group] = group }
                record.group = groupKind(group)
            }
            guard c.literal(",\"priced\":"), let priced = c.boolean() else { return nil }
            record.priced = priced
            guard c.literal(",\"messages\":"), c.integer() != nil else { return nil }
        }
        guard c.literal("}") else { return nil }  // the record's own
        if plan.day >= 0 { record.key[plan.day] = Int32(truncatingIfNeeded: days.day(millis)) }
        if plan.cache >= 0 { record.key[plan.cache] = Int32(record.responseCache) }
        if c.p == c.end { return c.p }
        guard c.p.pointee == UInt8(ascii: "\n") else { return nil }
        return c.p + 1
    }

    /// The same summary from a record the general decoder produced.
    mutating func summary(of record: LedgerRecord) -> ScannedRecord? {
        guard let millis = LedgerTimestamp.parse(record.timestamp) else { return nil }
        var result = ScannedRecord()
        result.millis = millis
        result.inputTokens = record.inputTokens
        result.outputTokens = record.outputTokens
        result.cachedInputTokens = record.cachedInputTokens ?? 0
        result.cost = record.costUSD
        result.baselineCost = record.baselineCostUSD
        result.baselineModel = record.baselineModel.map { interner.intern($0) } ?? -1
        result.latency = record.latencyMilliseconds
        result.status = UInt8(LedgerRecord.Status.allCases.firstIndex(of: record.status) ?? 0)
        result.fallback = record.fallbackFrom != nil
        result.cacheHit = record.cacheHit
        result.offline = record.offline
        result.route = record.route.map { interner.intern($0) } ?? -1
        result.firstModel = (record.escalatedFrom ?? record.model).map { interner.intern($0) } ?? -1
        result.model = record.model.map { interner.intern($0) } ?? -1
        result.escalated = record.escalatedFrom != nil
        result.overhead = record.overheadCostUSD
        result.experiment = record.experiment.map { interner.intern($0) } ?? -1
        result.group = record.group.map(ScannedRecord.groupIndex) ?? -1
        result.responseCache = ScannedRecord.responseCacheIndex(record.responseCache)
        result.cacheSaved = record.cacheSavedUSD ?? 0
        result.priced = record.priced
        if plan.cache >= 0 { result.key[plan.cache] = Int32(result.responseCache) }
        func set(_ level: Int, _ value: String?) {
            if level >= 0 { result.key[level] = value.map { interner.intern($0) } ?? -1 }
        }
        set(plan.group, record.group)
        set(plan.route, record.route)
        set(plan.rule, record.rule)
        set(plan.model, record.model)
        set(plan.provider, record.provider)
        if plan.status >= 0 { result.key[plan.status] = Int32(result.status) }
        if plan.day >= 0 { result.key[plan.day] = Int32(truncatingIfNeeded: days.day(millis)) }
        for tag in plan.tags {
            let key = String(decoding: tag.key, as: UTF8.self)
            set(tag.level, record.tags.first(where: { $0.key == key })?.value)
        }
        return result
    }

    /// Group kinds by interned number (-2: not yet looked at), so a value's text is read once.
    private var groupKinds: [Int8] = []

    /// `control` (0), `routed` (1) or another value (-1), for an interned `group` value.
    @inline(__always)
    private mutating func groupKind(_ number: Int32) -> Int8 {
        let index = Int(number)
        if index >= groupKinds.count { groupKinds += [Int8](repeating: -2, count: index + 1 - groupKinds.count) }
        if groupKinds[index] == -2 { groupKinds[index] = ScannedRecord.groupIndex(interner.string(number)) }
        return groupKinds[index]
    }

    /// `null` (-1) or a string's interned number; nil when it is neither.
    @inline(__always)
    private mutating func internedOrNull(_ c: inout Cursor) -> Int32? {
        if c.literal("null") { return -1 }
        return internString(&c)
    }

    /// `null` or a string; the string's number goes to `level` when grouped by.
    @inline(__always)
    private mutating func nullableString(_ c: inout Cursor, level: Int, into key: inout SIMD8<Int32>) -> Bool {
        if c.literal("null") {
            if level >= 0 { key[level] = -1 }
            return true
        }
        if level < 0 { return skipString(&c) }
        guard let number = internString(&c) else { return false }
        key[level] = number
        return true
    }

    /// Reads a string and returns its interned number.
    @inline(__always)
    private mutating func internString(_ c: inout Cursor) -> Int32? {
        guard let span = c.string() else { return nil }
        if span.flags & Cursor.hasEscape == 0 { return interner.intern(span.start, span.count) }
        guard unescape(span) else { return nil }
        return scratch.withUnsafeBufferPointer { buffer -> Int32? in
            guard let base = buffer.baseAddress else { return nil }
            return interner.intern(base, buffer.count)
        }
    }

    /// Checks a string the report does not use, as strictly as the JSON parser would.
    @inline(__always)
    private mutating func skipString(_ c: inout Cursor) -> Bool {
        guard let span = c.string() else { return false }
        if span.flags == 0 { return true }
        if span.flags & Cursor.hasEscape == 0 { return UTF8Decoding.isValid(span.start, span.count) }
        guard unescape(span) else { return false }
        return scratch.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return true }
            return UTF8Decoding.isValid(base, buffer.count)
        }
    }

    /// Decodes a string with escapes into `scratch`; false if an escape is invalid.
    private mutating func unescape(_ span: (start: UnsafePointer<UInt8>, count: Int, flags: UInt8)) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        // The span excludes the closing quote, which the unescaper wants to see.
        let buffer = UnsafeBufferPointer(start: span.start, count: span.count + 1)
        var index = 0
        guard case .success = JSONStringUnescaper.unescape(buffer, from: &index, into: &scratch) else { return false }
        return index == span.count + 1
    }

    /// The members of `tags` after its `{`, through the last value (not the `}`).
    private mutating func scanTags(_ c: inout Cursor, into key: inout SIMD8<Int32>) -> Bool {
        tagKeys.removeAll(keepingCapacity: true)
        while true {
            // Keys with escapes are rare; the general decoder handles them.
            guard let name = c.string(), name.flags & Cursor.hasEscape == 0 else { return false }
            if name.flags != 0, !UTF8Decoding.isValid(name.start, name.count) { return false }
            for other in tagKeys where other.count == name.count && memcmp(other.start, name.start, name.count) == 0 {
                return false  // a duplicate key: the general decoder rejects the line
            }
            tagKeys.append((name.start, name.count))
            guard c.literal(":") else { return false }
            var level = -1
            for tag in plan.tags where tag.key.count == name.count {
                let same = tag.key.withUnsafeBufferPointer { buffer in
                    buffer.baseAddress.map { memcmp($0, name.start, name.count) == 0 } ?? true
                }
                if same { level = tag.level }
            }
            if level >= 0 {
                guard let number = internString(&c) else { return false }
                key[level] = number
            } else {
                guard skipString(&c) else { return false }
            }
            if c.literal(",") { continue }
            return true
        }
    }
}

/// A position in a line with the byte-level readers the scanner needs.
struct Cursor {
    /// Next unread byte.
    var p: UnsafePointer<UInt8>
    /// One past the last readable byte.
    let end: UnsafePointer<UInt8>

    /// `string()` flag: the string has a backslash escape.
    static let hasEscape: UInt8 = 1
    /// `string()` flag: the string has non-ASCII bytes.
    static let hasNonASCII: UInt8 = 2

    /// Consumes `text` if the bytes here equal it (eight bytes per comparison).
    @inline(__always)
    mutating func literal(_ text: StaticString) -> Bool {
        let count = text.utf8CodeUnitCount
        guard end - p >= count else { return false }
        let expected = UnsafeRawPointer(text.utf8Start)
        let here = UnsafeRawPointer(p)
        var index = 0
        while index + 8 <= count {
            if here.loadUnaligned(fromByteOffset: index, as: UInt64.self) != expected.loadUnaligned(fromByteOffset: index, as: UInt64.self) {
                return false
            }
            index += 8
        }
        while index < count {
            if here.load(fromByteOffset: index, as: UInt8.self) != expected.load(fromByteOffset: index, as: UInt8.self) { return false }
            index += 1
        }
        p += count
        return true
    }

    /// A string's raw content (between the quotes) and what it contains; nil if there
    /// is no string here or it has a raw control character.
    @inline(__always)
    mutating func string() -> (start: UnsafePointer<UInt8>, count: Int, flags: UInt8)? {
        guard p < end, p.pointee == UInt8(ascii: "\"") else { return nil }
        p += 1
        let start = p
        var flags: UInt8 = 0
        while true {
            let index = JSONByteScan.nextSpecial(start, from: p - start, to: end - start)
            p = start + index
            guard p < end else { return nil }
            let byte = p.pointee
            if byte == UInt8(ascii: "\"") {
                let count = p - start
                p += 1
                if Cursor.containsNonASCII(start, count) { flags |= Cursor.hasNonASCII }
                return (start, count, flags)
            }
            if byte < 0x20 { return nil }
            flags |= Cursor.hasEscape  // a backslash: skip it and the byte it escapes
            p += 2
            guard p <= end else { return nil }
        }
    }

    /// Whether any of `count` bytes at `start` is 0x80 or above (eight at a time).
    @inline(__always)
    static func containsNonASCII(_ start: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        let raw = UnsafeRawPointer(start)
        var bits: UInt64 = 0
        var index = 0
        while index + 8 <= count {
            bits |= raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            index += 8
        }
        while index < count {
            bits |= UInt64(start[index])
            index += 1
        }
        return bits & 0x8080_8080_8080_8080 != 0
    }

    /// A whole number in JSON syntax (up to 15 digits); nil for fractions and exponents,
    /// which the general decoder judges.
    @inline(__always)
    mutating func integer() -> Int? {
        var negative = false
        if p < end, p.pointee == UInt8(ascii: "-") {
            negative = true
            p += 1
        }
        let start = p
        var value = 0
        while p < end {
            let digit = p.pointee &- UInt8(ascii: "0")
            if digit >= 10 { break }
            value = value &* 10 &+ Int(digit)
            p += 1
        }
        let count = p - start
        guard count > 0, count <= 15, count == 1 || start.pointee != UInt8(ascii: "0") else { return nil }
        if p < end, p.pointee == UInt8(ascii: ".") || p.pointee | 0x20 == UInt8(ascii: "e") { return nil }
        return negative ? -value : value
    }

    /// Powers of ten that are exact in a Double.
    private static let powersOfTen: [Double] = (0...22).map { exponent in
        var value = 1.0
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// A JSON number, correctly rounded: exact arithmetic when the digits fit in 53 bits
    /// and the power of ten is exact (Clinger's fast path), else the standard library.
    @inline(__always)
    mutating func number() -> Double? {
        let start = p
        var negative = false
        if p < end, p.pointee == UInt8(ascii: "-") {
            negative = true
            p += 1
        }
        let integerStart = p
        var mantissa: UInt64 = 0
        var digits = 0
        while p < end, p.pointee &- UInt8(ascii: "0") < 10 {
            mantissa = mantissa &* 10 &+ UInt64(p.pointee &- UInt8(ascii: "0"))
            digits += 1
            p += 1
        }
        let integerDigits = p - integerStart
        guard integerDigits > 0, integerDigits == 1 || integerStart.pointee != UInt8(ascii: "0") else { return nil }
        var scale = 0
        if p < end, p.pointee == UInt8(ascii: ".") {
            p += 1
            let fractionStart = p
            while p < end, p.pointee &- UInt8(ascii: "0") < 10 {
                mantissa = mantissa &* 10 &+ UInt64(p.pointee &- UInt8(ascii: "0"))
                digits += 1
                p += 1
            }
            guard p > fractionStart else { return nil }
            scale = -(p - fractionStart)
        }
        if p < end, p.pointee | 0x20 == UInt8(ascii: "e") {
            p += 1
            var exponentNegative = false
            if p < end, p.pointee == UInt8(ascii: "-") || p.pointee == UInt8(ascii: "+") {
                exponentNegative = p.pointee == UInt8(ascii: "-")
                p += 1
            }
            let exponentStart = p
            var exponent = 0
            while p < end, p.pointee &- UInt8(ascii: "0") < 10 {
                if exponent < 100_000 { exponent = exponent * 10 + Int(p.pointee &- UInt8(ascii: "0")) }
                p += 1
            }
            guard p > exponentStart else { return nil }
            scale += exponentNegative ? -exponent : exponent
        }
        if digits <= 19, mantissa <= (1 << 53), scale >= -22, scale <= 22 {
            // Leading zeros of "0.000123" count as digits but not towards the 53 bits.
            let magnitude = Double(mantissa)
            let value = scale < 0 ? magnitude / Cursor.powersOfTen[-scale] : magnitude * Cursor.powersOfTen[scale]
            return negative ? -value : value
        }
        guard let value = Double(String(decoding: UnsafeBufferPointer(start: start, count: p - start), as: UTF8.self)),
            value.isFinite
        else { return nil }
        return value
    }

    /// `true` or `false`.
    @inline(__always)
    mutating func boolean() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// A quoted `YYYY-MM-DDTHH:MM:SS.mmmZ` as epoch milliseconds; nil for any other form.
    @inline(__always)
    mutating func timestamp() -> Int64? {
        guard end - p >= 26, p[0] == UInt8(ascii: "\""), p[25] == UInt8(ascii: "\""), p[24] == UInt8(ascii: "Z"),
            p[5] == UInt8(ascii: "-"), p[8] == UInt8(ascii: "-"), p[11] == UInt8(ascii: "T"), p[14] == UInt8(ascii: ":"),
            p[17] == UInt8(ascii: ":"), p[20] == UInt8(ascii: ".")
        else { return nil }
        var bad: UInt8 = 0
        @inline(__always) func digits(_ offset: Int, _ count: Int) -> Int64 {
            var value: Int64 = 0
            for index in offset..<(offset + count) {
                let digit = p[index] &- UInt8(ascii: "0")
                bad |= digit >= 10 ? 1 : 0
                value = value * 10 + Int64(digit)
            }
            return value
        }
        let year = digits(1, 4), month = digits(6, 2), day = digits(9, 2)
        let hour = digits(12, 2), minute = digits(15, 2), second = digits(18, 2), millis = digits(21, 3)
        guard bad == 0,
            let value = LedgerTimestamp.epochMilliseconds(
                year: year, month: month, day: day, hour: hour, minute: minute, second: second, millisecond: millis)
        else { return nil }
        p += 26
        return value
    }
}
