/// The outcome of classifying one prompt: where it goes and why.
public struct RoutingDecision: Sendable, Equatable {
    /// The route chosen.
    public var route: String
    /// The route's primary model (a routes.json key).
    public var model: String
    /// What decided: a rule, the default route, or an override on the command line.
    public var reason: Reason
    /// Facts that made the deciding rule hold (empty for the default route).
    public var evidence: [Evidence]
    /// What was measured about the prompt.
    public var features: PromptMeasurements
    /// The learned difficulty score (0 to 1), when the table reads it.
    public var difficulty: Double?
    /// A `classify_with` rule that held before the deciding rule: a call asks its model
    /// first, and this decision stands only when the answer maps to no route.
    public var ask: PendingAsk?

    public init(
        route: String, model: String, reason: Reason, evidence: [Evidence], features: PromptMeasurements, difficulty: Double? = nil,
        ask: PendingAsk? = nil
    ) {
        self.route = route
        self.model = model
        self.reason = reason
        self.evidence = evidence
        self.features = features
        self.difficulty = difficulty
        self.ask = ask
    }

    /// Why a route was chosen.
    public enum Reason: Sendable, Equatable {
        /// The rule with this name (and 0-based position) was the first to hold.
        case rule(name: String, index: Int)
        /// No rule held.
        case defaultRoute
        /// `--route` or `--model` chose.
        case override
        /// The table's experiment sent the call to its control model.
        case experiment

        /// The name recorded in logs and output: the rule's name, `default` or `override`.
        public var ruleName: String {
            switch self {
            case .rule(let name, _): return name
            case .defaultRoute: return "default"
            case .override: return "override"
            case .experiment: return ExperimentConfig.controlRule
            }
        }
    }
}

/// A `classify_with` rule whose conditions held: the question still to ask.
public struct PendingAsk: Sendable, Equatable {
    /// The rule's name and 0-based position.
    public var rule: String
    public var index: Int
    public var config: AskConfig
    /// Why its conditions held.
    public var evidence: [Evidence]
}

/// How difficulty scores are written in messages and evidence.
enum DifficultyText {
    /// A score, two decimals.
    static func score(_ value: Double) -> String { formatted("%.2f", value) }
    /// A score as logs and JSON rows carry it: four decimals.
    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }
    /// A bound as the table wrote it.
    static func bound(_ value: Double) -> String { JSONValue.number(value).numberText }
}

/// One fact behind a decision, printable in plain words.
public enum Evidence: Sendable, Equatable, CustomStringConvertible {
    /// Keywords of an `any` or `all` list that occur in the prompt.
    case keywordsFound(condition: String, keywords: [String])
    /// A `none` list none of whose keywords occurs.
    case keywordsAbsent(count: Int)
    /// A measure that satisfied a bound, e.g. words 612 ≥ min_words 501.
    case measure(Measure, value: Int, bound: BoundKind, limit: Int)
    /// `has_code` held with this value.
    case hasCode(Bool)
    /// The caller's tier was in the rule's list.
    case tier(String)
    /// The local hour was inside the window.
    case hour(Int, window: HourWindow)
    /// The difficulty score was within the rule's bounds.
    case difficulty(Double, min: Double?, max: Double?)
    /// A `classify_with` model answered with this label.
    case asked(model: String, answer: String)

    public var description: String {
        switch self {
        case .keywordsFound(let condition, let keywords):
            let list = keywords.map { "\"\($0)\"" }.joined(separator: ", ")
            return "\(condition): found \(list)"
        case .keywordsAbsent(let count):
            return "none: none of \(count) keyword\(count == 1 ? "" : "s") found"
        case .measure(let measure, let value, let bound, let limit):
            let symbol = bound == .min ? "≥" : "≤"
            return "\(measure.rawValue) \(value) \(symbol) \(bound.rawValue)_\(measure.rawValue) \(limit)"
        case .hasCode(let value):
            return value ? "has_code: the prompt contains code" : "has_code: false, the prompt contains no code"
        case .tier(let tier):
            return "tier \"\(tier)\" is listed"
        case .hour(let hour, let window):
            return "local hour \(hour) is inside \(window)"
        case .difficulty(let score, let low, let high):
            let value = DifficultyText.score(score)
            switch (low, high) {
            case (let low?, let high?): return "difficulty \(value) within \(DifficultyText.bound(low))–\(DifficultyText.bound(high))"
            case (let low?, nil): return "difficulty \(value) ≥ min \(DifficultyText.bound(low))"
            case (nil, let high?): return "difficulty \(value) ≤ max \(DifficultyText.bound(high))"
            case (nil, nil): return "difficulty \(value)"
            }
        case .asked(let model, let answer):
            return "\(model) answered \"\(answer)\""
        }
    }
}

extension Evidence {
    /// Appends `description` as a quoted JSON string, without building the String first
    /// (this runs once per row of `classify --format jsonl`).
    func appendJSON<Sink: ByteSink>(to bytes: inout Sink) {
        bytes.append(UInt8(ascii: "\""))
        switch self {
        case .keywordsFound(let condition, let keywords):
            JSONWriter.appendEscaped(condition, to: &bytes)
            bytes.append(ascii: ": found ")
            for (index, keyword) in keywords.enumerated() {
                if index > 0 { bytes.append(ascii: ", ") }
                bytes.append(ascii: "\\\"")
                JSONWriter.appendEscaped(keyword, to: &bytes)
                bytes.append(ascii: "\\\"")
            }
        case .measure(let measure, let value, let bound, let limit):
            bytes.append(utf8: measure.rawValue)
            bytes.append(0x20)
            JSONWriter.appendInteger(value, to: &bytes)
            bytes.append(ascii: bound == .min ? " ≥ min_" : " ≤ max_")
            bytes.append(utf8: measure.rawValue)
            bytes.append(0x20)
            JSONWriter.appendInteger(limit, to: &bytes)
        default:
            JSONWriter.appendEscaped(description, to: &bytes)
        }
        bytes.append(UInt8(ascii: "\""))
    }
}

/// Counts taken from a prompt; computed once, shared by every rule.
public struct PromptMeasurements: Sendable, Equatable {
    /// `words` when a bulk run (`classify`) had no need to count them all.
    public static let notCounted = -1

    /// Maximal runs of non-white-space characters, or `notCounted`.
    public var words: Int
    /// Unicode scalars.
    public var chars: Int
    /// Estimated tokens (see `TokenEstimator`).
    public var tokens: Int
    /// Lines (0 for an empty prompt).
    public var lines: Int
    /// Whether the prompt contains code (see `CodeDetector`); nil when no rule asked.
    public var hasCode: Bool?

    public init(words: Int = 0, chars: Int = 0, tokens: Int = 0, lines: Int = 0, hasCode: Bool? = nil) {
        self.words = words
        self.chars = chars
        self.tokens = tokens
        self.lines = lines
        self.hasCode = hasCode
    }

    /// The value of one measure.
    public subscript(measure: Measure) -> Int {
        switch measure {
        case .words: return words
        case .chars: return chars
        case .tokens: return tokens
        case .lines: return lines
        }
    }
}
