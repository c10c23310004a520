import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The spend so far of each budget, kept beside the log (`usage.jsonl.spend`) so that a
/// budget check reads a few hundred bytes instead of the whole log. It is updated under the
/// log's lock with each append (`add`). When the log has grown past it (another process
/// appended without updating it) it catches up by reading only the new lines, provided the
/// bytes it last saw at the log's end are still there; otherwise (missing, unreadable, of
/// another version, made for other budgets, or the log rewritten) it is rebuilt from the
/// whole log: deleting it loses nothing.
///
/// Calendar periods keep one bucket (the current period's start); rolling windows keep
/// hourly buckets, so a rolling window counts whole hours.
public struct SpendIndex: Sendable {
    /// The index format's version.
    public static let version = 2

    /// How many bytes before `logBytes` the index keeps, to tell a grown log from a rewritten one.
    static let tailLength = 64

    public let logPath: String
    public let budgets: [BudgetConfig]
    public let zone: LocalZone

    public var indexPath: String { logPath + ".spend" }

    /// The budgets' settings as one string: an index made for others is rebuilt.
    let signature: String

    public init(logPath: String, budgets: [BudgetConfig], zone: LocalZone) {
        self.logPath = logPath
        self.budgets = budgets
        self.zone = zone
        signature = SHA256.hexDigest(of: budgets.map { budget in
            [budget.name, budget.period.description, budget.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
             budget.routes?.joined(separator: ",") ?? "*", budget.models?.joined(separator: ",") ?? "*"].joined(separator: "|")
        }.joined(separator: "\n"))
    }

    /// What the index holds: the log's size it reflects, a hash of the log's last bytes
    /// before that size, and buckets per budget.
    struct State: Equatable {
        var logBytes: Int64
        var tail: String
        var buckets: [String: [Int64: Double]]
    }

    /// The spend of each budget in its current window.
    public func spent(nowMillis: Int64) -> [String: Double] {
        let state = load(nowMillis: nowMillis)
        var result: [String: Double] = [:]
        for budget in budgets {
            let window = BudgetWindow.current(budget.period, nowMillis: nowMillis, zone: zone)
            result[budget.name] = (state.buckets[budget.name] ?? [:]).filter { $0.key >= window.start }.values.reduce(0, +)
        }
        return result
    }

    /// Adds one appended record (call it under the log's lock, with the sizes around the append).
    public func add(_ record: LedgerRecord, before: Int64, after: Int64, nowMillis: Int64) {
        let saved = read()
        guard var state = saved, state.logBytes == before else {
            // Missing, or behind the log: the log (which now holds this record) tells all.
            save(update(saved, nowMillis: nowMillis, logBytes: after))
            return
        }
        let millis = LedgerTimestamp.parse(record.timestamp) ?? nowMillis
        for budget in budgets where budget.applies(route: record.route, model: record.model, tags: record.tags) {
            let bucket = BudgetWindow.bucket(budget.period, millis: millis, zone: zone)
            state.buckets[budget.name, default: [:]][bucket, default: 0] += record.costUSD
        }
        state.logBytes = after
        state.tail = Self.tail(of: logPath, before: after)
        save(prune(state, nowMillis: nowMillis))
    }

    /// The index, caught up or rebuilt if it is behind or cannot be used.
    func load(nowMillis: Int64) -> State {
        let logBytes = Self.size(of: logPath)
        let saved = read()
        if let saved, saved.logBytes == logBytes { return saved }
        let state = update(saved, nowMillis: nowMillis, logBytes: logBytes)
        save(state)
        return state
    }

    /// `state` caught up to `logBytes` when the log only grew since it was saved; otherwise
    /// the index rebuilt from the log.
    func update(_ state: State?, nowMillis: Int64, logBytes: Int64) -> State {
        guard let state, state.logBytes < logBytes, state.tail == Self.tail(of: logPath, before: state.logBytes) else {
            return rebuild(nowMillis: nowMillis, logBytes: logBytes)
        }
        var counter = SpendCounter(budgets: budgets, zone: zone, nowMillis: nowMillis, buckets: state.buckets)
        LogLines.forEach(path: logPath, from: state.logBytes, upTo: logBytes) { counter.add(line: $0) }
        return prune(State(logBytes: logBytes, tail: Self.tail(of: logPath, before: logBytes), buckets: counter.buckets), nowMillis: nowMillis)
    }

    /// Reads the index file; nil when it is missing or not this version for these budgets.
    func read() -> State? {
        guard let bytes = try? FileReader.readAll(path: indexPath), let node = try? JSONParser.parse(bytes),
            node["v"]?.intValue == SpendIndex.version, node["signature"]?.stringValue == signature,
            let logBytes = node["log_bytes"]?.intValue, logBytes >= 0, let tail = node["tail"]?.stringValue,
            case .object(let members)? = node["budgets"]?.value
        else { return nil }
        var buckets: [String: [Int64: Double]] = [:]
        for member in members {
            for pair in member.value.arrayValue ?? [] {
                guard let items = pair.arrayValue, items.count == 2, let start = items[0].intValue, case .number(let spend) = items[1].value,
                    spend.isFinite, spend >= 0
                else { return nil }
                buckets[member.key, default: [:]][Int64(start)] = spend
            }
        }
        return State(logBytes: Int64(logBytes), tail: tail, buckets: buckets)
    }

    /// Writes the index (atomically; a failure only means the next check rebuilds it).
    func save(_ state: State) {
        var json = JSONWriter(reservingCapacity: 256)
        json.beginObject()
        json.key("v"); json.int(SpendIndex.version)
        json.key("signature"); json.string(signature)
        json.key("log_bytes"); json.int(Int(state.logBytes))
        json.key("tail"); json.string(state.tail)
        json.key("budgets"); json.beginObject()
        for name in state.buckets.keys.sorted() {
            json.key(name); json.beginArray()
            for (start, spend) in (state.buckets[name] ?? [:]).sorted(by: { $0.key < $1.key }) {
                json.beginArray(); json.int(Int(start)); json.double(spend); json.endArray()
            }
            json.endArray()
        }
        json.endObject()
        json.endObject()
        try? FileWriter.writeAtomically(json.bytes, to: indexPath, mode: 0o600)
    }

    /// Drops buckets older than each budget's current window.
    func prune(_ state: State, nowMillis: Int64) -> State {
        var state = state
        for budget in budgets {
            let window = BudgetWindow.current(budget.period, nowMillis: nowMillis, zone: zone)
            state.buckets[budget.name] = state.buckets[budget.name]?.filter { $0.key >= window.start }
        }
        return state
    }

    /// The index made from the log: every record inside a budget's window, in its scope.
    func rebuild(nowMillis: Int64, logBytes: Int64) -> State {
        var counter = SpendCounter(budgets: budgets, zone: zone, nowMillis: nowMillis)
        LogLines.forEach(path: logPath, upTo: logBytes) { counter.add(line: $0) }
        return State(logBytes: logBytes, tail: Self.tail(of: logPath, before: logBytes), buckets: counter.buckets)
    }

    /// The SHA-256 (hex) of the up to `tailLength` bytes of `path` before offset `end` ("" when unreadable).
    static func tail(of path: String, before end: Int64) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return "" }
        defer { close(descriptor) }
        let start = max(0, end - Int64(tailLength))
        var bytes = [UInt8](repeating: 0, count: Int(end - start))
        let count = bytes.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start)) }
        return count == bytes.count ? SHA256.hexDigest(of: bytes) : ""
    }

    /// The `ts` of a line as the writer lays it out (`{"v":N,"ts":"…"`), or nil.
    static func leadingTimestamp(_ line: UnsafeBufferPointer<UInt8>) -> Int64? {
        guard let base = line.baseAddress else { return nil }
        var cursor = Cursor(p: base, end: base + line.count)
        guard cursor.literal("{\"v\":2,\"ts\":") || cursor.literal("{\"v\":1,\"ts\":") else { return nil }
        return cursor.timestamp()
    }

    /// The calls each budget downgraded and refused in its current window, from the records
    /// that name it (read line by line; records before every window, or naming no budget, are
    /// skipped without decoding).
    public func actions(nowMillis: Int64) -> [String: (downgrades: Int, refusals: Int)] {
        let windows = Dictionary(uniqueKeysWithValues: budgets.map { ($0.name, BudgetWindow.current($0.period, nowMillis: nowMillis, zone: zone).start) })
        let earliest = windows.values.min() ?? nowMillis
        var result: [String: (downgrades: Int, refusals: Int)] = [:]
        let named = Array(#""budget":""#.utf8)  // its "g" is rarer in a record than a quote
        LogLines.forEach(path: logPath, upTo: SpendIndex.size(of: logPath)) { line in
            if let millis = SpendIndex.leadingTimestamp(line) {
                // In the writer's layout a record no budget acted on says `"budget":null` (or, in
                // v1, nothing), and is passed over without decoding.
                if millis < earliest || !Self.contains(line, named, anchor: 5) { return }
            }
            guard let record = try? LedgerRecord.decode(line: line), let name = record.budget, let start = windows[name],
                let millis = LedgerTimestamp.parse(record.timestamp), millis >= start
            else { return }
            var counts = result[name] ?? (0, 0)
            if record.status == .error && (record.error ?? "").hasPrefix("refused") { counts.refusals += 1 } else { counts.downgrades += 1 }
            result[name] = counts
        }
        return result
    }

    /// Whether `needle` occurs in `line`: each place its byte at `anchor` (best a rare one)
    /// occurs, found by memchr, is compared.
    static func contains(_ line: UnsafeBufferPointer<UInt8>, _ needle: [UInt8], anchor: Int) -> Bool {
        guard let base = line.baseAddress, needle.indices.contains(anchor), line.count >= needle.count else { return needle.isEmpty }
        let last = line.count - needle.count + anchor  // the last place the anchor byte can be
        var position = anchor
        while position <= last, let found = memchr(base + position, Int32(needle[anchor]), last + 1 - position) {
            let at = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at - anchor, needle, needle.count) == 0 { return true }
            position = at + 1
        }
        return false
    }

    /// A file's size; 0 when it does not exist.
    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}

/// Reads a file's lines in chunks, without holding it whole.
enum LogLines {
    /// Calls `body` with each non-blank line of the bytes of `path` from `offset` (a line's
    /// start) to `limit`.
    static func forEach(path: String, from offset: Int64 = 0, upTo limit: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0, offset <= limit, lseek(descriptor, off_t(offset), SEEK_SET) == off_t(offset) else {
            if descriptor >= 0 { close(descriptor) }
            return
        }
        defer { close(descriptor) }
        var carry: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = limit - offset
        while remaining > 0 {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, min($0.count, Int(remaining))) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            remaining -= Int64(count)
            carry += chunk[0..<count]
            var start = 0
            carry.withUnsafeBufferPointer { buffer in
                for index in 0..<buffer.count where buffer[index] == 10 {
                    if index > start { body(UnsafeBufferPointer(rebasing: buffer[start..<index])) }
                    start = index + 1
                }
            }
            carry.removeFirst(start)
        }
        if !carry.isEmpty { carry.withUnsafeBufferPointer { body($0) } }
    }
}
