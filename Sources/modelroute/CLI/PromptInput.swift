import ModelRouteKit

/// Where the main command's prompt comes from.
enum PromptInput {
    /// The arguments joined by spaces, else all of standard input (which must be valid UTF-8).
    static func read(_ positionals: [String], stdin: InputSource) throws -> String {
        if !positionals.isEmpty { return positionals.joined(separator: " ") }
        if stdin.isTerminal {
            throw UsageError.other("no prompt: give it as arguments or on standard input, e.g. modelroute \"Summarize this\" or cat prompt.txt | modelroute")
        }
        let bytes = try stdin.readAll()
        guard let text = String(validating: bytes, as: UTF8.self) else {
            var offset = 0
            let scanner = PromptScanner()
            if bytes.withUnsafeBufferPointer({ scanner.scan($0, fold: false) }) == nil { offset = scanner.invalidOffset ?? 0 }
            throw PromptInputError.invalidUTF8(byteOffset: offset)
        }
        return text
    }
}

/// A prompt that cannot be used as given.
enum PromptInputError: ModelRouteError, Equatable {
    case invalidUTF8(byteOffset: Int)
    case empty

    var exitCode: ExitCode {
        switch self {
        case .invalidUTF8: return .dataError
        case .empty: return .noInput
        }
    }

    var message: String {
        switch self {
        case .invalidUTF8(let offset):
            return "the prompt on standard input is not valid UTF-8 (first bad byte at offset \(offset)); convert it, e.g. with iconv -f latin1 -t utf-8"
        case .empty:
            return "the prompt is empty: give it as arguments or on standard input"
        }
    }
}
