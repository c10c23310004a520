/// Appends records to the usage log. (Interface fixed; implementation in progress.)
public struct LedgerWriter: Sendable {
    /// The log file's path.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Appends one record as one line, safely with other processes doing the same.
    public func append(_ record: LedgerRecord) throws(LedgerError) {
        throw LedgerError.notImplemented
    }
}

/// Where the log lives: `--log`, `$MODELROUTE_LOG`, `$XDG_STATE_HOME/modelroute/usage.jsonl`,
/// `~/.local/state/modelroute/usage.jsonl`.
public enum LedgerLocation {
    public static func resolve(explicitPath: String?, environment: [String: String]) -> String {
        if let explicitPath { return explicitPath }
        if let path = environment["MODELROUTE_LOG"], !path.isEmpty { return path }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "") + "/.local/state")
        return state + "/modelroute/usage.jsonl"
    }
}

/// Failures of the usage log.
public enum LedgerError: ModelRouteError, Equatable {
    case notImplemented

    public var message: String { "the usage log is not implemented yet" }
    public var exitCode: ExitCode { .ioError }
}
