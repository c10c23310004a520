import Foundation
import ModelRouteKit
@testable import modelroute

/// What one in-process run of the command produced.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs `modelroute` in-process with memory streams, a fixed clock and only the
/// environment given (never the test runner's, so no real API key can leak in).
func runCLI(
    _ arguments: [String], stdin: String = "", environment: [String: String] = [:],
    directory: String = FileManager.default.temporaryDirectory.path,
    now: Date = Date(timeIntervalSince1970: 1_795_000_000), timeZone: TimeZone = TimeZone(identifier: "UTC")!,
    random: (@Sendable () -> Double)? = nil
) async -> CLIResult {
    let stdout = OutputSink.memory()
    let stderr = OutputSink.memory()
    var context = CommandContext(
        stdout: stdout, stderr: stderr, stdin: .memory(stdin), environment: environment,
        currentDirectory: directory, now: { now }, timeZone: timeZone)
    if let random { context.random = random }
    let status = await ModelRouteCommand.run(arguments: arguments, context: context)
    return CLIResult(status: status, stdout: stdout.captured, stderr: stderr.captured)
}
