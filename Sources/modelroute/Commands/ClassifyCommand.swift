import ModelRouteKit

/// `modelroute classify`: the dry run over files of prompts.
enum ClassifyCommand: Command {
    static let spec = CommandSpec(
        name: "classify",
        abstract: "Show which route each prompt would take, why, and what it would cost. No network, no log.",
        usage: ["classify [<options>] [FILE ...]", "classify --against OTHER.json [<options>] [FILE ...]"],
        arguments: [("FILE", "Files of prompts; '-' or none reads standard input. A .jsonl file holds one {\"prompt\": …, \"id\": …} object per line; any other file is one prompt.")],
        options: [
            OptionSpec("format", value: "FORMAT", help: "Rows as table, jsonl or csv.", default: "table on a terminal, else jsonl"),
            OptionSpec("lines", help: "Every non-empty line of every input is a prompt; its id is its line number."),
            OptionSpec("jsonl", help: "Read every input as JSONL, whatever its name (standard input included)."),
            OptionSpec("summary-only", help: "Print only the summary, to standard output."),
            OptionSpec("no-summary", help: "Print no summary."),
            OptionSpec("against", value: "OTHER.json", help: "Compare with another routing table: print only the prompts whose route changes, the rule on each side, the moves per route and the cost difference."),
            CommonOptions.routes,
            CommonOptions.tier,
        ],
        discussion: """
            The summary counts prompts per route and model with their share, and the estimated input cost against
            the baseline model. With --format jsonl or csv it goes to standard error, so standard output stays one
            record per prompt. Costs cover input tokens only (estimated), since output length is unknown before a call.

            A malformed JSONL line is reported with its file and line and skipped; the run goes on and exits 65 at
            the end. An unreadable file exits 66 at the end.

            With --against, each row is a prompt that the two tables route differently (old route and rule, new
            route and rule, the input-cost change), and the summary counts the moves per (old → new) route and
            the estimated input-cost difference. It reads one file at a time into memory and runs on one thread.

            Rows carry the difficulty score when the table reads it (null, or empty in csv, otherwise).

            EXAMPLES:
              modelroute classify Examples/prompts.jsonl
              modelroute classify --against Examples/two-tier.json Examples/prompts.jsonl
              modelroute classify --format csv prompts.jsonl > decisions.csv
              git log --format=%s | modelroute classify --lines --summary-only
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        if arguments.flag("lines") && arguments.flag("jsonl") { throw UsageError.conflicting("--lines", "--jsonl") }
        if arguments.flag("summary-only") && arguments.flag("no-summary") { throw UsageError.conflicting("--summary-only", "--no-summary") }
        let classifier = try CommonOptions.loadClassifier(arguments, context: context)
        var options = ClassifyRun.Options()
        let format = try arguments.choice("format", among: ClassifyOutputFormat.allCases.map(\.rawValue))
        options.format = format.flatMap(ClassifyOutputFormat.init(rawValue:)) ?? (context.stdout.isTerminal ? .table : .jsonl)
        options.inputFormat = arguments.flag("lines") ? .lines : arguments.flag("jsonl") ? .jsonl : nil
        options.summaryOnly = arguments.flag("summary-only")
        options.noSummary = arguments.flag("no-summary")
        options.showProgress = context.stderr.isTerminal
        options.style = context.style(context.stdout)
        options.context = CommonOptions.classificationContext(arguments, context: context)
        if arguments.positionals.isEmpty && context.stdin.isTerminal {
            throw UsageError.other("classify reads prompts from files or standard input, and standard input is a terminal.\nUsage: modelroute classify [<options>] [FILE ...]   (see --help)")
        }
        if let otherPath = arguments.value("against") {
            return try compare(classifier, otherPath: otherPath, options: options, arguments: arguments, context: context)
        }
        var run = ClassifyRun(classifier: classifier, options: options, stdout: context.stdout, stderr: context.stderr)
        let summary = run.run(inputs: arguments.positionals, standardInput: context.stdin)
        return status(unreadableFiles: summary.unreadableFiles, badLines: summary.badLines + summary.invalidPrompts, context: context)
    }

    /// 66 when a file could not be read, else 65 (said once more at the end) when lines were skipped.
    static func status(unreadableFiles: Int, badLines: Int, context: CommandContext) -> ExitCode {
        if unreadableFiles > 0 { return .noInput }
        if badLines > 0 {
            context.diagnose(ClassifyInputError.badLines(count: badLines).message)
            return .dataError
        }
        return .success
    }

    /// `--against`: the prompts the two tables route differently.
    static func compare(
        _ classifier: Classifier, otherPath: String, options: ClassifyRun.Options, arguments: ParsedArguments, context: CommandContext
    ) throws -> ExitCode {
        let otherTable = try RoutingTableLoader.locateAndLoad(explicitPath: otherPath, environment: context.environment, currentDirectory: context.currentDirectory)
        let other = try Classifier.load(table: otherTable)
        var comparison = ClassifyComparison(
            current: classifier, other: other, format: options.format, inputFormat: options.inputFormat, writesRows: !options.summaryOnly,
            context: options.context, stdout: context.stdout, stderr: context.stderr)
        comparison.run(inputs: arguments.positionals, standardInput: context.stdin)
        if !options.noSummary {
            if options.summaryOnly || options.format == .table {
                if !options.summaryOnly { context.stdout.write("\n") }
                context.stdout.write(comparison.renderSummary())
            } else {
                context.stdout.flush()
                context.stderr.write(comparison.renderSummary())
            }
        }
        context.stdout.flush()
        context.stderr.flush()
        let summary = comparison.summary
        return status(unreadableFiles: summary.unreadableFiles, badLines: summary.badLines + summary.invalidPrompts, context: context)
    }
}
