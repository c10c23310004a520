import Foundation
@testable import ModelRouteKit

/// The repository's root, found from this file's path, for tests that read
/// routes.json and Examples/ as a user would.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// A fresh directory under the system's temporary directory, removed by the caller with `cleanUp`.
struct TemporaryDirectory {
    let url: URL
    var path: String { url.path }

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("modelroute-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// Writes `text` to `name` inside the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    /// Writes raw bytes to `name` and returns its path.
    @discardableResult
    func write(_ name: String, bytes: [UInt8]) throws -> String {
        let file = url.appendingPathComponent(name)
        try Data(bytes).write(to: file)
        return file.path
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A small table for classifier tests: one rule per test, built from JSON text.
func table(rules: String, keywordMatch: String = "word") throws -> RoutingTable {
    try RoutingTableLoader.load(json: Array(tableJSON(rules: rules, keywordMatch: keywordMatch).utf8), source: "test.json")
}

/// routes.json text with two providers, three models, three routes and the given rules.
func tableJSON(rules: String, keywordMatch: String = "word") -> String {
    """
    {
      "version": 1,
      "default_route": "mid",
      "baseline_model": "big",
      "keyword_match": "\(keywordMatch)",
      "providers": {"openai": {"type": "openai"}, "offline": {"type": "mock"}},
      "models": {
        "small": {"provider": "openai", "input_per_mtok": 0.1, "output_per_mtok": 0.4},
        "medium": {"provider": "openai", "input_per_mtok": 1, "output_per_mtok": 4},
        "big": {"provider": "openai", "input_per_mtok": 10, "output_per_mtok": 40}
      },
      "routes": {
        "fast": {"model": "small"},
        "mid": {"model": "medium"},
        "power": {"model": "big"}
      },
      "rules": [\(rules)]
    }
    """
}

/// Classifies `prompt` with a one-rule table and says which rule decided.
func decide(_ prompt: String, rules: String, keywordMatch: String = "word", context: ClassificationContext = ClassificationContext()) throws -> RoutingDecision {
    Classifier(table: try table(rules: rules, keywordMatch: keywordMatch)).classify(prompt, context: context)
}

/// A process for `path` with its standard output and error on pipes, not yet started.
func pipedProcess(_ path: String, _ arguments: [String], environment: [String: String]) -> (process: Process, output: Pipe, errors: Pipe) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = environment
    // Not the test runner's own standard input: a prompt given as words would read it.
    process.standardInput = FileHandle.nullDevice
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    return (process, output, errors)
}
