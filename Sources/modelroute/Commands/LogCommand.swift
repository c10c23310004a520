import ModelRouteKit

/// `modelroute log`: the newest calls first.
enum LogCommand: Command {
    static let spec = CommandSpec(
        name: "log",
        abstract: "List the newest calls first: time, route, model, tokens, cost, saved, status, latency, tags.",
        usage: ["log [-n N] [--since WHEN] [--route R] [--model M] [--status S] [--json] [--log PATH]"],
        arguments: [],
        options: [
            OptionSpec("count", short: "n", value: "N", help: "How many calls to list.", default: "20"),
            OptionSpec("since", value: "WHEN", help: "Only calls at or after WHEN: a duration back from now (30m, 24h, 7d), a local date (2026-11-01) or an RFC 3339 time."),
            OptionSpec("route", value: "NAME", help: "Only calls that took this route."),
            OptionSpec("model", value: "NAME", help: "Only calls this model answered (or last tried)."),
            OptionSpec("status", value: "STATUS", help: "Only calls that ended so: ok, error or cancelled."),
            OptionSpec("json", help: "Print the records as stored, one JSON line each (JSONL), newest first."),
            OptionSpec("log", value: "PATH", help: "The usage log to read.", default: "$MODELROUTE_LOG, else ~/.local/state/modelroute/usage.jsonl"),
        ],
        discussion: """
            The log is read from its end backwards, a block at a time, so the newest calls of a log of millions of
            records come at once. Times are local ($TZ). Lines that are not records are passed over and counted on
            standard error. A pipe or FIFO given with --log is read to its end first.

            EXAMPLES:
              modelroute log
              modelroute log -n 5 --status error
              modelroute log --since 1h --json | jq .cost_usd
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let count = try arguments.integer("count", in: 0...1_000_000) ?? 20
        var filter = RecentCalls.Filter(route: arguments.value("route"), model: arguments.value("model"))
        if let status = try arguments.choice("status", among: LedgerRecord.Status.allCases.map(\.rawValue)) {
            filter.status = LedgerRecord.Status(rawValue: status)
        }
        if let text = arguments.value("since") {
            guard let since = TimeWindow.parseBound(text, now: context.now(), zone: context.zone) else {
                throw ReportError.invalidTime(option: "since", value: text)
            }
            filter.sinceMillis = since
        }
        let path = LedgerLocation.resolve(explicitPath: arguments.value("log"), environment: context.environment)
        let isDefault = arguments.value("log") == nil && context.environment["MODELROUTE_LOG"] == nil
        let result = try readCalls(path: path, limit: count, filter: filter, isDefault: isDefault)
        if arguments.flag("json") {
            context.stdout.append { bytes in
                for call in result.calls {
                    bytes.append(contentsOf: call.line)
                    bytes.append(0x0A)
                }
            }
        } else if result.calls.isEmpty {
            context.diagnose("no calls\(filter.sinceMillis == nil && filter.route == nil && filter.model == nil && filter.status == nil ? "" : " match") in \(path).")
        } else {
            context.stdout.write(RecentCalls.renderTable(result.calls, zone: context.zone))
        }
        if result.badLines > 0 {
            context.diagnose("\(result.badLines) line\(result.badLines == 1 ? " that is" : "s that are") not a record \(result.badLines == 1 ? "was" : "were") passed over.")
        }
        return .success
    }

    /// The calls, with a missing default log worded as one not yet created.
    static func readCalls(path: String, limit: Int, filter: RecentCalls.Filter, isDefault: Bool) throws(ReportError) -> (calls: [RecentCalls.Found], badLines: Int) {
        do {
            return try RecentCalls.read(path: path, limit: limit, filter: filter)
        } catch {
            if case .missingLog = error { throw .missingLog(path: path, isDefault: isDefault) }
            throw error
        }
    }
}
