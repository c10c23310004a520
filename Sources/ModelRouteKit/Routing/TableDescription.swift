/// The compiled table in words, for `modelroute check`.
public enum TableDescription {
    public static func render(_ table: RoutingTable, environment: [String: String]) -> String {
        var text = "Routing table: \(table.source) (version \(table.version))\n"
        text += "Default route: \(table.defaultRoute)   Baseline model: \(table.baselineModel)   Keyword match: \(table.keywordMatch.rawValue)\n"

        text += "\nProviders\n"
        let providerWidth = table.providers.map(\.name.count).max() ?? 0
        let urlWidth = table.providers.compactMap(\.baseURL?.count).max() ?? 0
        for provider in table.providers {
            var line = "  " + Text.pad(provider.name, providerWidth) + "  " + Text.pad(provider.type.rawValue, 9)
            if let url = provider.baseURL { line += "  " + Text.pad(url, urlWidth) }
            if let variable = provider.apiKeyEnvironmentVariable {
                let isSet = !(environment[variable] ?? "").isEmpty
                line += "  key: $\(variable) (\(isSet ? "set" : "not set"))"
            } else if provider.type == .mock {
                line += "  offline: no network, no key"
            } else {
                line += "  no key"
            }
            if !provider.headers.isEmpty { line += "  headers: " + provider.headers.map(\.name).joined(separator: ", ") }
            text += line + "\n"
        }

        text += "\nModels (USD per million tokens)\n"
        let modelWidth = max(5, table.models.map(\.name.count).max() ?? 0)
        let idWidth = max(2, table.models.map(\.id.count).max() ?? 0)
        text += "  " + Text.pad("model", modelWidth) + "  " + Text.pad("provider", providerWidth) + "  " + Text.pad("id", idWidth)
            + "  " + Text.pad("input", 8, right: true) + "  " + Text.pad("cached", 8, right: true) + "  " + Text.pad("output", 8, right: true) + "\n"
        for model in table.models {
            let cached = model.pricing.cachedInputPerMillion.map { price(per: $0) } ?? "-"
            let input = model.priced ? price(per: model.pricing.inputPerMillion) : "unknown"
            let output = model.priced ? price(per: model.pricing.outputPerMillion) : "unknown"
            text += "  " + Text.pad(model.name, modelWidth) + "  " + Text.pad(model.provider, providerWidth) + "  " + Text.pad(model.id, idWidth)
                + "  " + Text.pad(input, 8, right: true) + "  " + Text.pad(cached, 8, right: true)
                + "  " + Text.pad(output, 8, right: true) + "\n"
        }

        text += "\nRoutes\n"
        let routeWidth = table.routes.map(\.name.count).max() ?? 0
        for route in table.routes {
            var line = "  " + Text.pad(route.name, routeWidth) + "  " + route.candidateModels.joined(separator: " → ")
            if let maxTokens = route.maxTokens { line += "   max_tokens \(maxTokens)" }
            if route.system != nil { line += "   system prompt" }
            if route.retry != nil { line += "   own retry policy" }
            if route.answerFormat == .json { line += "   answers JSON" }
            if table.cache != nil && !route.cache { line += "   not cached" }
            text += line + "\n"
            if !route.checks.isEmpty {
                text += "  " + Text.pad("", routeWidth) + "  checks: " + route.checks.map(describe).joined(separator: ", ")
                    + (route.escalateTo.map { " → escalate to \($0)" } ?? " (no escalate_to: a failing answer is printed with a warning)") + "\n"
            }
        }
        if let experiment = table.experiment { text += "\nExperiment\n  " + ExperimentStage.summary(experiment) + "\n" }
        if !table.budgets.isEmpty {
            text += "\nBudgets\n"
            for budget in table.budgets {
                var scope: [String] = budget.tags.map { "tag \($0.key)=\($0.value)" }
                if let routes = budget.routes { scope.append("routes " + routes.joined(separator: ", ")) }
                if let models = budget.models { scope.append("models " + models.joined(separator: ", ")) }
                let action = budget.over == .block ? "block" : "downgrade " + budget.downgrade.sorted { $0.key < $1.key }.map { "\($0.key) → \($0.value)" }.joined(separator: ", ")
                text += "  \(budget.name): \(Money.format(budget.limitUSD)) a \(budget.period.description)   " + (scope.isEmpty ? "every call" : scope.joined(separator: "; "))
                    + "   over: \(action)" + (budget.failClosed ? "   fail closed" : "") + "\n"
            }
        }
        if let cache = table.cache {
            let ttl = cache.ttlSeconds % 86_400 == 0 ? "\(cache.ttlSeconds / 86_400)d" : "\(cache.ttlSeconds)s"
            text += "\nResponse cache\n  "
            switch cache.store {
            case .local(let directory):
                text += "local: \(directory ?? "$XDG_CACHE_HOME/modelroute, else ~/.cache/modelroute")   ttl \(ttl)   max \(cache.maxBytes >> 20) MB"
            case .redis(let location):
                let password = location.passwordEnvironmentVariable.map { variable in
                    "password: $\(variable) (\((environment[variable] ?? "").isEmpty ? "not set" : "set"))"
                } ?? "no password"
                text += "Redis: \(location.display)   ttl \(ttl)   \(password)   timeout \(Int((location.timeoutSeconds * 1000).rounded())) ms"
            }
            text += cache.nondeterministic ? "   temperatures above 0 cached too\n" : "\n"
        }

        text += "\nRules (tried in order; the first that holds decides)\n"
        var unreachableFrom: String?
        for (index, rule) in table.rules.enumerated() {
            let conditions = rule.conditions.map { describe($0, match: rule.match) }
            let target = rule.ask.map { ask in "ask \(ask.model): " + ask.labels.map { "\($0.label) → \($0.route)" }.joined(separator: ", ") } ?? rule.route
            text += "  \(index + 1). \(rule.name) → \(target)   " + (conditions.isEmpty ? "always" : conditions.joined(separator: "; ")) + "\n"
            if rule.conditions.isEmpty, rule.ask == nil, unreachableFrom == nil, index + 1 < table.rules.count { unreachableFrom = rule.name }
        }
        text += "  otherwise → \(table.defaultRoute)\n"
        if table.usesDifficulty {
            switch table.classifier {
            case .builtIn: text += "\nDifficulty model: built-in\n"
            case .file(let path): text += "\nDifficulty model: \(path)\n"
            }
        }
        if let unreachableFrom {
            text += "\nNote: rule \"\(unreachableFrom)\" has no conditions, so the rules after it are never tried.\n"
        }
        return text
    }

    /// "$2.50", "$0.075": at least two decimals, more only when the price has them.
    static func price(per million: Double) -> String {
        var text = Money.plain(million)
        if !text.contains(".") { text += "." }
        while text.count - (text.firstIndex(of: ".").map { text.distance(from: text.startIndex, to: $0) } ?? 0) < 3 { text += "0" }
        return "$" + text
    }

    /// One condition in words.
    public static func describe(_ condition: Condition, match: KeywordMatchMode) -> String {
        func list(_ words: [String]) -> String {
            let shown = words.prefix(6).map { "\"\($0)\"" }.joined(separator: ", ")
            return words.count > 6 ? shown + ", … (\(words.count) in all)" : shown
        }
        let mode = match == .word ? "" : " (substring)"
        switch condition {
        case .any(let words): return "any of \(list(words))\(mode)"
        case .all(let words): return "all of \(list(words))\(mode)"
        case .none(let words): return "none of \(list(words))\(mode)"
        case .bound(let measure, let kind, let limit): return "\(measure.rawValue) \(kind == .min ? "≥" : "≤") \(limit)"
        case .hasCode(let flag): return flag ? "contains code" : "contains no code"
        case .tier(let tiers): return "tier in [\(tiers.joined(separator: ", "))]"
        case .hours(let window): return "local hours \(window)"
        case .difficulty(let low, let high):
            switch (low, high) {
            case (let low?, let high?): return "difficulty \(DifficultyText.bound(low))–\(DifficultyText.bound(high))"
            case (let low?, nil): return "difficulty ≥ \(DifficultyText.bound(low))"
            case (nil, let high?): return "difficulty ≤ \(DifficultyText.bound(high))"
            case (nil, nil): return "difficulty"
            }
        }
    }
}

/// A routing decision in plain words, for `--dry-run` and `--explain`.
public enum DecisionDescription {
    /// With `contributions` (for `--explain`), the features that moved the difficulty score most.
    /// `style` marks the rules tried: ✓ held, ✗ not, ? would ask (`+`, `-`, `?` in ASCII),
    /// green and red in colour.
    public static func render(
        table: RoutingTable, decision: RoutingDecision, trace: [Classifier.RuleTrace]?, contributions: [DifficultyModel.Contribution]? = nil,
        style: TextStyle = .plain
    ) -> String {
        let features = decision.features
        var text = "route: " + style.paint(decision.route, .heading) + "\nmodel: " + style.paint(decision.model, .heading) + "\n"
        switch decision.reason {
        case .rule(let name, let index): text += "rule: \(name) (rule \(index + 1) of \(table.rules.count))\n"
        case .defaultRoute: text += "rule: default (no rule matched)\n"
        case .override: text += "rule: override (chosen on the command line)\n"
        case .experiment: text += "rule: experiment (the control group)\n"
        }
        for evidence in decision.evidence { text += "  because \(evidence)\n" }
        func count(_ value: Int, _ noun: String) -> String { "\(value) \(noun)\(value == 1 ? "" : "s")" }
        text += "prompt: " + [count(features.words, "word"), count(features.chars, "char"), "~" + count(features.tokens, "token"), count(features.lines, "line")]
            .joined(separator: ", ")
        if let hasCode = features.hasCode { text += hasCode ? ", contains code" : ", no code" }
        text += "\n"
        if let score = decision.difficulty {
            text += "difficulty: \(DifficultyText.score(score)) (0 easy … 1 hard; \(table.classifier == .builtIn ? "built-in model" : "model \(table.classifier.path ?? "")"))\n"
            if let contributions, !contributions.isEmpty {
                text += "  moved most by: " + contributions.map { "\($0.feature) \($0.weight >= 0 ? "+" : "−")\(formatted("%.2f", abs($0.weight)))" }
                    .joined(separator: ", ") + "\n"
            }
        }
        if let ask = decision.ask {
            text += "would ask \(ask.config.model) first (rule \(ask.rule)); a dry run does not call it, so this is the route if its answer fits no label\n"
        }
        if let route = table.route(named: decision.route), !route.checks.isEmpty {
            text += "checks: " + route.checks.map(TableDescription.describe).joined(separator: ", ")
                + (route.escalateTo.map { "; a failing answer escalates to route \($0)" } ?? "") + " (the answer is held until they pass)\n"
        }
        if let experiment = table.experiment { text += ExperimentStage.summary(experiment) + "\n" }
        let cost = table.inputCost(model: decision.model, tokens: features.tokens)
        let baselineCost = table.inputCost(model: table.baselineModel, tokens: features.tokens)
        if table.model(named: decision.model)?.priced == false {
            text += "estimated input cost: unknown (\(decision.model) has \"prices\": \"unknown\")\n"
        } else {
            text += "estimated input cost: \(Money.format(cost)) on \(decision.model) vs \(Money.format(baselineCost)) on baseline \(table.baselineModel)\n"
        }
        if let trace {
            text += "\nrules tried:\n"
            for step in trace {
                let mark = step.asks ? "?" : step.holds ? style.paint(style.symbol("✓", "+"), .good) : style.paint(style.symbol("✗", "-"), .bad)
                text += "  \(mark) \(step.rule) \(style.symbol("→", "->")) \(step.route): \(step.detail)\n"
            }
            if trace.last?.holds != true { text += "  \(style.symbol("→", "->")) no rule held; default route \(table.defaultRoute)\n" }
        }
        guard let width = style.width else { return text }
        // Long lines wrap at word boundaries, under their own indentation.
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            let lead = line.prefix { $0 == " " }.count
            return Columns.visibleWidth(String(line)) > width ? Text.fit(String(line), width: width, indent: lead + 4) : String(line)
        }.joined(separator: "\n")
    }
}

extension DecisionDescription {
    /// A dry run's decision as one JSON object (`--dry-run --json`): route, model, rule,
    /// evidence, difficulty, the prompt's measures, the estimated input cost against the
    /// baseline, and the model a `classify_with` rule would first ask (or null).
    public static func renderJSON(table: RoutingTable, decision: RoutingDecision) -> String {
        let features = decision.features
        let cost = table.inputCost(model: decision.model, tokens: features.tokens)
        let baseline = table.inputCost(model: table.baselineModel, tokens: features.tokens)
        var json = JSONWriter(reservingCapacity: 512)
        json.beginObject()
        json.key("route"); json.string(decision.route)
        json.key("model"); json.string(decision.model)
        json.key("rule"); json.string(decision.reason.ruleName)
        json.key("evidence"); json.beginArray()
        for evidence in decision.evidence { json.string(evidence.description) }
        json.endArray()
        json.key("difficulty"); json.double(decision.difficulty.map(DifficultyText.rounded))
        json.key("would_ask"); json.string(decision.ask?.config.model)
        let route = table.route(named: decision.route)
        json.key("checks"); json.beginArray()
        for check in route?.checks ?? [] { json.string(check.name) }
        json.endArray()
        json.key("escalate_to"); json.string(route?.escalateTo)
        json.key("experiment"); json.string(table.experiment?.name)
        json.key("control_share"); json.double(table.experiment?.controlShare)
        json.key("words"); json.int(features.words)
        json.key("chars"); json.int(features.chars)
        json.key("input_tokens"); json.int(features.tokens)
        json.key("lines"); json.int(features.lines)
        json.key("cost_usd"); json.double(cost)
        json.key("baseline_model"); json.string(table.baselineModel)
        json.key("baseline_cost_usd"); json.double(baseline)
        json.endObject()
        return json.text + "\n"
    }
}

extension TableDescription {
    /// A check as `check` and dry runs show it: `refusal`, `min_chars 50 (prompts over 30 words)`, `judge gpt-4.1-mini ≥ 0.70`.
    static func describe(_ check: AnswerCheck) -> String {
        switch check {
        case .empty, .truncated, .json: return check.name
        case .refusal(let extra): return extra.isEmpty ? "refusal" : "refusal (+\(extra.count) phrase\(extra.count == 1 ? "" : "s"))"
        case .minChars(let length, let words): return "min_chars \(length)" + (words > 0 ? " (prompts over \(words) words)" : "")
        case .judge(let judge): return "judge \(judge.model) ≥ \(formatted("%.2f", judge.threshold))"
        }
    }
}

extension TableDescription {
    /// Prices older than this many days get a warning from `check`.
    public static let stalePriceDays: Int64 = 90

    /// A warning when `prices_as_of` is more than 90 days old (or absent while models are priced).
    public static func pricesWarning(_ table: RoutingTable, nowMillis: Int64) -> String? {
        guard let text = table.pricesAsOf, let day = LedgerTimestamp.parseDate(text) else { return nil }
        let age = LedgerTimestamp.floorDiv(nowMillis, 86_400_000) - day
        guard age > stalePriceDays else { return nil }
        return "prices_as_of \(text) is \(age) days old: prices change; `modelroute prices import model_prices_and_context_window.json --write` brings them up to date"
    }
}
