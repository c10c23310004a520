/// One test a route's answer must pass before it is printed (routes.json `"checks"`).
/// Local checks cost nothing; `judge` asks a model.
public enum AnswerCheck: Sendable, Equatable {
    /// No text, or only white space.
    case empty
    /// The answer opens with a refusal; `extraPhrases` are the table's own, besides the built-in ones.
    case refusal(extraPhrases: [String])
    /// The provider said the answer stopped at the token limit.
    case truncated
    /// Fewer than `minChars` characters when the prompt has more than `whenPromptWordsOver` words.
    case minChars(Int, whenPromptWordsOver: Int)
    /// When JSON was asked for, the answer (or its one fenced block) must parse.
    case json
    /// A model rates the answer from 0 to 1; below the threshold fails.
    case judge(JudgeConfig)

    /// The check names routes.json accepts, for messages and suggestions.
    public static let names = ["empty", "refusal", "truncated", "min_chars", "json", "judge"]

    /// The name the check is written with.
    public var name: String {
        switch self {
        case .empty: return "empty"
        case .refusal: return "refusal"
        case .truncated: return "truncated"
        case .minChars: return "min_chars"
        case .json: return "json"
        case .judge: return "judge"
        }
    }

    /// Whether the check runs locally (all but `judge`).
    public var isLocal: Bool {
        if case .judge = self { return false }
        return true
    }
}

/// A `judge` check: the model asked, the passing score, and the question.
public struct JudgeConfig: Sendable, Equatable {
    /// The question used when the table gives none.
    public static let defaultPrompt = """
        Rate how well the answer below answers the question, from 0 (useless, wrong or a refusal) to 1 (complete and correct). \
        Reply with a number from 0 to 1 and nothing else.

        Question:
        {question}

        Answer:
        {answer}
        """

    /// The model asked (a routes.json key).
    public var model: String
    /// Ratings below this fail the answer (0 to 1).
    public var threshold: Double
    /// The question; `{question}` and `{answer}` are filled in.
    public var prompt: String
    /// Output token limit of the rating.
    public var maxTokens: Int
    /// Seconds to wait for the rating; a slower judge lets the answer stand.
    public var timeoutSeconds: Double

    public init(model: String, threshold: Double, prompt: String = JudgeConfig.defaultPrompt, maxTokens: Int = 8, timeoutSeconds: Double = 20) {
        self.model = model
        self.threshold = threshold
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.timeoutSeconds = timeoutSeconds
    }

    /// The question sent for a prompt and its answer.
    public func question(prompt: String, answer: String) -> String {
        // {answer} first: an answer that contains "{question}" must not be expanded.
        self.prompt.replacing("{question}", with: "\u{0}Q\u{0}").replacing("{answer}", with: answer).replacing("\u{0}Q\u{0}", with: prompt)
    }

    /// The rating an answer gives: the first number in it, when it is from 0 to 1; nil
    /// otherwise (the judge failed, not the answer).
    public static func rating(in answer: String) -> Double? {
        let scalars = Array(answer.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            let startsNumber = ("0"..."9").contains(scalar)
                || (scalar == "." && index + 1 < scalars.count && ("0"..."9").contains(scalars[index + 1]))
            if !startsNumber {
                index += 1
                continue
            }
            var text = ""
            while index < scalars.count, ("0"..."9").contains(scalars[index]) || scalars[index] == "." {
                text.unicodeScalars.append(scalars[index])
                index += 1
            }
            while text.hasSuffix(".") { text.removeLast() }
            guard let value = Double(text), value >= 0, value <= 1 else { return nil }
            return value
        }
        return nil
    }
}

/// What the answer is asked to be (routes.json `"answer_format"`, or `--json-answer`).
public enum AnswerFormat: String, Sendable, CaseIterable {
    /// Any text.
    case text
    /// A JSON document, bare or in one fenced block.
    case json
}

/// What a `mock` provider answers for a model (routes.json `"mock"`), so that checks and
/// escalation can be shown and tested offline.
public enum MockBehaviour: String, Sendable, CaseIterable {
    /// `[mock MODEL] ` and the prompt's first 64 words (the default).
    case echo
    /// No text at all.
    case empty
    /// A polite refusal.
    case refusal
    /// Two words, whatever was asked.
    case short
    /// The echo, reported as stopped at the token limit.
    case truncated
}

/// A top-level `"experiment"`: a share of calls goes straight to a control model, so
/// savings and quality are measured against it instead of estimated.
public struct ExperimentConfig: Sendable, Equatable {
    /// The name recorded with every call of the experiment.
    public var name: String
    /// The share of calls sent to the control model (0 to 1).
    public var controlShare: Double
    /// The control model (a routes.json key).
    public var controlModel: String

    /// The route name control calls are recorded under.
    public static let controlRoute = "control"
    /// The rule name control calls are recorded under.
    public static let controlRule = "experiment"

    public init(name: String, controlShare: Double, controlModel: String) {
        self.name = name
        self.controlShare = controlShare
        self.controlModel = controlModel
    }
}
