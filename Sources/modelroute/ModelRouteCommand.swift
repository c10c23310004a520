import ModelRouteKit

/// The top level: picks the subcommand, runs it, and maps any error to a message on
/// stderr and a sysexits status. This is the only place errors become exit codes.
enum ModelRouteCommand {
    static let version = "0.1.0"

    /// Subcommands by name; anything else on the command line is a prompt.
    static var subcommands: [any Command.Type] { [ClassifyCommand.self, CheckCommand.self, ReportCommand.self, CacheCommand.self, BudgetCommand.self, PricesCommand.self, TrainCommand.self, EvalCommand.self, LogCommand.self, InitCommand.self, CompletionsCommand.self] }

    /// The command a first argument was probably meant to be: a word of ASCII letters
    /// within one edit of a command name of up to five letters, or two of a longer one (a
    /// swap of neighbouring letters is one edit), so that `modelroute reprot` is not sent
    /// as a paid prompt. Ordinary one-word prompts ("hello", "thanks", "summarize") are
    /// too far from every name.
    static func nearCommand(_ word: String) -> String? {
        guard !word.isEmpty, word.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("A"..."Z").contains($0) }) else { return nil }
        let names = subcommands.map { $0.spec.name } + ["help"]
        let typed = Array(word.lowercased().unicodeScalars)
        for name in names {
            let allowed = name.count <= 5 ? 1 : 2
            if Suggestions.editDistance(typed, Array(name.unicodeScalars)) <= allowed { return name }
        }
        return nil
    }

    /// A command's help; the main command's lists every command with its summary.
    static func help(for command: any Command.Type, width: Int = 80) -> String {
        var text = HelpFormatter.render(command.spec, width: width)
        guard command == RouteCommand.self else { return text }
        let nameWidth = subcommands.map { $0.spec.name.count }.max() ?? 0
        text += "\nCOMMANDS:\n"
        for sub in subcommands {
            let lead = "  " + sub.spec.name + String(repeating: " ", count: nameWidth - sub.spec.name.count) + "  "
            text += Text.wrap(sub.spec.abstract, width: width, first: lead, indent: lead.count) + "\n"
        }
        text += "  (run 'modelroute help COMMAND' or 'modelroute COMMAND --help' for one)\n"
        return text
    }

    /// Flushes what was printed: 0, or 74 when it could not be written.
    static func finish(_ context: CommandContext, status: ExitCode = .success) -> Int32 {
        context.stdout.flush()
        // Only an answer (0) or a missing log record (1) gives way to a failed write.
        guard let reason = context.stdout.writeFailure, status == .success || status == .failure else { return status.rawValue }
        context.diagnose(OutputError.cannotWrite(reason: reason).message)
        return OutputError.cannotWrite(reason: reason).exitCode.rawValue
    }

    static func run(arguments: [String], context: CommandContext) async -> Int32 {
        var context = context
        var arguments = arguments
        /// Help wraps to `$COLUMNS` or the terminal's width, else 80.
        func helpWidth() -> Int { min(context.style(context.stdout).width ?? 80, 200) }
        var command: any Command.Type = RouteCommand.self
        if let first = arguments.first {
            if first == "--version" || first == "-V" {
                context.stdout.write("modelroute \(version)\n")
                return finish(context)
            }
            if first == "help" {
                arguments.removeFirst()
                var target: any Command.Type = RouteCommand.self
                if arguments.first == "--man" {
                    context.stdout.write(ManPage.render())
                    return finish(context)
                }
                if let name = arguments.first {
                    guard let found = subcommands.first(where: { $0.spec.name == name }) else {
                        let names = subcommands.map { $0.spec.name }
                        context.diagnose(UsageError.other(
                            "there is no command '\(name)'\(Suggestions.didYouMean(name, among: names)) (commands: \(names.joined(separator: ", ")))").message)
                        return ExitCode.usage.rawValue
                    }
                    target = found
                }
                context.stdout.write(help(for: target, width: helpWidth()))
                return finish(context)
            }
            if let found = subcommands.first(where: { $0.spec.name == first }) {
                command = found
                arguments.removeFirst()
            } else if let meant = nearCommand(first) {
                context.diagnose(UsageError.other("'\(first)' is not a command: did you mean '\(meant)'? (use -- to send it as a prompt)").message)
                return ExitCode.usage.rawValue
            }
        }
        do {
            let parsed = try ArgumentParser.parse(arguments, for: command.spec)
            if let choice = try parsed.choice("color", among: ColorChoice.allCases.map(\.rawValue)) {
                context.colorChoice = ColorChoice(rawValue: choice) ?? .auto
            }
            if parsed.flag("help") {
                context.stdout.write(help(for: command, width: helpWidth()))
                return finish(context)
            }
            return finish(context, status: try await command.run(parsed, context: context))
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

/// Results that could not be written. Exit 74 (EX_IOERR).
enum OutputError: ModelRouteError, Equatable {
    case cannotWrite(reason: String)

    var exitCode: ExitCode { .ioError }

    var message: String {
        switch self {
        case .cannotWrite(let reason): return "cannot write output: \(reason)"
        }
    }
}
