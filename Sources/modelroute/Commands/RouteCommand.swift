import ModelRouteKit

/// `modelroute [PROMPT...]`: classify, call, stream, log. `--dry-run` stops after classifying.
enum RouteCommand: Command {
    static let spec = CommandSpec(
        name: "", abstract: "Route a prompt to the right model.", usage: ["[<options>] [PROMPT ...]"],
        arguments: [("PROMPT", "The prompt; the arguments are joined with spaces. Without them the prompt is read from standard input.")],
        options: [
            OptionSpec("dry-run", help: "Classify and estimate the cost; no call, no log."),
            OptionSpec("explain", help: "With --dry-run: show every rule tried and why it held or not."),
            OptionSpec("route", value: "NAME", help: "Use this route instead of classifying."),
            OptionSpec("model", value: "NAME", help: "Use this model instead of classifying."),
            CommonOptions.routes,
            CommonOptions.tier,
        ],
        discussion: "")

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let prompt = try PromptInput.read(arguments.positionals, stdin: context.stdin)
        let table = try CommonOptions.loadTable(arguments, context: context)
        let classifier = Classifier(table: table)
        let classification = CommonOptions.classificationContext(arguments, context: context)
        let decision: RoutingDecision
        if arguments.value("route") != nil || arguments.value("model") != nil {
            decision = try classifier.override(route: arguments.value("route"), model: arguments.value("model"), prompt: prompt)
        } else {
            decision = classifier.classify(prompt, context: classification)
        }
        return try DryRun.run(prompt: prompt, table: table, decision: decision, explain: arguments.flag("explain"), context: context, classification: classification)
    }
}
