/// How well a routing table routes labelled prompts: what `modelroute eval` reports.
///
/// Tiers are the table's routes from cheapest to strongest (`RoutingTable.routesByPrice`).
/// With difficulty labels it counts label × tier and the four headline rates; with
/// expected routes it counts accuracy and a confusion matrix. Nothing is called: a
/// `classify_with` rule counts at the route the rules after it give, as in a dry run.
public struct RoutingEvaluation: Sendable {
    /// A prompt sent where its label says it should not go.
    public struct Misroute: Sendable, Equatable {
        public var prompt: LabelledPrompt
        public var route: String
        public var rule: String
        public var difficulty: Double?
        /// "hard → cheapest" or "easy → strongest".
        public var kind: String
        /// Larger is worse: how sure the score was of the wrong thing.
        public var badness: Double
    }

    /// Counts for one group of prompts (all, one source, one category).
    public struct Breakdown: Sendable, Equatable {
        public var name: String
        public var label: DifficultyLabel?
        public var prompts = 0
        /// Prompts per route.
        public var routes: [String: Int] = [:]
        /// Whether every prompt of the group had the same label (else `label` is the first).
        public var mixedLabels = false
    }

    /// Routes from cheapest to strongest.
    public let tiers: [String]
    public let table: RoutingTable
    /// label → route → prompts.
    public private(set) var matrix: [DifficultyLabel: [String: Int]] = [:]
    public private(set) var labelled: [DifficultyLabel: Int] = [:]
    /// expected route → actual route → prompts.
    public private(set) var confusion: [String: [String: Int]] = [:]
    public private(set) var withRoute = 0
    public private(set) var rightRoute = 0
    public private(set) var prompts = 0
    public private(set) var cost = 0.0
    public private(set) var baselineCost = 0.0
    public private(set) var inputTokens = 0
    /// Prompts a call would first ask a `classify_with` model about.
    public private(set) var wouldAsk = 0
    public private(set) var sources: [String: Breakdown] = [:]
    public private(set) var categories: [String: Breakdown] = [:]
    public private(set) var misroutes: [Misroute] = []

    public var cheapest: String { tiers.first ?? "" }
    public var strongest: String { tiers.last ?? "" }

    /// Classifies every prompt with `classifier`.
    public init(classifier: Classifier, prompts: [LabelledPrompt], context: ClassificationContext) {
        table = classifier.table
        tiers = table.routesByPrice.map(\.name)
        for item in prompts {
            let decision = classifier.classify(item.prompt, context: context)
            self.prompts += 1
            let tokens = decision.features.tokens
            inputTokens += tokens
            cost += table.inputCost(model: decision.model, tokens: tokens)
            baselineCost += table.inputCost(model: table.baselineModel, tokens: tokens)
            if decision.ask != nil { wouldAsk += 1 }
            if let label = item.label {
                labelled[label, default: 0] += 1
                matrix[label, default: [:]][decision.route, default: 0] += 1
                let score = decision.difficulty
                if label == .hard && decision.route == cheapest && tiers.count > 1 {
                    misroutes.append(Misroute(
                        prompt: item, route: decision.route, rule: decision.reason.ruleName, difficulty: score, kind: "hard → cheapest",
                        badness: 1 - (score ?? 0.5)))
                }
                if label == .easy && decision.route == strongest && tiers.count > 1 {
                    misroutes.append(Misroute(
                        prompt: item, route: decision.route, rule: decision.reason.ruleName, difficulty: score, kind: "easy → strongest",
                        badness: score ?? 0.5))
                }
            }
            if let expected = item.route {
                withRoute += 1
                if expected == decision.route { rightRoute += 1 }
                confusion[expected, default: [:]][decision.route, default: 0] += 1
            }
            func add(_ name: String?, to groups: inout [String: Breakdown]) {
                guard let name else { return }
                var group = groups[name] ?? Breakdown(name: name, label: item.label)
                if group.prompts > 0, group.label != item.label { group.mixedLabels = true }
                group.prompts += 1
                group.routes[decision.route, default: 0] += 1
                groups[name] = group
            }
            add(item.source, to: &sources)
            add(item.category, to: &categories)
        }
        misroutes.sort { $0.badness > $1.badness || ($0.badness == $1.badness && $0.prompt.line < $1.prompt.line) }
    }

    /// Share (0 to 1) of `label`'s prompts sent to `route`; nil with none of that label.
    public func rate(_ label: DifficultyLabel, to route: String) -> Double? {
        guard let total = labelled[label], total > 0 else { return nil }
        return Double(matrix[label]?[route] ?? 0) / Double(total)
    }

    /// Estimated input-cost savings against sending everything to the baseline, 0 to 1.
    public var savings: Double { baselineCost > 0 ? (baselineCost - cost) / baselineCost : 0 }

    /// Share of prompts whose expected route was the route taken.
    public var accuracy: Double? { withRoute > 0 ? Double(rightRoute) / Double(withRoute) : nil }

    /// The four headline rates, in order.
    public var headline: [(name: String, value: Double?)] {
        [
            ("hard → strongest", rate(.hard, to: strongest)), ("hard → cheapest", rate(.hard, to: cheapest)),
            ("easy → cheapest", rate(.easy, to: cheapest)), ("easy → strongest", rate(.easy, to: strongest)),
        ]
    }
}

extension RoutingEvaluation {
    /// The report for people.
    public func renderTable(misrouteLimit: Int) -> String {
        func percent(_ value: Double?) -> String { value.map { formatted("%.1f%%", $0 * 100) } ?? "-" }
        var text = "eval: \(prompts) prompt\(prompts == 1 ? "" : "s") through \(table.source)\n"
        text += "tiers, cheapest to strongest: " + tiers.map { name in "\(name) (\(table.route(named: name)?.model ?? ""))" }.joined(separator: " < ") + "\n"
        if !labelled.isEmpty {
            text += "\n" + Text.pad("label", 8) + Text.pad("prompts", 9, right: true)
            for tier in tiers { text += Text.pad(tier, max(10, tier.count + 2), right: true) }
            text += "\n"
            for label in DifficultyLabel.allCases.reversed() {
                guard let total = labelled[label] else { continue }
                text += Text.pad(label.rawValue, 8) + Text.pad(String(total), 9, right: true)
                for tier in tiers { text += Text.pad(percent(rate(label, to: tier)), max(10, tier.count + 2), right: true) }
                text += "\n"
            }
            text += "\n"
            for (name, value) in headline { text += Text.pad(name, 18) + Text.pad(percent(value), 7, right: true) + "\n" }
        }
        text += "estimated input cost: \(Money.format(cost)) routed vs \(Money.format(baselineCost)) all on \(table.baselineModel)"
        text += " (saves \(percent(savings)))\n"
        if wouldAsk > 0 {
            text += "\(wouldAsk) prompt\(wouldAsk == 1 ? "" : "s") would first ask a classify_with model; counted at the route the next rules give\n"
        }
        if let accuracy {
            text += "\nexpected routes: \(rightRoute) of \(withRoute) right (\(percent(accuracy)))\n"
            let expected = confusion.keys.sorted { (tiers.firstIndex(of: $0) ?? .max, $0) < (tiers.firstIndex(of: $1) ?? .max, $1) }
            let width = max(8, expected.map(\.count).max() ?? 0)
            text += Text.pad("expected", width + 2)
            for tier in tiers { text += Text.pad(tier, max(8, tier.count + 2), right: true) }
            text += "\n"
            for name in expected {
                text += Text.pad(name, width + 2)
                for tier in tiers { text += Text.pad(String(confusion[name]?[tier] ?? 0), max(8, tier.count + 2), right: true) }
                text += "\n"
            }
        }
        for (title, groups) in [("by source", sources), ("by category", categories)] where groups.count > 1 {
            text += "\n\(title):\n"
            let width = min(64, max(6, groups.keys.map(\.count).max() ?? 0))
            text += "  " + Text.pad("", width) + "  label   prompts"
            for tier in tiers { text += Text.pad(tier, max(9, tier.count + 2), right: true) }
            text += "\n"
            for group in groups.values.sorted(by: { $0.name < $1.name }) {
                let label = group.mixedLabels ? "mixed" : group.label?.rawValue ?? "-"
                text += "  " + Text.pad(group.name.count > 64 ? group.name.prefix(63) + "…" : group.name, width) + "  " + Text.pad(label, 6) + Text.pad(String(group.prompts), 9, right: true)
                for tier in tiers {
                    text += Text.pad(percent(Double(group.routes[tier] ?? 0) / Double(max(1, group.prompts))), max(9, tier.count + 2), right: true)
                }
                text += "\n"
            }
        }
        if misrouteLimit > 0, !misroutes.isEmpty {
            text += "\nworst misroutes (\(min(misrouteLimit, misroutes.count)) of \(misroutes.count)):\n"
            for miss in misroutes.prefix(misrouteLimit) {
                let place = "\(miss.prompt.file):\(miss.prompt.line)"
                let score = miss.difficulty.map { " difficulty \(DifficultyText.score($0))" } ?? ""
                text += "  \(place)  \(miss.kind) via rule \(miss.rule)\(score)  \(RoutingEvaluation.excerpt(miss.prompt.prompt))\n"
            }
        }
        return text
    }

    /// The first 70 characters of a prompt on one line.
    static func excerpt(_ prompt: String) -> String {
        let flat = prompt.split(whereSeparator: { $0.isNewline || $0 == "\t" }).joined(separator: " ")
        return flat.count > 70 ? "\"" + flat.prefix(69) + "…\"" : "\"" + flat + "\""
    }

    /// The report as one JSON object, for scripts.
    public func renderJSON(misrouteLimit: Int) -> String {
        var json = JSONWriter(reservingCapacity: 4096)
        json.beginObject()
        json.key("table"); json.string(table.source)
        json.key("prompts"); json.int(prompts)
        json.key("tiers"); json.beginArray()
        for tier in tiers { json.string(tier) }
        json.endArray()
        json.key("labels"); json.beginObject()
        for label in DifficultyLabel.allCases {
            guard let total = labelled[label] else { continue }
            json.key(label.rawValue); json.beginObject()
            json.key("prompts"); json.int(total)
            json.key("routes"); json.beginObject()
            for tier in tiers { json.key(tier); json.int(matrix[label]?[tier] ?? 0) }
            json.endObject()
            json.endObject()
        }
        json.endObject()
        json.key("headline"); json.beginObject()
        for (name, value) in headline { json.key(name.replacing(" → ", with: "_to_")); json.double(value) }
        json.endObject()
        json.key("cost_usd"); json.double(cost)
        json.key("baseline_cost_usd"); json.double(baselineCost)
        json.key("savings"); json.double((savings * 10_000).rounded() / 10_000)
        json.key("would_ask"); json.int(wouldAsk)
        json.key("route_accuracy"); json.double(accuracy)
        json.key("confusion"); json.beginObject()
        for expected in confusion.keys.sorted() {
            json.key(expected); json.beginObject()
            for (actual, count) in (confusion[expected] ?? [:]).sorted(by: { $0.key < $1.key }) { json.key(actual); json.int(count) }
            json.endObject()
        }
        json.endObject()
        for (key, groups) in [("sources", sources), ("categories", categories)] {
            json.key(key); json.beginObject()
            for group in groups.values.sorted(by: { $0.name < $1.name }) {
                json.key(group.name); json.beginObject()
                json.key("label"); json.string(group.mixedLabels ? "mixed" : group.label?.rawValue)
                json.key("prompts"); json.int(group.prompts)
                json.key("routes"); json.beginObject()
                for tier in tiers { json.key(tier); json.int(group.routes[tier] ?? 0) }
                json.endObject()
                json.endObject()
            }
            json.endObject()
        }
        json.key("misroutes"); json.beginArray()
        for miss in misroutes.prefix(misrouteLimit) {
            json.beginObject()
            json.key("file"); json.string(miss.prompt.file)
            json.key("line"); json.int(miss.prompt.line)
            json.key("id"); json.string(miss.prompt.id)
            json.key("kind"); json.string(miss.kind)
            json.key("route"); json.string(miss.route)
            json.key("rule"); json.string(miss.rule)
            json.key("difficulty"); json.double(miss.difficulty.map(DifficultyText.rounded))
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.text + "\n"
    }
}
