import ModelRouteKit

/// Reads labelled JSONL files for `train` and `eval`: each bad line is reported on
/// stderr as it is found and counted; an unreadable file stops the command (exit 66).
struct LabelledFiles {
    let context: CommandContext
    /// Lines skipped so far.
    private(set) var badLines = 0

    init(context: CommandContext) {
        self.context = context
    }

    /// Every good line of every file, in order; "-" is standard input.
    mutating func read(_ paths: [String], requirement: LabelledPromptReader.Requirement) throws -> [LabelledPrompt] {
        var prompts: [LabelledPrompt] = []
        for path in paths {
            let bytes: [UInt8]
            if path == "-" {
                if context.stdin.isTerminal { throw UsageError.other("'-' reads labelled prompts from standard input, and standard input is a terminal") }
                bytes = try context.stdin.readAll()
            } else {
                do {
                    bytes = try FileReader.readAll(path: path)
                } catch {
                    throw ClassifyInputError.unreadable(file: path, reason: error.reason)
                }
            }
            let result = LabelledPromptReader.read(bytes, file: path == "-" ? "<stdin>" : path, requirement: requirement)
            for problem in result.problems { context.stderr.write("modelroute: \(problem)\n") }
            badLines += result.problems.count
            prompts += result.prompts
        }
        context.stderr.flush()
        return prompts
    }
}

/// Labelled input that leaves nothing to do, or a result that cannot be saved.
enum LabelledInputError: ModelRouteError, Equatable {
    case noPrompts(files: [String])
    case cannotWrite(path: String, reason: String)

    var exitCode: ExitCode {
        switch self {
        case .noPrompts: return .dataError
        case .cannotWrite: return .ioError
        }
    }

    var message: String {
        switch self {
        case .noPrompts(let files):
            return "no usable labelled prompts in \(files.joined(separator: ", ")); each line needs {\"prompt\": …, \"label\": \"easy|medium|hard\"}"
        case .cannotWrite(let path, let reason):
            return "cannot write \(path): \(reason)"
        }
    }
}
