import ModelRouteKit

/// `modelroute classify`.
enum ClassifyCommand: Command {
    static let spec = CommandSpec(
        name: "classify", abstract: "TODO", usage: ["classify"], arguments: [], options: [], discussion: "")

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        .success
    }
}
