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
