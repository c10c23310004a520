import ModelRouteKit

/// `modelroute report`: what was spent, where, and what routing saved.
enum ReportCommand: Command {
    /// Options and help text.
    static let spec = CommandSpec(
        name: "report",
        abstract: "Summarize the usage log: calls, tokens, cost, savings against the baseline model, latency.",
        usage: ["report [--by FIELD ...] [--since WHEN] [--until WHEN] [--format FORMAT] [--log PATH ...] [--baseline MODEL] [--reprice [--routes PATH]]"],
        arguments: [],
        options: [
            OptionSpec("log", value: "PATH", help: "A log file, or a directory whose *.jsonl files are all read. Otherwise $MODELROUTE_LOG, then $XDG_STATE_HOME/modelroute/usage.jsonl (~/.local/state/…).", repeatable: true),
            OptionSpec("by", value: "FIELD", help: "Group by route, model, provider, rule, status, day, group (an experiment's control and routed calls) or tag:KEY; several (repeated or comma-separated) nest in order.", repeatable: true),
            OptionSpec("since", value: "WHEN", help: "Only calls at or after WHEN: a duration back from now (90s, 30m, 24h, 7d, 2w), a date (2026-11-01, local midnight) or an RFC 3339 time."),
            OptionSpec("until", value: "WHEN", help: "Only calls before WHEN (same forms; the bound itself is excluded)."),
            OptionSpec("format", value: "FORMAT", help: "table, json or csv.", default: "table"),
            OptionSpec("include-offline", help: "Count calls answered by the mock provider (--offline); by default they are left out of every figure and counted apart."),
            OptionSpec("baseline", value: "MODEL", help: "Reprice every call's tokens with this routes.json model, as a what-if."),
            OptionSpec("reprice", help: "Recompute every call's cost and baseline with the current table's prices (--routes), next to what was logged: the what-if of a price change, and the fix for history logged with a wrong price."),
            CommonOptions.routes,
        ],
        discussion: """
            Savings are the baseline cost minus the cost. The baseline is what each call would have cost on the
            routing table's baseline model (recorded with the call), or on --baseline MODEL with today's prices.
            Latency percentiles come from a histogram: exact below 64 ms, otherwise within 1.6%.

            Days and dates are in the local time zone ($TZ). A window includes --since and excludes --until, so
            --since 2026-11-01 --until 2026-11-02 is exactly that day. Lines that are not records are skipped and
            counted; the first few are named on standard error.

            Costs include every overhead (discarded answers that failed a check, judge and classify_with calls),
            so savings are net of it. Escalations are counted per route the decision chose and per model that
            gave the first answer; a route that escalates more than 20% of at least 50 calls gets a warning.
            When the window holds both groups of an experiment, the verdict follows: cost per call of routed
            and control calls, the measured savings with a 95% confidence interval (delta method on the ratio
            of mean costs), the estimate from baseline prices, and each group's error and escalation rates.

            EXAMPLES:
              modelroute report
              modelroute report --by route,model --since 7d
              modelroute report --by group --since 30d
              modelroute report --by day --since 2026-11-01 --until 2026-12-01 --format csv > november.csv
              modelroute report --by tag:team --baseline gpt-4.1 --format json
              modelroute report --log logs/ --log ~/other-machine.jsonl --by provider
            """)

    /// Parses, reads the logs, prints bad lines on stderr and the report on stdout.
    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let request = try makeRequest(arguments, context: context)
        let format = try arguments.choice("format", among: ReportFormat.allCases.map(\.rawValue)).flatMap(ReportFormat.init(rawValue:)) ?? .table
        let given = arguments.allValues("log")
        let logs = given.isEmpty ? [LedgerLocation.resolve(explicitPath: nil, environment: context.environment)] : given
        let files = try ReportEngine.resolveFiles(logs, isDefault: given.isEmpty)
        var fullRequest = request
        fullRequest.logs = files
        let result = try ReportEngine.run(fullRequest, files: files)
        for bad in result.badLineSamples { context.warn("\(bad.file):\(bad.line): skipped: \(bad.reason)") }
        if result.badLines > result.badLineSamples.count {
            context.diagnose("… and \(result.badLines - result.badLineSamples.count) more bad line(s); \(result.badLines) skipped in all.")
        }
        if result.records == 0 {
            let place = files.count == 1 ? files[0] : "the \(files.count) logs"
            context.diagnose(result.badLines > 0
                ? "no usable records in \(place) (\(result.badLines) bad line(s) skipped)."
                : "\(place) holds no calls yet: modelroute appends a record for every call it makes.")
            if format == .table { return .success }
        } else if result.totals.calls == 0 && result.offlineLeftOut > 0 {
            let count = result.offlineLeftOut
            context.diagnose("the \(count) call\(count == 1 ? "" : "s") in the window \(count == 1 ? "was" : "were") answered offline (mock provider), which is not real spend; --include-offline counts \(count == 1 ? "it" : "them").")
            if format == .table { return .success }
        } else if result.totals.calls == 0 {
            context.diagnose("none of the \(result.records) calls are inside the --since/--until window.")
            if format == .table { return .success }
        }
        context.stdout.write(ReportRenderer.render(result, format: format, style: context.style(context.stdout), timeZone: context.zone))
        return .success
    }

    /// Turns the options into a request (logs are filled in by the caller).
    static func makeRequest(_ arguments: ParsedArguments, context: CommandContext) throws -> ReportRequest {
        var dimensions: [ReportDimension] = []
        for text in arguments.allValues("by").flatMap({ $0.split(separator: ",").map { String($0).trimmingSpaces } }) where !text.isEmpty {
            guard let dimension = ReportDimension(parsing: text) else {
                throw ReportError.unknownDimension(text, suggestion: Suggestions.didYouMean(text, among: ReportDimension.names.dropLast()))
            }
            if dimensions.contains(dimension) { throw ReportError.repeatedDimension(text) }
            dimensions.append(dimension)
        }
        if dimensions.count > ReportRequest.maximumDimensions { throw ReportError.tooManyDimensions(dimensions.count) }
        let now = context.now()
        func bound(_ option: String) throws(ReportError) -> Int64? {
            guard let text = arguments.value(option) else { return nil }
            guard let value = TimeWindow.parseBound(text, now: now, zone: context.zone) else {
                throw .invalidTime(option: option, value: text)
            }
            return value
        }
        let window = TimeWindow(since: try bound("since"), until: try bound("until"))
        if let since = window.since, let until = window.until, since >= until {
            throw ReportError.emptyWindow(since: arguments.value("since") ?? "", until: arguments.value("until") ?? "")
        }
        var baseline: BaselineRepricing?
        if let name = arguments.value("baseline") {
            let table = try CommonOptions.loadTable(arguments, context: context)
            guard let model = table.model(named: name) else {
                throw ReportError.unknownBaselineModel(name, known: table.models.map(\.name), source: table.source)
            }
            baseline = BaselineRepricing(model: name, pricing: model.pricing)
        }
        var request = ReportRequest(logs: [], dimensions: dimensions, window: window, baseline: baseline, zone: context.zone)
        if arguments.flag("reprice") { request.reprice = TableRepricing(table: try CommonOptions.loadTable(arguments, context: context)) }
        request.includeOffline = arguments.flag("include-offline")
        return request
    }
}

/// Small text helpers for option values.
extension String {
    /// The text without leading and trailing spaces.
    fileprivate var trimmingSpaces: String {
        var text = Substring(self)
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return String(text)
    }
}
