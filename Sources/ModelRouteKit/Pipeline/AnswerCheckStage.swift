/// The local answer checks: pure functions of the answer, the prompt and what the
/// provider said, costing microseconds. The `judge` check, which calls a model, is
/// `JudgeStage`.
public enum AnswerCheckStage {
    /// A failed check.
    public struct Failure: Sendable, Equatable {
        /// Short, for the record's `escalation_reason`: `empty`, `refusal`, `truncated`,
        /// `too_short`, `invalid_json`, `judge 0.42 < 0.70`.
        public var reason: String
        /// In words, for `--explain` and `--verbose`.
        public var detail: String

        public init(reason: String, detail: String) {
            self.reason = reason
            self.detail = detail
        }
    }

    /// What the checks look at.
    public struct Answer: Sendable {
        /// The answer's text.
        public var text: String
        /// The provider said the answer stopped at the token limit.
        public var truncated: Bool
        /// Words in the prompt (for `min_chars`'s `when_prompt_words_over`).
        public var promptWords: Int
        /// Whether the request asked for JSON (`--json-answer`, or the route's `answer_format`).
        public var wantsJSON: Bool

        public init(text: String, truncated: Bool, promptWords: Int, wantsJSON: Bool) {
            self.text = text
            self.truncated = truncated
            self.promptWords = promptWords
            self.wantsJSON = wantsJSON
        }
    }

    /// The first local check (in the route's order) that the answer fails; nil when all pass.
    public static func firstFailure(_ checks: [AnswerCheck], answer: Answer) -> Failure? {
        for check in checks {
            if let failure = failure(of: check, answer: answer) { return failure }
        }
        return nil
    }

    /// Whether the answer fails one local check (a `judge` check never fails here).
    public static func failure(of check: AnswerCheck, answer: Answer) -> Failure? {
        switch check {
        case .empty:
            guard isBlank(answer.text) else { return nil }
            return Failure(reason: "empty", detail: "the answer is empty")
        case .refusal(let extra):
            guard let phrase = refusalPhrase(answer.text, extra: extra) else { return nil }
            return Failure(reason: "refusal", detail: "the answer opens with a refusal (\"\(phrase)\")")
        case .truncated:
            guard answer.truncated else { return nil }
            return Failure(reason: "truncated", detail: "the provider says the answer stopped at the token limit")
        case .minChars(let minimum, let words):
            guard answer.promptWords > words else { return nil }
            let length = trimmed(answer.text).unicodeScalars.count
            guard length < minimum else { return nil }
            return Failure(
                reason: "too_short",
                detail: "the answer has \(length) characters, under \(minimum) for a prompt of \(answer.promptWords) words")
        case .json:
            guard answer.wantsJSON, !parsesAsJSON(answer.text) else { return nil }
            return Failure(reason: "invalid_json", detail: "JSON was asked for, and the answer (or its one fenced block) does not parse")
        case .judge:
            return nil
        }
    }

    // MARK: Refusals

    /// Openings that mean "no", lower-cased, with straight apostrophes: English and the
    /// main European languages, Chinese and Japanese.
    public static let refusalOpenings: [String] = [
        // English
        "i can't help with", "i cannot help with", "i can't assist with", "i cannot assist with", "i'm sorry, but i can't",
        "i'm sorry, but i cannot", "i am sorry, but i cannot", "i am sorry, but i can't", "i'm sorry, i can't", "i'm sorry, i cannot",
        "sorry, but i can't", "sorry, but i cannot", "sorry, i can't", "i'm unable to", "i am unable to", "i'm not able to",
        "i am not able to", "i won't be able to", "i apologize, but i", "i apologise, but i", "i can't provide", "i cannot provide",
        "i can't do that", "i cannot do that", "i must decline", "i'm afraid i can't", "i'm afraid i cannot", "as an ai",
        "as a language model", "as an artificial intelligence",
        // German
        "es tut mir leid, aber ich kann", "es tut mir leid, ich kann", "ich kann dabei nicht helfen", "ich kann ihnen dabei nicht helfen",
        "ich kann dir dabei nicht helfen", "leider kann ich", "als ki", "als künstliche intelligenz", "als sprachmodell",
        // French
        "je suis désolé, mais je ne peux", "je suis désolée, mais je ne peux", "désolé, mais je ne peux", "désolé, je ne peux",
        "je ne peux pas vous aider", "je ne peux pas t'aider", "je ne peux pas répondre", "en tant qu'ia", "en tant qu'intelligence artificielle",
        "en tant que modèle de langage",
        // Spanish
        "lo siento, pero no puedo", "lo siento, no puedo", "no puedo ayudarte con", "no puedo ayudar con", "como ia", "como una ia",
        "como modelo de lenguaje", "como un modelo de lenguaje",
        // Italian
        "mi dispiace, ma non posso", "mi dispiace, non posso", "non posso aiutarti", "non posso aiutare", "in quanto ia",
        "come ia", "come modello linguistico",
        // Portuguese
        "desculpe, mas não posso", "sinto muito, mas não posso", "lamento, mas não posso", "não posso ajudar", "como uma ia",
        "como um modelo de linguagem",
        // Dutch
        "het spijt me, maar ik kan", "sorry, maar ik kan", "ik kan je daar niet mee helpen", "ik kan u daar niet mee helpen", "als ai",
        "als taalmodel",
        // Polish
        "przepraszam, ale nie mogę", "nie mogę pomóc", "jako ai", "jako model językowy",
        // Chinese
        "抱歉,我无法", "抱歉,我不能", "对不起,我无法", "对不起,我不能", "很抱歉,我无法", "很抱歉,我不能", "我无法帮助", "我不能帮助",
        "作为一个人工智能", "作为人工智能", "作为一个ai", "作为ai",
        // Japanese
        "申し訳ありませんが", "申し訳ございませんが", "すみませんが、それには", "お手伝いできません", "aiとして", "私はaiなので",
    ]

    /// The refusal the answer opens with, if any: built-in openings and the table's own
    /// phrases, compared without regard to case, curly or straight apostrophes, full-width
    /// commas, runs of white space, or quotes and markdown before the first word.
    public static func refusalPhrase(_ text: String, extra: [String] = []) -> String? {
        let opening = normalized(String(text.prefix(300)))
        guard !opening.isEmpty else { return nil }
        for phrase in extra where opening.hasPrefix(normalized(phrase)) { return phrase }
        for phrase in refusalOpenings where opening.hasPrefix(phrase) {
            // "as an ai" must not take "as an aide" along: a phrase ending in a letter ends a word.
            let rest = opening.dropFirst(phrase.count)
            if let next = rest.unicodeScalars.first, next.properties.isAlphabetic, phrase.unicodeScalars.last?.isASCII == true { continue }
            return phrase
        }
        return nil
    }

    /// Lower case, straight apostrophes, ASCII commas, single spaces, and no quotes,
    /// asterisks, underscores or `>` at the start.
    static func normalized(_ text: String) -> String {
        var result = ""
        var pendingSpace = false
        var started = false
        for scalar in text.lowercased().unicodeScalars {
            if scalar.properties.isWhitespace {
                pendingSpace = started
                continue
            }
            if !started, "\"'*_>`“”‘#-".unicodeScalars.contains(scalar) { continue }
            var mapped = scalar
            if scalar == "’" || scalar == "‘" { mapped = "'" }
            if scalar == "，" { mapped = "," }
            if pendingSpace { result.unicodeScalars.append(" ") }
            pendingSpace = false
            started = true
            result.unicodeScalars.append(mapped)
        }
        return result
    }

    // MARK: JSON

    /// Whether the text is a JSON document, bare or as the one fenced block (```json … ```) it holds.
    public static func parsesAsJSON(_ text: String) -> Bool {
        if (try? JSONParser.parse(Array(text.utf8))) != nil { return true }
        let fences = text.ranges(of: "```")
        guard fences.count == 2 else { return false }
        var inner = text[fences[0].upperBound..<fences[1].lowerBound]
        // The fence's info string ("json") ends at the first line break.
        if let newline = inner.firstIndex(of: "\n") {
            let info = inner[..<newline].trimmingWhitespace()
            if info.allSatisfy({ $0.isLetter }) { inner = inner[inner.index(after: newline)...] }
        }
        return (try? JSONParser.parse(Array(inner.utf8))) != nil
    }

    // MARK: Helpers

    /// Whether the text is empty or only white space.
    static func isBlank(_ text: String) -> Bool { text.unicodeScalars.allSatisfy(\.properties.isWhitespace) }

    /// The text without white space around it.
    static func trimmed(_ text: String) -> String { text[...].trimmingWhitespace() }
}
