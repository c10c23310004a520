import FoundationEssentials
import ModelRouteKit

/// Everything a command touches outside its arguments: streams, environment, clock.
/// Tests build one with memory streams and a fixed clock; `process()` is the real one.
struct CommandContext: Sendable {
    var stdout: OutputSink
    var stderr: OutputSink
    var stdin: InputSource
    var environment: [String: String]
    var currentDirectory: String
    var now: @Sendable () -> Date
    var timeZone: TimeZone

    /// The running process's streams, environment, working directory and clock.
    static func process() -> CommandContext {
        CommandContext(
            stdout: .standardOutput(), stderr: .standardError(), stdin: .standardInput(),
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath,
            now: { Date() }, timeZone: .current)
    }

    /// Prints a diagnostic line to stderr, prefixed with the tool's name.
    func diagnose(_ message: String) {
        stderr.write("modelroute: \(message)\n")
        stderr.flush()
    }

    /// Whether colour and Unicode decoration are wanted on this stream (`NO_COLOR` unset, a terminal, not TERM=dumb).
    func wantsDecoration(_ sink: OutputSink) -> Bool {
        sink.isTerminal && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
    }
}

/// A subcommand: its spec and how it runs.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode
}
