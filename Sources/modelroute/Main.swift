import Dispatch
import ModelRouteKit
#if canImport(Glibc)
import Glibc
#endif

@main
enum Main {
    /// Runs the command on Swift's global executor and parks the main thread until it
    /// exits, so that nothing the command does depends on the main queue being served.
    static func main() {
        // A closed pipe (`modelroute … | head -1`) must end quietly, not kill the process
        // before the log record is written: writes report EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let arguments = Array(CommandLine.arguments.dropFirst())
        Task.detached {
            let status = await ModelRouteCommand.run(arguments: arguments, context: .process())
            // libcurl may still be loading on another thread (it is loaded ahead of an
            // https call); exiting under it would crash.
            CurlLibrary.settle()
            exit(status)
        }
        while true { pause() }
    }
}
