import ModelRouteKit

/// Options several commands share, and what they mean.
enum CommonOptions {
    static let routes = OptionSpec(
        "routes", value: "PATH",
        help: "The routing table. Otherwise: $MODELROUTE_ROUTES, ./modelroute.json, $XDG_CONFIG_HOME/modelroute/routes.json, the embedded default.")
    static let tier = OptionSpec("tier", value: "NAME", help: "The caller's tier, for rules with a `tier` condition.", default: "$MODELROUTE_TIER")

    /// Loads the routing table the way every command does.
    static func loadTable(_ arguments: ParsedArguments, context: CommandContext) throws(ConfigError) -> RoutingTable {
        try RoutingTableLoader.locateAndLoad(
            explicitPath: arguments.value("routes"), environment: context.environment, currentDirectory: context.currentDirectory)
    }

    /// Loads the routing table and the difficulty model it reads, the way every command does.
    static func loadClassifier(_ arguments: ParsedArguments, context: CommandContext) throws -> Classifier {
        try Classifier.load(table: try loadTable(arguments, context: context))
    }

    /// Who is asking and when, from `--tier`, `$MODELROUTE_TIER` and the context's clock.
    static func classificationContext(_ arguments: ParsedArguments, context: CommandContext) -> ClassificationContext {
        let tier = arguments.value("tier") ?? context.environment["MODELROUTE_TIER"].flatMap { $0.isEmpty ? nil : $0 }
        return ClassificationContext(tier: tier, date: context.now(), zone: context.zone)
    }
}
