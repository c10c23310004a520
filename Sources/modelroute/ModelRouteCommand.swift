import ModelRouteKit

/// The top level: picks the subcommand, runs it, and maps any error to a message on
/// stderr and a sysexits status. This is the only place errors become exit codes.
enum ModelRouteCommand {
    static let version = "0.1.0"

    /// Subcommands by name; anything else on the command line is a prompt.
    static var subcommands: [any Command.Type] { [ClassifyCommand.self, CheckCommand.self, ReportCommand.self, TrainCommand.self, EvalCommand.self] }

    static func run(arguments: [String], context: CommandContext) async -> Int32 {
        var arguments = arguments
        var command: any Command.Type = RouteCommand.self
        if let first = arguments.first {
            if first == "--version" {
                context.stdout.write("modelroute \(version)\n")
                context.stdout.flush()
                return 0
            }
            if first == "help" {
                arguments.removeFirst()
                let target = arguments.first.flatMap { name in subcommands.first { $0.spec.name == name } } ?? RouteCommand.self
                context.stdout.write(HelpFormatter.render(target.spec))
                context.stdout.flush()
                return 0
            }
            if let found = subcommands.first(where: { $0.spec.name == first }) {
                command = found
                arguments.removeFirst()
            }
        }
        do {
            let parsed = try ArgumentParser.parse(arguments, for: command.spec)
            if parsed.flag("help") {
                context.stdout.write(HelpFormatter.render(command.spec))
                context.stdout.flush()
                return 0
            }
            let code = try await command.run(parsed, context: context)
            context.stdout.flush()
            return code.rawValue
        } catch let error as any ModelRouteError {
            context.stdout.flush()
            context.diagnose(error.message)
            return error.exitCode.rawValue
        } catch {
            context.stdout.flush()
            context.diagnose("internal error: \(error)")
            return ExitCode.software.rawValue
        }
    }
}
