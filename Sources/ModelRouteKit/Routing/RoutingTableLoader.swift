#if canImport(Glibc)
import Glibc
#endif

/// Finds, reads and validates routes.json.
public enum RoutingTableLoader {
    /// Where a table was found.
    public enum Origin: Sendable, Equatable {
        /// A file, and which rule of the search order chose it.
        case file(path: String, via: String)
        /// The default compiled into the binary.
        case embedded
    }

    /// Decides where the table comes from, first found wins: `explicitPath` (`--routes`),
    /// `$MODELROUTE_ROUTES`, `./modelroute.json` (a distinctive name: a generic
    /// `routes.json` of a web project must not take over every call), `$XDG_CONFIG_HOME/modelroute/routes.json`
    /// (`~/.config/modelroute/routes.json` when XDG_CONFIG_HOME is unset), else the
    /// embedded default. A path given explicitly must exist; the others are looked for.
    public static func locate(explicitPath: String?, environment: [String: String], currentDirectory: String) -> Origin {
        if let explicitPath { return .file(path: explicitPath, via: "--routes") }
        if let path = environment["MODELROUTE_ROUTES"], !path.isEmpty { return .file(path: path, via: "$MODELROUTE_ROUTES") }
        let local = currentDirectory.hasSuffix("/") ? currentDirectory + "modelroute.json" : currentDirectory + "/modelroute.json"
        if FileReader.isRegularFile(local) { return .file(path: local, via: "./modelroute.json") }
        guard let user = userTablePath(environment: environment) else { return .embedded }
        if FileReader.isRegularFile(user) { return .file(path: user, via: "$XDG_CONFIG_HOME") }
        return .embedded
    }

    /// The user's own table: `$XDG_CONFIG_HOME/modelroute/routes.json`, else
    /// `~/.config/modelroute/routes.json`; nil with neither variable set.
    public static func userTablePath(environment: [String: String]) -> String? {
        if let xdg = environment["XDG_CONFIG_HOME"], !xdg.isEmpty { return xdg + "/modelroute/routes.json" }
        if let home = environment["HOME"], !home.isEmpty { return home + "/.config/modelroute/routes.json" }
        return nil
    }

    /// Where the table in use comes from, in words, for `check`.
    public static func describe(_ origin: Origin) -> String {
        switch origin {
        case .embedded: return "the built-in default (no --routes, $MODELROUTE_ROUTES, ./modelroute.json or config file)"
        case .file(let path, let via):
            switch via {
            case "--routes": return "\(path) (given with --routes)"
            case "$MODELROUTE_ROUTES": return "\(path) (named by $MODELROUTE_ROUTES)"
            case "./modelroute.json": return "\(path) (./modelroute.json in the current directory)"
            default: return "\(path) (your config file)"
            }
        }
    }

    /// Loads the table from the first place `locate` finds.
    public static func locateAndLoad(explicitPath: String?, environment: [String: String], currentDirectory: String) throws(ConfigError) -> RoutingTable {
        switch locate(explicitPath: explicitPath, environment: environment, currentDirectory: currentDirectory) {
        case .embedded:
            return try load(json: Array(EmbeddedRoutes.json.utf8), source: "embedded default routes.json")
        case .file(let path, _):
            let bytes: [UInt8]
            do {
                bytes = try FileReader.readAll(path: path)
            } catch {
                throw .unreadable(file: path, reason: error.reason)
            }
            return try load(json: bytes, source: path)
        }
    }

    /// Parses and validates routes.json text; `source` names it in errors.
    public static func load(json: [UInt8], source: String) throws(ConfigError) -> RoutingTable {
        let root: JSONNode
        do {
            root = try JSONParser.parse(json)
        } catch {
            throw .syntax(source: source, location: SourceLocation(offset: error.offset, in: json), message: error.message)
        }
        var reader = TableReader(source: source, text: json)
        return try reader.readTable(root)
    }
}

/// A routing table that cannot be used. Exit 78 (EX_CONFIG).
public enum ConfigError: ModelRouteError, Equatable {
    /// The file named by `--routes` or `$MODELROUTE_ROUTES` cannot be read.
    case unreadable(file: String, reason: String)
    /// The JSON itself is malformed.
    case syntax(source: String, location: SourceLocation, message: String)
    /// A key or value is wrong; `path` is like `rules[2].min_words`.
    case invalid(path: String, message: String, source: String, location: SourceLocation?)

    public var exitCode: ExitCode { .configuration }

    public var message: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read routing table \(file): \(reason)"
        case .syntax(let source, let location, let message):
            return "\(source):\(location.line):\(location.column): JSON syntax error: \(message)"
        case .invalid(let path, let message, let source, let location):
            let place = location.map { "\(source):\($0.line):\($0.column)" } ?? source
            return "\(place): \(path.isEmpty ? "" : path + ": ")\(message)"
        }
    }
}

/// Walks the parsed JSON with a key path, so every error names `rules[2].min_words`
/// and the line and column where it is written.
struct TableReader {
    let source: String
    let text: [UInt8]

    static let topLevelKeys = ["version", "default_route", "baseline_model", "keyword_match", "classifier", "providers", "models", "routes", "rules", "experiment", "cache", "prices_as_of", "budgets", "state"]
    static let providerKeys = ["type", "base_url", "api_key_env", "headers", "retry", "timeout_s"]
    static let modelKeys = ["provider", "id", "input_per_mtok", "output_per_mtok", "cached_input_per_mtok", "mock", "prices", "context_tokens"]
    static let routeKeys = ["model", "fallbacks", "max_tokens", "system", "retry", "checks", "escalate_to", "answer_format", "cache"]
    static let retryKeys = ["retries", "initial_delay_ms", "max_delay_s"]
    static let boundKeys: [String] = Measure.allCases.flatMap { ["min_\($0.rawValue)", "max_\($0.rawValue)"] }
    static let ruleKeys = ["name", "route", "match", "any", "all", "none"] + boundKeys + ["has_code", "tier", "hours", "difficulty", "classify_with"]
    static let difficultyKeys = ["min", "max"]
    static let askKeys = ["model", "prompt", "labels", "max_tokens", "timeout_s"]

    func error(_ path: String, _ message: String, at node: JSONNode?) -> ConfigError {
        .invalid(path: path, message: message, source: source, location: node.map { SourceLocation(offset: $0.offset, in: text) })
    }

    func keyError(_ path: String, _ message: String, at offset: Int) -> ConfigError {
        .invalid(path: path, message: message, source: source, location: SourceLocation(offset: offset, in: text))
    }

    /// The members of an object, after checking that every key is known. Keys that
    /// start with "_" are comments and are skipped.
    func members(_ node: JSONNode, _ path: String, known: [String], what: String) throws(ConfigError) -> [JSONMember] {
        guard case .object(let members) = node.value else {
            throw error(path, "\(what) must be an object, not \(node.value.kindDescription)", at: node)
        }
        var result: [JSONMember] = []
        for member in members where !member.key.hasPrefix("_") {
            guard known.contains(member.key) else {
                let memberPath = path.isEmpty ? member.key : "\(path).\(member.key)"
                throw keyError(
                    memberPath, "unknown key \"\(member.key)\" in \(what)" + Suggestions.didYouMean(member.key, among: known)
                        + " (known keys: \(known.joined(separator: ", ")))", at: member.keyOffset)
            }
            result.append(member)
        }
        return result
    }

    func named(_ members: [JSONMember], _ key: String) -> JSONNode? { members.first { $0.key == key }?.value }

    func required(_ members: [JSONMember], _ key: String, _ path: String, in node: JSONNode, what: String) throws(ConfigError) -> JSONNode {
        guard let value = named(members, key) else {
            throw error(path, "\(what) is missing the required key \"\(key)\"", at: node)
        }
        return value
    }

    func string(_ node: JSONNode, _ path: String, allowEmpty: Bool = false) throws(ConfigError) -> String {
        guard case .string(let value) = node.value else {
            throw error(path, "expected a string, found \(node.value.kindDescription)", at: node)
        }
        if !allowEmpty, value.allSatisfy(\.isWhitespace) { throw error(path, "must not be empty", at: node) }
        return value
    }

    func integer(_ node: JSONNode, _ path: String, minimum: Int, maximum: Int = Int(Int32.max)) throws(ConfigError) -> Int {
        guard case .number(let value) = node.value else {
            throw error(path, "expected a whole number, found \(node.value.kindDescription)", at: node)
        }
        guard value == value.rounded(), value >= Double(minimum), value <= Double(maximum) else {
            throw error(path, "expected a whole number from \(minimum) to \(maximum), found \(JSONValue.number(value).numberText)", at: node)
        }
        return Int(value)
    }

    func number(_ node: JSONNode, _ path: String, what: String) throws(ConfigError) -> Double {
        guard case .number(let value) = node.value else {
            throw error(path, "expected a number, found \(node.value.kindDescription)", at: node)
        }
        guard value >= 0 else { throw error(path, "\(what) must not be negative, found \(JSONValue.number(value).numberText)", at: node) }
        guard value.isFinite else { throw error(path, "\(what) must be a finite number", at: node) }
        return value
    }

    /// A price in USD per million tokens: not negative, and at most 100,000, so that no
    /// cost can overflow to infinity (and be logged as null, unseen by `report`).
    func price(_ node: JSONNode, _ path: String) throws(ConfigError) -> Double {
        let value = try number(node, path, what: "a price")
        guard value <= 100_000 else {
            throw error(path, "a price must be at most 100000 USD per million tokens, found \(node.value.numberText)", at: node)
        }
        return value
    }

    func stringList(_ node: JSONNode, _ path: String, what: String) throws(ConfigError) -> [String] {
        guard case .array(let elements) = node.value else {
            throw error(path, "expected an array of \(what), found \(node.value.kindDescription)", at: node)
        }
        guard !elements.isEmpty else { throw error(path, "the list is empty; give at least one \(what.dropLast()) or remove the key", at: node) }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            let value = try string(element, "\(path)[\(index)]", allowEmpty: true)
            if value.allSatisfy(\.isWhitespace) { throw error("\(path)[\(index)]", "empty \(what.dropLast()); remove it or write one", at: element) }
            result.append(value)
        }
        return result
    }

    /// A name that must be one of `names`; `index` (the same names as a set) makes the
    /// check constant-time, so a table with thousands of routes loads in linear time.
    func reference(_ node: JSONNode, _ path: String, to kind: String, among names: [String], index: Set<String>? = nil) throws(ConfigError) -> String {
        let name = try string(node, path)
        guard index?.contains(name) ?? names.contains(name) else {
            throw error(
                path, "unknown \(kind) \"\(name)\"" + Suggestions.didYouMean(name, among: names)
                    + " (\(kind)s: \(names.joined(separator: ", ")))", at: node)
        }
        return name
    }

    mutating func readTable(_ root: JSONNode) throws(ConfigError) -> RoutingTable {
        let top = try members(root, "", known: TableReader.topLevelKeys, what: "the routing table")
        let versionNode = try required(top, "version", "version", in: root, what: "the routing table")
        guard case .number(let version) = versionNode.value, version == 1 else {
            throw error("version", "unsupported version \(versionNode.value.numberText); this modelroute reads version 1", at: versionNode)
        }

        let providersNode = try required(top, "providers", "providers", in: root, what: "the routing table")
        let providerMembers = try members(providersNode, "providers", known: [], what: "providers", allowAnyKey: true)
        guard !providerMembers.isEmpty else { throw error("providers", "define at least one provider", at: providersNode) }
        var providers: [ProviderConfig] = []
        for member in providerMembers { providers.append(try readProvider(member)) }

        let modelsNode = try required(top, "models", "models", in: root, what: "the routing table")
        let modelMembers = try members(modelsNode, "models", known: [], what: "models", allowAnyKey: true)
        guard !modelMembers.isEmpty else { throw error("models", "define at least one model", at: modelsNode) }
        var models: [ModelConfig] = []
        for member in modelMembers { models.append(try readModel(member, providers: providers.map(\.name))) }
        let modelNames = models.map(\.name)

        let routesNode = try required(top, "routes", "routes", in: root, what: "the routing table")
        let routeMembers = try members(routesNode, "routes", known: [], what: "routes", allowAnyKey: true)
        guard !routeMembers.isEmpty else { throw error("routes", "define at least one route", at: routesNode) }
        var routes: [RouteConfig] = []
        let modelIndex = Set(modelNames)
        let routeNames = routeMembers.map(\.key)
        let routeIndex = Set(routeNames)
        for member in routeMembers {
            var route = try readRoute(member, models: modelNames, modelIndex: modelIndex)
            try readChecks(member, into: &route, routes: routeNames, routeIndex: routeIndex, models: modelNames, modelIndex: modelIndex)
            routes.append(route)
        }
        try checkEscalationChains(routes, members: routeMembers)

        let defaultNode = try required(top, "default_route", "default_route", in: root, what: "the routing table")
        let defaultRoute = try reference(defaultNode, "default_route", to: "route", among: routeNames)

        var baselineModel = routes.first { $0.name == defaultRoute }?.model ?? modelNames[0]
        if let node = named(top, "baseline_model") {
            baselineModel = try reference(node, "baseline_model", to: "model", among: modelNames)
        }

        var keywordMatch = KeywordMatchMode.word
        if let node = named(top, "keyword_match") { keywordMatch = try matchMode(node, "keyword_match") }

        var rules: [Rule] = []
        if let rulesNode = named(top, "rules") {
            guard case .array(let elements) = rulesNode.value else {
                throw error("rules", "expected an array of rules, found \(rulesNode.value.kindDescription)", at: rulesNode)
            }
            var ruleNames = Set<String>()
            for (index, element) in elements.enumerated() {
                let rule = try readRule(
                    element, index: index, routes: routeNames, routeIndex: routeIndex, models: modelNames, modelIndex: modelIndex, defaultMatch: keywordMatch)
                if !ruleNames.insert(rule.name).inserted {
                    throw error("rules[\(index)].name", "duplicate rule name \"\(rule.name)\"; rule names appear in logs and must be unique", at: element["name"] ?? element)
                }
                rules.append(rule)
            }
        }
        var table = RoutingTable(
            version: 1, defaultRoute: defaultRoute, baselineModel: baselineModel, keywordMatch: keywordMatch,
            providers: providers, models: models, routes: routes, rules: rules, source: source)
        if let node = named(top, "classifier") { table.classifier = try classifierSource(node) }
        if let node = named(top, "experiment") { table.experiment = try readExperiment(node, models: modelNames, routes: routeNames) }
        if let node = named(top, "cache") { table.cache = try readCache(node) }
        if let node = named(top, "budgets") { table.budgets = try readBudgets(node, routes: routeNames, models: modelNames) }
        if let node = named(top, "state") {
            table.state = try readState(node)
        } else if case .redis(let location)? = table.cache?.store {
            table.state = location
        }
        if let node = named(top, "prices_as_of") {
            let text = try string(node, "prices_as_of")
            guard LedgerTimestamp.parseDate(text) != nil else {
                throw error("prices_as_of", "expected a date like \"2026-12-01\" (when the prices were last checked), found \"\(text)\"", at: node)
            }
            table.pricesAsOf = text
        }
        return table
    }

    /// `"classifier": "builtin"` or the path of a model file, relative to the table's folder.
    func classifierSource(_ node: JSONNode) throws(ConfigError) -> ClassifierSource {
        let text = try string(node, "classifier")
        if text == "builtin" || text == "built-in" { return .builtIn }
        if text.hasPrefix("/") { return .file(text) }
        guard let slash = source.lastIndex(of: "/") else { return .file(text) }
        return .file(String(source[...slash]) + text)
    }

    /// Object members where any key is allowed (names of providers, models, routes).
    func members(_ node: JSONNode, _ path: String, known: [String], what: String, allowAnyKey: Bool) throws(ConfigError) -> [JSONMember] {
        guard case .object(let members) = node.value else {
            throw error(path, "\(what) must be an object keyed by name, not \(node.value.kindDescription)", at: node)
        }
        for member in members where member.key.allSatisfy(\.isWhitespace) {
            throw keyError(path, "a name in \(what) is empty", at: member.keyOffset)
        }
        return members.filter { !$0.key.hasPrefix("_") }
    }

    func matchMode(_ node: JSONNode, _ path: String) throws(ConfigError) -> KeywordMatchMode {
        let text = try string(node, path)
        guard let mode = KeywordMatchMode(rawValue: text) else {
            throw error(path, "expected \"word\" or \"substring\", found \"\(text)\"" + Suggestions.didYouMean(text, among: KeywordMatchMode.allCases.map(\.rawValue)), at: node)
        }
        return mode
    }

    func readProvider(_ member: JSONMember) throws(ConfigError) -> ProviderConfig {
        let path = "providers.\(member.key)"
        let fields = try members(member.value, path, known: TableReader.providerKeys, what: "a provider")
        let typeNode = try required(fields, "type", path, in: member.value, what: "provider \"\(member.key)\"")
        let typeText = try string(typeNode, "\(path).type")
        guard let type = ProviderType(rawValue: typeText) else {
            let names = ProviderType.allCases.map(\.rawValue)
            throw error("\(path).type", "unknown provider type \"\(typeText)\"" + Suggestions.didYouMean(typeText, among: names) + " (types: \(names.joined(separator: ", ")))", at: typeNode)
        }
        var baseURL = type.defaultBaseURL
        var customURL = false
        if let node = named(fields, "base_url") {
            var url = try string(node, "\(path).base_url")
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw error("\(path).base_url", "expected an http:// or https:// URL, found \"\(url)\"", at: node)
            }
            while url.hasSuffix("/") { url.removeLast() }
            customURL = url != type.defaultBaseURL
            baseURL = url
        }
        // A custom base URL (a local server, say) needs no key unless one is named.
        var keyVariable = customURL && type == .openai ? nil : type.defaultAPIKeyEnvironmentVariable
        if let node = named(fields, "api_key_env") {
            if case .null = node.value {
                keyVariable = nil
            } else {
                let name = try string(node, "\(path).api_key_env")
                guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !(name.first?.isNumber ?? true) else {
                    throw error("\(path).api_key_env", "expected the NAME of an environment variable (letters, digits, _), not its value", at: node)
                }
                keyVariable = name
            }
        }
        var headers: [(name: String, value: String)] = []
        if let node = named(fields, "headers") {
            guard case .object(let pairs) = node.value else {
                throw error("\(path).headers", "expected an object of header names to string values, found \(node.value.kindDescription)", at: node)
            }
            for pair in pairs {
                headers.append((pair.key, try string(pair.value, "\(path).headers.\(pair.key)", allowEmpty: true)))
            }
        }
        let retry = try named(fields, "retry").map { (node) throws(ConfigError) in try readRetry(node, "\(path).retry") }
        var timeout: Double?
        if let node = named(fields, "timeout_s") {
            let value = try number(node, "\(path).timeout_s", what: "a timeout")
            guard value > 0, value <= 86_400 else {
                throw error("\(path).timeout_s", "a timeout must be more than 0 and at most 86400 seconds (a day), found \(node.value.numberText)", at: node)
            }
            timeout = value
        }
        if type == .mock { keyVariable = nil }
        return ProviderConfig(
            name: member.key, type: type, baseURL: type == .mock ? nil : baseURL, apiKeyEnvironmentVariable: keyVariable,
            headers: headers, retry: retry, timeoutSeconds: timeout)
    }

    func readRetry(_ node: JSONNode, _ path: String) throws(ConfigError) -> RetryPolicy {
        let fields = try members(node, path, known: TableReader.retryKeys, what: "a retry policy")
        var policy = RetryPolicy.default
        if let value = named(fields, "retries") { policy.retries = try integer(value, "\(path).retries", minimum: 0, maximum: 10) }
        if let value = named(fields, "initial_delay_ms") {
            policy.initialDelaySeconds = Double(try integer(value, "\(path).initial_delay_ms", minimum: 0, maximum: 60_000)) / 1000
        }
        if let value = named(fields, "max_delay_s") {
            policy.maxDelaySeconds = try number(value, "\(path).max_delay_s", what: "a delay")
            guard policy.maxDelaySeconds <= 3600 else {
                throw error("\(path).max_delay_s", "a delay must be at most 3600 seconds (an hour), found \(value.value.numberText)", at: value)
            }
        }
        return policy
    }

    func readModel(_ member: JSONMember, providers: [String]) throws(ConfigError) -> ModelConfig {
        let path = "models.\(member.key)"
        let what = "model \"\(member.key)\""
        let fields = try members(member.value, path, known: TableReader.modelKeys, what: "a model")
        let provider = try reference(try required(fields, "provider", path, in: member.value, what: what), "\(path).provider", to: "provider", among: providers)
        let id = try named(fields, "id").map { (node) throws(ConfigError) in try string(node, "\(path).id") }
        var priced = true
        if let node = named(fields, "prices") {
            guard case .string("unknown") = node.value else {
                throw error("\(path).prices", "the only value is \"unknown\" (for a model whose prices you do not know; give input_per_mtok and output_per_mtok otherwise)", at: node)
            }
            for key in ["input_per_mtok", "output_per_mtok", "cached_input_per_mtok"] where named(fields, key) != nil {
                throw error("\(path).\(key)", "\"prices\": \"unknown\" and a price do not go together; keep one", at: named(fields, key))
            }
            priced = false
        }
        let input = priced ? try price(try required(fields, "input_per_mtok", path, in: member.value, what: what + " (or \"prices\": \"unknown\")"), "\(path).input_per_mtok") : 0
        let output = priced ? try price(try required(fields, "output_per_mtok", path, in: member.value, what: what + " (or \"prices\": \"unknown\")"), "\(path).output_per_mtok") : 0
        let cached = try named(fields, "cached_input_per_mtok").map { (node) throws(ConfigError) in
            try price(node, "\(path).cached_input_per_mtok")
        }
        var mock = MockBehaviour.echo
        if let node = named(fields, "mock") {
            let text = try string(node, "\(path).mock")
            let names = MockBehaviour.allCases.map(\.rawValue)
            guard let behaviour = MockBehaviour(rawValue: text) else {
                throw error("\(path).mock", "unknown mock answer \"\(text)\"" + Suggestions.didYouMean(text, among: names) + " (answers: \(names.joined(separator: ", ")))", at: node)
            }
            mock = behaviour
        }
        var model = ModelConfig(
            name: member.key, provider: provider, id: id,
            pricing: ModelPricing(inputPerMillion: input, outputPerMillion: output, cachedInputPerMillion: cached), mock: mock)
        model.priced = priced
        model.contextTokens = try named(fields, "context_tokens").map { (node) throws(ConfigError) in
            try integer(node, "\(path).context_tokens", minimum: 1, maximum: 100_000_000)
        }
        return model
    }

    func readRoute(_ member: JSONMember, models: [String], modelIndex: Set<String>) throws(ConfigError) -> RouteConfig {
        let path = "routes.\(member.key)"
        let fields = try members(member.value, path, known: TableReader.routeKeys, what: "a route")
        let model = try reference(try required(fields, "model", path, in: member.value, what: "route \"\(member.key)\""), "\(path).model", to: "model", among: models, index: modelIndex)
        var fallbacks: [String] = []
        if let node = named(fields, "fallbacks") {
            guard case .array(let elements) = node.value else {
                throw error("\(path).fallbacks", "expected an array of model names, found \(node.value.kindDescription)", at: node)
            }
            for (index, element) in elements.enumerated() {
                let name = try reference(element, "\(path).fallbacks[\(index)]", to: "model", among: models, index: modelIndex)
                guard name != model, !fallbacks.contains(name) else {
                    throw error("\(path).fallbacks[\(index)]", "\"\(name)\" is already tried earlier on this route", at: element)
                }
                fallbacks.append(name)
            }
        }
        let maxTokens = try named(fields, "max_tokens").map { (node) throws(ConfigError) in try integer(node, "\(path).max_tokens", minimum: 1) }
        let system = try named(fields, "system").map { (node) throws(ConfigError) in try string(node, "\(path).system") }
        let retry = try named(fields, "retry").map { (node) throws(ConfigError) in try readRetry(node, "\(path).retry") }
        var route = RouteConfig(name: member.key, model: model, fallbacks: fallbacks, maxTokens: maxTokens, system: system, retry: retry)
        if let node = named(fields, "cache") {
            guard case .bool(let flag) = node.value else {
                throw error("\(path).cache", "expected true or false (false keeps this route's answers out of the response cache), found \(node.value.kindDescription)", at: node)
            }
            route.cache = flag
        }
        return route
    }

    func readRule(
        _ node: JSONNode, index: Int, routes: [String], routeIndex: Set<String>, models: [String], modelIndex: Set<String>, defaultMatch: KeywordMatchMode
    ) throws(ConfigError) -> Rule {
        let path = "rules[\(index)]"
        let fields = try members(node, path, known: TableReader.ruleKeys, what: "a rule")
        let name = try named(fields, "name").map { (node) throws(ConfigError) in try string(node, "\(path).name") } ?? "rule-\(index + 1)"
        var ask: AskConfig?
        let route: String
        if let askNode = named(fields, "classify_with") {
            if let routeNode = named(fields, "route") {
                throw error("\(path).route", "a classify_with rule takes its route from the answer's label; remove \"route\"", at: routeNode)
            }
            ask = try readAsk(askNode, "\(path).classify_with", routes: routes, routeIndex: routeIndex, models: models, modelIndex: modelIndex)
            route = ""
        } else {
            route = try reference(try required(fields, "route", path, in: node, what: "rule \"\(name)\""), "\(path).route", to: "route", among: routes, index: routeIndex)
        }
        var match = defaultMatch
        if let value = named(fields, "match") { match = try matchMode(value, "\(path).match") }
        var conditions: [Condition] = []
        var bounds: [String: (Int, JSONNode)] = [:]
        for field in fields {
            let fieldPath = "\(path).\(field.key)"
            switch field.key {
            case "name", "route", "match", "classify_with":
                continue
            case "difficulty": conditions.append(try difficultyBounds(field.value, fieldPath))
            case "any": conditions.append(.any(try stringList(field.value, fieldPath, what: "keywords")))
            case "all": conditions.append(.all(try stringList(field.value, fieldPath, what: "keywords")))
            case "none": conditions.append(.none(try stringList(field.value, fieldPath, what: "keywords")))
            case "has_code":
                guard case .bool(let flag) = field.value.value else {
                    throw error(fieldPath, "expected true or false, found \(field.value.value.kindDescription)", at: field.value)
                }
                conditions.append(.hasCode(flag))
            case "tier": conditions.append(.tier(try stringList(field.value, fieldPath, what: "tiers")))
            case "hours": conditions.append(.hours(try hourWindow(field.value, fieldPath)))
            default:
                let parts = field.key.split(separator: "_", maxSplits: 1).map(String.init)
                guard parts.count == 2, let kind = BoundKind(rawValue: parts[0]), let measure = Measure(rawValue: parts[1]) else { continue }
                let limit = try integer(field.value, fieldPath, minimum: 0)
                bounds[field.key] = (limit, field.value)
                conditions.append(.bound(measure, kind, limit))
            }
        }
        for measure in Measure.allCases {
            if let low = bounds["min_\(measure.rawValue)"], let high = bounds["max_\(measure.rawValue)"], low.0 > high.0 {
                throw error("\(path).min_\(measure.rawValue)", "min_\(measure.rawValue) \(low.0) is above max_\(measure.rawValue) \(high.0), so the rule can never match", at: low.1)
            }
        }
        return Rule(name: name, route: route, match: match, conditions: conditions, ask: ask)
    }

    /// `{"min": 0.6}`, `{"max": 0.3}` or both, each from 0 to 1.
    func difficultyBounds(_ node: JSONNode, _ path: String) throws(ConfigError) -> Condition {
        let fields = try members(node, path, known: TableReader.difficultyKeys, what: "a difficulty bound")
        func bound(_ key: String) throws(ConfigError) -> Double? {
            guard let value = named(fields, key) else { return nil }
            let number = try number(value, "\(path).\(key)", what: "a difficulty bound")
            guard number <= 1 else { throw error("\(path).\(key)", "the difficulty score runs from 0 to 1, found \(value.value.numberText)", at: value) }
            return number
        }
        let low = try bound("min")
        let high = try bound("max")
        guard low != nil || high != nil else { throw error(path, "give \"min\", \"max\" or both, e.g. {\"min\": 0.6}", at: node) }
        if let low, let high, low > high {
            throw error("\(path).min", "min \(JSONValue.number(low).numberText) is above max \(JSONValue.number(high).numberText), so the rule can never match", at: node)
        }
        return .difficulty(min: low, max: high)
    }

    /// A `classify_with` object: the model to ask, the question and the labels' routes.
    func readAsk(
        _ node: JSONNode, _ path: String, routes: [String], routeIndex: Set<String>, models: [String], modelIndex: Set<String>
    ) throws(ConfigError) -> AskConfig {
        let fields = try members(node, path, known: TableReader.askKeys, what: "classify_with")
        let model = try reference(try required(fields, "model", path, in: node, what: "classify_with"), "\(path).model", to: "model", among: models, index: modelIndex)
        let promptNode = try required(fields, "prompt", path, in: node, what: "classify_with")
        let prompt = try string(promptNode, "\(path).prompt")
        guard prompt.contains("{prompt}") else {
            throw error("\(path).prompt", "the question must contain {prompt}, where the user's prompt goes", at: promptNode)
        }
        let labelsNode = try required(fields, "labels", path, in: node, what: "classify_with")
        guard case .object(let pairs) = labelsNode.value, !pairs.isEmpty else {
            throw error("\(path).labels", "expected an object of answer labels to routes, e.g. {\"SIMPLE\": \"fast\", \"COMPLEX\": \"power\"}", at: labelsNode)
        }
        var labels: [(label: String, route: String)] = []
        for pair in pairs {
            let label = pair.key.trimmingWhitespace()
            guard !label.isEmpty else { throw keyError("\(path).labels", "an answer label is empty", at: pair.keyOffset) }
            labels.append((label, try reference(pair.value, "\(path).labels.\(pair.key)", to: "route", among: routes, index: routeIndex)))
        }
        let maxTokens = try named(fields, "max_tokens").map { (node) throws(ConfigError) in try integer(node, "\(path).max_tokens", minimum: 1, maximum: 1000) } ?? 5
        var timeout = 10.0
        if let value = named(fields, "timeout_s") {
            timeout = try number(value, "\(path).timeout_s", what: "a timeout")
            guard timeout > 0, timeout <= 600 else { throw error("\(path).timeout_s", "a timeout must be more than 0 and at most 600 seconds", at: value) }
        }
        return AskConfig(model: model, prompt: prompt, labels: labels, maxTokens: maxTokens, timeoutSeconds: timeout)
    }

    func hourWindow(_ node: JSONNode, _ path: String) throws(ConfigError) -> HourWindow {
        let text = try string(node, path)
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        guard parts.count == 2, let start = Int(parts[0]), let end = Int(parts[1]), (0...23).contains(start), (0...24).contains(end), start != end else {
            throw error(path, "expected a window of local hours like \"9-17\" (09:00 up to 17:00) or \"22-6\" (across midnight), found \"\(text)\"", at: node)
        }
        return HourWindow(start: start, end: end)
    }
}

extension JSONValue {
    /// A number as written in messages (no ".0" on whole numbers); other kinds by name.
    var numberText: String {
        guard case .number(let value) = self else { return kindDescription }
        var bytes: [UInt8] = []
        JSONWriter.appendNumber(value, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Substring {
    /// The text without leading and trailing white space.
    func trimmingWhitespace() -> String {
        var slice = self[...]
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return String(slice)
    }
}
