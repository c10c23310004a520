import FoundationEssentials
import ModelRouteKit

/// `modelroute budget`: each budget's spend, limit, share used, reset, and what it did this period.
enum BudgetCommand: Command {
    static let spec = CommandSpec(
        name: "budget",
        abstract: "Show each budget's spend so far, its limit and reset, and the calls it downgraded or refused this period.",
        usage: ["budget [--routes PATH] [--log PATH] [--json]"],
        arguments: [],
        options: [
            CommonOptions.routes,
            OptionSpec("log", value: "PATH", help: "The usage log the budgets count.", default: "$MODELROUTE_LOG, else ~/.local/state/modelroute/usage.jsonl"),
            OptionSpec("json", help: "One JSON object with a budgets array."),
        ],
        discussion: """
            Spend comes from the index beside the log (rebuilt from the log when it is missing or behind), or from
            Redis when the table has "state" or a Redis "cache". Periods are local ($TZ): day, ISO week from Monday,
            month; rolling windows count whole hours.
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        let table = try CommonOptions.loadTable(arguments, context: context)
        guard !table.budgets.isEmpty else {
            context.stdout.write("\(table.source) has no budgets; add \"budgets\": [{\"name\": \"daily\", \"limit_usd\": 5, \"period\": \"day\"}].\n")
            return .success
        }
        let logPath = LedgerLocation.resolve(explicitPath: arguments.value("log"), environment: context.environment)
        let now = context.nowMillis()
        let index = SpendIndex(logPath: logPath, budgets: table.budgets, zone: context.zone)
        // The shared store's spend when it answers; the local index (which may need a
        // rebuild from the log) only otherwise.
        var sharedSpent: [String: Double]?
        var source = "the log's spend index"
        if let shared = SharedSpend(table: table, environment: context.environment, zone: context.zone) {
            switch shared.spent(nowMillis: now) {
            case .success(let values):
                sharedSpent = values
                source = shared.location
            case .failure(let failure): context.warn("shared spend unavailable, showing this machine's: \(failure.message)")
            }
        }
        let spent = sharedSpent ?? index.spent(nowMillis: now)
        let actions = index.actions(nowMillis: now)
        let downgrades = actions.mapValues(\.downgrades)
        let refusals = actions.mapValues(\.refusals)
        let windows = Dictionary(uniqueKeysWithValues: table.budgets.map { ($0.name, BudgetWindow.current($0.period, nowMillis: now, zone: context.zone)) })
        if arguments.flag("json") {
            var json = JSONWriter(reservingCapacity: 512)
            json.beginObject()
            json.key("source"); json.string(source)
            json.key("budgets"); json.beginArray()
            for budget in table.budgets {
                let spend = spent[budget.name] ?? 0
                json.beginObject()
                json.key("name"); json.string(budget.name)
                json.key("period"); json.string(budget.period.description)
                json.key("limit_usd"); json.double(budget.limitUSD)
                json.key("spent_usd"); json.double((spend * 1e10).rounded() / 1e10)
                json.key("share"); json.raw(formatted("%.4f", spend / budget.limitUSD))
                json.key("resets"); json.string(windows[budget.name]?.end.map { LedgerTimestamp.localString(epochMilliseconds: $0, zone: context.zone) })
                json.key("downgrades"); json.int(downgrades[budget.name] ?? 0)
                json.key("refusals"); json.int(refusals[budget.name] ?? 0)
                json.endObject()
            }
            json.endArray()
            json.endObject()
            context.stdout.write(json.text + "\n")
            return .success
        }
        var text = "Budgets of \(table.source) (spend from \(source)):\n"
        let width = table.budgets.map(\.name.count).max() ?? 0
        for budget in table.budgets {
            let spend = spent[budget.name] ?? 0
            let resets = windows[budget.name]?.end.map { "resets " + LedgerTimestamp.localString(epochMilliseconds: $0, zone: context.zone) } ?? "rolling"
            text += "  " + Text.pad(budget.name, width) + "  " + Money.format(spend) + " of " + Money.format(budget.limitUSD)
                + formatted(" (%.0f%%)", spend / budget.limitUSD * 100) + "  \(budget.period.description), \(resets)"
                + "  \(downgrades[budget.name] ?? 0) downgraded, \(refusals[budget.name] ?? 0) refused\n"
        }
        context.stdout.write(text)
        return .success
    }
}
