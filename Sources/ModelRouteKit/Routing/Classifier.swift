import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Who is asking and when: the parts of a decision that do not come from the prompt.
public struct ClassificationContext: Sendable {
    /// The caller's tier (`--tier` or `MODELROUTE_TIER`), if any.
    public var tier: String?
    /// The moment of the call; `hours` conditions read its local hour.
    public var date: Date
    /// The time zone `hours` windows are in.
    public var zone: LocalZone

    /// A context in `zone` (the system's by default).
    public init(tier: String? = nil, date: Date = Date(), zone: LocalZone = .system) {
        self.tier = tier
        self.date = date
        self.zone = zone
    }

    /// A context in a fixed Foundation time zone.
    public init(tier: String? = nil, date: Date = Date(), timeZone: TimeZone) {
        self.init(tier: tier, date: date, zone: LocalZone(timeZone))
    }

    /// The local hour (0–23) of `date` in `zone`.
    var localHour: Int { zone.hour(at: date) }
}

/// Decides a route for a prompt from a routing table, locally and in microseconds.
///
/// Rules are tried in order; the first whose conditions all hold decides; when none
/// does, the table's default route is used.
public struct Classifier: Sendable {
    public let table: RoutingTable
    private let automaton: KeywordAutomaton
    private let rules: [CompiledRule]
    /// Every test of every rule, in one flat array of plain values (indices into
    /// `keywordLists` and `tierSets`), so deciding touches no reference-counted value;
    /// `testRanges[r]` holds rule r's.
    private let tests: [Test]
    private let testRanges: [Range<Int>]
    private let keywordLists: [KeywordList]
    private let tierSets: [Set<String>]
    private let needsFolding: Bool
    private let needsCode: Bool
    private let needsLines: Bool
    /// The default route's primary model.
    private let defaultModel: String
    /// The difficulty model, when the table reads the score; every decision then carries it.
    public let difficultyModel: DifficultyModel?

    /// One condition, compiled.
    private enum Test: Sendable {
        case any(Int)
        case all(Int)
        case none(Int)
        case bound(Measure, BoundKind, Int)
        case hasCode(Bool)
        case tier(Int)
        case hours(HourWindow)
        case difficulty(min: Double?, max: Double?)
    }

    /// What a decision names about a rule.
    private struct CompiledRule: Sendable {
        var name: String
        var index: Int
        var route: String
        var model: String
        var ask: AskConfig?
    }

    /// Number of distinct keyword patterns compiled from the table.
    var patternCount: Int { automaton.patternCount }

    /// The compiled keyword automaton, for tests that compare its two scanning paths.
    var automatonForTesting: KeywordAutomaton { automaton }

    /// A classifier for `table`. When the table reads the difficulty score, `difficultyModel`
    /// is the model it reads (the built-in one when nil); commands use `load(table:)`, which
    /// also reads a model file the table names.
    public init(table: RoutingTable, difficultyModel: DifficultyModel? = nil) {
        self.table = table
        self.difficultyModel = table.usesDifficulty ? difficultyModel ?? .builtIn : nil
        var keywords: [(folded: [UInt8], mode: KeywordMatchMode)] = []
        var indexByKey: [String: Int] = [:]
        func patternIndex(_ keyword: String, _ mode: KeywordMatchMode) -> Int {
            let folded = TextFolding.normalizeKeyword(keyword)
            let key = mode.rawValue + ":" + String(decoding: folded, as: UTF8.self)
            if let existing = indexByKey[key] { return existing }
            keywords.append((folded, mode))
            indexByKey[key] = keywords.count - 1
            return keywords.count - 1
        }
        var rules: [CompiledRule] = []
        var tests: [Test] = []
        var testRanges: [Range<Int>] = []
        var keywordLists: [KeywordList] = []
        var tierSets: [Set<String>] = []
        func list(_ words: [String], _ mode: KeywordMatchMode) -> Int {
            keywordLists.append(KeywordList(words: words, indices: words.map { patternIndex($0, mode) }))
            return keywordLists.count - 1
        }
        var needsCode = false
        var needsLines = false
        let routeModels = Dictionary(table.routes.map { ($0.name, $0.model) }, uniquingKeysWith: { first, _ in first })
        for (index, rule) in table.rules.enumerated() {
            let start = tests.count
            for condition in rule.conditions {
                switch condition {
                case .any(let words): tests.append(.any(list(words, rule.match)))
                case .all(let words): tests.append(.all(list(words, rule.match)))
                case .none(let words): tests.append(.none(list(words, rule.match)))
                case .bound(let measure, let kind, let limit):
                    needsLines = needsLines || measure == .lines
                    tests.append(.bound(measure, kind, limit))
                case .hasCode(let flag):
                    needsCode = true
                    tests.append(.hasCode(flag))
                case .tier(let tiers):
                    tierSets.append(Set(tiers))
                    tests.append(.tier(tierSets.count - 1))
                case .hours(let window): tests.append(.hours(window))
                case .difficulty(let low, let high): tests.append(.difficulty(min: low, max: high))
                }
            }
            testRanges.append(start..<tests.count)
            let model = routeModels[rule.route] ?? ""
            rules.append(CompiledRule(name: rule.name, index: index, route: rule.route, model: model, ask: rule.ask))
        }
        automaton = KeywordAutomaton(keywords: keywords)
        self.rules = rules
        self.tests = tests
        self.testRanges = testRanges
        self.keywordLists = keywordLists
        self.tierSets = tierSets
        needsFolding = !keywords.isEmpty
        defaultModel = routeModels[table.defaultRoute] ?? ""
        self.needsCode = needsCode
        self.needsLines = needsLines
    }

    /// Classifies a prompt.
    public func classify(_ prompt: String, context: ClassificationContext) -> RoutingDecision {
        var prompt = prompt
        let scratch = ClassifierScratch(classifier: self)
        // A Swift String is always valid UTF-8, so the decision always exists.
        return prompt.withUTF8 { classify(utf8: $0, context: context, scratch: scratch) } ?? defaultDecision(PromptMeasurements())
    }

    /// Loads the model file the table names, if any, and builds the classifier.
    public static func load(table: RoutingTable) throws(DifficultyModelError) -> Classifier {
        guard table.usesDifficulty, case .file(let path) = table.classifier else { return Classifier(table: table) }
        return Classifier(table: table, difficultyModel: try DifficultyModel.load(path: path))
    }

    /// Classifies UTF-8 bytes, reusing `scratch` between calls. Returns nil when the bytes
    /// are not valid UTF-8 (`scratch.scanner.invalidOffset` says where).
    public func classify(utf8 prompt: UnsafeBufferPointer<UInt8>, context: ClassificationContext, scratch: ClassifierScratch) -> RoutingDecision? {
        guard var measurements = measure(prompt, scratch: scratch) else { return nil }
        var state = EvaluationState()
        state.difficulty = difficultyModel?.score(prompt)
        var ask: PendingAsk?
        for ruleIndex in rules.indices {
            // Decide without building evidence; build it only for the rule that holds.
            guard case .holds = evaluate(
                ruleIndex, prompt: prompt, measurements: measurements, context: context, scratch: scratch, state: &state, detail: false)
            else { continue }
            guard case .holds(let evidence) = evaluate(
                ruleIndex, prompt: prompt, measurements: measurements, context: context, scratch: scratch, state: &state, detail: true)
            else { continue }
            let rule = rules[ruleIndex]
            if let config = rule.ask {
                // A model decides; the rules after it decide when it cannot (and in dry runs).
                if ask == nil { ask = PendingAsk(rule: rule.name, index: rule.index, config: config, evidence: evidence) }
                continue
            }
            measurements.hasCode = state.hasCode
            if let words = state.words { measurements.words = words }
            return RoutingDecision(
                route: rule.route, model: rule.model, reason: .rule(name: rule.name, index: rule.index), evidence: evidence, features: measurements,
                difficulty: state.difficulty, ask: ask)
        }
        if needsCode && state.hasCode == nil { state.hasCode = CodeDetector.containsCode(prompt) }
        measurements.hasCode = state.hasCode
        var decision = defaultDecision(measurements)
        decision.difficulty = state.difficulty
        decision.ask = ask
        return decision
    }

    /// The decision once the asked model has answered with a label's route: the rule that
    /// asked decides, with the answer as its evidence.
    public func decision(_ decision: RoutingDecision, answeredWith route: String, label answer: String) -> RoutingDecision {
        guard let ask = decision.ask else { return decision }
        var result = decision
        result.route = route
        result.model = table.route(named: route)?.model ?? ""
        result.reason = .rule(name: ask.rule, index: ask.index)
        result.evidence = ask.evidence + [.asked(model: ask.config.model, answer: answer)]
        result.ask = nil
        return result
    }

    /// Measures the prompt and finds its keywords: in one pass over raw bytes when the
    /// prompt is ASCII (the common case), else by folding it first.
    private func measure(_ prompt: UnsafeBufferPointer<UInt8>, scratch: ClassifierScratch) -> PromptMeasurements? {
        scratch.matches.removeAll()
        if let counts = automaton.scan(prompt, folds: &scratch.folds, into: &scratch.matches) {
            let chars = prompt.count - counts.continuationBytes
            let lines = needsLines || scratch.measuresEverything ? LineCounter.lines(in: prompt) : 0
            let words = scratch.measuresEverything ? WordCounter.count(prompt) : PromptMeasurements.notCounted
            return PromptMeasurements(words: words, chars: chars, tokens: (chars + counts.extraQuarters + 3) / 4, lines: lines)
        }
        scratch.matches.removeAll()
        guard let measurements = scratch.scanner.scan(prompt, fold: needsFolding, folds: &scratch.folds) else { return nil }
        if needsFolding {
            automaton.search(scratch.scanner.foldedText, count: scratch.scanner.foldedCount, into: &scratch.matches)
        }
        return measurements
    }

    /// One rule's verdict on a prompt, with the first failing condition when asked.
    public struct RuleTrace: Sendable, Equatable {
        public var rule: String
        public var route: String
        public var holds: Bool
        /// Why it held (evidence) or why not (the first condition that failed).
        public var detail: String
        /// A `classify_with` rule that held: a call would ask its model; a dry run goes on to the next rule.
        public var asks = false
    }

    /// Every rule tried in order up to and including the one that decided, each with
    /// why it held or failed: what `--explain` prints.
    public func trace(_ prompt: String, context: ClassificationContext) -> [RuleTrace] {
        var prompt = prompt
        let scratch = ClassifierScratch(classifier: self)
        return prompt.withUTF8 { utf8 in
            guard let measurements = measure(utf8, scratch: scratch) else { return [] }
            var state = EvaluationState()
            state.difficulty = difficultyModel?.score(utf8)
            var traces: [RuleTrace] = []
            for (ruleIndex, rule) in rules.enumerated() {
                switch evaluate(ruleIndex, prompt: utf8, measurements: measurements, context: context, scratch: scratch, state: &state, detail: true) {
                case .holds(let evidence):
                    let detail = evidence.isEmpty ? "no conditions: always holds" : evidence.map(\.description).joined(separator: "; ")
                    if let ask = rule.ask {
                        let routes = ask.labels.map { "\($0.label) → \($0.route)" }.joined(separator: ", ")
                        traces.append(RuleTrace(
                            rule: rule.name, route: "?", holds: false,
                            detail: "would ask \(ask.model) (\(routes)); without its answer the next rules decide" + (evidence.isEmpty ? "" : "; " + detail),
                            asks: true))
                        continue
                    }
                    traces.append(RuleTrace(rule: rule.name, route: rule.route, holds: true, detail: detail))
                    return traces
                case .fails(let reason):
                    traces.append(RuleTrace(rule: rule.name, route: rule.route, holds: false, detail: reason ?? ""))
                }
            }
            return traces
        }
    }

    /// Facts computed at most once per prompt, when a rule first needs them.
    private struct EvaluationState {
        var hasCode: Bool?
        /// The exact word count, once something needed it.
        var words: Int?
        var hour: Int?
        /// The difficulty score, when the classifier has a model.
        var difficulty: Double?
    }

    private enum Verdict {
        case holds([Evidence])
        case fails(String?)
    }

    /// Rule `ruleIndex`'s verdict. Without `detail` it only decides, allocating nothing
    /// and counting words only as far as a bound needs; with it, it also gathers the
    /// evidence, or says which condition failed.
    private func evaluate(
        _ ruleIndex: Int, prompt: UnsafeBufferPointer<UInt8>, measurements: PromptMeasurements, context: ClassificationContext,
        scratch: ClassifierScratch, state: inout EvaluationState, detail: Bool
    ) -> Verdict {
        var evidence: [Evidence] = []
        for testIndex in testRanges[ruleIndex] {
            switch tests[testIndex] {
            case .any(let index):
                guard detail else {
                    if !keywordLists[index].anyFound(in: scratch.matches) { return .fails(nil) }
                    continue
                }
                let list = keywordLists[index]
                let found = list.found(in: scratch.matches)
                if found.isEmpty { return .fails("any: none of \(list.words.count) keywords found") }
                evidence.append(.keywordsFound(condition: "any", keywords: found))
            case .all(let index):
                guard detail else {
                    if keywordLists[index].foundCount(in: scratch.matches) != keywordLists[index].uniqueCount { return .fails(nil) }
                    continue
                }
                let list = keywordLists[index]
                let found = Set(list.found(in: scratch.matches))
                let missing: [String] = list.words.filter { !found.contains($0) }
                if !missing.isEmpty {
                    let names: [String] = missing.map { "\"" + $0 + "\"" }
                    return .fails("all: missing " + names.joined(separator: ", "))
                }
                evidence.append(.keywordsFound(condition: "all", keywords: list.words))
            case .none(let index):
                guard detail else {
                    if keywordLists[index].anyFound(in: scratch.matches) { return .fails(nil) }
                    continue
                }
                let list = keywordLists[index]
                let present = list.found(in: scratch.matches)
                if !present.isEmpty {
                    let names: [String] = present.map { "\"" + $0 + "\"" }
                    return .fails("none: found " + names.joined(separator: ", "))
                }
                evidence.append(.keywordsAbsent(count: list.words.count))
            case .bound(let measure, let kind, let limit):
                var value = measurements[measure]
                if measure == .words, value == PromptMeasurements.notCounted {
                    if let exact = state.words {
                        value = exact
                    } else if detail {
                        value = WordCounter.count(prompt)
                        state.words = value
                    } else {
                        // Count only as far as the bound needs: enough to tell the answer.
                        // A count that ended before that point is the exact one; keep it.
                        let stop = kind == .min ? limit : limit + 1
                        value = WordCounter.count(prompt, stoppingAt: stop)
                        if value < stop { state.words = value }
                    }
                }
                if kind == .min ? value < limit : value > limit {
                    guard detail else { return .fails(nil) }
                    let symbol = kind == .min ? "<" : ">"
                    return .fails("\(measure.rawValue) \(value) \(symbol) \(kind.rawValue)_\(measure.rawValue) \(limit)")
                }
                if detail { evidence.append(.measure(measure, value: value, bound: kind, limit: limit)) }
            case .hasCode(let expected):
                let actual = state.hasCode ?? CodeDetector.containsCode(prompt)
                state.hasCode = actual
                if actual != expected { return .fails(detail ? "has_code: the prompt \(actual ? "contains" : "contains no") code" : nil) }
                if detail { evidence.append(.hasCode(actual)) }
            case .tier(let index):
                guard let tier = context.tier, tierSets[index].contains(tier) else {
                    return .fails(detail ? (context.tier.map { "tier \"\($0)\" is not listed" } ?? "tier: no tier given (--tier or MODELROUTE_TIER)") : nil)
                }
                if detail { evidence.append(.tier(tier)) }
            case .hours(let window):
                let current = state.hour ?? context.localHour
                state.hour = current
                if !window.contains(hour: current) { return .fails(detail ? "local hour \(current) is outside \(window)" : nil) }
                if detail { evidence.append(.hour(current, window: window)) }
            case .difficulty(let low, let high):
                // Without a model (never the case for a loaded table) the bound cannot hold.
                guard let score = state.difficulty else { return .fails(detail ? "difficulty: no model" : nil) }
                if let low, score < low { return .fails(detail ? "difficulty \(DifficultyText.score(score)) < min \(DifficultyText.bound(low))" : nil) }
                if let high, score > high { return .fails(detail ? "difficulty \(DifficultyText.score(score)) > max \(DifficultyText.bound(high))" : nil) }
                if detail { evidence.append(.difficulty(score, min: low, max: high)) }
            }
        }
        return .holds(evidence)
    }

    private func defaultDecision(_ measurements: PromptMeasurements) -> RoutingDecision {
        RoutingDecision(
            route: table.defaultRoute, model: defaultModel, reason: .defaultRoute,
            evidence: [], features: measurements)
    }

    /// The decision for `--route NAME` or `--model NAME`, measured like any other prompt.
    public func override(route: String?, model: String?, prompt: String) throws(RoutingError) -> RoutingDecision {
        var text = prompt
        let scratch = ClassifierScratch(classifier: self)
        // A Swift String is always valid UTF-8, so it always measures.
        let measured = text.withUTF8 { measure($0, scratch: scratch) } ?? PromptMeasurements()
        if let route {
            guard let config = table.route(named: route) else {
                throw .unknownRoute(route, known: table.routes.map(\.name))
            }
            if let model, table.model(named: model) == nil { throw .unknownModel(model, known: table.models.map(\.name)) }
            return RoutingDecision(route: route, model: model ?? config.model, reason: .override, evidence: [], features: measured, difficulty: difficultyModel?.score(prompt))
        }
        if let model {
            guard table.model(named: model) != nil else { throw .unknownModel(model, known: table.models.map(\.name)) }
            // A model alone keeps the route whose primary model it is, else names no route.
            let route = table.routes.first { $0.model == model }?.name ?? model
            return RoutingDecision(route: route, model: model, reason: .override, evidence: [], features: measured, difficulty: difficultyModel?.score(prompt))
        }
        return classify(prompt, context: ClassificationContext())
    }
}

/// Counts words: maximal runs of non-white-space characters (Unicode White_Space), except
/// that each CJK ideograph, kana or hangul character is a word of its own, since those
/// scripts are written without spaces ("東京の天気" is 5 words, "Tokyo天気" 3).
enum WordCounter {
    /// Words in valid UTF-8 `text`, counting no further than `limit`.
    static func count(_ text: UnsafeBufferPointer<UInt8>, stoppingAt limit: Int = .max) -> Int {
        guard let base = text.baseAddress else { return 0 }
        let count = text.count
        var words = 0
        var previousWasSpace: UInt8 = 1
        var index = 0
        TextFolding.asciiSpace.withUnsafeBufferPointer { spaceTable in
            while index < count {
                let byte = base[index]
                var isSpace: UInt8
                if byte < 0x80 {
                    isSpace = spaceTable[Int(byte)]
                    index &+= 1
                } else {
                    guard let (value, length) = UTF8Decoding.decode(base, index, count) else { index &+= 1; continue }
                    index &+= length
                    if TokenEstimator.isDenseScript(value) && !TextFolding.isWhitespace(value) {
                        // Scripts written without spaces: each CJK, kana or hangul character is a word.
                        words &+= 1
                        previousWasSpace = 1
                        if words >= limit { return }
                        continue
                    }
                    isSpace = TextFolding.isWhitespace(value) ? 1 : 0
                }
                words &+= Int((1 &- isSpace) & previousWasSpace)
                previousWasSpace = isSpace
                if words >= limit { return }
            }
        }
        return words
    }
}

/// Counts lines: line breaks, plus one for a last line without one.
enum LineCounter {
    static func lines(in text: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = text.baseAddress, text.count > 0 else { return 0 }
        var breaks = 0
        var position = 0
        while position < text.count, let found = memchr(base + position, 0x0A, text.count - position) {
            breaks += 1
            position = UnsafeRawPointer(found).assumingMemoryBound(to: UInt8.self) - base + 1
        }
        return breaks + (text[text.count - 1] == 0x0A ? 0 : 1)
    }
}

/// A rule's keyword list: the words as written and their automaton pattern indices.
struct KeywordList: Sendable {
    let words: [String]
    /// Pattern index → position of its first occurrence in `words`.
    private let positions: [Int: Int]
    /// Distinct patterns in the list (two spellings may fold to one pattern).
    let uniqueCount: Int

    init(words: [String], indices: [Int]) {
        self.words = words
        var positions: [Int: Int] = [:]
        for (position, index) in indices.enumerated() where positions[index] == nil { positions[index] = position }
        self.positions = positions
        uniqueCount = positions.count
    }

    /// Whether any of the list's patterns matched; costs O(matches), not O(list).
    func anyFound(in matches: MatchSet) -> Bool {
        for index in matches.found where positions[Int(index)] != nil { return true }
        return false
    }

    /// How many of the list's distinct patterns matched.
    func foundCount(in matches: MatchSet) -> Int {
        var count = 0
        for index in matches.found where positions[Int(index)] != nil { count += 1 }
        return count
    }

    /// The words that matched, in list order.
    func found(in matches: MatchSet) -> [String] {
        let matched: [Int] = matches.found.compactMap { positions[Int($0)] }
        return matched.sorted().map { words[$0] }
    }
}

/// Per-thread buffers for classifying many prompts without allocating.
public final class ClassifierScratch {
    let scanner = PromptScanner()
    var folds = FoldTable()
    var matches: MatchSet
    /// Whether to count what no rule needs (lines), for showing a decision to a person;
    /// bulk runs turn it off.
    public var measuresEverything = true

    public init(classifier: Classifier) {
        matches = MatchSet(count: classifier.patternCount)
    }

    /// Byte offset of the first invalid UTF-8 byte in the last prompt, if it was invalid.
    public var invalidOffset: Int? { scanner.invalidOffset }
}


/// A route or model named on the command line that the table does not have. Exit 64.
public enum RoutingError: ModelRouteError, Equatable {
    case unknownRoute(String, known: [String])
    case unknownModel(String, known: [String])

    public var exitCode: ExitCode { .usage }

    public var message: String {
        switch self {
        case .unknownRoute(let name, let known):
            return "unknown route \"\(name)\"\(Suggestions.didYouMean(name, among: known)) (routes: \(known.joined(separator: ", ")))"
        case .unknownModel(let name, let known):
            return "unknown model \"\(name)\"\(Suggestions.didYouMean(name, among: known)) (models: \(known.joined(separator: ", ")))"
        }
    }
}
