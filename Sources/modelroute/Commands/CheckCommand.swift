import ModelRouteKit

/// `modelroute check`.
enum CheckCommand: Command {
    static let spec = CommandSpec(
        name: "check", abstract: "TODO", usage: ["check"], arguments: [], options: [], discussion: "")

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        .success
    }
}
