/// `modelroute classify --against OTHER.json`: the what-if of a table edit. Classifies
/// every prompt with both tables, prints a row for each prompt whose route changes (the
/// rule on each side), and sums the moves per (old route → new route) and the estimated
/// input-cost difference.
///
/// Unlike a plain `classify`, it runs on one thread and holds one input file in memory
/// at a time: it is for comparing tables on a prompt file, not for bulk throughput.
public struct ClassifyComparison {
    /// One side's decision, as printed.
    struct Side {
        var route: String
        var model: String
        var rule: String
        var cost: Double
    }

    /// Totals over the run.
    public struct Summary: Sendable, Equatable {
        public var prompts = 0
        public var changed = 0
        public var currentCost = 0.0
        public var otherCost = 0.0
        /// (old route, new route) → prompts, for the prompts that moved.
        public var moves: [String: Int] = [:]
        public var badLines = 0
        public var unreadableFiles = 0
        public var invalidPrompts = 0

        /// The key of `moves` for a move.
        public static func move(_ from: String, _ to: String) -> String { from + " → " + to }
    }

    let current: Classifier
    let other: Classifier
    let format: ClassifyOutputFormat
    let inputFormat: PromptFileFormat?
    let writesRows: Bool
    let context: ClassificationContext
    let stdout: OutputSink
    let stderr: OutputSink
    public private(set) var summary = Summary()

    public init(
        current: Classifier, other: Classifier, format: ClassifyOutputFormat, inputFormat: PromptFileFormat?, writesRows: Bool,
        context: ClassificationContext, stdout: OutputSink, stderr: OutputSink
    ) {
        self.current = current
        self.other = other
        self.format = format
        self.inputFormat = inputFormat
        self.writesRows = writesRows
        self.context = context
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Compares every prompt of every input ("-" is standard input) and prints the rows.
    public mutating func run(inputs: [String], standardInput: InputSource) {
        if writesRows {
            switch format {
            case .csv: stdout.write("index,id,old_route,old_model,old_rule,new_route,new_model,new_rule,input_tokens,cost_change_usd\n")
            case .table:
                stdout.write(
                    Text.pad("#", 6, right: true) + "  " + Text.pad("id", 12) + "  " + Text.pad("old route (rule)", 28) + "  "
                        + Text.pad("new route (rule)", 28) + "  " + Text.pad("tokens", 8, right: true) + "  " + Text.pad("cost change", 12, right: true) + "\n")
            case .jsonl: break
            }
        }
        let currentScratch = ClassifierScratch(classifier: current)
        let otherScratch = ClassifierScratch(classifier: other)
        for input in inputs.isEmpty ? ["-"] : inputs {
            if stdout.isBroken { break }
            let bytes: [UInt8]
            let name = input == "-" ? "<stdin>" : input
            do {
                if input == "-" {
                    bytes = try standardInput.readAll()
                } else {
                    bytes = try FileReader.readAll(path: input)
                }
            } catch let error as FileReader.Failure {
                report(.unreadable(file: name, reason: error.reason))
                continue
            } catch {
                report(.unreadable(file: name, reason: "\(error)"))
                continue
            }
            let format = inputFormat ?? (input == "-" ? .whole : PromptFileFormat.forFile(named: input))
            bytes.withUnsafeBufferPointer { buffer in
                if format == .whole {
                    compare(PromptItem(line: 1, id: nil, text: buffer), file: name, currentScratch, otherScratch)
                    return
                }
                var decoder = PromptLineDecoder(format: format)
                var lineStart = 0
                var lineNumber = 1
                while lineStart < buffer.count {
                    var lineEnd = lineStart
                    while lineEnd < buffer.count, buffer[lineEnd] != 0x0A { lineEnd += 1 }
                    _ = decoder.decode(
                        UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd]), number: lineNumber,
                        prompt: { item in
                            compare(item, file: name, currentScratch, otherScratch)
                            return !stdout.isBroken
                        },
                        problem: { problem in
                            summary.badLines += 1
                            stderr.write("modelroute: \(name):\(problem.line)\(problem.column.map { ":\($0)" } ?? ""): \(problem.message); line skipped\n")
                        })
                    lineStart = lineEnd + 1
                    lineNumber += 1
                }
            }
        }
        stdout.flush()
    }

    private mutating func report(_ error: ClassifyInputError) {
        stderr.write("modelroute: \(error.message)\n")
        summary.unreadableFiles += 1
    }

    private func side(_ decision: RoutingDecision, table: RoutingTable) -> Side {
        let cost = table.inputCost(model: decision.model, tokens: decision.features.tokens)
        return Side(route: decision.route, model: decision.model, rule: decision.reason.ruleName, cost: cost)
    }

    private mutating func compare(_ item: PromptItem, file: String, _ currentScratch: ClassifierScratch, _ otherScratch: ClassifierScratch) {
        guard let old = current.classify(utf8: item.text, context: context, scratch: currentScratch),
            let new = other.classify(utf8: item.text, context: context, scratch: otherScratch)
        else {
            summary.invalidPrompts += 1
            let error = ClassifyInputError.invalidUTF8(file: file, line: item.line, byteOffset: currentScratch.invalidOffset ?? 0)
            stderr.write("modelroute: \(error.message); skipped\n")
            return
        }
        summary.prompts += 1
        let before = side(old, table: current.table)
        let after = side(new, table: other.table)
        summary.currentCost += before.cost
        summary.otherCost += after.cost
        guard before.route != after.route || before.model != after.model else { return }
        summary.changed += 1
        summary.moves[Summary.move(before.route, after.route), default: 0] += 1
        guard writesRows else { return }
        let tokens = old.features.tokens
        let change = ((after.cost - before.cost) * 1e10).rounded() / 1e10
        switch format {
        case .jsonl:
            var json = JSONWriter(reservingCapacity: 256)
            json.beginObject()
            json.key("index"); json.int(summary.prompts)
            json.key("id"); json.string(item.id)
            json.key("old_route"); json.string(before.route)
            json.key("old_model"); json.string(before.model)
            json.key("old_rule"); json.string(before.rule)
            json.key("new_route"); json.string(after.route)
            json.key("new_model"); json.string(after.model)
            json.key("new_rule"); json.string(after.rule)
            json.key("input_tokens"); json.int(tokens)
            json.key("cost_change_usd"); json.double(change)
            json.endObject()
            stdout.write(json.text + "\n")
        case .csv:
            let fields = [
                String(summary.prompts), item.id ?? "", before.route, before.model, before.rule, after.route, after.model, after.rule, String(tokens),
                Money.plain(change),
            ]
            stdout.write(fields.map(CSV.field).joined(separator: ",") + "\n")
        case .table:
            stdout.write(
                Text.pad(String(summary.prompts), 6, right: true) + "  " + Text.pad(item.id ?? "-", 12) + "  "
                    + Text.pad("\(before.route) (\(before.rule))", 28) + "  " + Text.pad("\(after.route) (\(after.rule))", 28) + "  "
                    + Text.pad(String(tokens), 8, right: true) + "  " + Text.pad((change >= 0 ? "+" : "−") + Money.format(abs(change)), 12, right: true) + "\n")
        }
    }

    /// The summary: how many moved, the moves, and the cost difference.
    public func renderSummary() -> String {
        let share = summary.prompts > 0 ? Double(summary.changed) / Double(summary.prompts) * 100 : 0
        var text = "Compared \(summary.prompts) prompt\(summary.prompts == 1 ? "" : "s"): \(summary.changed) change route (\(formatted("%.1f%%", share)))"
        text += " between \(current.table.source) and \(other.table.source)\n"
        let width = max(10, summary.moves.keys.map(\.count).max() ?? 0)
        for (move, count) in summary.moves.sorted(by: { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }) {
            text += "  " + Text.pad(move, width) + "  " + Text.pad(String(count), 8, right: true) + "\n"
        }
        let difference = summary.otherCost - summary.currentCost
        text += "Estimated input cost: \(Money.format(summary.currentCost)) now vs \(Money.format(summary.otherCost)) with \(other.table.source)"
        text += " (\(difference >= 0 ? "+" : "−")\(Money.format(abs(difference)))"
        if summary.currentCost > 0 { text += ", " + (difference >= 0 ? "+" : "−") + formatted("%.1f%%", abs(difference) / summary.currentCost * 100) }
        text += ")\n"
        return text
    }
}
