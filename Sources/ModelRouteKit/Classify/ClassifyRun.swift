import Dispatch
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// How `modelroute classify` prints each prompt's decision.
public enum ClassifyOutputFormat: String, Sendable, CaseIterable {
    /// Aligned columns for people, then the summary.
    case table
    /// One JSON object per prompt.
    case jsonl
    /// Comma-separated values with a header row.
    case csv
}

/// A file of prompts that could not be read or contained bad lines.
public enum ClassifyInputError: ModelRouteError, Equatable {
    /// A file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// Lines that were not prompts; each was reported as it was found.
    case badLines(count: Int)
    /// A prompt that is not valid UTF-8.
    case invalidUTF8(file: String, line: Int, byteOffset: Int)

    public var exitCode: ExitCode {
        switch self {
        case .unreadable: return .noInput
        case .badLines, .invalidUTF8: return .dataError
        }
    }

    public var message: String {
        switch self {
        case .unreadable(let file, let reason): return "cannot read \(file): \(reason)"
        case .badLines(let count): return "\(count) line\(count == 1 ? " was" : "s were") skipped because \(count == 1 ? "it was" : "they were") not valid prompts (see above)"
        case .invalidUTF8(let file, let line, let offset):
            return "\(file):\(line): the prompt is not valid UTF-8 (first bad byte at offset \(offset) of the prompt); convert it with iconv or fix the encoding"
        }
    }
}

/// The dry run over files of prompts behind `modelroute classify`: classifies every
/// prompt, prints one row per prompt and a summary of routes, models and estimated cost.
///
/// JSONL and line files are read in chunks that end at line breaks. Each thread takes
/// the next chunk, classifies it, and prints it once every earlier chunk is printed, so
/// reading, classifying and printing overlap, output is the same as a one-thread run,
/// and memory stays flat (two chunks per thread at most).
public struct ClassifyRun {
    /// What to read and how to print.
    public struct Options: Sendable {
        public var format: ClassifyOutputFormat = .jsonl
        /// Forces how every input is cut into prompts; nil decides by file name.
        public var inputFormat: PromptFileFormat?
        /// Print only the summary.
        public var summaryOnly = false
        /// Print no summary.
        public var noSummary = false
        /// Draw a progress line on stderr (a terminal) when the run takes a while.
        public var showProgress = false
        public var context = ClassificationContext()
        /// Threads classifying at once; by default one per core.
        public var threads = Processors.online
        /// Bytes per chunk handed to a thread (JSONL and line files).
        public var chunkSize = 1 << 20
        /// How the table format is dressed and how wide it may be.
        public var style = TextStyle.plain

        public init() {}
    }

    /// Totals for one (route, model) pair.
    public struct Group: Sendable, Equatable {
        public var route: String
        public var model: String
        public var prompts = 0
        public var inputTokens = 0
        public var cost = 0.0
        public var baselineCost = 0.0
    }

    /// Totals across the run.
    public struct Summary: Sendable, Equatable {
        public var prompts = 0
        public var inputTokens = 0
        public var cost = 0.0
        public var baselineCost = 0.0
        public var groups: [Group] = []
        public var badLines = 0
        public var unreadableFiles = 0
        public var invalidPrompts = 0
        /// Prompts a call would first ask a `classify_with` model about.
        public var wouldAsk = 0

        /// Estimated savings against sending every prompt to the baseline, in percent.
        public var savingsPercent: Double { baselineCost > 0 ? (baselineCost - cost) / baselineCost * 100 : 0 }
    }

    let classifier: Classifier
    let options: Options
    let stdout: OutputSink
    let stderr: OutputSink
    /// Two workers per thread, each with its own chunk buffer.
    private let workers: [ClassifyWorker]
    private var printer: RowPrinter

    public init(classifier: Classifier, options: Options, stdout: OutputSink, stderr: OutputSink) {
        self.classifier = classifier
        self.options = options
        self.stdout = stdout
        self.stderr = stderr
        let layout = RowLayout(
            table: classifier.table, format: options.format, writesRows: !options.summaryOnly, style: options.style,
            lineIDs: options.inputFormat == .lines)
        workers = (0..<max(1, options.threads) * 2).map { _ in ClassifyWorker(classifier: classifier, layout: layout, context: options.context) }
        printer = RowPrinter(layout: layout, stdout: stdout, stderr: stderr, progress: options.showProgress ? ProgressLine(sink: stderr) : nil)
    }

    private var summary: Summary {
        get { printer.summary }
        set { printer.summary = newValue }
    }

    /// Classifies every prompt of every input ("-" is standard input) and prints the
    /// rows and the summary. Problems are reported on stderr as they are met; the
    /// returned summary counts them.
    public mutating func run(inputs: [String], standardInput: InputSource) -> Summary {
        if !options.summaryOnly, options.format == .csv {
            stdout.write("index,id,route,model,rule,input_tokens,cost_usd,baseline_cost_usd,difficulty,evidence\n")
        }
        if !options.summaryOnly, options.format == .table {
            stdout.write(printer.layout.tableHeader)
        }
        for input in inputs.isEmpty ? ["-"] : inputs {
            if stdout.isBroken { break }
            if input == "-" {
                let format = options.inputFormat ?? .whole
                readPrompts(name: "<stdin>", format: format) { buffer throws(SystemError) in try standardInput.read(into: buffer) }
                continue
            }
            let descriptor = open(input, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 || FileReader.isDirectory(input) {
                let reason = descriptor < 0 ? FileReader.failure(errno).reason : "it is a directory"
                if descriptor >= 0 { close(descriptor) }
                report(.unreadable(file: input, reason: reason))
                continue
            }
            defer { close(descriptor) }
            let format = options.inputFormat ?? PromptFileFormat.forFile(named: input)
            readPrompts(name: input, format: format) { buffer throws(SystemError) in
                try SystemError.readRetryingInterrupts(descriptor, into: buffer)
            }
        }
        printer.progress?.finish()
        summary.groups.removeAll { $0.prompts == 0 }
        if !options.noSummary {
            let text = renderSummary()
            // Machine formats keep stdout to one record per prompt; the summary goes to stderr.
            if options.summaryOnly || options.format == .table {
                if !options.summaryOnly { stdout.write("\n") }
                stdout.write(text)
            } else {
                stdout.flush()
                stderr.write(text)
            }
        }
        stdout.flush()
        stderr.flush()
        return summary
    }

    private mutating func readPrompts(name: String, format: PromptFileFormat, source: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int) {
        if format != .whole {
            readLines(name: name, format: format, source: source)
            return
        }
        let worker = workers[0]
        do {
            _ = try LineChunkReader(chunkSize: .max).next(into: worker.chunk, from: source)
        } catch {
            report(.unreadable(file: name, reason: "\(error)"))
            return
        }
        worker.classifyWhole()
        printer.print(worker, file: name)
    }

    /// What the threads of `readLines` share: the input, behind one lock...
    private struct SharedInput {
        let reader: LineChunkReader
        var nextSequence = 0
        var finished = false
        var failure: SystemError?
    }

    /// ...and the output, behind another: the idle workers, the chunks classified but
    /// not yet printed, and the printer.
    private struct SharedOutput {
        var idle: [ClassifyWorker]
        var waiting: [Int: ClassifyWorker] = [:]
        var nextToPrint = 0
        var printer: RowPrinter
    }

    /// Classifies a JSONL or line file on every thread: each takes the next chunk (read
    /// under the input lock), classifies it, and prints whatever is next in order.
    private mutating func readLines(name: String, format: PromptFileFormat, source: (UnsafeMutableRawBufferPointer) throws(SystemError) -> Int) {
        let threads = max(1, options.threads)
        // A thread that finishes a chunk while an earlier one is still being classified
        // takes another idle worker instead of waiting; it waits only when none is idle.
        let idleWorkers = DispatchSemaphore(value: workers.count)
        let input = Mutex(SharedInput(reader: LineChunkReader(chunkSize: options.chunkSize)))
        let output = Mutex(SharedOutput(idle: workers, printer: printer))
        withoutActuallyEscaping(source) { source in
            // Called only under the input lock, so by one thread at a time.
            let source = UncheckedSendable(source)
            let work: @Sendable (Int) -> Void = { _ in
                while let (worker, sequence) = ClassifyRun.nextChunk(input: input, output: output, idleWorkers: idleWorkers, source: source) {
                    worker.classifyChunk(format: format)
                    let broken = output.withLock { state in
                        state.waiting[sequence] = worker
                        while let ready = state.waiting.removeValue(forKey: state.nextToPrint) {
                            state.printer.print(ready, file: name)
                            state.nextToPrint += 1
                            state.idle.append(ready)
                            idleWorkers.signal()
                        }
                        return state.printer.stdout.isBroken
                    }
                    if broken { input.withLock { $0.finished = true } }
                }
            }
            if threads == 1 {
                work(0)
            } else {
                DispatchQueue.concurrentPerform(iterations: threads, execute: work)
            }
        }
        printer = output.withLock { $0.printer }
        if let failure = input.withLock({ $0.failure }) { report(.unreadable(file: name, reason: "\(failure)")) }
    }

    /// An idle worker holding the next chunk, and the chunk's place in the input; nil
    /// when the input is finished (or failed, or nobody reads the output any more).
    private static func nextChunk(
        input: borrowing Mutex<SharedInput>, output: borrowing Mutex<SharedOutput>, idleWorkers: DispatchSemaphore,
        source: UncheckedSendable<(UnsafeMutableRawBufferPointer) throws(SystemError) -> Int>
    ) -> (ClassifyWorker, Int)? {
        idleWorkers.wait()
        guard let worker = output.withLock({ $0.idle.popLast() }) else { return nil }
        let sequence: Int? = input.withLock { state -> Int? in
            guard !state.finished else { return nil }
            do throws(SystemError) {
                if try state.reader.next(into: worker.chunk, from: source.value) {
                    state.nextSequence += 1
                    return state.nextSequence - 1
                }
            } catch {
                state.failure = error
            }
            state.finished = true
            return nil
        }
        guard let sequence else {
            output.withLock { $0.idle.append(worker) }
            idleWorkers.signal()
            return nil
        }
        return (worker, sequence)
    }

    /// Reports a file that could not be read; the others are still read.
    private mutating func report(_ error: ClassifyInputError) {
        stderr.write("modelroute: \(error.message)\n")
        summary.unreadableFiles += 1
    }

    /// The summary block: prompts per route and model with shares, cost against the baseline.
    func renderSummary() -> String {
        let total = max(summary.prompts, 1)
        var text = "Summary: \(summary.prompts) prompt\(summary.prompts == 1 ? "" : "s"), \(summary.inputTokens) estimated input tokens\n"
        let routeWidth = max(5, summary.groups.map(\.route.count).max() ?? 0)
        let modelWidth = max(5, summary.groups.map(\.model.count).max() ?? 0)
        text += "  " + Text.pad("route", routeWidth) + "  " + Text.pad("model", modelWidth) + "  " + Text.pad("prompts", 8, right: true)
            + "  " + Text.pad("share", 6, right: true) + "  " + Text.pad("est. cost", 11, right: true) + "\n"
        let groups = summary.groups.sorted(by: { $0.prompts > $1.prompts || ($0.prompts == $1.prompts && $0.route < $1.route) })
        let costs = Money.column(groups.map(\.cost))
        for (group, cost) in zip(groups, costs) {
            let share = Double(group.prompts) / Double(total) * 100
            text += "  " + Text.pad(group.route, routeWidth) + "  " + Text.pad(group.model, modelWidth) + "  "
                + Text.pad(String(group.prompts), 8, right: true) + "  " + Text.pad(formatted("%.1f%%", share), 6, right: true)
                + "  " + Text.pad(cost, 11, right: true) + "\n"
        }
        let baselineName = classifier.table.baselineModel
        let width = options.style.width
        text += Text.fit(
            "Estimated input cost: \(Money.format(summary.cost)) routed vs \(Money.format(summary.baselineCost)) all on \(baselineName)"
                + formatted(" (saves %.1f%%)", summary.savingsPercent), width: width) + "\n"
        if summary.wouldAsk > 0 {
            text += Text.fit(
                "\(summary.wouldAsk) prompt\(summary.wouldAsk == 1 ? "" : "s") would first ask a classify_with model (classify never asks); shown at the route the next rules give.",
                width: width) + "\n"
        }
        if let experiment = classifier.table.experiment {
            text += Text.fit(ExperimentStage.summary(experiment) + "; shown here as routed.", width: width) + "\n"
        }
        text += Text.fit("Estimates cover input tokens only; output length is unknown before a call.", width: width) + "\n"
        return text
    }
}

/// What is fixed per deciding rule, computed once: its route and model as output text
/// and its prices, so a row costs no lookups.
struct RowLayout: Sendable {
    /// One rule, or the default route (last).
    struct Decider: Sendable {
        var route: String
        var model: String
        var rule: String
        var pricing: ModelPricing?
        /// Index into `groups`.
        var group: Int
        /// The row text that follows the id: `"route":…,"model":…,"rule":…` and so on.
        var fragment: [UInt8]
    }

    let format: ClassifyOutputFormat
    let writesRows: Bool
    /// Whether each row's id is its line number (`--lines`), written when the row is
    /// printed (only then is the chunk's first line known).
    let lineIDs: Bool
    /// The table format's columns that fit, and the prompt preview's width (0: none).
    let tableColumns: [Int]
    let previewWidth: Int
    let deciders: [Decider]
    let groups: [(route: String, model: String)]
    let baseline: ModelPricing?

    /// The table format's columns: index, id, route, model, rule, difficulty, tokens,
    /// estimated cost, and a preview of the prompt, which takes the room that is left.
    static let tableWidths = [6, 10, 10, 18, 15, 10, 8, 11]
    static let tableTitles = ["#", "id", "route", "model", "rule", "difficulty", "tokens", "est. cost"]
    /// Dropped in this order when the table is wider than the terminal: tokens, id,
    /// difficulty, estimated cost, model (the preview goes first, when fewer than 12 cells are left).
    static let tableDropOrder = [6, 1, 5, 7, 3]
    /// The preview's width when there is no width limit.
    static let unlimitedPreview = 40

    init(table: RoutingTable, format: ClassifyOutputFormat, writesRows: Bool, style: TextStyle = .plain, lineIDs: Bool = false) {
        self.format = format
        self.writesRows = writesRows
        self.lineIDs = lineIDs
        let kept = Columns.fit(widths: RowLayout.tableWidths, width: style.width, dropOrder: RowLayout.tableDropOrder)
        tableColumns = kept
        let used = kept.reduce(0) { $0 + RowLayout.tableWidths[$1] } + 2 * (kept.count - 1)
        if let width = style.width {
            let left = width - used - 2
            previewWidth = left >= 12 ? min(left, 60) : 0
        } else {
            previewWidth = RowLayout.unlimitedPreview
        }
        baseline = table.model(named: table.baselineModel)?.pricing
        var groups: [(route: String, model: String)] = []
        var groupIndex: [String: Int] = [:]
        var deciders: [Decider] = []
        let routeModels = Dictionary(table.routes.map { ($0.name, $0.model) }, uniquingKeysWith: { first, _ in first })
        let prices = Dictionary(table.models.map { ($0.name, $0.pricing) }, uniquingKeysWith: { first, _ in first })
        let sources = table.rules.map { (route: $0.route, rule: $0.name) } + [(route: table.defaultRoute, rule: "default")]
        for source in sources {
            let model = routeModels[source.route] ?? ""
            let group: Int
            let key = source.route + "\u{0}" + model
            if let existing = groupIndex[key] {
                group = existing
            } else {
                group = groups.count
                groupIndex[key] = group
                groups.append((source.route, model))
            }
            var fragment: [UInt8] = []
            switch format {
            case .jsonl:
                for (key, value) in [("route", source.route), ("model", model), ("rule", source.rule)] {
                    fragment.append(contentsOf: ",\"\(key)\":".utf8)
                    JSONWriter.appendQuoted(value, to: &fragment)
                }
            case .csv:
                fragment.append(contentsOf: ("," + [source.route, model, source.rule].map(CSV.field).joined(separator: ",")).utf8)
            case .table:
                for (column, value) in [(2, source.route), (3, model), (4, source.rule)] where kept.contains(column) {
                    fragment.append(contentsOf: ("  " + Text.pad(value, RowLayout.tableWidths[column])).utf8)
                }
            }
            deciders.append(Decider(route: source.route, model: model, rule: source.rule, pricing: prices[model], group: group, fragment: fragment))
        }
        self.deciders = deciders
        self.groups = groups
    }

    /// The table format's header line, with the columns that fit.
    var tableHeader: String {
        let rightAligned: Set<Int> = [0, 5, 6, 7]
        var text = tableColumns.map { Text.pad(RowLayout.tableTitles[$0], RowLayout.tableWidths[$0], right: rightAligned.contains($0)) }
            .joined(separator: "  ")
        if previewWidth > 0 { text += "  prompt" }
        return text + "\n"
    }

    /// A row's id, as each format writes it.
    func appendID<Sink: ByteSink>(_ id: String?, to bytes: inout Sink) {
        switch format {
        case .jsonl:
            bytes.append(ascii: ",\"id\":")
            if let id { JSONWriter.appendQuoted(id, to: &bytes) } else { bytes.append(ascii: "null") }
        case .csv: bytes.append(utf8: "," + CSV.field(id ?? ""))
        case .table: if tableColumns.contains(1) { bytes.append(utf8: "  " + Text.pad(id ?? "-", RowLayout.tableWidths[1])) }
        }
    }

    /// The first characters of a prompt on one line: runs of white space and control
    /// characters become one space, and a cut is marked with "…".
    static func preview(_ text: UnsafeBufferPointer<UInt8>, width: Int) -> String {
        var result = ""
        var count = 0
        var pendingSpace = false
        let decoded = String(decoding: UnsafeBufferPointer(rebasing: text[0..<min(text.count, width * 4 + 8)]), as: UTF8.self)
        for character in decoded {
            if character.isWhitespace || character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                pendingSpace = count > 0
                continue
            }
            if pendingSpace {
                result.append(" ")
                count += 1
                pendingSpace = false
            }
            result.append(character)
            count += 1
            if count > width { break }
        }
        return count > width ? String(result.prefix(width - 1)) + "…" : result
    }

    /// The start of a row, up to and including the index.
    func appendIndex<Sink: ByteSink>(_ index: Int, to bytes: inout Sink) {
        switch format {
        case .jsonl:
            bytes.append(ascii: "{\"index\":")
            JSONWriter.appendInteger(index, to: &bytes)
        case .csv: JSONWriter.appendInteger(index, to: &bytes)
        case .table: bytes.append(utf8: Text.pad(String(index), 6, right: true))
        }
    }

    /// What a row says of a `classify_with` rule that held: classify never asks.
    static func askNote(_ ask: PendingAsk) -> String { "would ask \(ask.config.model) first (rule \(ask.rule))" }

    /// The rest of a row after the index.
    /// The rest of a row after the index and id; `prompt` feeds the table's preview.
    func appendRow<Sink: ByteSink>(
        decision: RoutingDecision, decider: Decider, cost: Double, baselineCost: Double, prompt: UnsafeBufferPointer<UInt8>, to bytes: inout Sink
    ) {
        switch format {
        case .jsonl:
            bytes.append(contentsOf: decider.fragment)
            bytes.append(ascii: ",\"evidence\":[")
            for (index, evidence) in decision.evidence.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                evidence.appendJSON(to: &bytes)
            }
            if let ask = decision.ask {
                if !decision.evidence.isEmpty { bytes.append(UInt8(ascii: ",")) }
                JSONWriter.appendQuoted(RowLayout.askNote(ask), to: &bytes)
            }
            bytes.append(ascii: "],\"difficulty\":")
            if let score = decision.difficulty { JSONWriter.appendNumber(DifficultyText.rounded(score), to: &bytes) } else { bytes.append(ascii: "null") }
            bytes.append(ascii: ",\"input_tokens\":")
            JSONWriter.appendInteger(decision.features.tokens, to: &bytes)
            bytes.append(ascii: ",\"cost_usd\":")
            JSONWriter.appendNumber(cost, to: &bytes)
            bytes.append(ascii: ",\"baseline_cost_usd\":")
            JSONWriter.appendNumber(baselineCost, to: &bytes)
            bytes.append(ascii: "}\n")
        case .csv:
            let fields = [
                String(decision.features.tokens), Money.plain(cost), Money.plain(baselineCost),
                decision.difficulty.map { DifficultyText.score($0) } ?? "",
                (decision.evidence.map(\.description) + (decision.ask.map { [RowLayout.askNote($0)] } ?? [])).joined(separator: "; "),
            ].map(CSV.field)
            bytes.append(contentsOf: decider.fragment)
            bytes.append(utf8: "," + fields.joined(separator: ",") + "\n")
        case .table:
            bytes.append(contentsOf: decider.fragment)
            var tail = ""
            if tableColumns.contains(5) { tail += "  " + Text.pad(decision.difficulty.map { DifficultyText.score($0) } ?? "-", 10, right: true) }
            if tableColumns.contains(6) { tail += "  " + Text.pad(String(decision.features.tokens), 8, right: true) }
            // One number of decimals down the column, so the figures line up.
            if tableColumns.contains(7) { tail += "  " + Text.pad(Money.format(cost, decimals: 6), 11, right: true) }
            if previewWidth > 0 { tail += "  " + RowLayout.preview(prompt, width: previewWidth) }
            bytes.append(utf8: tail + "\n")
        }
    }
}

/// Prints classified chunks in input order: each row with its running index, each
/// problem with its line number in the file, and adds up the totals.
struct RowPrinter {
    let layout: RowLayout
    let stdout: OutputSink
    let stderr: OutputSink
    var progress: ProgressLine?
    var summary = ClassifyRun.Summary()
    /// The line number of the next chunk's first line.
    private var nextLine = 1

    init(layout: RowLayout, stdout: OutputSink, stderr: OutputSink, progress: ProgressLine?) {
        self.layout = layout
        self.stdout = stdout
        self.stderr = stderr
        self.progress = progress
        summary.groups = layout.groups.map { ClassifyRun.Group(route: $0.route, model: $0.model) }
    }

    mutating func print(_ worker: ClassifyWorker, file: String) {
        let firstLine = nextLine
        nextLine += worker.lineCount
        for problem in worker.problems {
            switch problem {
            case .badLine(var problem):
                summary.badLines += 1
                problem.line += firstLine - 1
                let column = problem.column.map { ":\($0)" } ?? ""
                stderr.write("modelroute: \(file):\(problem.line)\(column): \(problem.message); line skipped\n")
            case .invalidUTF8(let line, let offset):
                summary.invalidPrompts += 1
                let error = ClassifyInputError.invalidUTF8(file: file, line: line + firstLine - 1, byteOffset: offset)
                stderr.write("modelroute: \(error.message); skipped\n")
            }
        }
        if layout.writesRows {
            let layout = layout
            var index = summary.prompts
            stdout.append { bytes in
                let rows = worker.output.bytes
                var rowStart = 0
                for (row, rowEnd) in worker.rowEnds.enumerated() {
                    index += 1
                    layout.appendIndex(index, to: &bytes)
                    if layout.lineIDs { layout.appendID(String(firstLine - 1 + worker.rowLines[row]), to: &bytes) }
                    bytes.append(contentsOf: UnsafeBufferPointer(rebasing: rows[rowStart..<rowEnd]))
                    rowStart = rowEnd
                }
            }
        }
        summary.prompts += worker.rowEnds.count
        summary.wouldAsk += worker.wouldAsk
        for (index, totals) in worker.totals.enumerated() where totals.prompts > 0 {
            let group = layout.deciders[index].group
            summary.groups[group].prompts += totals.prompts
            summary.groups[group].inputTokens += totals.inputTokens
            summary.groups[group].cost += totals.cost
            summary.groups[group].baselineCost += totals.baselineCost
            summary.inputTokens += totals.inputTokens
            summary.cost += totals.cost
            summary.baselineCost += totals.baselineCost
        }
        progress?.tick(prompts: summary.prompts)
    }
}

/// One chunk's classification: the chunk's bytes, then its rows, totals and problems
/// until they are printed. Used by one thread at a time.
final class ClassifyWorker: @unchecked Sendable {
    /// Totals for one decider.
    struct Totals {
        var prompts = 0
        var inputTokens = 0
        var cost = 0.0
        var baselineCost = 0.0

        mutating func add(inputTokens tokens: Int, cost: Double, baselineCost: Double) {
            prompts += 1
            inputTokens += tokens
            self.cost += cost
            self.baselineCost += baselineCost
        }
    }

    /// Something to report about a line; line numbers count from 1 at the chunk's start.
    enum Problem {
        case badLine(PromptLineProblem)
        case invalidUTF8(line: Int, offset: Int)
    }

    private let classifier: Classifier
    private let layout: RowLayout
    private let context: ClassificationContext
    private let scratch: ClassifierScratch
    /// The input to classify, read straight into this buffer.
    let chunk = ByteBuffer()
    /// Lines in the chunk.
    private(set) var lineCount = 0
    /// Rows without their index, back to back; `rowEnds` marks where each ends.
    let output = ByteBuffer()
    private(set) var rowEnds: [Int] = []
    /// Each row's line in the chunk (1-based), when rows take their line as id.
    private(set) var rowLines: [Int] = []
    private(set) var totals: [Totals]
    private(set) var problems: [Problem] = []
    /// Prompts of the chunk that a call would first ask a `classify_with` model about.
    private(set) var wouldAsk = 0

    init(classifier: Classifier, layout: RowLayout, context: ClassificationContext) {
        self.classifier = classifier
        self.layout = layout
        self.context = context
        scratch = ClassifierScratch(classifier: classifier)
        scratch.measuresEverything = false
        totals = Array(repeating: Totals(), count: layout.deciders.count)
    }

    /// Clears the previous chunk's results.
    private func reset() {
        lineCount = 0
        output.count = 0
        rowEnds.removeAll(keepingCapacity: true)
        rowLines.removeAll(keepingCapacity: true)
        problems.removeAll(keepingCapacity: true)
        wouldAsk = 0
        for index in totals.indices { totals[index] = Totals() }
    }

    /// Classifies every line of the chunk (JSONL records or plain lines).
    func classifyChunk(format: PromptFileFormat) {
        reset()
        let chunk = self.chunk.bytes
        guard let base = chunk.baseAddress else { return }
        var decoder = PromptLineDecoder(format: format)
        var lineNumber = 1
        var lineStart = 0
        while lineStart < chunk.count {
            let remaining = chunk.count - lineStart
            let lineEnd: Int
            if let found = memchr(base + lineStart, 0x0A, remaining) {
                lineEnd = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base
            } else {
                lineEnd = chunk.count
            }
            _ = decoder.decode(
                UnsafeBufferPointer(rebasing: chunk[lineStart..<lineEnd]), number: lineNumber,
                prompt: { item in
                    classify(item)
                    return true
                },
                problem: { problems.append(.badLine($0)) })
            lineNumber += 1
            lineStart = lineEnd + 1
        }
        lineCount = lineNumber - 1
    }

    /// Classifies the whole chunk as one prompt.
    func classifyWhole() {
        reset()
        classify(PromptItem(line: 1, id: nil, text: chunk.bytes))
    }

    private func classify(_ item: PromptItem) {
        guard let decision = classifier.classify(utf8: item.text, context: context, scratch: scratch) else {
            problems.append(.invalidUTF8(line: item.line, offset: scratch.invalidOffset ?? 0))
            return
        }
        let index: Int
        switch decision.reason {
        case .rule(_, let ruleIndex): index = ruleIndex
        case .defaultRoute, .override, .experiment: index = layout.deciders.count - 1
        }
        let decider = layout.deciders[index]
        let tokens = decision.features.tokens
        let cost = decider.pricing?.cost(inputTokens: tokens, outputTokens: 0) ?? 0
        let baselineCost = layout.baseline?.cost(inputTokens: tokens, outputTokens: 0) ?? 0
        totals[index].add(inputTokens: tokens, cost: cost, baselineCost: baselineCost)
        if decision.ask != nil { wouldAsk += 1 }
        guard layout.writesRows else {
            rowEnds.append(output.count)
            return
        }
        var output = self.output
        if layout.lineIDs { rowLines.append(item.line) } else { layout.appendID(item.id, to: &output) }
        layout.appendRow(decision: decision, decider: decider, cost: cost, baselineCost: baselineCost, prompt: item.text, to: &output)
        rowEnds.append(output.count)
    }
}

/// A one-line progress display on a terminal's stderr, shown only after half a second.
struct ProgressLine {
    let sink: OutputSink
    private let start = MonotonicClock.now()
    private var lastDraw = 0.0
    private var drawn = false

    init(sink: OutputSink) {
        self.sink = sink
    }

    /// Called once per chunk printed, with the prompts printed so far.
    mutating func tick(prompts: Int) {
        let elapsed = MonotonicClock.now() - start
        guard elapsed > 0.5, elapsed - lastDraw > 0.2 else { return }
        lastDraw = elapsed
        drawn = true
        sink.write("\rclassifying: \(prompts) prompts, \(Int(Double(prompts) / elapsed)) per second")
        sink.flush()
    }

    mutating func finish() {
        guard drawn else { return }
        sink.write("\r\u{1B}[K")
        sink.flush()
    }
}
