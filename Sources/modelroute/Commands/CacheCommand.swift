import FoundationEssentials
import ModelRouteKit

/// `modelroute cache stats|prune|clear`: what the response cache holds, and its upkeep.
enum CacheCommand: Command {
    static let actions = ["stats", "prune", "clear"]

    static let spec = CommandSpec(
        name: "cache",
        abstract: "Show what the response cache holds and saved, drop expired entries, or empty it.",
        usage: ["cache stats [--routes PATH] [--log PATH ...] [--json]", "cache prune [--routes PATH]", "cache clear [--routes PATH]"],
        arguments: [("ACTION", "stats (entries, bytes, and the hits and savings the log records), prune (drop expired entries, then the least recently used until max_mb fits), or clear (drop every entry).")],
        options: [
            CommonOptions.routes,
            OptionSpec("log", value: "PATH", help: "Usage log(s) whose hits `stats` counts.", default: "$MODELROUTE_LOG, else ~/.local/state/modelroute/usage.jsonl", repeatable: true),
            OptionSpec("json", help: "`stats` as one JSON object."),
        ],
        discussion: """
            The cache is the routing table's top-level "cache": local files under $XDG_CACHE_HOME/modelroute/
            (else ~/.cache/modelroute/), or a Redis server with "url". Without one in the table, prune and clear
            act on the local folder. Redis expires entries itself, so prune has nothing to do there.

            EXAMPLES:
              modelroute cache stats
              modelroute cache prune
              modelroute cache clear --routes team.json
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        guard let action = arguments.positionals.first else {
            throw UsageError.other("cache needs an action: " + actions.joined(separator: ", "))
        }
        guard actions.contains(action), arguments.positionals.count == 1 else {
            throw UsageError.other("unknown cache action \"\(arguments.positionals.joined(separator: " "))\"" + Suggestions.didYouMean(action, among: actions) + " (actions: " + actions.joined(separator: ", ") + ")")
        }
        let table = try CommonOptions.loadTable(arguments, context: context)
        let config = table.cache ?? CacheConfig()
        let store = CacheStage(table: table, environment: context.environment, offline: false).store
            ?? LocalStore(root: LocalStore.root(directory: nil, environment: context.environment), maxBytes: config.maxBytes)
        let now = context.nowMillis()
        let out = context.stdout
        switch action {
        case "prune":
            guard let local = store as? LocalStore else {
                out.write("Redis (\(store.location)) expires entries itself after their ttl; nothing to prune.\n")
                return .success
            }
            let pruned = local.prune(nowMillis: now, ttlSeconds: config.ttlSeconds)
            out.write("Pruned \(local.location): \(pruned.expired) expired, \(pruned.evicted) evicted to fit \(config.maxBytes >> 20) MB, \(Text.bytes(pruned.bytesFreed)) freed; \(pruned.remaining.entries) entries (\(Text.bytes(pruned.remaining.bytes))) remain.\n")
        case "clear":
            if let local = store as? LocalStore {
                let removed = local.clear()
                out.write("Cleared \(local.location): \(removed.entries) entries, \(Text.bytes(removed.bytes)).\n")
            } else if let redis = store as? RedisStore {
                switch redis.entryKeys().flatMap({ redis.delete($0) }) {
                case .success(let count): out.write("Cleared \(redis.location): \(count) entries.\n")
                case .failure(let failure): throw CacheError.unavailable(failure.message)
                }
            }
        default:
            try stats(store: store, config: config, table: table, arguments: arguments, context: context, now: now)
        }
        return .success
    }

    /// `cache stats`: the store's entries and bytes, and the log's hits and savings.
    static func stats(store: any ResponseStore, config: CacheConfig, table: RoutingTable, arguments: ParsedArguments, context: CommandContext, now: Int64) throws {
        var entries: Int?
        var bytes: Int?
        var expired: Int?
        if let local = store as? LocalStore {
            let stats = local.stats(nowMillis: now, ttlSeconds: config.ttlSeconds)
            (entries, bytes, expired) = (stats.entries, stats.bytes, stats.expired)
        } else if let redis = store as? RedisStore {
            switch redis.entryKeys() {
            case .success(let keys): entries = keys.count
            case .failure(let failure): throw CacheError.unavailable(failure.message)
            }
        }
        let given = arguments.allValues("log")
        let logs = given.isEmpty ? [LedgerLocation.resolve(explicitPath: nil, environment: context.environment)] : given
        var totals = GroupStats()
        if let files = try? ReportEngine.resolveFiles(logs, isDefault: given.isEmpty) {
            var request = ReportRequest(logs: [], dimensions: [], window: TimeWindow(), baseline: nil, zone: context.zone)
            request.includeOffline = true
            request.logs = files
            totals = try ReportEngine.run(request, files: files).totals
        }
        let rate = totals.responseLookups > 0 ? Double(totals.responseHits) / Double(totals.responseLookups) : 0
        if arguments.flag("json") {
            var json = JSONWriter(reservingCapacity: 512)
            json.beginObject()
            json.key("store"); json.string(store.location)
            json.key("configured"); json.bool(table.cache != nil)
            json.key("entries"); json.int(entries)
            json.key("bytes"); json.int(bytes)
            json.key("expired"); json.int(expired)
            json.key("ttl_s"); json.int(config.ttlSeconds)
            json.key("max_bytes"); json.int(config.maxBytes)
            json.key("hits"); json.int(totals.responseHits)
            json.key("lookups"); json.int(totals.responseLookups)
            json.key("hit_rate"); json.raw(formatted("%.4f", rate))
            json.key("saved_usd"); json.raw(Money.plain(totals.cacheSaved))
            json.endObject()
            context.stdout.write(json.text + "\n")
            return
        }
        var text = "Response cache: \(store.location)\(table.cache == nil ? " (not turned on in \(table.source): add \"cache\": {\"ttl\": \"7d\"})" : "")\n"
        if let entries {
            text += "  entries       \(ReportRenderer.grouped(entries))" + (bytes.map { ", " + Text.bytes($0) + " of \(config.maxBytes >> 20) MB" } ?? "")
                + (expired.map { $0 > 0 ? " (\($0) expired; `modelroute cache prune` drops them)" : "" } ?? "") + "\n"
        }
        text += "  ttl           \(config.ttlSeconds / 86_400 > 0 && config.ttlSeconds % 86_400 == 0 ? "\(config.ttlSeconds / 86_400)d" : "\(config.ttlSeconds)s")\n"
        text += "  hits          \(ReportRenderer.grouped(totals.responseHits)) of \(ReportRenderer.grouped(totals.responseLookups)) lookups" + formatted(" (%.1f%%)", rate * 100) + " in the log\n"
        text += "  saved         \(Money.format(totals.cacheSaved))\n"
        context.stdout.write(text)
    }
}

/// A response cache that cannot be used by `modelroute cache`. Exit 69 (EX_UNAVAILABLE).
enum CacheError: ModelRouteError {
    case unavailable(String)

    var exitCode: ExitCode { .unavailable }
    var message: String {
        switch self {
        case .unavailable(let message): return "the response cache cannot be reached: " + message
        }
    }
}
