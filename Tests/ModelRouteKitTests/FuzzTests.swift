import Foundation
import Testing
import ModelRouteTestSupport

/// Runs the fuzz target (a separate process, so a crash is a failure, not the end of the
/// test run) over a fixed seed: mutated tables, logs, prompt files, model files, HTTP
/// responses, SSE streams and bodies of all three wire formats, labelled files, and
/// argument vectors given to the built command.
@Suite struct FuzzTests {
    @Test func mutatedInputsNeverCrashOrHang() async throws {
        let fuzz = try #require(builtProduct("modelroute-fuzz"))
        let binary = try #require(builtProduct("modelroute"))
        let (process, output, errors) = pipedProcess(fuzz, ["--cases", "12000", "--seed", "20261203", "--binary", binary], environment: ["PATH": "/usr/bin:/bin"])
        // The fuzz target runs in an empty folder, which it must leave empty: command runs
        // such as `--log hello` once left logs in the working directory.
        let workingDirectory = try TemporaryDirectory()
        defer { workingDirectory.cleanUp() }
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory.path)
        try process.run()
        // Waited for on a thread of its own: the run takes seconds, and Swift's cooperative
        // threads and Dispatch's global ones (two each here) are wanted by the suite's timed tests.
        let (text, problems) = await withCheckedContinuation { continuation in
            Thread {
                let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                let problems = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
                process.waitUntilExit()
                continuation.resume(returning: (text, problems))
            }.start()
        }
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(text)\(problems)")
        #expect(text.contains("12000 cases, 300 loopback exchanges and 300 command runs"), "\(text)")
        let left = try FileManager.default.contentsOfDirectory(atPath: workingDirectory.path)
        #expect(left.isEmpty, "files left in the working directory: \(left)")
    }
}
