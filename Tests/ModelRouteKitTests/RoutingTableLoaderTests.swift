import Foundation
import Testing
@testable import ModelRouteKit

@Suite struct RoutingTableLoaderTests {
    private func loadError(_ json: String) -> ConfigError? {
        do {
            _ = try RoutingTableLoader.load(json: Array(json.utf8), source: "routes.json")
            return nil
        } catch {
            return error
        }
    }

    private func message(_ json: String) -> String {
        loadError(json)?.message ?? "(loaded without error)"
    }

    @Test func theRepositoryTableLoadsAndIsTheEmbeddedDefault() throws {
        let file = try Data(contentsOf: repositoryRoot.appendingPathComponent("routes.json"))
        #expect(Array(file) == Array(EmbeddedRoutes.json.utf8), "EmbeddedRoutes.swift must hold routes.json byte for byte; paste routes.json into it")
        let table = try RoutingTableLoader.load(json: Array(file), source: "routes.json")
        #expect(table.mockProvider != nil, "the default needs an offline mock provider")
        #expect(table.route(named: table.defaultRoute) != nil)
    }

    @Test func aSyntaxErrorNamesLineAndColumn() {
        let error = loadError("{\n  \"version\": 1,\n  \"routes\": {\n    \"a\": {\"model\": \"x\"}\n  \n}")
        guard case .syntax(_, let location, _) = error else { Issue.record("expected a syntax error, got \(String(describing: error))"); return }
        #expect(location.line == 6)
        #expect(error?.exitCode == .configuration)
    }

    @Test func anUnknownKeyNamesItsPathAndSuggestsTheClosest() {
        let text = message(tableJSON(rules: #"{"route": "fast", "any": ["x"]}, {"route": "fast"}, {"route": "fast", "min_word": 3}"#))
        #expect(text.contains("rules[2].min_word"))
        #expect(text.contains("did you mean \"min_words\"?"))
        #expect(text.contains("routes.json:"))
    }

    @Test func unknownTopLevelAndProviderKeysAreRejected() {
        #expect(message(tableJSON(rules: "").replacingOccurrences(of: "\"default_route\"", with: "\"default_rout\"")).contains("did you mean \"default_route\"?"))
        #expect(message(tableJSON(rules: "").replacingOccurrences(of: "{\"type\": \"openai\"}", with: "{\"type\": \"openai\", \"apikey_env\": \"X\"}")).contains("did you mean \"api_key_env\"?"))
    }

    @Test func referencesToUnknownNamesAreErrorsThatNameThePath() {
        let badRoute = message(tableJSON(rules: #"{"route": "fastt", "any": ["x"]}"#))
        #expect(badRoute.contains("rules[0].route"))
        #expect(badRoute.contains("unknown route \"fastt\"; did you mean \"fast\"?"))
        let badModel = message(tableJSON(rules: "").replacingOccurrences(of: "\"fast\": {\"model\": \"small\"}", with: "\"fast\": {\"model\": \"smal\"}"))
        #expect(badModel.contains("routes.fast.model"))
        #expect(badModel.contains("unknown model \"smal\""))
        let badProvider = message(tableJSON(rules: "").replacingOccurrences(of: "\"small\": {\"provider\": \"openai\"", with: "\"small\": {\"provider\": \"opena\""))
        #expect(badProvider.contains("models.small.provider"))
        #expect(badProvider.contains("unknown provider \"opena\""))
        let badFallback = message(tableJSON(rules: "").replacingOccurrences(of: "\"fast\": {\"model\": \"small\"}", with: "\"fast\": {\"model\": \"small\", \"fallbacks\": [\"huge\"]}"))
        #expect(badFallback.contains("routes.fast.fallbacks[0]"))
    }

    @Test func negativePricesEmptyKeywordsAndBadVersionsAreRejected() {
        #expect(message(tableJSON(rules: "").replacingOccurrences(of: "\"input_per_mtok\": 0.1", with: "\"input_per_mtok\": -0.1")).contains("models.small.input_per_mtok: a price must not be negative"))
        #expect(message(tableJSON(rules: #"{"route": "fast", "any": ["ok", " "]}"#)).contains("rules[0].any[1]: empty keyword"))
        #expect(message(tableJSON(rules: #"{"route": "fast", "any": []}"#)).contains("rules[0].any: the list is empty"))
        #expect(message(tableJSON(rules: "").replacingOccurrences(of: "\"version\": 1", with: "\"version\": 2")).contains("unsupported version 2"))
    }

    @Test func contradictoryBoundsHoursAndDuplicateNamesAreRejected() {
        #expect(message(tableJSON(rules: #"{"route": "fast", "min_words": 10, "max_words": 5}"#)).contains("can never match"))
        #expect(message(tableJSON(rules: #"{"route": "fast", "hours": "9to5"}"#)).contains("rules[0].hours"))
        #expect(message(tableJSON(rules: #"{"route": "fast", "hours": "25-3"}"#)).contains("rules[0].hours"))
        #expect(message(tableJSON(rules: #"{"name": "a", "route": "fast"}, {"name": "a", "route": "mid"}"#)).contains("duplicate rule name \"a\""))
        #expect(message(tableJSON(rules: #"{"route": "fast", "min_words": 2.5}"#)).contains("expected a whole number"))
        #expect(message(tableJSON(rules: #"{"route": "fast", "has_code": "yes"}"#)).contains("expected true or false"))
    }

    @Test func errorsCarryTheLineOfTheOffendingValue() {
        let json = tableJSON(rules: "{\"route\": \"fast\",\n \"max_words\": -1}")
        guard case .invalid(let path, _, _, let location) = loadError(json) else { Issue.record("expected an error"); return }
        #expect(path == "rules[0].max_words")
        let expectedLine = json.split(separator: "\n", omittingEmptySubsequences: false).firstIndex { $0.contains("\"max_words\": -1") }.map { $0 + 1 }
        #expect(location?.line == expectedLine)
    }

    @Test func providerDefaultsFollowTheType() throws {
        let json = tableJSON(rules: "").replacingOccurrences(
            of: "\"offline\": {\"type\": \"mock\"}",
            with: "\"offline\": {\"type\": \"mock\"}, \"local\": {\"type\": \"openai\", \"base_url\": \"http://127.0.0.1:8080/v1/\"}, \"claude\": {\"type\": \"anthropic\"}")
        let table = try RoutingTableLoader.load(json: Array(json.utf8), source: "t")
        #expect(table.provider(named: "openai")?.apiKeyEnvironmentVariable == "OPENAI_API_KEY")
        #expect(table.provider(named: "openai")?.baseURL == "https://api.openai.com/v1")
        #expect(table.provider(named: "local")?.apiKeyEnvironmentVariable == nil, "a local server needs no key unless one is named")
        #expect(table.provider(named: "local")?.baseURL == "http://127.0.0.1:8080/v1")
        #expect(table.provider(named: "claude")?.apiKeyEnvironmentVariable == "ANTHROPIC_API_KEY")
        #expect(table.provider(named: "offline")?.baseURL == nil)
    }

    @Test func commentKeysStartingWithUnderscoreAreIgnored() throws {
        let json = tableJSON(rules: #"{"_why": "cheap", "route": "fast", "any": ["x"]}"#)
        #expect(try RoutingTableLoader.load(json: Array(json.utf8), source: "t").rules.count == 1)
    }

    @Test func theSearchOrderIsFlagThenEnvironmentThenWorkingDirectoryThenUserConfigThenEmbedded() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let explicit = try directory.write("explicit.json", tableJSON(rules: ""))
        let fromEnvironment = try directory.write("env.json", tableJSON(rules: ""))
        let working = try directory.write("work/modelroute.json", tableJSON(rules: ""))
        // A generic routes.json of some other project in the working directory is not taken.
        try directory.write("empty/routes.json", tableJSON(rules: #"{"route": "power"}"#))
        let user = try directory.write("config/modelroute/routes.json", tableJSON(rules: ""))
        let environment = ["MODELROUTE_ROUTES": fromEnvironment, "XDG_CONFIG_HOME": directory.path + "/config", "HOME": directory.path]
        let workDirectory = directory.path + "/work"
        let empty = directory.path + "/empty"
        try FileManager.default.createDirectory(atPath: empty, withIntermediateDirectories: true)

        #expect(RoutingTableLoader.locate(explicitPath: explicit, environment: environment, currentDirectory: workDirectory) == .file(path: explicit, via: "--routes"))
        #expect(RoutingTableLoader.locate(explicitPath: nil, environment: environment, currentDirectory: workDirectory) == .file(path: fromEnvironment, via: "$MODELROUTE_ROUTES"))
        var withoutVariable = environment
        withoutVariable["MODELROUTE_ROUTES"] = nil
        #expect(RoutingTableLoader.locate(explicitPath: nil, environment: withoutVariable, currentDirectory: workDirectory) == .file(path: working, via: "./modelroute.json"))
        #expect(RoutingTableLoader.locate(explicitPath: nil, environment: withoutVariable, currentDirectory: empty) == .file(path: user, via: "$XDG_CONFIG_HOME"))
        let homeOnly = ["HOME": directory.path + "/nowhere"]
        #expect(RoutingTableLoader.locate(explicitPath: nil, environment: homeOnly, currentDirectory: empty) == .embedded)
        let table = try RoutingTableLoader.locateAndLoad(explicitPath: nil, environment: homeOnly, currentDirectory: empty)
        #expect(table.source == "embedded default routes.json")
    }

    @Test func anExplicitTableThatDoesNotExistIsAConfigurationError() {
        do {
            _ = try RoutingTableLoader.locateAndLoad(explicitPath: "/nonexistent/routes.json", environment: [:], currentDirectory: "/")
            Issue.record("expected an error")
        } catch {
            #expect(error == .unreadable(file: "/nonexistent/routes.json", reason: "no such file"))
            #expect(error.exitCode == .configuration)
        }
    }

    /// Numbers that would overflow later (an infinite cost, a wait that never ends, a
    /// timeout that traps when converted) are refused where the table is read.
    @Test func hugeNumbersInTheTableAreRefusedWithTheirPath() {
        func message(_ json: String) -> String {
            do {
                _ = try RoutingTableLoader.load(json: Array(json.utf8), source: "t.json")
                return ""
            } catch {
                return error.message
            }
        }
        let base = tableJSON(rules: "")
        #expect(message(base.replacingOccurrences(of: #""small": {"provider": "openai", "input_per_mtok": 0.1"#, with: #""small": {"provider": "openai", "input_per_mtok": 1e308"#))
            .contains("models.small.input_per_mtok: a price must be at most 100000"))
        #expect(message(base.replacingOccurrences(of: #""openai": {"type": "openai"}"#, with: #""openai": {"type": "openai", "timeout_s": 1e300}"#))
            .contains("providers.openai.timeout_s: a timeout must be more than 0 and at most 86400"))
        #expect(message(base.replacingOccurrences(of: #""openai": {"type": "openai"}"#, with: #""openai": {"type": "openai", "retry": {"max_delay_s": 1e300}}"#))
            .contains("providers.openai.retry.max_delay_s: a delay must be at most 3600"))
        #expect(message(base) == "")
    }

    @Test func everyExampleTableLoads() throws {
        let examples = repositoryRoot.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(files.count >= 4)
        for file in files {
            let bytes = try Data(contentsOf: examples.appendingPathComponent(file))
            let table = try RoutingTableLoader.load(json: Array(bytes), source: file)
            #expect(!table.routes.isEmpty, "\(file)")
            #expect(table.mockProvider != nil, "\(file) should keep an offline provider so --offline works")
        }
    }
}
