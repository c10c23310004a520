/// Input that cannot be used as a prompt.
public enum InputError: ModelRouteError, Equatable {
    /// The bytes are not valid UTF-8 (exit 65); `source` is "standard input" or "the arguments".
    case invalidUTF8(source: String)
    /// There is nothing to send (exit 66).
    case emptyPrompt

    public var exitCode: ExitCode {
        switch self {
        case .invalidUTF8: return .dataError
        case .emptyPrompt: return .noInput
        }
    }

    public var message: String {
        switch self {
        case .invalidUTF8(let source):
            return "the prompt on \(source) is not valid UTF-8; convert it first (for example with iconv -t UTF-8)"
        case .emptyPrompt:
            return "no prompt: give it as arguments (modelroute \"PROMPT\") or on standard input (cat prompt.txt | modelroute)"
        }
    }
}
