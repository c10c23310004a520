import Dispatch
#if canImport(Glibc)
import Glibc
#endif

@main
enum Main {
    /// Runs the command on Swift's global executor and parks the main thread until it
    /// exits. An `async` main would run on the main dispatch queue, and that queue stops
    /// being served once the URLSession library (CoreFoundation) is loaded mid-run: it
    /// binds the main queue to a run loop that a parked main thread never turns.
    static func main() {
        // A closed pipe (`modelroute … | head -1`) must end quietly, not kill the process
        // before the log record is written: writes report EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        Task.detached {
            let status = await ModelRouteCommand.run(arguments: arguments, context: .process())
            exit(status)
        }
        while true { pause() }
    }
}
