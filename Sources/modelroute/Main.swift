#if canImport(Glibc)
import Glibc
#endif

@main
enum Main {
    static func main() async {
        // A closed pipe (`modelroute … | head -1`) must end quietly, not kill the process
        // before the log record is written: writes report EPIPE instead.
        signal(SIGPIPE, SIG_IGN)
        let status = await ModelRouteCommand.run(arguments: Array(CommandLine.arguments.dropFirst()), context: .process())
        exit(status)
    }
}
