/// Reading a route's `checks`, `escalate_to` and `answer_format`, and the table's
/// `experiment`, with errors as exact as the rest of the table's.
extension TableReader {
    static let minCharsKeys = ["min_chars", "when_prompt_words_over"]
    static let judgeKeys = ["model", "threshold", "prompt", "max_tokens", "timeout_s"]
    static let experimentKeys = ["name", "control_share", "control_model"]

    /// Fills a route's answer checks from its routes.json entry.
    func readChecks(
        _ member: JSONMember, into route: inout RouteConfig, routes: [String], routeIndex: Set<String>, models: [String], modelIndex: Set<String>
    ) throws(ConfigError) {
        let path = "routes.\(member.key)"
        guard case .object(let fields) = member.value.value else { return }
        if let node = fields.first(where: { $0.key == "answer_format" })?.value {
            let text = try string(node, "\(path).answer_format")
            let names = AnswerFormat.allCases.map(\.rawValue)
            guard let format = AnswerFormat(rawValue: text) else {
                throw error("\(path).answer_format", "unknown answer format \"\(text)\"" + Suggestions.didYouMean(text, among: names) + " (formats: \(names.joined(separator: ", ")))", at: node)
            }
            route.answerFormat = format
        }
        if let node = fields.first(where: { $0.key == "checks" })?.value {
            guard case .array(let elements) = node.value, !elements.isEmpty else {
                throw error("\(path).checks", "expected a list of checks, e.g. [\"empty\", \"refusal\", {\"min_chars\": 50}]", at: node)
            }
            var seen = Set<String>()
            for (index, element) in elements.enumerated() {
                let check = try readCheck(element, "\(path).checks[\(index)]", models: models, modelIndex: modelIndex)
                guard seen.insert(check.name).inserted else {
                    throw error("\(path).checks[\(index)]", "the check \"\(check.name)\" is listed twice", at: element)
                }
                route.checks.append(check)
            }
        }
        if let node = fields.first(where: { $0.key == "escalate_to" })?.value {
            let target = try reference(node, "\(path).escalate_to", to: "route", among: routes, index: routeIndex)
            guard target != member.key else {
                throw error("\(path).escalate_to", "a route cannot escalate to itself; name a stronger route", at: node)
            }
            guard !route.checks.isEmpty else {
                throw error("\(path).escalate_to", "escalate_to needs \"checks\" on the same route: nothing would ever fail and escalate", at: node)
            }
            route.escalateTo = target
        }
    }

    /// One entry of `checks`: a name, or an object with one check's name as its key.
    func readCheck(_ node: JSONNode, _ path: String, models: [String], modelIndex: Set<String>) throws(ConfigError) -> AnswerCheck {
        func unknown(_ name: String, at node: JSONNode) -> ConfigError {
            error(
                path, "unknown check \"\(name)\"" + Suggestions.didYouMean(name, among: AnswerCheck.names)
                    + " (checks: \(AnswerCheck.names.joined(separator: ", ")))", at: node)
        }
        switch node.value {
        case .string(let name):
            switch name {
            case "empty": return .empty
            case "refusal": return .refusal(extraPhrases: [])
            case "truncated": return .truncated
            case "json": return .json
            case "min_chars": throw error(path, "min_chars needs a length: {\"min_chars\": 50, \"when_prompt_words_over\": 30}", at: node)
            case "judge": throw error(path, "judge needs a model and a threshold: {\"judge\": {\"model\": \"gpt-4.1-mini\", \"threshold\": 0.7}}", at: node)
            default: throw unknown(name, at: node)
            }
        case .object(let members):
            let keys = members.filter { !$0.key.hasPrefix("_") }
            if keys.contains(where: { $0.key == "min_chars" }) {
                let fields = try self.members(node, path, known: TableReader.minCharsKeys, what: "a min_chars check")
                let length = try integer(try required(fields, "min_chars", path, in: node, what: "a min_chars check"), "\(path).min_chars", minimum: 1, maximum: 1_000_000)
                let words = try named(fields, "when_prompt_words_over").map { (value) throws(ConfigError) in
                    try integer(value, "\(path).when_prompt_words_over", minimum: 0, maximum: 10_000_000)
                } ?? 0
                return .minChars(length, whenPromptWordsOver: words)
            }
            guard keys.count == 1, let only = keys.first else {
                throw error(path, "a check object has one key, its check's name, e.g. {\"refusal\": [\"I won't\"]}", at: node)
            }
            switch only.key {
            case "refusal":
                return .refusal(extraPhrases: try stringList(only.value, "\(path).refusal", what: "phrases"))
            case "judge":
                return .judge(try readJudge(only.value, "\(path).judge", models: models, modelIndex: modelIndex))
            case "empty", "truncated", "json":
                throw error("\(path).\(only.key)", "\(only.key) takes no settings; write it as the string \"\(only.key)\"", at: only.value)
            default:
                throw keyError("\(path).\(only.key)", "unknown check \"\(only.key)\"" + Suggestions.didYouMean(only.key, among: AnswerCheck.names)
                    + " (checks: \(AnswerCheck.names.joined(separator: ", ")))", at: only.keyOffset)
            }
        default:
            throw error(path, "expected a check name or a check object, found \(node.value.kindDescription)", at: node)
        }
    }

    /// A `judge` check's settings.
    func readJudge(_ node: JSONNode, _ path: String, models: [String], modelIndex: Set<String>) throws(ConfigError) -> JudgeConfig {
        let fields = try members(node, path, known: TableReader.judgeKeys, what: "a judge")
        let model = try reference(try required(fields, "model", path, in: node, what: "a judge"), "\(path).model", to: "model", among: models, index: modelIndex)
        let thresholdNode = try required(fields, "threshold", path, in: node, what: "a judge")
        let threshold = try number(thresholdNode, "\(path).threshold", what: "a threshold")
        guard threshold <= 1 else { throw error("\(path).threshold", "ratings run from 0 to 1, found \(thresholdNode.value.numberText)", at: thresholdNode) }
        var judge = JudgeConfig(model: model, threshold: threshold)
        if let promptNode = named(fields, "prompt") {
            let prompt = try string(promptNode, "\(path).prompt")
            guard prompt.contains("{answer}") else {
                throw error("\(path).prompt", "the judge's question must contain {answer}, where the answer goes (and usually {question})", at: promptNode)
            }
            judge.prompt = prompt
        }
        if let value = named(fields, "max_tokens") { judge.maxTokens = try integer(value, "\(path).max_tokens", minimum: 1, maximum: 1000) }
        if let value = named(fields, "timeout_s") {
            judge.timeoutSeconds = try number(value, "\(path).timeout_s", what: "a timeout")
            guard judge.timeoutSeconds > 0, judge.timeoutSeconds <= 600 else {
                throw error("\(path).timeout_s", "a timeout must be more than 0 and at most 600 seconds", at: value)
            }
        }
        return judge
    }

    /// Refuses an `escalate_to` chain that comes back to a route it passed.
    func checkEscalationChains(_ routes: [RouteConfig], members: [JSONMember]) throws(ConfigError) {
        var next: [String: String] = [:]
        for route in routes { if let target = route.escalateTo { next[route.name] = target } }
        for (index, route) in routes.enumerated() where route.escalateTo != nil {
            var chain = [route.name]
            var current = route.name
            while let target = next[current] {
                if chain.contains(target) {
                    let node = members[index].value["escalate_to"] ?? members[index].value
                    throw error(
                        "routes.\(route.name).escalate_to",
                        "the escalation chain loops: \((chain + [target]).joined(separator: " → ")); the last route of a chain must have no escalate_to",
                        at: node)
                }
                chain.append(target)
                current = target
            }
        }
    }

    /// The top-level `experiment`.
    func readExperiment(_ node: JSONNode, models: [String], routes: [String]) throws(ConfigError) -> ExperimentConfig {
        let path = "experiment"
        let fields = try members(node, path, known: TableReader.experimentKeys, what: "an experiment")
        let name = try string(try required(fields, "name", path, in: node, what: "the experiment"), "\(path).name")
        let shareNode = try required(fields, "control_share", path, in: node, what: "the experiment")
        let share = try number(shareNode, "\(path).control_share", what: "a share")
        guard share > 0, share < 1 else {
            throw error("\(path).control_share", "the control share is a fraction of calls above 0 and below 1 (0.1 sends 10 % to control), found \(shareNode.value.numberText)", at: shareNode)
        }
        let model = try reference(try required(fields, "control_model", path, in: node, what: "the experiment"), "\(path).control_model", to: "model", among: models)
        if routes.contains(ExperimentConfig.controlRoute) {
            throw error(
                "routes.\(ExperimentConfig.controlRoute)",
                "with an experiment, records name the control group's route \"\(ExperimentConfig.controlRoute)\"; rename this route", at: node)
        }
        return ExperimentConfig(name: name, controlShare: share, controlModel: model)
    }
}
