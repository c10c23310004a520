/// Reading the top-level `"budgets"` and `"state"`.
extension TableReader {
    static let budgetKeys = ["name", "limit_usd", "period", "tags", "routes", "models", "over", "downgrade", "fail_closed"]
    static let stateKeys = ["url", "password_env", "timeout_ms"]

    func readBudgets(_ node: JSONNode, routes: [String], models: [String]) throws(ConfigError) -> [BudgetConfig] {
        guard case .array(let elements) = node.value else {
            throw error("budgets", "expected an array of budgets, e.g. [{\"name\": \"daily\", \"limit_usd\": 5, \"period\": \"day\"}]", at: node)
        }
        var result: [BudgetConfig] = []
        for (index, element) in elements.enumerated() {
            let path = "budgets[\(index)]"
            let fields = try members(element, path, known: TableReader.budgetKeys, what: "a budget")
            let name = try string(try required(fields, "name", path, in: element, what: "a budget"), "\(path).name")
            guard !result.contains(where: { $0.name == name }) else { throw error("\(path).name", "duplicate budget name \"\(name)\"", at: named(fields, "name")) }
            let limitNode = try required(fields, "limit_usd", path, in: element, what: "budget \"\(name)\"")
            let limit = try number(limitNode, "\(path).limit_usd", what: "a limit")
            guard limit > 0, limit <= 1_000_000_000 else { throw error("\(path).limit_usd", "a limit is above 0 and at most 1000000000 USD", at: limitNode) }
            let periodNode = try required(fields, "period", path, in: element, what: "budget \"\(name)\"")
            let periodText = try string(periodNode, "\(path).period")
            let period: BudgetConfig.Period
            switch periodText {
            case "day": period = .day
            case "week": period = .week
            case "month": period = .month
            default:
                guard let seconds = DurationText.seconds(periodText), seconds >= 60, seconds <= 92 * 86_400 else {
                    throw error("\(path).period", "expected \"day\", \"week\" (ISO, from Monday), \"month\", or a rolling window like \"24h\" or \"7d\" (1 minute to 92 days), found \"\(periodText)\"", at: periodNode)
                }
                period = .rolling(seconds: seconds)
            }
            var budget = BudgetConfig(name: name, limitUSD: limit, period: period)
            if let tagsNode = named(fields, "tags") {
                guard case .object(let pairs) = tagsNode.value else { throw error("\(path).tags", "expected an object of tag names to values", at: tagsNode) }
                for pair in pairs { budget.tags.append((pair.key, try string(pair.value, "\(path).tags.\(pair.key)", allowEmpty: true))) }
            }
            if let list = named(fields, "routes") {
                budget.routes = try stringList(list, "\(path).routes", what: "routes")
                for (position, route) in (budget.routes ?? []).enumerated() where !routes.contains(route) {
                    throw error("\(path).routes[\(position)]", "unknown route \"\(route)\"" + Suggestions.didYouMean(route, among: routes), at: list)
                }
            }
            if let list = named(fields, "models") {
                budget.models = try stringList(list, "\(path).models", what: "models")
                for (position, model) in (budget.models ?? []).enumerated() where !models.contains(model) {
                    throw error("\(path).models[\(position)]", "unknown model \"\(model)\"" + Suggestions.didYouMean(model, among: models), at: list)
                }
            }
            if let overNode = named(fields, "over") {
                let text = try string(overNode, "\(path).over")
                guard let over = BudgetConfig.Over(rawValue: text) else {
                    throw error("\(path).over", "expected \"downgrade\" or \"block\", found \"\(text)\"" + Suggestions.didYouMean(text, among: ["downgrade", "block"]), at: overNode)
                }
                budget.over = over
            }
            if let map = named(fields, "downgrade") {
                guard case .object(let pairs) = map.value else { throw error("\(path).downgrade", "expected an object of routes to cheaper routes, e.g. {\"power\": \"mid\"}", at: map) }
                for pair in pairs where !pair.key.hasPrefix("_") {
                    guard routes.contains(pair.key) else {
                        throw keyError("\(path).downgrade.\(pair.key)", "unknown route \"\(pair.key)\"" + Suggestions.didYouMean(pair.key, among: routes), at: pair.keyOffset)
                    }
                    budget.downgrade[pair.key] = try reference(pair.value, "\(path).downgrade.\(pair.key)", to: "route", among: routes)
                }
                for start in budget.downgrade.keys.sorted() {
                    var chain = [start]
                    var current = start
                    while let next = budget.downgrade[current] {
                        if chain.contains(next) {
                            throw error("\(path).downgrade", "the downgrades loop: \((chain + [next]).joined(separator: " → "))", at: map)
                        }
                        chain.append(next)
                        current = next
                    }
                }
            }
            if let flag = named(fields, "fail_closed") {
                guard case .bool(let value) = flag.value else { throw error("\(path).fail_closed", "expected true or false", at: flag) }
                budget.failClosed = value
            }
            result.append(budget)
        }
        return result
    }

    /// `"state": {"url": "redis://…", "password_env": …, "timeout_ms": …}`.
    func readState(_ node: JSONNode) throws(ConfigError) -> RedisLocation {
        let fields = try members(node, "state", known: TableReader.stateKeys, what: "the state store")
        let urlNode = try required(fields, "url", "state", in: node, what: "the state store")
        var location: RedisLocation
        switch RedisLocation.parse(try string(urlNode, "state.url")) {
        case .success(let parsed): location = parsed
        case .failure(let problem): throw error("state.url", problem.message, at: urlNode)
        }
        if let value = named(fields, "password_env") { location.passwordEnvironmentVariable = try string(value, "state.password_env") }
        if let value = named(fields, "timeout_ms") { location.timeoutSeconds = Double(try integer(value, "state.timeout_ms", minimum: 1, maximum: 60_000)) / 1000 }
        return location
    }
}
