import ModelRouteKit

/// The main command's options, checked.
struct CallOptions: Sendable {
    /// `--system`.
    var system: String?
    /// `--max-tokens`.
    var maxTokens: Int?
    /// `--temperature`.
    var temperature: Double?
    /// `--timeout`, in seconds.
    var timeout: Double?
    /// `--route`.
    var route: String?
    /// `--model`.
    var model: String?
    /// `--tag` pairs, in order.
    var tags: [(key: String, value: String)]
    /// False with `--no-stream`.
    var stream: Bool
    /// `--json`.
    var json: Bool
    /// `--log`.
    var logPath: String?
    /// `--offline` or `MODELROUTE_OFFLINE=1`.
    var offline: Bool
    /// `--dry-run`.
    var dryRun: Bool
    /// `--explain`.
    var explain: Bool
    /// `--verbose`.
    var verbose: Bool
    /// `--max-cost` (else `$MODELROUTE_MAX_COST`), in USD.
    var maxCost: Double?
    /// `--no-cache` and `--refresh`.
    var noCache: Bool
    var refresh: Bool
    /// `--no-checks`.
    var noChecks: Bool
    /// `--json-answer`.
    var jsonAnswer: Bool
    /// `--group`.
    var group: ExperimentStage.Group?
    /// `$MODELROUTE_HTTP_CLIENT`: which client serves plain http URLs.
    var httpClient: HTTPClient.PlainHTTPClient

    /// Reads and checks the options.
    init(_ arguments: ParsedArguments, environment: [String: String]) throws(UsageError) {
        system = arguments.value("system")
        maxTokens = try arguments.integer("max-tokens", in: 1...10_000_000)
        temperature = try arguments.number("temperature", in: 0...2)
        timeout = try arguments.number("timeout", in: 0.001...86_400)
        route = arguments.value("route")
        model = arguments.value("model")
        tags = []
        for text in arguments.allValues("tag") {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw .invalidValue(option: "tag", value: text, expected: "KEY=VALUE with a non-empty key")
            }
            tags.append((String(text[..<equals]), String(text[text.index(after: equals)...])))
        }
        stream = !arguments.flag("no-stream")
        json = arguments.flag("json")
        logPath = arguments.value("log")
        let offlineVariable = environment["MODELROUTE_OFFLINE"] ?? ""
        offline = arguments.flag("offline") || ["1", "true", "yes"].contains(offlineVariable.lowercased())
        dryRun = arguments.flag("dry-run")
        explain = arguments.flag("explain")
        verbose = arguments.flag("verbose")
        noChecks = arguments.flag("no-checks")
        maxCost = try arguments.number("max-cost", in: 0.000_000_001...1_000_000)
        if maxCost == nil, let text = environment["MODELROUTE_MAX_COST"], !text.isEmpty {
            guard let value = Double(text), value.isFinite, value > 0, value <= 1_000_000 else {
                throw .other("MODELROUTE_MAX_COST is \(text.debugDescription); expected a number of US dollars above 0")
            }
            maxCost = value
        }
        noCache = arguments.flag("no-cache")
        refresh = arguments.flag("refresh")
        if noCache && refresh { throw .other("--no-cache and --refresh do not go together: --refresh skips the lookup but stores the answer, --no-cache does neither") }
        jsonAnswer = arguments.flag("json-answer")
        group = try arguments.choice("group", among: ExperimentStage.Group.allCases.map(\.rawValue)).flatMap(ExperimentStage.Group.init(rawValue:))
        let clientName = environment["MODELROUTE_HTTP_CLIENT"] ?? ""
        guard let client = clientName.isEmpty ? .builtin : HTTPClient.PlainHTTPClient(rawValue: clientName.lowercased()) else {
            throw .other("MODELROUTE_HTTP_CLIENT is \(clientName.debugDescription); expected builtin or curl")
        }
        httpClient = client
    }
}
