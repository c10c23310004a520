#if canImport(Glibc)
import Glibc
#endif

/// `modelroute log`: the newest calls first, read from the end of the log backwards in
/// blocks, so that the last 20 of a million records cost a few reads, not the file.
public enum RecentCalls {
    /// What to keep.
    public struct Filter: Sendable {
        public var route: String?
        public var model: String?
        public var status: LedgerRecord.Status?
        /// Epoch milliseconds: records before it end the search (the log is in append
        /// order, so everything further back is older still).
        public var sinceMillis: Int64?

        public init(route: String? = nil, model: String? = nil, status: LedgerRecord.Status? = nil, sinceMillis: Int64? = nil) {
            self.route = route
            self.model = model
            self.status = status
            self.sinceMillis = sinceMillis
        }

        func keeps(_ record: LedgerRecord) -> Bool {
            (route == nil || record.route == route) && (model == nil || record.model == model) && (status == nil || record.status == status)
        }
    }

    /// One call found: the record and its line as stored.
    public struct Found: Sendable {
        public var record: LedgerRecord
        public var line: [UInt8]
    }

    /// Bytes read per step backwards.
    static let blockSize = 64 * 1024

    /// Up to `limit` newest records of `path` that `filter` keeps, newest first, and how
    /// many lines that are not records were passed over. A pipe or FIFO is read to its end.
    public static func read(path: String, limit: Int, filter: Filter) throws(ReportError) -> (calls: [Found], badLines: Int) {
        let descriptor = ReportEngine.openLog(path)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw .missingLog(path: path, isDefault: false) }
            throw .unreadableLog(path: path, reason: SystemError.text(errno))
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw .unreadableLog(path: path, reason: SystemError.text(errno)) }
        var found: [Found] = []
        var bad = 0
        // Returns false once enough is found or the window is passed.
        func take(_ line: ArraySlice<UInt8>) -> Bool {
            var bytes = Array(line)
            if bytes.last == 0x0D { bytes.removeLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return true }
            guard let record = try? LedgerRecord.decode(line: bytes) else {
                bad += 1
                return true
            }
            if let since = filter.sinceMillis, let millis = LedgerTimestamp.parse(record.timestamp), millis < since { return false }
            if filter.keeps(record) { found.append(Found(record: record, line: bytes)) }
            return found.count < limit
        }
        guard limit > 0 else { return ([], 0) }
        if (info.st_mode & S_IFMT) != S_IFREG {
            // No offsets to seek to: read it all, then walk back from the end.
            var all: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: blockSize)
            while true {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count < 0 { throw .readFailed(path: path, reason: SystemError.text(errno)) }
                if count == 0 { break }
                all += chunk[0..<count]
            }
            for line in all.split(separator: 0x0A, omittingEmptySubsequences: false).reversed() where !take(line) { break }
            return (found, bad)
        }
        var end = Int(info.st_size)
        var carried: [UInt8] = []  // the start of a line whose beginning is in an earlier block
        while end > 0 {
            let start = max(0, end - blockSize)
            var block = [UInt8](repeating: 0, count: end - start)
            let count = block.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(start)) }
            if count < 0 { throw .readFailed(path: path, reason: SystemError.text(errno)) }
            block = Array(block.prefix(count)) + carried
            var lines = block.split(separator: 0x0A, omittingEmptySubsequences: false)
            // The first piece may continue in the block before (unless this is the file's start).
            carried = start > 0 ? Array(lines.removeFirst()) : []
            for line in lines.reversed() where !take(line) { return (found, bad) }
            end = start
        }
        return (found, bad)
    }

    /// The calls as aligned rows for people: local time, route, model, tokens, cost,
    /// saved, status, latency, tags.
    public static func renderTable(_ calls: [Found], zone: LocalZone) -> String {
        let header = ["time", "route", "model", "in", "out", "cost", "saved", "status", "ms", "tags"]
        var rows: [[String]] = [header]
        for call in calls {
            let record = call.record
            let millis = LedgerTimestamp.parse(record.timestamp) ?? 0
            let seconds = LedgerTimestamp.floorDiv(millis, 1000)
            let local = seconds + Int64(zone.secondsFromGMT(atEpochSeconds: seconds))
            let day = LedgerTimestamp.floorDiv(local, 86_400)
            let second = local - day * 86_400
            let time = LedgerTimestamp.dateString(days: day) + formatted(" %02d:%02d:%02d", Int32(second / 3600), Int32(second / 60 % 60), Int32(second % 60))
            let saved = record.baselineCostUSD.map { Money.format($0 - record.costUSD) } ?? "-"
            rows.append([
                time, record.route ?? "-", record.model ?? "-", String(record.inputTokens), String(record.outputTokens),
                Money.format(record.costUSD), saved, record.status.rawValue + (record.offline ? " (offline)" : ""), String(record.latencyMilliseconds),
                record.tags.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let numeric: Set<Int> = [3, 4, 5, 6, 8]
        return rows.map { row in
            row.indices.map { Text.pad(row[$0], widths[$0], right: numeric.contains($0)) }.joined(separator: "  ").trimmingWhitespace()
        }.joined(separator: "\n") + "\n"
    }
}
