/// Why a report cannot be made.
public enum ReportError: ModelRouteError, Equatable {
    /// A log named on the command line (or the default one) does not exist.
    case missingLog(path: String, isDefault: Bool)
    /// A directory given with `--log` holds no `*.jsonl` file.
    case noLogsInDirectory(path: String)
    /// A log exists but cannot be opened.
    case unreadableLog(path: String, reason: String)
    /// Reading a log failed part way.
    case readFailed(path: String, reason: String)
    /// `--by` names something that cannot be grouped by.
    case unknownDimension(String, suggestion: String)
    /// The same `--by` level twice.
    case repeatedDimension(String)
    /// More `--by` levels than supported.
    case tooManyDimensions(Int)
    /// `--since` or `--until` is not a duration, date or time.
    case invalidTime(option: String, value: String)
    /// `--since` is not before `--until`.
    case emptyWindow(since: String, until: String)
    /// `--baseline` names a model routes.json does not have.
    case unknownBaselineModel(String, known: [String], source: String)

    /// What is wrong and how to fix it.
    public var message: String {
        switch self {
        case .missingLog(let path, let isDefault):
            if isDefault {
                return "no usage log yet at \(path).\nmodelroute appends one record there for every call; try: modelroute --offline \"hello\"\n(or name a log with --log PATH or MODELROUTE_LOG)."
            }
            return "no usage log at \(path): no such file or directory."
        case .noLogsInDirectory(let path):
            return "no *.jsonl files in the directory \(path)."
        case .unreadableLog(let path, let reason):
            return "cannot read the usage log \(path): \(reason)."
        case .readFailed(let path, let reason):
            return "reading the usage log \(path) failed: \(reason)."
        case .unknownDimension(let text, let suggestion):
            return "cannot group by '\(text)'\(suggestion.isEmpty ? "" : suggestion): --by takes \(ReportDimension.names.joined(separator: ", ")) (several are nested in order)."
        case .repeatedDimension(let text):
            return "'--by \(text)' is given twice."
        case .tooManyDimensions(let count):
            return "--by has \(count) levels; at most \(ReportRequest.maximumDimensions) are supported."
        case .invalidTime(let option, let value):
            return "invalid value '\(value)' for '--\(option)': expected a duration (90s, 30m, 24h, 7d, 2w), a date (2026-11-01) or an RFC 3339 time (2026-11-01T09:30:00Z)."
        case .emptyWindow(let since, let until):
            return "--since \(since) is not before --until \(until), so no call can be inside."
        case .unknownBaselineModel(let name, let known, let source):
            return "--baseline: no model \"\(name)\" in \(source)\(Suggestions.didYouMean(name, among: known)). Models: \(known.joined(separator: ", "))."
        }
    }

    /// 66 for logs that are missing or cannot be read, 64 for bad options.
    public var exitCode: ExitCode {
        switch self {
        case .missingLog, .noLogsInDirectory, .unreadableLog, .readFailed: return .noInput
        case .unknownDimension, .repeatedDimension, .tooManyDimensions, .invalidTime, .emptyWindow, .unknownBaselineModel:
            return .usage
        }
    }
}
