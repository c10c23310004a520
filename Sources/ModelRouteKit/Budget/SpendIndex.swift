import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The spend so far of each budget, kept beside the log (`usage.jsonl.spend`) so that a
/// budget check reads a few hundred bytes instead of the whole log. It is updated under the
/// log's lock with each append (`add`), and rebuilt from the log when it is missing,
/// unreadable, of another version, made for other budgets, or older than the log (another
/// process appended without updating it): deleting it loses nothing.
///
/// Calendar periods keep one bucket (the current period's start); rolling windows keep
/// hourly buckets, so a rolling window counts whole hours.
public struct SpendIndex: Sendable {
    /// The index format's version.
    public static let version = 1

    public let logPath: String
    public let budgets: [BudgetConfig]
    public let zone: LocalZone

    public var indexPath: String { logPath + ".spend" }

    public init(logPath: String, budgets: [BudgetConfig], zone: LocalZone) {
        self.logPath = logPath
        self.budgets = budgets
        self.zone = zone
    }

    /// What the index holds: the log's size it reflects, and buckets per budget.
    struct State: Equatable {
        var logBytes: Int64
        var buckets: [String: [Int64: Double]]
    }

    /// The budgets' settings as one string: an index made for others is rebuilt.
    var signature: String {
        SHA256.hexDigest(of: budgets.map { budget in
            [budget.name, budget.period.description, budget.tags.map { "\($0.key)=\($0.value)" }.joined(separator: ","),
             budget.routes?.joined(separator: ",") ?? "*", budget.models?.joined(separator: ",") ?? "*"].joined(separator: "|")
        }.joined(separator: "\n"))
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
        guard var state = read(), state.logBytes == before else {
            // Missing, or behind the log: the log (which now holds this record) tells all.
            save(rebuild(nowMillis: nowMillis, logBytes: after))
            return
        }
        let millis = LedgerTimestamp.parse(record.timestamp) ?? nowMillis
        for budget in budgets where budget.applies(route: record.route, model: record.model, tags: record.tags) {
            let bucket = BudgetWindow.bucket(budget.period, millis: millis, zone: zone)
            state.buckets[budget.name, default: [:]][bucket, default: 0] += record.costUSD
        }
        state.logBytes = after
        save(prune(state, nowMillis: nowMillis))
    }

    /// The index, rebuilt if it cannot be used.
    func load(nowMillis: Int64) -> State {
        let logBytes = Self.size(of: logPath)
        if let state = read(), state.logBytes == logBytes { return state }
        let state = rebuild(nowMillis: nowMillis, logBytes: logBytes)
        save(state)
        return state
    }

    /// Reads the index file; nil when it is missing or not this version for these budgets.
    func read() -> State? {
        guard let bytes = try? FileReader.readAll(path: indexPath), let node = try? JSONParser.parse(bytes),
            node["v"]?.intValue == SpendIndex.version, node["signature"]?.stringValue == signature,
            let logBytes = node["log_bytes"]?.intValue, case .object(let members)? = node["budgets"]?.value
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
        return State(logBytes: Int64(logBytes), buckets: buckets)
    }

    /// Writes the index (atomically; a failure only means the next check rebuilds it).
    func save(_ state: State) {
        var json = JSONWriter(reservingCapacity: 256)
        json.beginObject()
        json.key("v"); json.int(SpendIndex.version)
        json.key("signature"); json.string(signature)
        json.key("log_bytes"); json.int(Int(state.logBytes))
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
        var state = State(logBytes: logBytes, buckets: [:])
        let starts = Dictionary(uniqueKeysWithValues: budgets.map { ($0.name, BudgetWindow.current($0.period, nowMillis: nowMillis, zone: zone).start) })
        let earliest = starts.values.min() ?? nowMillis
        LogLines.forEach(path: logPath, upTo: logBytes) { line in
            // Records before every window are skipped on their time alone, without decoding.
            if let millis = SpendIndex.leadingTimestamp(line), millis < earliest { return }
            guard let record = try? LedgerRecord.decode(line: line), let millis = LedgerTimestamp.parse(record.timestamp), millis >= earliest else { return }
            for budget in budgets where millis >= (starts[budget.name] ?? 0) && budget.applies(route: record.route, model: record.model, tags: record.tags) {
                let bucket = BudgetWindow.bucket(budget.period, millis: millis, zone: zone)
                state.buckets[budget.name, default: [:]][bucket, default: 0] += record.costUSD
            }
        }
        return state
    }

    /// The `ts` of a line as the writer lays it out (`{"v":N,"ts":"…"`), or nil.
    static func leadingTimestamp(_ line: UnsafeBufferPointer<UInt8>) -> Int64? {
        let prefix = Array("{\"v\":".utf8)
        guard line.count > 40, line.starts(with: prefix) else { return nil }
        // `{"v":2,"ts":"` is 13 bytes; the time is the 24 bytes after it.
        let start = 13
        guard line[5] >= 48, line[5] <= 57, line[start - 1] == UInt8(ascii: "\""), line[start + 24] == UInt8(ascii: "\"") else { return nil }
        return LedgerTimestamp.parse(String(decoding: UnsafeBufferPointer(rebasing: line[start..<(start + 24)]), as: UTF8.self))
    }

    /// The calls each budget downgraded and refused in its current window, from the records
    /// that name it (read line by line; records before every window are skipped on their time).
    public func actions(nowMillis: Int64) -> [String: (downgrades: Int, refusals: Int)] {
        let windows = Dictionary(uniqueKeysWithValues: budgets.map { ($0.name, BudgetWindow.current($0.period, nowMillis: nowMillis, zone: zone).start) })
        let earliest = windows.values.min() ?? nowMillis
        var result: [String: (downgrades: Int, refusals: Int)] = [:]
        LogLines.forEach(path: logPath, upTo: SpendIndex.size(of: logPath)) { line in
            if let millis = SpendIndex.leadingTimestamp(line), millis < earliest { return }
            guard let record = try? LedgerRecord.decode(line: line), let name = record.budget, let start = windows[name],
                let millis = LedgerTimestamp.parse(record.timestamp), millis >= start
            else { return }
            var counts = result[name] ?? (0, 0)
            if record.status == .error && (record.error ?? "").hasPrefix("refused") { counts.refusals += 1 } else { counts.downgrades += 1 }
            result[name] = counts
        }
        return result
    }

    /// A file's size; 0 when it does not exist.
    static func size(of path: String) -> Int64 {
        var info = stat()
        return stat(path, &info) == 0 ? Int64(info.st_size) : 0
    }
}

/// Reads a file's lines in chunks, without holding it whole.
enum LogLines {
    /// Calls `body` with each non-blank line of the first `limit` bytes of `path`.
    static func forEach(path: String, upTo limit: Int64, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        defer { close(descriptor) }
        var carry: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var remaining = limit
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
