/// How hard a prompt is, as a labelled file says: what `train` learns and `eval` checks.
public enum DifficultyLabel: String, Sendable, CaseIterable, Comparable {
    case easy
    case medium
    case hard

    /// The score a perfect model would give: easy 0, medium 0.5, hard 1.
    public var target: Double {
        switch self {
        case .easy: return 0
        case .medium: return 0.5
        case .hard: return 1
        }
    }

    /// The label a score stands for: easy below 1/3, hard from 2/3, medium between.
    public init(score: Double) {
        self = score < 1.0 / 3 ? .easy : score < 2.0 / 3 ? .medium : .hard
    }

    public static func < (lhs: DifficultyLabel, rhs: DifficultyLabel) -> Bool { lhs.target < rhs.target }
}

/// One line of a labelled JSONL file: `{"prompt": …, "label": "easy|medium|hard"}`, or
/// `"route"` (the route expected) instead of or beside the label; `id`, `source` and
/// `category` are optional and only reported.
public struct LabelledPrompt: Sendable, Equatable {
    public var prompt: String
    public var label: DifficultyLabel?
    public var route: String?
    public var id: String?
    public var source: String?
    public var category: String?
    /// Where it was read: file and 1-based line.
    public var file: String
    public var line: Int

    public init(prompt: String, label: DifficultyLabel?, route: String? = nil, id: String? = nil, source: String? = nil, category: String? = nil, file: String = "-", line: Int = 0) {
        self.prompt = prompt
        self.label = label
        self.route = route
        self.id = id
        self.source = source
        self.category = category
        self.file = file
        self.line = line
    }
}

/// A line of a labelled file that was skipped, and why.
public struct LabelledLineProblem: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var column: Int?
    public var message: String

    public var description: String { "\(file):\(line)\(column.map { ":\($0)" } ?? ""): \(message); line skipped" }
}

/// Reads labelled JSONL files for `train` and `eval`.
public enum LabelledPromptReader {
    /// What a line must carry.
    public enum Requirement: Sendable {
        /// A `label` (training).
        case label
        /// A `label`, a `route`, or both (evaluation).
        case labelOrRoute
    }

    /// Every good line of `bytes` (the contents of `file`), and the problems of the others.
    /// Blank lines are skipped silently.
    public static func read(_ bytes: [UInt8], file: String, requirement: Requirement) -> (prompts: [LabelledPrompt], problems: [LabelledLineProblem]) {
        var prompts: [LabelledPrompt] = []
        var problems: [LabelledLineProblem] = []
        var lineStart = 0
        var lineNumber = 0
        while lineStart < bytes.count {
            var lineEnd = lineStart
            while lineEnd < bytes.count, bytes[lineEnd] != 0x0A { lineEnd += 1 }
            lineNumber += 1
            let line = Array(bytes[lineStart..<lineEnd])
            lineStart = lineEnd + 1
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            switch parse(line, file: file, line: lineNumber, requirement: requirement) {
            case .success(let prompt): prompts.append(prompt)
            case .failure(let problem): problems.append(problem)
            }
        }
        return (prompts, problems)
    }

    private static func parse(_ bytes: [UInt8], file: String, line: Int, requirement: Requirement) -> Result<LabelledPrompt, LabelledLineProblem> {
        func problem(_ message: String, offset: Int? = nil) -> Result<LabelledPrompt, LabelledLineProblem> {
            .failure(LabelledLineProblem(file: file, line: line, column: offset.map { SourceLocation(offset: $0, in: bytes).column }, message: message))
        }
        let node: JSONNode
        do {
            node = try JSONParser.parse(bytes)
        } catch {
            return problem("not JSON: \(error.message)", offset: error.offset)
        }
        guard case .object = node.value else { return problem("expected a JSON object, found \(node.value.kindDescription)", offset: node.offset) }
        func text(_ key: String) -> Result<String?, LabelledLineProblem> {
            guard let value = node[key] else { return .success(nil) }
            if case .null = value.value { return .success(nil) }
            guard let string = value.stringValue else {
                return .failure(LabelledLineProblem(
                    file: file, line: line, column: SourceLocation(offset: value.offset, in: bytes).column,
                    message: "\"\(key)\" must be a string, found \(value.value.kindDescription)"))
            }
            return .success(string)
        }
        var fields: [String: String] = [:]
        for key in ["prompt", "label", "route", "id", "source", "category"] {
            switch text(key) {
            case .success(let value): if let value { fields[key] = value }
            case .failure(let failure): return .failure(failure)
            }
        }
        guard let prompt = fields["prompt"] else { return problem("missing \"prompt\"", offset: node.offset) }
        var label: DifficultyLabel?
        if let text = fields["label"] {
            guard let known = DifficultyLabel(rawValue: text.lowercased()) else {
                let allowed = DifficultyLabel.allCases.map(\.rawValue)
                return problem(
                    "unknown label \"\(text)\"\(Suggestions.didYouMean(text, among: allowed)); allowed labels: \(allowed.joined(separator: ", "))",
                    offset: node["label"]?.offset)
            }
            label = known
        }
        switch requirement {
        case .label where label == nil:
            return problem("missing \"label\" (one of easy, medium, hard)", offset: node.offset)
        case .labelOrRoute where label == nil && fields["route"] == nil:
            return problem("missing \"label\" (easy, medium, hard) or \"route\" (the route you expect)", offset: node.offset)
        default:
            break
        }
        return .success(LabelledPrompt(
            prompt: prompt, label: label, route: fields["route"], id: fields["id"], source: fields["source"], category: fields["category"],
            file: file, line: line))
    }
}
