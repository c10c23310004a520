import ModelRouteKit

/// `modelroute check`: validates a routing table and prints it compiled.
enum CheckCommand: Command {
    static let spec = CommandSpec(
        name: "check",
        abstract: "Validate a routing table and print it as modelroute understands it.",
        usage: ["check [--routes PATH]"],
        arguments: [],
        options: [CommonOptions.routes],
        discussion: """
            Prints providers (and whether each API key variable is set; never its value), models with prices,
            routes with their fallbacks, and rules in the order they are tried. Exits 78 with the file, line,
            column and key of the first problem when the table is invalid, and names the path of a difficulty
            model file that is missing, damaged or of another version.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let table = try CommonOptions.loadClassifier(arguments, context: context).table
        let origin = RoutingTableLoader.locate(explicitPath: arguments.value("routes"), environment: context.environment, currentDirectory: context.currentDirectory)
        context.stdout.write("Table in use: \(RoutingTableLoader.describe(origin))\n")
        context.stdout.write(TableDescription.render(table, environment: context.environment))
        if let warning = TableDescription.pricesWarning(table, nowMillis: context.nowMillis()) { context.warn(warning) }
        return .success
    }
}
