#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import ModelRouteTestSupport
@testable import ModelRouteKit

/// A record with every optional field set, and strings that need escaping.
func fullRecord() -> LedgerRecord {
    LedgerRecord(
        timestamp: "2026-11-01T09:30:00.125Z", id: "0f9c-1", route: "power", rule: "deep-reasoning",
        model: "claude-sonnet-4-5", provider: "anthropic", inputTokens: 1200, outputTokens: 340, cachedInputTokens: 1000,
        usageEstimated: true, costUSD: 0.00885, baselineModel: "claude-sonnet-4-5", baselineCostUSD: 0.00885,
        latencyMilliseconds: 2310, timeToFirstTokenMilliseconds: 412, status: .error,
        error: "HTTP 529 \"Overloaded\"\nretry later", attempts: 4, fallbackFrom: "gpt-4.1", cacheHit: true,
        promptSHA256: String(repeating: "ab", count: 32), promptChars: 4800,
        tags: [("team", "naïve café 🚀"), ("quote\"key", "back\\slash\t\u{01}")])
}

/// A record with every optional field null.
func sparseRecord() -> LedgerRecord {
    LedgerRecord(
        timestamp: "2026-11-01T09:30:00.000Z", id: "x", route: nil, rule: nil, model: nil, provider: nil, inputTokens: 0,
        outputTokens: 0, cachedInputTokens: nil, usageEstimated: false, costUSD: 0, baselineModel: nil, baselineCostUSD: nil,
        latencyMilliseconds: 0, timeToFirstTokenMilliseconds: nil, status: .cancelled, error: nil, attempts: 0,
        fallbackFrom: nil, cacheHit: false, promptSHA256: "", promptChars: 0, tags: [])
}

/// The record's JSON form: keys, nulls, escapes, decoding errors, timestamps.
@Suite struct LedgerRecordTests {
    @Test func roundTripsEveryField() throws {
        for record in [fullRecord(), sparseRecord()] {
            let line = record.jsonLine()
            #expect(line.last == UInt8(ascii: "\n"))
            #expect(line.filter { $0 == UInt8(ascii: "\n") }.count == 1)
            let decoded = try LedgerRecord.decode(line: Array(line.dropLast()))
            #expect(decoded == record)
        }
    }

    @Test func writesTheSchemaKeysInOrderWithNulls() throws {
        let line = sparseRecord().jsonLine()
        let node = try JSONParser.parse(line)
        guard case .object(let members) = node.value else {
            Issue.record("not an object")
            return
        }
        #expect(members.map(\.key) == LedgerRecord.keys)
        #expect(node["route"]?.value == .null)
        #expect(node["cached_input_tokens"]?.value == .null)
        #expect(node["ttft_ms"]?.value == .null)
        #expect(node["v"]?.value == .number(2))
        #expect(String(decoding: line, as: UTF8.self).hasPrefix(#"{"v":2,"ts":"2026-11-01T09:30:00.000Z","id":"x","route":null,"#))
        #expect(String(decoding: line, as: UTF8.self).hasSuffix(#""tags":{},"offline":false,"response_cache":null,"cache_saved_usd":null,"escalated_from":null,"escalation_reason":null,"overhead_cost_usd":0,"difficulty":null,"budget":null,"experiment":null,"group":null,"priced":true,"messages":1}"# + "\n"))
    }

    @Test func decodingNamesWhatIsWrong() {
        func error(_ text: String) -> LedgerLineError? {
            do {
                _ = try LedgerRecord.decode(line: Array(text.utf8))
                return nil
            } catch {
                return error
            }
        }
        let good = String(decoding: sparseRecord().jsonLine().dropLast(), as: UTF8.self)
        #expect(error(good) == nil)
        #expect(error(good.replacingOccurrences(of: #""input_tokens":0"#, with: #""input_tokens":"0""#))
            == .wrongType(key: "input_tokens", expected: "a whole number", found: "a string"))
        #expect(error(good.replacingOccurrences(of: #""v":2"#, with: #""v":3"#)) == .unsupportedVersion(3))
        #expect(error(good.replacingOccurrences(of: #""difficulty":null"#, with: #""difficulty":1.5"#))
            == .invalidValue(key: "difficulty", reason: "1.5 is not from 0 to 1"))
        #expect(error(good.replacingOccurrences(of: #""offline":false"#, with: #""offline":"no""#))
            == .wrongType(key: "offline", expected: "true or false", found: "a string"))
        #expect(error(good.replacingOccurrences(of: #""cost_usd":0,"#, with: "")) == .missingKey("cost_usd"))
        #expect(error(good.replacingOccurrences(of: #""status":"cancelled""#, with: #""status":"done""#))
            == .invalidValue(key: "status", reason: "\"done\" is not ok, error or cancelled"))
        #expect(error(good.replacingOccurrences(of: "2026-11-01T09", with: "2026-02-30T09"))
            == .invalidValue(key: "ts", reason: "not an RFC 3339 time"))
        #expect(error("[1]") == .notAnObject("an array"))
        if case .notJSON? = error(String(good.prefix(80))) {} else { Issue.record("a cut line should be not JSON") }
    }

    @Test func timestampsAreUTCWithMilliseconds() {
        #expect(LedgerTimestamp.string(from: Date(timeIntervalSince1970: 1_793_525_400.125)) == "2026-11-01T09:30:00.125Z")
        #expect(LedgerTimestamp.string(epochMilliseconds: -1) == "1969-12-31T23:59:59.999Z")
        #expect(LedgerTimestamp.parse("2026-11-01T09:30:00.125Z") == 1_793_525_400_125)
        #expect(LedgerTimestamp.parse("2026-11-01T10:30:00.125+01:00") == 1_793_525_400_125)
        #expect(LedgerTimestamp.parse("2026-11-01 09:30:00Z") == 1_793_525_400_000)
        #expect(LedgerTimestamp.parse("2026-11-01T09:30:00.1256789Z") == 1_793_525_400_125)
        #expect(LedgerTimestamp.parse("2028-02-29T00:00:00Z") != nil)
        for bad in ["2026-02-29T00:00:00Z", "2026-11-01T24:00:00Z", "2026-11-01T09:30:00", "2026-11-01", "2026-11-01T09:30:00.Z", "x"] {
            #expect(LedgerTimestamp.parse(bad) == nil, "\(bad)")
        }
    }
}

/// Appending: files, modes, failures, and many processes at once.
@Suite struct LedgerWriterTests {
    @Test func createsDirectoriesAndFileWithPrivateModes() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/state/modelroute/usage.jsonl"
        try LedgerWriter(path: path).append(fullRecord())
        try LedgerWriter(path: path).append(sparseRecord())
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)
        #expect(stat(directory.path + "/state/modelroute", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        #expect(stat(directory.path + "/state", &info) == 0)
        #expect(info.st_mode & 0o777 == 0o700)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(try LedgerRecord.decode(line: Array(lines[0].utf8)) == fullRecord())
    }

    @Test func startsOnAFreshLineAfterACutShortWrite() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try directory.write("usage.jsonl", #"{"v":1,"ts":"2026-11"#)
        try LedgerWriter(path: path).append(sparseRecord())
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        #expect(try LedgerRecord.decode(line: Array(lines[1].utf8)) == sparseRecord())
    }

    @Test func reportsAnUnwritablePath() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let file = try directory.write("plain-file", "x")
        do {
            try LedgerWriter(path: file + "/usage.jsonl").append(sparseRecord())
            Issue.record("expected a failure")
        } catch {
            #expect(error == .cannotOpen(path: file + "/usage.jsonl", reason: "Not a directory"))
            #expect(error.exitCode == .failure)
            #expect(error.message.contains("only its usage record is missing"))
        }
        do {
            try LedgerWriter(path: directory.path).append(sparseRecord())
            Issue.record("expected a failure")
        } catch {
            #expect(error == .cannotOpen(path: directory.path, reason: "it is a directory"))
        }
        guard FileManager.default.fileExists(atPath: "/proc/self") else { return }
        do {
            // Nobody, root included, can make a directory in /proc.
            try LedgerWriter(path: "/proc/modelroute-test/usage.jsonl").append(sparseRecord())
            Issue.record("expected a failure")
        } catch {
            guard case .cannotCreateDirectory = error else {
                Issue.record("unexpected \(error)")
                return
            }
        }
    }

    /// A process whose append fails says so on stderr and exits 1.
    @Test func aFailedAppendIsReportedByTheProcess() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let file = try directory.write("plain-file", "x")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: MeasuredProcess.productsDirectory + "/modelroute-bench")
        process.arguments = ["append-records", "--log", file + "/usage.jsonl", "--count", "1"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(text.contains("cannot open the usage log \(file)/usage.jsonl: Not a directory"))
    }

    @Test func reportsAFullDisk() {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { return }
        do {
            try LedgerWriter(path: "/dev/full").append(sparseRecord())
            Issue.record("expected a failure")
        } catch {
            #expect(error == .cannotWrite(path: "/dev/full", reason: String(cString: strerror(ENOSPC))))
            #expect(error.exitCode.rawValue != 0)
        }
    }

    @Test func resolvesTheLocationInOrder() {
        #expect(LedgerLocation.resolve(explicitPath: "/a", environment: ["MODELROUTE_LOG": "/b"]) == "/a")
        #expect(LedgerLocation.resolve(explicitPath: nil, environment: ["MODELROUTE_LOG": "/b", "XDG_STATE_HOME": "/c"]) == "/b")
        #expect(LedgerLocation.resolve(explicitPath: nil, environment: ["XDG_STATE_HOME": "/c", "HOME": "/h"]) == "/c/modelroute/usage.jsonl")
        #expect(LedgerLocation.resolve(explicitPath: nil, environment: ["HOME": "/h"]) == "/h/.local/state/modelroute/usage.jsonl")
    }

    /// Fifty real processes appending two hundred records each, all at once.
    @Test func concurrentAppendsFromManyProcessesLeaveWholeLines() throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = directory.path + "/shared/usage.jsonl"
        let binary = MeasuredProcess.productsDirectory + "/modelroute-bench"
        #expect(FileManager.default.isExecutableFile(atPath: binary), "\(binary) is built with the tests")
        var processes: [pid_t] = []
        for index in 0..<50 {
            let arguments = [binary, "append-records", "--log", path, "--count", "200", "--seed", String(index + 1)]
            let argv = arguments.map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            #expect(posix_spawn(&pid, binary, nil, nil, argv, environ) == 0)
            processes.append(pid)
        }
        for pid in processes {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            #expect(status == 0)
        }
        let bytes = try FileReader.readAll(path: path)
        #expect(bytes.last == UInt8(ascii: "\n"))
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 10_000)
        var ids = Set<String>()
        var bad = 0
        for line in lines {
            if let record = try? LedgerRecord.decode(line: Array(line)) { ids.insert(record.id) } else { bad += 1 }
        }
        #expect(bad == 0)
        #expect(ids.count == 10_000)
    }
}
