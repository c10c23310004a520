#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import FoundationEssentials
import Synchronization

/// Reads logs and sums them into a `ReportResult`: each file is read in pieces that
/// start and end at line boundaries, one thread per core, each with its own sums,
/// merged at the end; memory does not depend on the size of the logs.
public enum ReportEngine {
    /// Bytes read at a time by each thread.
    static let chunkSize = 1 << 20
    /// Seconds a FIFO with no writer yet is given to get one before it reads as empty.
    static let fifoWriterWait = 1.0

    /// Expands `--log` arguments: files as given, directories into their `*.jsonl`
    /// files sorted by name. `isDefault` words the message for a log not yet created.
    public static func resolveFiles(_ logs: [String], isDefault: Bool = false) throws(ReportError) -> [String] {
        var files: [String] = []
        for path in logs {
            if FileReader.isDirectory(path) {
                let names: [String]
                do {
                    names = try FileManager.default.contentsOfDirectory(atPath: path)
                } catch {
                    throw .unreadableLog(path: path, reason: "the directory cannot be listed")
                }
                let logs = names.filter { $0.hasSuffix(".jsonl") }.sorted()
                    .map { (path.hasSuffix("/") ? path : path + "/") + $0 }
                    .filter { FileReader.isRegularFile($0) }
                if logs.isEmpty { throw .noLogsInDirectory(path: path) }
                files += logs
            } else {
                var info = stat()
                guard stat(path, &info) == 0 else {
                    if errno == ENOENT || errno == ENOTDIR { throw .missingLog(path: path, isDefault: isDefault) }
                    throw .unreadableLog(path: path, reason: SystemError.text(errno))
                }
                files.append(path)
            }
        }
        // The same file named twice (a directory and one of its files, say) counts once.
        var seen = Set<String>()
        return files.filter { seen.insert(URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path).inserted }
    }

    /// One piece of one file.
    struct Task: Sendable {
        /// Index into the file list.
        var file: Int
        /// First byte (the start of a line).
        var start: Int
        /// One past the last byte (just after a newline, or the end of the file).
        var end: Int
        /// Whether this piece ends the file (its last line may lack a newline).
        var endsFile: Bool
        /// A pipe or FIFO (`--log <(zcat old.jsonl.gz)`): read from start to end of input
        /// with `read`, in one piece, since it has no size and cannot be read at an offset.
        var sequential = false
    }

    /// Opens a log for reading without waiting for a writer (a FIFO nobody writes to reads
    /// as empty instead of blocking in `open`), then reads block as usual.
    static func openLog(_ path: String) -> Int32 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        if descriptor >= 0 {
            let flags = fcntl(descriptor, F_GETFL)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK) }
        }
        return descriptor
    }

    /// Reads `files` (already resolved) and sums them as `request` asks.
    public static func run(_ request: ReportRequest, files: [String]) throws(ReportError) -> ReportResult {
        let workers = request.workers > 0 ? request.workers : Processors.online
        let tasks = try plan(files: files, workers: workers, splitAt: request.minimumSplitBytes)
        let shared = SharedRun()
        let threadCount = min(workers, max(1, tasks.count))
        let work: @Sendable (Int) -> Void = { _ in
            var worker = Worker(request: request)
            while shared.failure.withLock({ $0 == nil }) {
                let index = shared.next.add(1, ordering: .relaxed).oldValue
                guard index < tasks.count else { break }
                do throws(ReportError) {
                    try worker.process(tasks[index], taskIndex: index, path: files[tasks[index].file])
                } catch {
                    shared.failure.withLock { if $0 == nil { $0 = error } }
                }
            }
            let output = worker.finish()
            shared.outputs.withLock { $0.append(output) }
        }
        if threadCount == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: threadCount, execute: work)
        }
        if let error = shared.failure.withLock({ $0 }) { throw error }
        let outputs = shared.outputs.withLock { $0 }
        return merge(outputs, tasks: tasks, files: files, request: request)
    }

    /// Splits large files into one piece per thread at line boundaries.
    static func plan(files: [String], workers: Int, splitAt minimumSplitBytes: Int) throws(ReportError) -> [Task] {
        var tasks: [Task] = []
        for (index, path) in files.enumerated() {
            // A pipe or FIFO is opened once, by the thread that reads it: opening it here
            // too could take a writer's data and drop it.
            var info = stat()
            if stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG {
                tasks.append(Task(file: index, start: 0, end: .max, endsFile: true, sequential: true))
                continue
            }
            let descriptor = openLog(path)
            guard descriptor >= 0 else { throw .unreadableLog(path: path, reason: SystemError.text(errno)) }
            defer { close(descriptor) }
            guard fstat(descriptor, &info) == 0 else { throw .unreadableLog(path: path, reason: SystemError.text(errno)) }
            let size = Int(info.st_size)
            let pieces = size >= minimumSplitBytes ? workers : 1
            var start = 0
            for piece in 1...pieces {
                var end = size
                if piece < pieces {
                    end = max(start, nextLineStart(descriptor, from: size * piece / pieces - 1, size: size))
                }
                if end > start || (piece == pieces && tasks.last?.file != index) {
                    tasks.append(Task(file: index, start: start, end: end, endsFile: piece == pieces))
                }
                start = end
            }
            if let last = tasks.last, last.file == index, !last.endsFile {
                tasks[tasks.count - 1].endsFile = true
            }
        }
        return tasks
    }

    /// The offset just after the first newline at or after `offset` (or `size`).
    private static func nextLineStart(_ descriptor: Int32, from offset: Int, size: Int) -> Int {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var position = max(0, offset)
        while position < size {
            let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, off_t(position)) }
            if count <= 0 { return size }
            if let newline = buffer[0..<count].firstIndex(of: UInt8(ascii: "\n")) { return position + newline + 1 }
            position += count
        }
        return size
    }

    /// Turns the threads' sums into the report.
    static func merge(_ outputs: [WorkerOutput], tasks: [Task], files: [String], request: ReportRequest) -> ReportResult {
        var groups: [[GroupValue]: GroupStats] = [:]
        var totals = GroupStats()
        var records = 0, outside = 0, offline = 0, bad = 0
        var linesPerTask = [Int](repeating: 0, count: tasks.count)
        var samples: [(task: Int, line: Int, reason: LedgerLineError)] = []
        var baselines: Set<String> = []
        var first: Int64?, last: Int64?
        var byRoute: [String: (calls: Int, escalations: Int)] = [:]
        var byModel: [String: (calls: Int, escalations: Int)] = [:]
        var experiments: [String: (control: GroupStats, routed: GroupStats)] = [:]
        for output in outputs {
            for (name, counts) in output.escalationsByRoute {
                let sum = byRoute[name] ?? (0, 0)
                byRoute[name] = (sum.calls + counts.calls, sum.escalations + counts.escalations)
            }
            for (name, counts) in output.escalationsByModel {
                let sum = byModel[name] ?? (0, 0)
                byModel[name] = (sum.calls + counts.calls, sum.escalations + counts.escalations)
            }
            for (name, pair) in output.experiments {
                var sum = experiments[name] ?? (GroupStats(), GroupStats())
                sum.control.merge(pair.control)
                sum.routed.merge(pair.routed)
                experiments[name] = sum
            }
            for (key, stats) in output.groups {
                groups[key, default: GroupStats()].merge(stats)
                totals.merge(stats)
            }
            records += output.records
            outside += output.outsideWindow
            offline += output.offlineLeftOut
            bad += output.badLines
            for (task, lines) in output.linesPerTask { linesPerTask[task] = lines }
            samples += output.badLineSamples
            baselines.formUnion(output.baselineModels)
            if let value = output.firstMillis { first = min(first ?? value, value) }
            if let value = output.lastMillis { last = max(last ?? value, value) }
        }
        // A piece's line numbers continue from the pieces before it in the same file.
        var firstLine = [Int](repeating: 1, count: tasks.count)
        for index in tasks.indices where index > 0 && tasks[index].file == tasks[index - 1].file {
            firstLine[index] = firstLine[index - 1] + linesPerTask[index - 1]
        }
        let badLineSamples = samples.sorted { ($0.task, $0.line) < ($1.task, $1.line) }.prefix(request.badLineSampleLimit).map {
            BadLine(file: files[tasks[$0.task].file], line: firstLine[$0.task] + $0.line - 1, reason: $0.reason)
        }
        var result = ReportResult(
            files: files, dimensions: request.dimensions, window: request.window, totals: totals,
            groups: withEveryDay(tree(groups.map { ($0.key, $0.value) }, dimensions: request.dimensions, level: 0), request: request),
            records: records, outsideWindow: outside, badLines: bad, badLineSamples: badLineSamples,
            baselineModels: request.baseline.map { [$0.model] } ?? baselines.sorted(), repriced: request.baseline != nil,
            firstMillis: first, lastMillis: last)
        result.offlineLeftOut = offline
        result.repricedAll = request.reprice != nil
        func rates(_ counts: [String: (calls: Int, escalations: Int)]) -> [EscalationRate] {
            counts.map { EscalationRate(name: $0.key, calls: $0.value.calls, escalations: $0.value.escalations) }
                .sorted { ($0.calls, $1.name) > ($1.calls, $0.name) }
        }
        result.escalationsByRoute = rates(byRoute)
        result.escalationsByModel = rates(byModel)
        result.experiments = experiments.map { ExperimentResult(name: $0.key, control: $0.value.control, routed: $0.value.routed) }
            .sorted { $0.name < $1.name }
        return result
    }

    /// With `--by day` first: every day of the window gets a row, zero for days without
    /// calls. The window's open ends are the first and last day with calls, and at most
    /// ten years of days are listed.
    static func withEveryDay(_ groups: [ReportGroup], request: ReportRequest) -> [ReportGroup] {
        guard request.dimensions.first == .day else { return groups }
        let present = groups.compactMap { group -> Int64? in
            if case .day(let day) = group.value { return day }
            return nil
        }
        guard let firstPresent = present.min(), let lastPresent = present.max() else { return groups }
        var days = LocalDays(zone: request.zone)
        let first = request.window.since.map { days.day($0) } ?? firstPresent
        let last = request.window.until.map { days.day($0 - 1) } ?? lastPresent
        guard last >= first, last - first <= 3660 else { return groups }
        let seen = Set(present)
        var all = groups
        for day in first...last where !seen.contains(day) {
            all.append(ReportGroup(dimension: .day, value: .day(day), stats: GroupStats(), children: []))
        }
        return all.sorted { a, b in
            if case .day(let x) = a.value, case .day(let y) = b.value { return x < y }
            return false
        }
    }

    /// Nests flat groups level by level, each level sorted.
    private static func tree(_ flat: [([GroupValue], GroupStats)], dimensions: [ReportDimension], level: Int) -> [ReportGroup] {
        guard level < dimensions.count else { return [] }
        var byValue: [GroupValue: [([GroupValue], GroupStats)]] = [:]
        for entry in flat { byValue[entry.0[level], default: []].append(entry) }
        var result: [ReportGroup] = byValue.map { value, members in
            var stats = GroupStats()
            for member in members { stats.merge(member.1) }
            return ReportGroup(
                dimension: dimensions[level], value: value, stats: stats,
                children: tree(members, dimensions: dimensions, level: level + 1))
        }
        result.sort { a, b in
            if case .day(let x) = a.value, case .day(let y) = b.value { return x < y }
            if a.stats.cost != b.stats.cost { return a.stats.cost > b.stats.cost }
            if a.stats.calls != b.stats.calls { return a.stats.calls > b.stats.calls }
            return a.value.label < b.value.label
        }
        return result
    }
}

/// What the reading threads share: the next piece to take, their results, the first error.
final class SharedRun: Sendable {
    /// Index of the next unclaimed piece.
    let next = Atomic<Int>(0)
    /// Each thread's sums, as it finishes.
    let outputs = Mutex<[WorkerOutput]>([])
    /// The first error; the other threads stop taking pieces once it is set.
    let failure = Mutex<ReportError?>(nil)
}

/// One thread's sums, with group keys already turned back into values.
struct WorkerOutput: Sendable {
    /// Sums per full group key.
    var groups: [[GroupValue]: GroupStats]
    /// Records read.
    var records: Int
    /// Records outside the window.
    var outsideWindow: Int
    /// Offline records in the window, left out.
    var offlineLeftOut: Int
    /// Lines skipped.
    var badLines: Int
    /// The first skipped lines of each piece: piece, line within the piece, reason.
    var badLineSamples: [(task: Int, line: Int, reason: LedgerLineError)]
    /// Lines in each piece this thread read.
    var linesPerTask: [(task: Int, lines: Int)]
    /// Distinct `baseline_model` values.
    var baselineModels: Set<String>
    /// Earliest record in the window.
    var firstMillis: Int64?
    /// Latest record in the window.
    var lastMillis: Int64?
    /// Calls and escalations per route, and per first-answer model.
    var escalationsByRoute: [String: (calls: Int, escalations: Int)] = [:]
    var escalationsByModel: [String: (calls: Int, escalations: Int)] = [:]
    /// Per experiment: its control and routed groups.
    var experiments: [String: (control: GroupStats, routed: GroupStats)] = [:]
}

/// One thread's reading state and sums.
struct Worker {
    /// What is asked.
    let request: ReportRequest
    /// The fast path (and the group values seen so far).
    var scanner: LedgerScanner
    /// Open-addressing index of `stats` by group key (-1: empty), a power of two long;
    /// cheaper than a Dictionary, whose SipHash would show up once per record.
    private var slots = [Int32](repeating: -1, count: 64)
    /// Sums per group, and their keys.
    var stats: [(key: SIMD8<Int32>, stats: GroupStats)] = []
    /// Records read.
    var records = 0
    /// Records outside the window.
    var outside = 0
    /// Offline records in the window, left out.
    var offline = 0
    /// Lines skipped.
    var badLines = 0
    /// The first skipped lines: piece, line within it, reason.
    var samples: [(task: Int, line: Int, reason: LedgerLineError)] = []
    /// Lines in each piece read, to number lines across pieces.
    var linesPerTask: [(task: Int, lines: Int)] = []
    /// Interned `baseline_model` values seen.
    var baselineModels: Set<Int32> = []
    /// Earliest record in the window.
    var firstMillis: Int64?
    /// Latest record in the window.
    var lastMillis: Int64?
    /// Last group used, as logs often repeat one in a row.
    private var lastKey = SIMD8<Int32>(repeating: Int32.min)
    /// Position of `lastKey` in `stats`.
    private var lastIndex = 0
    /// The last `baseline_model` added to `baselineModels`.
    private var lastBaseline: Int32 = .min
    /// The read buffer.
    private var buffer: [UInt8]
    /// `--reprice` prices by interned model (nil: not priced in the table), filled as met.
    private var repricing: [ModelPricing??] = []

    /// Today's prices of an interned model, looked up once per model.
    private mutating func pricing(of model: Int32, in reprice: TableRepricing) -> ModelPricing? {
        guard model >= 0 else { return nil }
        let index = Int(model)
        if index >= repricing.count { repricing += [ModelPricing??](repeating: .none, count: index + 1 - repricing.count) }
        if case .none = repricing[index] { repricing[index] = .some(reprice.prices[scanner.interner.string(model)]) }
        return repricing[index] ?? nil
    }

    /// Calls and escalations by interned route, and by interned first-answer model.
    private var routeTally: [SIMD2<Int32>] = []
    private var modelTally: [SIMD2<Int32>] = []
    /// Control and routed sums by interned experiment.
    private var experimentTally: [Int32: (control: GroupStats, routed: GroupStats)] = [:]

    /// A worker for `request`.
    init(request: ReportRequest) {
        self.request = request
        scanner = LedgerScanner(plan: ScanPlan(request.dimensions), zone: request.zone)
        buffer = [UInt8](repeating: 0, count: ReportEngine.chunkSize)
    }

    /// Reads one piece of a file.
    mutating func process(_ task: ReportEngine.Task, taskIndex: Int, path: String) throws(ReportError) {
        let descriptor = ReportEngine.openLog(path)
        guard descriptor >= 0 else { throw .unreadableLog(path: path, reason: SystemError.text(errno)) }
        defer { close(descriptor) }
        var line = 0
        var carried = 0
        var offset = task.start
        var skippingLongLine = false
        // A FIFO's writer may connect a moment after it is opened (`cat log > fifo &`):
        // until a first byte arrives, an end of input is waited out for up to a second.
        let writerDeadline = MonotonicClock.now() + ReportEngine.fifoWriterWait
        while true {
            let want = min(buffer.count - carried, task.end - offset)
            var count = 0
            if want > 0 {
                count = buffer.withUnsafeMutableBytes { raw in
                    task.sequential
                        ? read(descriptor, raw.baseAddress.map { $0 + carried }, want)
                        : pread(descriptor, raw.baseAddress.map { $0 + carried }, want, off_t(offset))
                }
                if count < 0 {
                    if errno == EINTR { continue }
                    throw .readFailed(path: path, reason: SystemError.text(errno))
                }
                if count == 0, task.sequential, offset == 0, MonotonicClock.now() < writerDeadline {
                    usleep(20_000)
                    continue
                }
            }
            offset += count
            let available = carried + count
            // A file that shrank while being read ends where it now ends.
            let atEnd = offset >= task.end || count == 0
            let consumed = buffer.withUnsafeBufferPointer { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                var start = 0
                if skippingLongLine {
                    guard let newline = memchr(base, Int32(UInt8(ascii: "\n")), available) else { return available }
                    start = base.distance(to: newline.assumingMemoryBound(to: UInt8.self)) + 1
                    skippingLongLine = false
                }
                var regionEnd = available
                if !atEnd {
                    var index = available - 1
                    while index >= start, base[index] != UInt8(ascii: "\n") { index -= 1 }
                    if index < start { return start }
                    regionEnd = index + 1
                }
                processLines(base + start, base + regionEnd, final: atEnd && task.endsFile, task: taskIndex, line: &line)
                return regionEnd
            }
            if atEnd { break }
            if consumed == 0 {
                if available < buffer.count {  // a short read: read on
                    carried = available
                    continue
                }
                // No newline in a full buffer: one very long line.
                if buffer.count < request.maximumLineBytes {
                    buffer += [UInt8](repeating: 0, count: buffer.count)
                    carried = available
                } else {
                    line += 1
                    noteBadLine(.tooLong(bytes: available), task: taskIndex, line: line)
                    skippingLongLine = true
                    carried = 0
                }
                continue
            }
            let rest = available - consumed
            if rest > 0 {
                buffer.withUnsafeMutableBytes { raw in
                    guard let base = raw.baseAddress else { return }
                    memmove(base, base + consumed, rest)
                }
            }
            carried = rest
        }
        linesPerTask.append((taskIndex, line))
    }

    /// Sums every line from `start` to `end`, which ends at a line boundary (or the
    /// end of the file when `final`).
    private mutating func processLines(
        _ start: UnsafePointer<UInt8>, _ end: UnsafePointer<UInt8>, final: Bool, task: Int, line: inout Int
    ) {
        var p = start
        var record = ScannedRecord()
        while p < end {
            line += 1
            if let next = scanner.scan(p, end: end, into: &record) {
                add(record)
                p = next
                continue
            }
            let found = memchr(p, Int32(UInt8(ascii: "\n")), end - p)
            let lineEnd: UnsafePointer<UInt8> = found.map { UnsafePointer($0.assumingMemoryBound(to: UInt8.self)) } ?? end
            let hasNewline = lineEnd < end
            defer { p = hasNewline ? lineEnd + 1 : end }
            let bytes = UnsafeBufferPointer(start: p, count: lineEnd - p)
            if Worker.isBlank(bytes) { continue }  // blank lines are not records
            do throws(LedgerLineError) {
                let decoded = try LedgerRecord.decode(line: bytes)
                if let summary = scanner.summary(of: decoded) {
                    add(summary)
                } else {
                    noteBadLine(.invalidValue(key: "ts", reason: "not an RFC 3339 time"), task: task, line: line)
                }
            } catch {
                if !hasNewline && final, case .notJSON = error {
                    noteBadLine(.incompleteLastLine, task: task, line: line)
                } else {
                    noteBadLine(error, task: task, line: line)
                }
            }
        }
    }

    /// Whether a line holds only white space.
    static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte != 0x20 && byte != 0x09 && byte != 0x0D { return false }
        return true
    }

    /// Counts a skipped line, keeping the first few with their place.
    private mutating func noteBadLine(_ reason: LedgerLineError, task: Int, line: Int) {
        badLines += 1
        if samples.count < request.badLineSampleLimit {  // pieces are taken in order, so these are the first
            samples.append((task, line, reason))
        }
    }

    /// Adds one record to its group.
    @inline(__always)
    private mutating func add(_ record: ScannedRecord) {
        records += 1
        guard request.window.contains(record.millis) else {
            outside += 1
            return
        }
        if record.offline && !request.includeOffline {
            offline += 1
            return
        }
        firstMillis = min(firstMillis ?? record.millis, record.millis)
        lastMillis = max(lastMillis ?? record.millis, record.millis)
        if record.baselineModel != lastBaseline {
            lastBaseline = record.baselineModel
            if record.baselineModel >= 0 { baselineModels.insert(record.baselineModel) }
        }
        let index: Int
        if record.key == lastKey {
            index = lastIndex
        } else {
            index = groupPosition(record.key)
        }
        lastKey = record.key
        lastIndex = index
        var baseline: Double
        if let repricing = request.baseline {
            baseline = repricing.pricing.cost(
                inputTokens: record.inputTokens, outputTokens: record.outputTokens, cachedInputTokens: record.cachedInputTokens)
        } else {
            baseline = record.baselineCost ?? record.cost
        }
        var cost = record.cost
        if let reprice = request.reprice {
            // The answer's tokens at today's prices; overhead (questions, judges, discarded
            // answers) and cache hits keep what they cost.
            stats[index].stats.loggedCost += record.cost
            stats[index].stats.loggedBaselineCost += record.baselineCost ?? record.cost
            if record.responseCache != 1, let pricing = pricing(of: record.model, in: reprice) {
                cost = pricing.cost(inputTokens: record.inputTokens, outputTokens: record.outputTokens, cachedInputTokens: record.cachedInputTokens) + record.overhead
            }
            if request.baseline == nil, let pricing = reprice.baseline {
                baseline = pricing.cost(inputTokens: record.inputTokens, outputTokens: record.outputTokens, cachedInputTokens: record.cachedInputTokens)
            }
        }
        // A call whose cost is not known saves nothing that can be told.
        if !record.priced {
            baseline = cost
            stats[index].stats.unpricedCalls += 1
            stats[index].stats.unpricedTokens += record.inputTokens + record.outputTokens
        }
        stats[index].stats.calls += 1
        stats[index].stats.inputTokens += record.inputTokens
        stats[index].stats.outputTokens += record.outputTokens
        stats[index].stats.cachedInputTokens += record.cachedInputTokens
        stats[index].stats.cost += cost
        stats[index].stats.baselineCost += baseline
        if record.cacheHit { stats[index].stats.cacheHits += 1 }
        if record.fallback { stats[index].stats.fallbacks += 1 }
        if record.status == 1 { stats[index].stats.errors += 1 }
        if record.status == 2 { stats[index].stats.cancelled += 1 }
        if record.escalated { stats[index].stats.escalations += 1 }
        stats[index].stats.overheadCost += record.overhead
        stats[index].stats.costSquares += cost * cost
        if record.responseCache == 1 || record.responseCache == 2 {
            stats[index].stats.responseLookups += 1
            if record.responseCache == 1 { stats[index].stats.responseHits += 1 }
        }
        stats[index].stats.cacheSaved += record.cacheSaved
        stats[index].stats.latency.record(record.latency)
        Worker.tally(&routeTally, record.route, escalated: record.escalated)
        Worker.tally(&modelTally, record.firstModel, escalated: record.escalated)
        if record.experiment >= 0, record.group >= 0 {
            var single = GroupStats()
            single.calls = 1
            single.cost = record.cost
            single.costSquares = record.cost * record.cost
            single.baselineCost = baseline
            single.errors = record.status == 1 ? 1 : 0
            single.escalations = record.escalated ? 1 : 0
            single.overheadCost = record.overhead
            var pair = experimentTally[record.experiment] ?? (GroupStats(), GroupStats())
            if record.group == 0 { pair.control.merge(single) } else { pair.routed.merge(single) }
            experimentTally[record.experiment] = pair
        }
    }

    /// Counts a call (and its escalation) for an interned name; -1 is not counted.
    @inline(__always)
    private static func tally(_ tally: inout [SIMD2<Int32>], _ number: Int32, escalated: Bool) {
        guard number >= 0 else { return }
        let index = Int(number)
        if index >= tally.count { tally += [SIMD2<Int32>](repeating: .zero, count: index + 1 - tally.count) }
        tally[index] &+= SIMD2(1, escalated ? 1 : 0)
    }

    /// A multiplicative hash of a group key.
    @inline(__always)
    private static func slotHash(_ key: SIMD8<Int32>) -> Int {
        var hash: UInt64 = 0
        for lane in 0..<8 { hash = (hash ^ UInt64(UInt32(bitPattern: key[lane]))) &* 0x9E37_79B9_7F4A_7C15 }
        return Int(truncatingIfNeeded: hash >> 40)
    }

    /// The position of a group in `stats`, adding it if new.
    @inline(__always)
    private mutating func groupPosition(_ key: SIMD8<Int32>) -> Int {
        let mask = slots.count - 1
        var slot = Worker.slotHash(key) & mask
        while true {
            let found = Int(slots[slot])
            if found < 0 { break }
            if stats[found].key == key { return found }
            slot = (slot + 1) & mask
        }
        let index = stats.count
        stats.append((key, GroupStats()))
        slots[slot] = Int32(index)
        if stats.count * 2 > slots.count {
            slots = [Int32](repeating: -1, count: slots.count * 2)
            let mask = slots.count - 1
            for (position, entry) in stats.enumerated() {
                var slot = Worker.slotHash(entry.key) & mask
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(position)
            }
        }
        return index
    }

    /// The sums with group keys turned back into values.
    func finish() -> WorkerOutput {
        var groups: [[GroupValue]: GroupStats] = [:]
        let dimensions = request.dimensions
        for (key, stats) in stats {
            var values: [GroupValue] = []
            for (level, dimension) in dimensions.enumerated() {
                let number = key[level]
                switch dimension {
                case .day: values.append(.day(Int64(number)))
                case .status: values.append(.text(LedgerRecord.Status.allCases[Int(number)].rawValue))
                case .cache: values.append(number <= 0 ? .none : .text(ScannedRecord.responseCacheValues[Int(number)]))
                default: values.append(number < 0 ? .none : .text(scanner.interner.string(number)))
                }
            }
            groups[values, default: GroupStats()].merge(stats)
        }
        var output = WorkerOutput(
            groups: groups, records: records, outsideWindow: outside, offlineLeftOut: offline, badLines: badLines, badLineSamples: samples,
            linesPerTask: linesPerTask, baselineModels: Set(baselineModels.map { scanner.interner.string($0) }),
            firstMillis: firstMillis, lastMillis: lastMillis)
        for (number, counts) in routeTally.enumerated() where counts[0] > 0 {
            output.escalationsByRoute[scanner.interner.string(Int32(number))] = (Int(counts[0]), Int(counts[1]))
        }
        for (number, counts) in modelTally.enumerated() where counts[0] > 0 {
            output.escalationsByModel[scanner.interner.string(Int32(number))] = (Int(counts[0]), Int(counts[1]))
        }
        for (number, pair) in experimentTally { output.experiments[scanner.interner.string(number)] = pair }
        return output
    }
}
