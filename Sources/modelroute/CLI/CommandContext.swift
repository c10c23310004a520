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
    /// The zone of `hours` rules, `report --by day` and local dates.
    var zone: LocalZone
    /// `--color`, once the arguments are parsed.
    var colorChoice: ColorChoice = .auto
    /// A uniform draw from [0, 1): the experiment's side for a call (tests fix the sequence).
    var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    init(
        stdout: OutputSink, stderr: OutputSink, stdin: InputSource, environment: [String: String], currentDirectory: String,
        now: @escaping @Sendable () -> Date, zone: LocalZone
    ) {
        self.stdout = stdout
        self.stderr = stderr
        self.stdin = stdin
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.now = now
        self.zone = zone
    }

    /// A context in a fixed Foundation time zone (tests).
    init(
        stdout: OutputSink, stderr: OutputSink, stdin: InputSource, environment: [String: String], currentDirectory: String,
        now: @escaping @Sendable () -> Date, timeZone: TimeZone
    ) {
        self.init(stdout: stdout, stderr: stderr, stdin: stdin, environment: environment, currentDirectory: currentDirectory, now: now, zone: LocalZone(timeZone))
    }

    /// The running process's streams, environment, working directory, clock, and the
    /// system's time zone (`$TZ`, else /etc/localtime, through the C library).
    static func process() -> CommandContext {
        CommandContext(
            stdout: .standardOutput(), stderr: .standardError(), stdin: .standardInput(),
            environment: ProcessInfo.processInfo.environment,
            currentDirectory: FileManager.default.currentDirectoryPath,
            now: { Date() }, zone: .system)
    }

    /// `now()` in epoch milliseconds.
    func nowMillis() -> Int64 { Int64((now().timeIntervalSince1970 * 1000).rounded(.down)) }

    /// Prints a diagnostic line to stderr, prefixed with the tool's name.
    func diagnose(_ message: String) {
        stderr.write("modelroute: \(message)\n")
        stderr.flush()
    }

    /// How text for people on `sink` is dressed: colour, Unicode, width (see `TextStyle.resolve`).
    func style(_ sink: OutputSink) -> TextStyle {
        TextStyle.resolve(choice: colorChoice, isTerminal: sink.isTerminal, terminalColumns: sink.terminalColumns, environment: environment)
    }

    /// Prints a warning line to stderr (yellow on a colour terminal).
    func warn(_ message: String) {
        stderr.write("modelroute: " + style(stderr).paint("warning:", .warning) + " \(message)\n")
        stderr.flush()
    }
}

/// A subcommand: its spec and how it runs.
protocol Command {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode
}
