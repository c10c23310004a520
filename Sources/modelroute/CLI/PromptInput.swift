import ModelRouteKit

/// Where the main command's prompt comes from.
enum PromptInput {
    /// The prompt and how it was put together.
    struct Prompt {
        var text: String
        /// The words' part (nil when there were none) and standard input's (nil when not read).
        var words: String?
        var standardInput: String?
    }

    /// The arguments joined by spaces; standard input when there are none; and when both
    /// are given (`git diff | modelroute "Write a commit message for this diff"`), the
    /// words, a blank line, then standard input. Standard input is read beside words only
    /// when it is a pipe, FIFO or file (never a terminal or /dev/null), and must be UTF-8;
    /// the line breaks at its end are dropped.
    static func read(_ positionals: [String], stdin: InputSource) throws -> Prompt {
        let words = positionals.isEmpty ? nil : positionals.joined(separator: " ")
        if let words, stdin.isTerminal || !stdin.isPipedOrFile { return Prompt(text: words, words: words, standardInput: nil) }
        if words == nil, stdin.isTerminal {
            throw UsageError.other("no prompt: give it as arguments or on standard input, e.g. modelroute \"Summarize this\" or cat prompt.txt | modelroute")
        }
        let bytes = try stdin.readAll()
        guard let text = String(validating: bytes, as: UTF8.self) else {
            var offset = 0
            let scanner = PromptScanner()
            if bytes.withUnsafeBufferPointer({ scanner.scan($0, fold: false) }) == nil { offset = scanner.invalidOffset ?? 0 }
            throw PromptInputError.invalidUTF8(byteOffset: offset)
        }
        var piped = Substring(text)
        while piped.last == "\n" || piped.last == "\r\n" || piped.last == "\r" { piped.removeLast() }
        guard let words else { return Prompt(text: String(piped), words: nil, standardInput: String(piped)) }
        if piped.isEmpty { return Prompt(text: words, words: words, standardInput: nil) }
        return Prompt(text: words + "\n\n" + piped, words: words, standardInput: String(piped))
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
