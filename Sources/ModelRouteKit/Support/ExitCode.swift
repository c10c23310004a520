/// Process exit statuses, following BSD sysexits(3) so that shell scripts can tell
/// "fix your command" from "fix your data" from "try again later".
public enum ExitCode: Int32, Sendable, CaseIterable {
    /// Success.
    case success = 0
    /// Something failed that has no more specific code (e.g. the log could not be written).
    case failure = 1
    /// EX_USAGE: the command line was wrong.
    case usage = 64
    /// EX_DATAERR: input data was malformed (bad JSONL line, invalid UTF-8).
    case dataError = 65
    /// EX_NOINPUT: an input file or log does not exist or cannot be read.
    case noInput = 66
    /// EX_UNAVAILABLE: the provider refused or failed for good (after retries and fallbacks).
    case unavailable = 69
    /// EX_SOFTWARE: an internal error; a bug.
    case software = 70
    /// EX_IOERR: writing output or the log failed.
    case ioError = 74
    /// EX_TEMPFAIL: a temporary failure (timeouts, rate limits, a stream cut short); try again.
    case temporaryFailure = 75
    /// EX_NOPERM: a spending policy refused the call before any network (`--max-cost`).
    case policy = 77
    /// EX_CONFIG: routes.json or the environment it names is wrong (bad key, missing API key).
    case configuration = 78
    /// 128 + SIGINT: the user pressed Ctrl-C (the shell convention).
    case interrupted = 130
}

/// Every error modelroute reports: a message for people and the exit status it implies.
/// Each area (configuration, input, providers, ledger, report) has one conforming enum.
public protocol ModelRouteError: Error, Sendable {
    /// One or more lines for stderr, naming what was wrong, where, and how to fix it.
    var message: String { get }
    /// The process exit status this error leads to.
    var exitCode: ExitCode { get }
}
