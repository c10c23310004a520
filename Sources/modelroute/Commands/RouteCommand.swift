import ModelRouteKit

/// `modelroute [PROMPT...]`: classify, call, stream, log. `--dry-run` stops after classifying.
enum RouteCommand: Command {
    static let spec = CommandSpec(
        name: "", abstract: "TODO", usage: ["[<options>] [PROMPT ...]"], arguments: [], options: [], discussion: "")

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        .success
    }
}
