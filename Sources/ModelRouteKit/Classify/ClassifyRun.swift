import Foundation

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

        /// Estimated savings against sending every prompt to the baseline, in percent.
        public var savingsPercent: Double { baselineCost > 0 ? (baselineCost - cost) / baselineCost * 100 : 0 }
    }

    let classifier: Classifier
    let options: Options
    let stdout: OutputSink
    let stderr: OutputSink
    private let scratch: ClassifierScratch
    private var writer = JSONWriter(reservingCapacity: 1024)
    private var summary = Summary()
    private var groupIndex: [String: Int] = [:]
    private let baselinePricing: ModelPricing?
    private var pricing: [String: ModelPricing] = [:]
    private var progress: ProgressLine?

    public init(classifier: Classifier, options: Options, stdout: OutputSink, stderr: OutputSink) {
        self.classifier = classifier
        self.options = options
        self.stdout = stdout
        self.stderr = stderr
        scratch = ClassifierScratch(classifier: classifier)
        baselinePricing = classifier.table.model(named: classifier.table.baselineModel)?.pricing
        for model in classifier.table.models { pricing[model.name] = model.pricing }
        if options.showProgress { progress = ProgressLine(sink: stderr) }
    }

    /// Classifies every prompt of every input ("-" is standard input) and prints the
    /// rows and the summary. Problems are reported on stderr as they are met; the
    /// returned summary counts them.
    public mutating func run(inputs: [String], standardInput: InputSource) -> Summary {
        if !options.summaryOnly, options.format == .csv {
            stdout.write("index,id,route,model,rule,input_tokens,cost_usd,baseline_cost_usd,evidence\n")
        }
        if !options.summaryOnly, options.format == .table {
            stdout.write(Self.tableHeader)
        }
        for input in inputs.isEmpty ? ["-"] : inputs {
            if input == "-" {
                let format = options.inputFormat ?? .whole
                readPrompts(name: "<stdin>", format: format) { buffer throws(SystemError) in try standardInput.read(into: buffer) }
                continue
            }
            let descriptor = open(input, O_RDONLY | O_CLOEXEC)
            if descriptor < 0 || FileReader.isDirectory(input) {
                let reason = descriptor < 0 ? FileReader.failure(errno).reason : "it is a directory"
                if descriptor >= 0 { close(descriptor) }
                stderr.write("modelroute: cannot read \(input): \(reason)\n")
                summary.unreadableFiles += 1
                continue
            }
            defer { close(descriptor) }
            let format = options.inputFormat ?? PromptFileFormat.forFile(named: input)
            readPrompts(name: input, format: format) { buffer throws(SystemError) in
                try SystemError.readRetryingInterrupts(descriptor, into: buffer)
            }
        }
        progress?.finish()
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
        var stream = PromptStream(format: format)
        do {
            try stream.read(
                from: source,
                prompt: { item in
                    handle(item, file: name)
                    return !stdout.isBroken
                },
                problem: { problem in
                    summary.badLines += 1
                    let column = problem.column.map { ":\($0)" } ?? ""
                    stderr.write("modelroute: \(name):\(problem.line)\(column): \(problem.message); line skipped\n")
                })
        } catch {
            stderr.write("modelroute: cannot read \(name): \(error)\n")
            summary.unreadableFiles += 1
        }
    }

    private mutating func handle(_ item: PromptItem, file: String) {
        guard let decision = classifier.classify(utf8: item.text, context: options.context, scratch: scratch) else {
            summary.invalidPrompts += 1
            let error = ClassifyInputError.invalidUTF8(file: file, line: item.line, byteOffset: scratch.invalidOffset ?? 0)
            stderr.write("modelroute: \(error.message); skipped\n")
            return
        }
        let tokens = decision.features.tokens
        let cost = pricing[decision.model]?.cost(inputTokens: tokens, outputTokens: 0) ?? 0
        let baseline = baselinePricing?.cost(inputTokens: tokens, outputTokens: 0) ?? 0
        summary.prompts += 1
        summary.inputTokens += tokens
        summary.cost += cost
        summary.baselineCost += baseline
        let key = decision.route + "\u{0}" + decision.model
        let index: Int
        if let existing = groupIndex[key] {
            index = existing
        } else {
            index = summary.groups.count
            groupIndex[key] = index
            summary.groups.append(Group(route: decision.route, model: decision.model))
        }
        summary.groups[index].prompts += 1
        summary.groups[index].inputTokens += tokens
        summary.groups[index].cost += cost
        summary.groups[index].baselineCost += baseline
        if !options.summaryOnly {
            writeRow(index: summary.prompts, id: item.id, decision: decision, cost: cost, baseline: baseline)
        }
        progress?.tick(prompts: summary.prompts)
    }

    private mutating func writeRow(index: Int, id: String?, decision: RoutingDecision, cost: Double, baseline: Double) {
        switch options.format {
        case .jsonl:
            writer.reset()
            writer.beginObject()
            writer.key("index"); writer.int(index)
            writer.key("id"); writer.string(id)
            writer.key("route"); writer.string(decision.route)
            writer.key("model"); writer.string(decision.model)
            writer.key("rule"); writer.string(decision.reason.ruleName)
            writer.key("evidence"); writer.beginArray()
            for evidence in decision.evidence { writer.string(evidence.description) }
            writer.endArray()
            writer.key("input_tokens"); writer.int(decision.features.tokens)
            writer.key("cost_usd"); writer.double(cost)
            writer.key("baseline_cost_usd"); writer.double(baseline)
            writer.endObject()
            writer.bytes.append(0x0A)
            stdout.write(bytes: writer.bytes)
        case .csv:
            let fields = [
                String(index), id ?? "", decision.route, decision.model, decision.reason.ruleName, String(decision.features.tokens),
                Money.plain(cost), Money.plain(baseline), decision.evidence.map(\.description).joined(separator: "; "),
            ]
            stdout.write(fields.map(CSV.field).joined(separator: ",") + "\n")
        case .table:
            stdout.write(
                Text.pad(String(index), 6, right: true) + "  " + Text.pad(id ?? "-", 12) + "  " + Text.pad(decision.route, 10) + "  "
                    + Text.pad(decision.model, 20) + "  " + Text.pad(decision.reason.ruleName, 18) + "  "
                    + Text.pad(String(decision.features.tokens), 8, right: true) + "  " + Text.pad(Money.format(cost), 11, right: true) + "\n")
        }
    }

    static let tableHeader =
        Text.pad("#", 6, right: true) + "  " + Text.pad("id", 12) + "  " + Text.pad("route", 10) + "  " + Text.pad("model", 20) + "  "
        + Text.pad("rule", 18) + "  " + Text.pad("tokens", 8, right: true) + "  " + Text.pad("est. cost", 11, right: true) + "\n"

    /// The summary block: prompts per route and model with shares, cost against the baseline.
    func renderSummary() -> String {
        let total = max(summary.prompts, 1)
        var text = "Summary: \(summary.prompts) prompt\(summary.prompts == 1 ? "" : "s"), \(summary.inputTokens) estimated input tokens\n"
        let routeWidth = max(5, summary.groups.map(\.route.count).max() ?? 0)
        let modelWidth = max(5, summary.groups.map(\.model.count).max() ?? 0)
        text += "  " + Text.pad("route", routeWidth) + "  " + Text.pad("model", modelWidth) + "  " + Text.pad("prompts", 8, right: true)
            + "  " + Text.pad("share", 6, right: true) + "  " + Text.pad("est. cost", 11, right: true) + "\n"
        for group in summary.groups.sorted(by: { $0.prompts > $1.prompts || ($0.prompts == $1.prompts && $0.route < $1.route) }) {
            let share = Double(group.prompts) / Double(total) * 100
            text += "  " + Text.pad(group.route, routeWidth) + "  " + Text.pad(group.model, modelWidth) + "  "
                + Text.pad(String(group.prompts), 8, right: true) + "  " + Text.pad(String(format: "%.1f%%", share), 6, right: true)
                + "  " + Text.pad(Money.format(group.cost), 11, right: true) + "\n"
        }
        let baselineName = classifier.table.baselineModel
        text += "Estimated input cost: \(Money.format(summary.cost)) routed vs \(Money.format(summary.baselineCost)) all on \(baselineName)"
        text += String(format: " (saves %.1f%%)\n", summary.savingsPercent)
        text += "Estimates cover input tokens only; output length is unknown before a call.\n"
        return text
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

    mutating func tick(prompts: Int) {
        guard prompts & 1023 == 0 else { return }
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
