import ModelRouteKit

/// `modelroute init`: writes the built-in table where modelroute looks for the user's own.
enum InitCommand: Command {
    static let spec = CommandSpec(
        name: "init",
        abstract: "Write the built-in routing table to your config folder, to edit it.",
        usage: ["init [--force]"],
        arguments: [],
        options: [OptionSpec("force", help: "Overwrite a table that is already there.")],
        discussion: """
            Writes $XDG_CONFIG_HOME/modelroute/routes.json (~/.config/modelroute/routes.json when XDG_CONFIG_HOME is
            unset), creating the folder, and never overwrites an existing file without --force. Every command then
            uses it, unless --routes, $MODELROUTE_ROUTES or a ./modelroute.json in the current directory says otherwise.
            Edit it, then run `modelroute check` to validate it and see where the table in use comes from.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        guard let path = RoutingTableLoader.userTablePath(environment: context.environment) else {
            throw UsageError.other("init needs $XDG_CONFIG_HOME or $HOME to know where your config folder is")
        }
        if FileReader.isRegularFile(path) && !arguments.flag("force") {
            throw UsageError.other("\(path) already exists; add --force to overwrite it with the built-in table")
        }
        let folder = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        do throws(SystemError) {
            try FileWriter.createDirectories(folder)
            try FileWriter.writeAtomically(Array(EmbeddedRoutes.json.utf8), to: path, mode: 0o600)
        } catch {
            throw LabelledInputError.cannotWrite(path: path, reason: error.description)
        }
        context.stdout.write("wrote the built-in routing table to \(path)\nedit it, then run `modelroute check` to validate it\n")
        return .success
    }
}
