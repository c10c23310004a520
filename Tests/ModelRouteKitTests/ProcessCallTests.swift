#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import ModelRouteKit
import ModelRouteTestSupport

/// A scratch directory with a routes.json whose one provider is `baseURL`.
func processFixture(baseURL: String) throws -> (directory: String, routes: String) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("modelroute-test-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let routes = directory + "/routes.json"
    let table = """
        {"version": 1, "default_route": "r", "baseline_model": "m",
         "providers": {"p": {"type": "openai", "base_url": "\(baseURL)", "api_key_env": "TEST_OPENAI_KEY"}, "offline": {"type": "mock"}},
         "models": {"m": {"provider": "p", "input_per_mtok": 1, "output_per_mtok": 2}},
         "routes": {"r": {"model": "m"}},
         "rules": []}
        """
    try table.write(toFile: routes, atomically: true, encoding: .utf8)
    return (directory, routes)
}

/// These run the real binary, because signals and pipes are process matters.
@Suite(.serialized) struct ProcessCallTests {
    @Test func ctrlCStopsAStreamingCallAtOnceWithExit130() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let server = try TestHTTPServer(responses: [.sse(Canned.openAIStream(["first ", "never"]), pause: 20)])
        let fixture = try processFixture(baseURL: server.baseURL)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let (process, output, errors) = pipedProcess(
            binary, ["--routes", fixture.routes, "hi"],
            environment: ["TEST_OPENAI_KEY": fakeOpenAIKey, "MODELROUTE_LOG": fixture.directory + "/usage.jsonl", "HOME": fixture.directory])
        try process.run()
        // Wait for the first piece of the answer, then press Ctrl-C.
        var printed = Data()
        while !String(decoding: printed, as: UTF8.self).contains("first") {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            printed += chunk
        }
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        printed += output.fileHandleForReading.readDataToEndOfFile()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 130)
        #expect(String(decoding: printed, as: UTF8.self).hasPrefix("first"))
        #expect(stderr.contains("cancelled"))
        #expect(!stderr.contains(fakeOpenAIKey))
        if let log = try? String(contentsOfFile: fixture.directory + "/usage.jsonl", encoding: .utf8) {
            #expect(log.contains(#""status":"cancelled""#))
            #expect(!log.contains(fakeOpenAIKey))
        }
    }

    @Test func aClosedStdoutPipeEndsQuietly() async throws {
        let binary = try #require(builtProduct("modelroute"))
        let fixture = try processFixture(baseURL: "http://127.0.0.1:9")
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let (process, output, errors) = pipedProcess(
            binary, ["--routes", fixture.routes, "--offline", String(repeating: "word ", count: 60)],
            environment: ["MODELROUTE_LOG": fixture.directory + "/usage.jsonl", "HOME": fixture.directory])
        // The reader goes away before the answer, as `| head -c 0` would.
        try output.fileHandleForReading.close()
        try process.run()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit)
        #expect(!stderr.contains("Broken pipe") && !stderr.contains("error:"))
        if let log = try? String(contentsOfFile: fixture.directory + "/usage.jsonl", encoding: .utf8) {
            #expect(process.terminationStatus == 0)
            #expect(log.contains(#""status":"cancelled""#))
        }
    }
}

/// Output that cannot be written (a full disk; `/dev/full` fails every write with ENOSPC)
/// is an error of its own, exit 74, in every command that prints results; a call's record
/// is still logged. Through the built executable, since the streams are the process's.
@Suite struct WriteFailureTests {
    /// Runs the built `modelroute` with standard output on /dev/full.
    func runIntoFullDevice(_ arguments: [String], directory: String) throws -> (status: Int32, stderr: String) {
        let binary = try #require(builtProduct("modelroute"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.environment = ["HOME": directory, "MODELROUTE_LOG": directory + "/usage.jsonl", "PATH": "/usr/bin:/bin"]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/full")
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func everyCommandThatPrintsResultsExits74OnAFullDevice() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let prompts = try directory.write("p.jsonl", #"{"prompt": "hello"}"# + "\n")
        let labelled = try directory.write("l.jsonl", #"{"prompt": "hello", "label": "easy"}"# + "\n")
        let commands: [[String]] = [
            ["--version"], ["--help"], ["classify", prompts], ["classify", "--summary-only", prompts], ["--dry-run", "hello"],
            ["eval", labelled], ["check"],
        ]
        for arguments in commands {
            let result = try runIntoFullDevice(arguments, directory: directory.path)
            #expect(result.status == 74, "\(arguments)")
            #expect(result.stderr.contains("modelroute: cannot write output: No space left on device"), "\(arguments): \(result.stderr)")
        }
        // A call whose answer could not be written is still logged.
        let call = try runIntoFullDevice(["--offline", "Write a poem about the sea"], directory: directory.path)
        #expect(call.status == 74)
        let log = try String(contentsOfFile: directory.path + "/usage.jsonl", encoding: .utf8)
        #expect(log.split(separator: "\n").count == 1)
        let report = try runIntoFullDevice(["report", "--include-offline"], directory: directory.path)
        #expect(report.status == 74)
    }
}
