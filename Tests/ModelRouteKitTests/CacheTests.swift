import Foundation
import ModelRouteTestSupport
import Synchronization
import Testing

@testable import ModelRouteKit
@testable import modelroute

/// A small offline table with a response cache (`cache` is the top-level object's members).
func cacheTable(_ cache: String = #""ttl": "7d""#, routes: String? = nil, models: String? = nil, top: String = "") -> String {
    """
    {"version": 1, "default_route": "fast", "baseline_model": "big", \(top)
     "cache": {\(cache)},
     "providers": {"offline": {"type": "mock"}},
     "models": \(models ?? #"{"small": {"provider": "offline", "input_per_mtok": 0.4, "output_per_mtok": 1.6}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}}"#),
     "routes": \(routes ?? #"{"fast": {"model": "small"}, "nocache": {"model": "small", "cache": false}}"#)}
    """
}

/// A folder with a table, a log and a cache folder, and a way to call through `runCLI`.
struct CacheWorkspace {
    let directory: TemporaryDirectory
    let routes: String
    var log: String { directory.path + "/usage.jsonl" }
    var cacheHome: String { directory.path + "/cache" }
    var environment: [String: String] { ["XDG_CACHE_HOME": cacheHome, "HOME": directory.path] }

    init(_ table: String = cacheTable()) throws {
        directory = try TemporaryDirectory()
        routes = try directory.write("routes.json", table)
    }

    func call(_ arguments: [String], now: Date = Date(timeIntervalSince1970: 1_795_000_000), environment extra: [String: String] = [:]) async -> CLIResult {
        await runCLI(["--routes", routes, "--log", log] + arguments, environment: environment.merging(extra) { $1 }, now: now)
    }

    /// The log's records, decoded.
    func records() throws -> [LedgerRecord] {
        let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        return try text.split(separator: "\n").map { line in try LedgerRecord.decode(line: Array(line.utf8)) }
    }

    /// Every entry file in the local store.
    func entryFiles() -> [String] {
        let root = cacheHome + "/modelroute/responses"
        guard let folders = try? FileManager.default.contentsOfDirectory(atPath: root) else { return [] }
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(atPath: root + "/" + folder)) ?? []).map { root + "/" + folder + "/" + $0 }
        }
    }
}

@Suite struct ResponseCacheTests {
    @Test func theSecondIdenticalCallIsAnsweredFromTheCacheForNothing() async throws {
        let space = try CacheWorkspace()
        defer { space.directory.cleanUp() }
        let first = await space.call(["--offline", "What is the capital of France?"])
        let second = await space.call(["--offline", "--verbose", "What is the capital of France?"])
        #expect(first.status == 0 && second.status == 0, "\(second.stderr)")
        #expect(second.stdout == first.stdout && first.stdout == "[mock small] What is the capital of France?\n")
        #expect(second.stderr.contains("response cache: hit"))
        let records = try space.records()
        #expect(records.map(\.responseCache) == ["miss", "hit"])
        let (miss, hit) = (records[0], records[1])
        #expect(hit.costUSD == 0 && hit.attempts == 0 && hit.cacheSavedUSD == miss.costUSD)
        #expect(hit.baselineCostUSD == miss.baselineCostUSD && hit.model == "small" && hit.inputTokens == miss.inputTokens)
        #expect(miss.cacheSavedUSD == nil && miss.costUSD > 0)

        let report = await runCLI(["report", "--log", space.log, "--include-offline", "--by", "cache"])
        #expect(report.stdout.contains("response hits 1 of 2 response cache lookups (50.0%), saved $"), "\(report.stdout)")
        #expect(report.stdout.contains("of which routing") && report.stdout.contains("hit ") && report.stdout.contains("miss "))
        let stats = await runCLI(["cache", "stats", "--routes", space.routes, "--log", space.log, "--json"], environment: space.environment)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.stdout.utf8)) as? [String: Any])
        #expect(object["entries"] as? Int == 1 && object["hits"] as? Int == 1 && object["lookups"] as? Int == 2)
    }

    @Test func entriesArePrivateContentAddressedAndWhole() async throws {
        let space = try CacheWorkspace()
        defer { space.directory.cleanUp() }
        _ = await space.call(["--offline", "hello there"])
        let files = space.entryFiles()
        #expect(files.count == 1)
        let table = try RoutingTableLoader.load(json: Array(cacheTable().utf8), source: "t")
        let key = try #require(CacheStage(table: table, environment: [:], offline: true).key(route: "fast", model: "small", request: ChatRequest(prompt: "hello there")))
        #expect(files[0].hasSuffix("/responses/" + key.prefix(2) + "/" + key.dropFirst(2)))
        let file = try FileManager.default.attributesOfItem(atPath: files[0])
        #expect((file[.posixPermissions] as? Int) == 0o600)
        for folder in [space.cacheHome + "/modelroute", space.cacheHome + "/modelroute/responses", (files[0] as NSString).deletingLastPathComponent] {
            #expect((try FileManager.default.attributesOfItem(atPath: folder)[.posixPermissions] as? Int) == 0o700, "\(folder)")
        }
        let bytes = try #require(FileManager.default.contents(atPath: files[0]))
        guard case .success(let entry) = CacheEntry.decode(Array(bytes)) else { Issue.record("not an entry"); return }
        #expect(entry.answer == "[mock small] hello there" && entry.route == "fast" && entry.offline)
        #expect(!files.contains { $0.contains(".tmp-") }, "no temporary file is left")
    }

    @Test func theKeyIsTheDocumentedEncodingAndChangesWithEveryAnswerChangingField() throws {
        let provider = ProviderConfig(name: "p", type: .openai, baseURL: "https://api.example.com/v1")
        let model = ModelConfig(name: "m", provider: "p", id: "model-1", pricing: ModelPricing(inputPerMillion: 1, outputPerMillion: 2))
        let request = ChatRequest(prompt: "Say \"hi\"\n", system: "Be brief.", maxTokens: 100, temperature: 0)
        let canonical = String(decoding: CacheKey.canonical(provider: provider, model: model, request: request), as: UTF8.self)
        #expect(canonical == #"["modelroute-response-2","openai","https://api.example.com/v1","model-1",null,"Be brief.","Say \"hi\"\n",100,0,[]]"#)
        #expect(CacheKey.key(provider: provider, model: model, request: request) == SHA256.hexDigest(of: Array(canonical.utf8)))
        let base = CacheKey.key(provider: provider, model: model, request: request)
        var variants: [String] = []
        var other = provider
        other.type = .anthropic
        variants.append(CacheKey.key(provider: other, model: model, request: request))
        other = provider
        other.baseURL = "https://proxy.example.com/v1"
        variants.append(CacheKey.key(provider: other, model: model, request: request))
        other = provider
        other.headers = [("anthropic-beta", "output-128k-2025-02-19")]
        variants.append(CacheKey.key(provider: other, model: model, request: request))
        var otherModel = model
        otherModel.id = "model-2"
        variants.append(CacheKey.key(provider: provider, model: otherModel, request: request))
        for change in [{ (r: inout ChatRequest) in r.prompt += " " }, { $0.system = nil }, { $0.maxTokens = 101 }, { $0.temperature = 0.5 }] {
            var changed = request
            change(&changed)
            variants.append(CacheKey.key(provider: provider, model: model, request: changed))
        }
        #expect(Set(variants + [base]).count == variants.count + 1, "every field changes the key")
        var streamed = request
        streamed.stream.toggle()
        #expect(CacheKey.key(provider: provider, model: model, request: streamed) == base, "streaming does not change the answer")
        // Headers: their names' case and order do not matter, and a secret's reference is kept unexpanded.
        var headed = provider
        headed.headers = [("X-Gateway", "eu"), ("Authorization", "Bearer ${GATEWAY_KEY}")]
        var reordered = provider
        reordered.headers = [("authorization", "Bearer ${GATEWAY_KEY}"), ("x-gateway", "eu")]
        #expect(CacheKey.key(provider: headed, model: model, request: request) == CacheKey.key(provider: reordered, model: model, request: request))
        #expect(String(decoding: CacheKey.canonical(provider: headed, model: model, request: request), as: UTF8.self).hasSuffix(#",[["authorization","Bearer ${GATEWAY_KEY}"],["x-gateway","eu"]]]"#))
    }

    @Test func callsThatMustNotUseTheCacheBypassIt() async throws {
        let space = try CacheWorkspace(cacheTable(top: #""experiment": {"name": "e", "control_share": 0.5, "control_model": "big"},"#))
        defer { space.directory.cleanUp() }
        _ = await space.call(["--offline", "--group", "routed", "hello"])
        _ = await space.call(["--offline", "--group", "routed", "--no-cache", "hello"])
        _ = await space.call(["--offline", "--group", "routed", "--temperature", "0.7", "hello"])
        _ = await space.call(["--offline", "--route", "nocache", "hello"])
        _ = await space.call(["--offline", "--group", "control", "hello"])
        _ = await space.call(["--offline", "--group", "routed", "--temperature", "0", "hello there"])
        #expect(try space.records().map(\.responseCache) == ["miss", "bypass", "bypass", "bypass", "bypass", "miss"])
        #expect(space.entryFiles().count == 2, "--no-cache, a temperature, a cache: false route and control calls store nothing")

        let refresh = await space.call(["--offline", "--group", "routed", "--refresh", "hello"])
        #expect(refresh.status == 0)
        #expect(try space.records().last?.responseCache == "bypass")
        let both = await space.call(["--offline", "--no-cache", "--refresh", "hello"])
        #expect(both.status == 64)
    }

    @Test func nondeterministicCallsAreCachedWhenTheTableSaysSo() async throws {
        let space = try CacheWorkspace(cacheTable(#""nondeterministic": true"#))
        defer { space.directory.cleanUp() }
        _ = await space.call(["--offline", "--temperature", "0.9", "hello"])
        _ = await space.call(["--offline", "--temperature", "0.9", "hello"])
        #expect(try space.records().map(\.responseCache) == ["miss", "hit"])
    }

    @Test func aRefreshReplacesTheEntryAndExpiredEntriesMiss() async throws {
        let space = try CacheWorkspace(cacheTable(#""ttl": "1d""#))
        defer { space.directory.cleanUp() }
        let start = Date(timeIntervalSince1970: 1_795_000_000)
        _ = await space.call(["--offline", "hello"], now: start)
        _ = await space.call(["--offline", "hello"], now: start.addingTimeInterval(3600))
        let late = await space.call(["--offline", "--verbose", "hello"], now: start.addingTimeInterval(90_000))
        #expect(late.stderr.contains("has expired"))
        _ = await space.call(["--offline", "hello"], now: start.addingTimeInterval(90_100))
        #expect(try space.records().map(\.responseCache) == ["miss", "hit", "miss", "hit"], "the expired entry was stored anew")
    }

    @Test func aCorruptOrTruncatedEntryIsAMissAndIsReplaced() async throws {
        let space = try CacheWorkspace()
        defer { space.directory.cleanUp() }
        _ = await space.call(["--offline", "hello"])
        let file = try #require(space.entryFiles().first)
        let whole = try #require(FileManager.default.contents(atPath: file))
        for broken in [Data(whole.prefix(whole.count / 2)), Data("garbage".utf8), Data(), Data(#"{"v":1,"created_ms":-5}"#.utf8)] {
            try broken.write(to: URL(fileURLWithPath: file))
            let run = await space.call(["--offline", "--verbose", "hello"])
            #expect(run.status == 0 && run.stdout == "[mock small] hello\n")
            #expect(run.stderr.contains("is unusable") && run.stderr.contains("replaced on the next store"), "\(run.stderr)")
            #expect(try space.records().last?.responseCache == "miss")
            #expect(FileManager.default.contents(atPath: file) == whole, "replaced by a whole entry")
        }
    }

    @Test func anUnwritableCacheIsAWarningAndTheAnswerIsStillPrintedAndLogged() async throws {
        let space = try CacheWorkspace()
        defer { space.directory.cleanUp() }
        // A regular file where the cache folder should be: no process, root included, can create it.
        let blocker = try space.directory.write("blocker", "not a folder")
        let run = await space.call(["--offline", "hello"], environment: ["XDG_CACHE_HOME": blocker])
        #expect(run.status == 0 && run.stdout == "[mock small] hello\n")
        #expect(run.stderr.contains("warning:") && run.stderr.contains("the answer was not cached"), "\(run.stderr)")
        #expect(try space.records().map(\.responseCache) == ["miss"])
    }

    @Test func anEscalatedAnswerIsStoredSoTheRepeatCostsNothing() async throws {
        let models = #"{"small": {"provider": "offline", "input_per_mtok": 0.4, "output_per_mtok": 1.6, "mock": "refusal"}, "big": {"provider": "offline", "input_per_mtok": 3, "output_per_mtok": 15}}"#
        let routes = #"{"fast": {"model": "small", "checks": ["refusal"], "escalate_to": "power"}, "power": {"model": "big"}}"#
        let space = try CacheWorkspace(cacheTable(routes: routes, models: models))
        defer { space.directory.cleanUp() }
        let first = await space.call(["--offline", "hello"])
        let second = await space.call(["--offline", "hello"])
        #expect(first.stdout == "[mock big] hello\n" && second.stdout == first.stdout)
        let records = try space.records()
        #expect(records.map(\.responseCache) == ["miss", "hit"])
        #expect(records[0].escalatedFrom == "small" && records[1].model == "big" && records[1].costUSD == 0)
        #expect(space.entryFiles().count == 2, "under the answering route's key and the first route's")
        let power = await space.call(["--offline", "--route", "power", "hello"])
        let powerRecord = try space.records().last
        #expect(power.status == 0 && powerRecord?.responseCache == "hit")
        // A refusal that stood (checks turned off) is not stored.
        let unchecked = await space.call(["--offline", "--no-checks", "--refresh", "another prompt"])
        #expect(unchecked.stdout == "I'm sorry, but I can't help with that.\n")
        #expect(space.entryFiles().count == 2)
    }

    @Test func theLocalStoreEvictsTheLeastRecentlyUsedAndPrunesAndClears() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        func entry(_ created: Int64, _ text: String) -> CacheEntry {
            CacheEntry(createdMillis: created, route: "r", model: "m", provider: "p", inputTokens: 1, outputTokens: 1, cachedInputTokens: nil, usageEstimated: false, offline: false, answer: text)
        }
        // Files carry real times (stored: modification, used: access), so "now" is now.
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        let size = entry(now, String(repeating: "x", count: 300)).encoded().count
        // Each fan-out folder may hold 1/256 of max_mb: here room for three entries.
        let store = LocalStore(root: directory.path + "/c", maxBytes: 256 * (3 * size + size / 2))
        let keys = (0..<5).map { "aa" + String(repeating: String($0), count: 62) }
        for (index, key) in keys.prefix(3).enumerated() {
            #expect(store.save(entry(now, String(repeating: "x", count: 300)), key: key, ttlSeconds: 60) == nil)
            // Used in the past, the first most recently, the second longest ago.
            let used = timespec(tv_sec: Int(now / 1000) - [1, 30, 20][index], tv_nsec: 0)
            var times = [used, timespec(tv_sec: Int(now / 1000) - 40, tv_nsec: 0)]
            _ = utimensat(AT_FDCWD, store.path(key), &times, 0)
        }
        #expect(store.save(entry(now, String(repeating: "x", count: 300)), key: keys[3], ttlSeconds: 60) == nil)
        #expect(!FileManager.default.fileExists(atPath: store.path(keys[1])), "the least recently used went")
        #expect(FileManager.default.fileExists(atPath: store.path(keys[0])) && FileManager.default.fileExists(atPath: store.path(keys[3])))
        #expect(store.stats(nowMillis: now, ttlSeconds: 60) == LocalStore.Stats(entries: 3, bytes: 3 * size, expired: 0))
        // An hour on, with a TTL of a minute, all have expired.
        #expect(store.stats(nowMillis: now + 3_600_000, ttlSeconds: 60).expired == 3)
        let pruned = store.prune(nowMillis: now + 3_600_000, ttlSeconds: 60)
        #expect(pruned.expired == 3 && pruned.remaining.entries == 0)
        _ = store.save(entry(now, "a"), key: keys[4], ttlSeconds: 60)
        #expect(store.clear().entries == 1 && store.stats(nowMillis: now, ttlSeconds: 60).entries == 0)
    }

    @Test func theTableRefusesBadCacheSettings() {
        func error(_ cache: String) -> String {
            do {
                _ = try RoutingTableLoader.load(json: Array(cacheTable(cache).utf8), source: "t.json")
                return ""
            } catch { return error.message }
        }
        #expect(error(#""ttl": "7x""#).contains("expected a duration like"))
        #expect(error(#""max_mb": 0"#).contains("cache.max_mb"))
        #expect(error(#""ttl": "1d", "tll": 2"#).contains("did you mean \"ttl\"?"))
        #expect(error(#""url": "redis://:secret@host:6379""#).contains("put it in an environment variable"))
        #expect(error(#""url": "http://host""#).contains("expected a redis://"))
        #expect(error(#""url": "redis://host:99999""#).contains("port must be"))
        #expect(error(#""password_env": "X""#).contains("applies to a Redis cache"))
        #expect(error(#""url": "redis://h", "password_env": "hunter2!""#).contains("NAME of an environment variable"))
        #expect(error(#""url": "redis://h", "dir": "x""#).contains("not both"))
        #expect(error("").isEmpty)
    }
}

@Suite struct CacheAgainstAProviderTests {
    @Test func aHitNeedsNoKeyAndMakesNoRequest() async throws {
        let server = try TestHTTPServer(responses: [.json(Canned.openAIReply("Paris.", input: 12, output: 2))])
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let json = """
            {"version": 1, "default_route": "chat", "baseline_model": "gpt", "cache": {"dir": "\(directory.path)/c"},
             "providers": {"openai": {"type": "openai", "base_url": "\(server.baseURL)", "api_key_env": "TEST_OPENAI_KEY"}},
             "models": {"gpt": {"provider": "openai", "input_per_mtok": 1, "output_per_mtok": 2}},
             "routes": {"chat": {"model": "gpt"}}}
            """
        let table = try RoutingTableLoader.load(json: Array(json.utf8), source: "t")
        let first = await runCall(["--no-stream", "Capital of France?"], table: table)
        let second = await runCall(["--no-stream", "Capital of France?"], table: table, environment: [:])
        #expect(first.status == 0 && second.status == 0, "\(second.stderr)")
        #expect(first.stdout == "Paris.\n" && second.stdout == "Paris.\n")
        #expect(server.requests.count == 1, "the hit made no request")
        #expect(second.records.first?.responseCache == "hit" && second.records.first?.cacheSavedUSD == 0.000016 && second.records.first?.costUSD == 0)
        let root = directory.path + "/c/responses"
        let files = try FileManager.default.subpathsOfDirectory(atPath: root).filter { !FileReader.isDirectory(root + "/" + $0) }
        #expect(files.count == 1)
        for file in files {
            let text = try String(contentsOfFile: root + "/" + file, encoding: .utf8)
            #expect(text.contains("Paris.") && !text.contains(fakeOpenAIKey), "the entry holds the answer, never the key")
        }
        let check = await runCLI(["check", "--routes", try directory.write("t.json", json)])
        #expect(check.stdout.contains("Response cache\n  local: \(directory.path)/c   ttl 7d   max 512 MB"), "\(check.stdout)")
    }
}

@Suite struct RESPTests {
    @Test func repliesParseWholeAndNeverFromPart() throws {
        let reply = Array("*3\r\n$5\r\nhello\r\n:-42\r\n*2\r\n+OK\r\n$-1\r\n".utf8)
        let whole = try #require(try RESP.parse(reply))
        #expect(whole.end == reply.count)
        #expect(whole.value == .array([.bulk(Array("hello".utf8)), .integer(-42), .array([.simple("OK"), .bulk(nil)])]))
        for cut in 0..<reply.count { #expect(try RESP.parse(Array(reply.prefix(cut))) == nil, "cut at \(cut)") }
        #expect(try RESP.parse(Array("-WRONGPASS invalid password\r\n".utf8))?.value == .error("WRONGPASS invalid password"))
        #expect(RESP.command([Array("GET".utf8), Array("k".utf8)]) == Array("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n".utf8))
    }

    @Test func brokenRepliesAreErrorsNotCrashes() {
        for text in ["?x\r\n", "$abc\r\n", "$99999999999\r\n", "*-2\r\n", "$3\r\nabcXY", ":1\rX", "*2000000\r\n", ":99999999999999999999\r\n"] {
            #expect(throws: RESP.Malformed.self, "\(text.debugDescription)") { _ = try RESP.parse(Array(text.utf8)) }
        }
        #expect(throws: RESP.Malformed.self) { _ = try RESP.parse(Array((String(repeating: "*1\r\n", count: 20) + ":1\r\n").utf8)) }
    }
}

/// `runProduct` on a thread of its own, so that waiting for the process keeps none of
/// Swift's cooperative threads, nor Dispatch's global ones (as many as cores: two here,
/// and the HTTP exchanges of other tests run on them), from the suite's other tests.
func runProductOffPool(_ path: String, _ arguments: [String], environment: [String: String]) async throws -> (status: Int32, stdout: String, stderr: String) {
    try await withCheckedThrowingContinuation { continuation in
        Thread {
            continuation.resume(with: Result { try runProduct(path, arguments, environment: environment) })
        }.start()
    }
}

/// The shared cache against a real `redis-server` the tests start on 127.0.0.1, called
/// through the built executable, as separate processes on separate machines would.
@Suite(.serialized) struct RedisCacheTests {
    /// A table whose cache is the Redis server at `url`.
    func redisTable(_ url: String, extra: String = "") -> String {
        cacheTable(#""url": "\#(url)", "ttl": "7d", "timeout_ms": 300\#(extra)"#)
    }

    /// Runs the built command with its own local cache folder (a "machine").
    func run(_ binary: String, _ routes: String, log: String, machine: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> (status: Int32, stdout: String, stderr: String) {
        try await runProductOffPool(binary, ["--routes", routes, "--log", log, "--offline"] + arguments, environment: ["HOME": machine, "XDG_CACHE_HOME": machine + "/cache", "PATH": "/usr/bin:/bin"].merging(environment) { $1 })
    }

    @Test func twoMachinesShareHitsThroughRedis() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let redis = try RedisTestServer()
        defer { redis.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", redisTable(redis.url(database: 3)))
        let log = directory.path + "/usage.jsonl"
        let first = try await run(binary, routes, log: log, machine: directory.path + "/a", ["Name three primes"])
        let second = try await run(binary, routes, log: log, machine: directory.path + "/b", ["Name three primes"])
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)\(second.stderr)")
        #expect(first.stdout == second.stdout && first.stderr == "" && second.stderr == "")
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2 && lines[0].contains(#""response_cache":"miss""#) && lines[1].contains(#""response_cache":"hit""#))
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/a/cache/modelroute"), "with Redis, nothing is stored locally")
        let stats = try await runProductOffPool(binary, ["cache", "stats", "--routes", routes, "--log", log, "--json"], environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"])
        #expect(stats.stdout.contains(#""entries":1"#) && stats.stdout.contains(#""hits":1"#), "\(stats.stdout)\(stats.stderr)")
        let cleared = try await runProductOffPool(binary, ["cache", "clear", "--routes", routes], environment: ["HOME": directory.path, "PATH": "/usr/bin:/bin"])
        #expect(cleared.stdout.contains("1 entries"))
        let again = try await run(binary, routes, log: log, machine: directory.path + "/b", ["Name three primes"])
        #expect(again.status == 0)
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last?.contains(#""response_cache":"miss""#) == true)
    }

    @Test func aRedisThatStopsMidRunIsSaidOnceAndTheCallGoesOnUncached() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let redis = try RedisTestServer()
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", redisTable(redis.url()))
        let log = directory.path + "/usage.jsonl"
        _ = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        redis.stop()
        let start = Date()
        let down = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        #expect(Date().timeIntervalSince(start) < 3, "a short timeout, not a hang")
        #expect(down.status == 0 && down.stdout == "[mock small] hello\n")
        let warnings = down.stderr.components(separatedBy: "warning:").count - 1
        #expect(warnings == 1 && down.stderr.contains("the response cache is not used for this call") && down.stderr.contains("127.0.0.1"), "\(down.stderr)")
        #expect(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last?.contains(#""response_cache":"bypass""#) == true)
    }

    @Test func authIsSentAndAWrongPasswordNeverShows() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let password = "s3cret-redis-pass-7781"
        let redis = try RedisTestServer(password: password)
        defer { redis.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", redisTable(redis.url(), extra: #", "password_env": "TEST_REDIS_PASSWORD""#))
        let log = directory.path + "/usage.jsonl"
        let good = ["TEST_REDIS_PASSWORD": password]
        _ = try await run(binary, routes, log: log, machine: directory.path, ["hello"], environment: good)
        let hit = try await run(binary, routes, log: log, machine: directory.path, ["--verbose", "hello"], environment: good)
        #expect(hit.status == 0 && hit.stderr.contains("response cache: hit"), "\(hit.stderr)")

        let wrong = try await run(binary, routes, log: log, machine: directory.path, ["--verbose", "hello"], environment: ["TEST_REDIS_PASSWORD": "wrong-guess-991"])
        #expect(wrong.status == 0 && wrong.stdout == "[mock small] hello\n")
        #expect(wrong.stderr.contains("refused the password from $TEST_REDIS_PASSWORD"), "\(wrong.stderr)")
        let missing = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        #expect(missing.status == 0 && missing.stderr.contains("warning:"), "no password: Redis says NOAUTH")
        let logged = try String(contentsOfFile: log, encoding: .utf8)
        for text in [wrong.stdout, wrong.stderr, hit.stderr, missing.stderr, logged] {
            #expect(!text.contains(password) && !text.contains("wrong-guess-991"))
        }
    }

    @Test func redisExpiresEntriesAfterTheirTTL() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let redis = try RedisTestServer()
        defer { redis.stop() }
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", cacheTable(#""url": "\#(redis.url())", "ttl": "1s""#))
        let log = directory.path + "/usage.jsonl"
        _ = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        _ = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        try await Task.sleep(for: .milliseconds(2100))
        _ = try await run(binary, routes, log: log, machine: directory.path, ["hello"])
        let states = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map { $0.contains(#""response_cache":"hit""#) }
        #expect(states == [false, true, false])
    }
}

/// Many processes on one local cache at once.
@Suite struct CacheConcurrencyTests {
    @Test func twentyProcessesOfFiftyCallsLeaveEveryEntryWholeAndMostlyHit() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", cacheTable())
        let log = directory.path + "/usage.jsonl"
        let script = """
            for i in $(seq 1 50); do "$0" --routes "$1" --log "$2" --offline "prompt number $(( (i + $3) % 10 ))" > /dev/null || exit 1; done
            """
        // All twenty at once, at the lowest priority so that the suite's timed tests keep the CPU;
        // waited for on a thread of its own, off Swift's and Dispatch's shared pools.
        var workers: [Process] = []
        for worker in 0..<20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            process.arguments = ["-n", "19", "/bin/sh", "-c", script, binary, routes, log, String(worker)]
            process.environment = ["HOME": directory.path, "XDG_CACHE_HOME": directory.path + "/cache", "PATH": "/usr/bin:/bin"]
            process.standardInput = FileHandle.nullDevice
            try process.run()
            workers.append(process)
        }
        let started = workers
        let failures = await withCheckedContinuation { continuation in
            Thread {
                for process in started { process.waitUntilExit() }
                continuation.resume(returning: started.filter { $0.terminationStatus != 0 }.count)
            }.start()
        }
        #expect(failures == 0)
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1000, "every call logged")
        let hits = lines.filter { $0.contains(#""response_cache":"hit""#) }.count
        let misses = lines.filter { $0.contains(#""response_cache":"miss""#) }.count
        #expect(hits + misses == 1000 && hits >= 900, "\(hits) hits, \(misses) misses")
        let root = directory.path + "/cache/modelroute/responses"
        var entries = 0
        for folder in try FileManager.default.contentsOfDirectory(atPath: root) {
            for name in try FileManager.default.contentsOfDirectory(atPath: root + "/" + folder) {
                #expect(!name.contains(".tmp-"), "no temporary file left")
                let bytes = try #require(FileManager.default.contents(atPath: root + "/" + folder + "/" + name))
                guard case .success = CacheEntry.decode(Array(bytes)) else {
                    Issue.record("entry \(name) is not whole")
                    continue
                }
                entries += 1
            }
        }
        #expect(entries == 10)
    }
}

/// A "Redis" that answers garbage, an error, nothing, or hangs up: every call still answers.
@Suite struct MisbehavingRedisTests {
    @Test(arguments: [
        ("garbage", RawTCPServer.Behaviour.reply(Array("HTTP/1.1 200 OK\r\n\r\n".utf8))),
        ("an error", .reply(Array("-ERR unknown command\r\n".utf8))),
        ("a huge bulk", .reply(Array("$999999999999\r\n".utf8))),
        ("a cut reply", .reply(Array("$10\r\nabc".utf8))),
        ("silence", .silence(3)),
        ("a hang-up", .hangUp),
    ])
    func aBrokenRedisNeverFailsACall(_ name: String, _ behaviour: RawTCPServer.Behaviour) async throws {
        let server = try RawTCPServer(behaviour)
        defer { server.stop() }
        let space = try CacheWorkspace(cacheTable(#""url": "redis://127.0.0.1:\#(server.port)/0", "timeout_ms": 300"#))
        defer { space.directory.cleanUp() }
        let start = Date()
        let run = await space.call(["--offline", "hello"])
        #expect(Date().timeIntervalSince(start) < 2.5, "\(name): bounded by timeout_ms")
        #expect(run.status == 0 && run.stdout == "[mock small] hello\n", "\(name)")
        #expect(run.stderr.components(separatedBy: "warning:").count == 2, "\(name): said once: \(run.stderr)")
        #expect(try space.records().map(\.responseCache) == ["bypass"], "\(name)")
    }
}
