import ModelRouteKit

/// `modelroute report`.
enum ReportCommand: Command {
    static let spec = CommandSpec(
        name: "report", abstract: "TODO", usage: ["report"], arguments: [], options: [], discussion: "")

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        .success
    }
}
