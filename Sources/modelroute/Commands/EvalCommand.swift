import ModelRouteKit

/// `modelroute eval`: how well a routing table routes labelled prompts, offline.
enum EvalCommand: Command {
    static let spec = CommandSpec(
        name: "eval",
        abstract: "Measure a routing table on labelled prompts: where easy and hard prompts go, what it would save. No network.",
        usage: ["eval [<options>] FILE ..."],
        arguments: [("FILE", "JSONL files, one {\"prompt\": …, \"label\": \"easy|medium|hard\"} or {\"prompt\": …, \"route\": \"NAME\"} per line; \"source\", \"category\" and \"id\" are optional. '-' reads standard input.")],
        options: [
            CommonOptions.routes,
            OptionSpec("format", value: "FORMAT", help: "table or json.", default: "table"),
            OptionSpec("classifier", value: "MODEL", help: "Score with this difficulty model file instead of the one the table names (to compare models on one table)."),
            OptionSpec("misroutes", value: "N", help: "Show the N worst misroutes (hard sent to the cheapest route, easy to the strongest).", default: "10"),
            CommonOptions.tier,
        ],
        discussion: """
            Tiers are the table's routes ordered by their primary model's input price, cheapest first. With labels,
            the report shows label × tier shares and the headline rates (hard → strongest, hard → cheapest,
            easy → cheapest, easy → strongest); with "route", the share of prompts that took the expected route and
            a confusion matrix. Savings are estimated on input tokens against the baseline model, as classify does.
            A classify_with rule is not called: its prompts count at the route the next rules give.

            A bad line is reported with file:line:column and skipped; the run exits 65 at the end.

            EXAMPLES:
              modelroute eval Examples/everyday-prompts.jsonl
              modelroute eval --routes Examples/two-tier.json --format json labelled.jsonl | jq .headline
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let format = try arguments.choice("format", among: ["table", "json"]) ?? "table"
        let limit = try arguments.integer("misroutes", in: 0...100_000) ?? 10
        guard !arguments.positionals.isEmpty else {
            throw UsageError.other("eval needs labelled prompts: modelroute eval [--routes T] FILE.jsonl ...   (see --help)")
        }
        var table = try CommonOptions.loadTable(arguments, context: context)
        if let path = arguments.value("classifier") { table.classifier = .file(path) }
        let classifier = try Classifier.load(table: table)
        var reader = LabelledFiles(context: context)
        let prompts = try reader.read(arguments.positionals, requirement: .labelOrRoute)
        guard !prompts.isEmpty else { throw LabelledInputError.noPrompts(files: arguments.positionals) }
        let evaluation = RoutingEvaluation(
            classifier: classifier, prompts: prompts, context: CommonOptions.classificationContext(arguments, context: context))
        context.stdout.write(format == "json" ? evaluation.renderJSON(misrouteLimit: limit) : evaluation.renderTable(misrouteLimit: limit))
        if reader.badLines > 0 {
            context.diagnose("\(reader.badLines) line\(reader.badLines == 1 ? " was" : "s were") skipped (see above)")
            return .dataError
        }
        return .success
    }
}
