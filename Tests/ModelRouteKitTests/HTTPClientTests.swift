import Foundation
import Testing
@testable import ModelRouteKit
import ModelRouteTestSupport

/// Feeds `text` to a reader in pieces of `size` bytes, then ends the connection.
private func read(_ text: String, splitEvery size: Int = .max, closing: Bool = true) throws -> [HTTPResponseReader.Event] {
    var reader = HTTPResponseReader()
    var events: [HTTPResponseReader.Event] = []
    let bytes = Array(text.utf8)
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + size)
        events += try bytes[start..<end].withUnsafeBytes { try reader.feed($0) }
        start = end
    }
    if closing, !reader.isComplete { events += try reader.finish() }
    return events
}

/// The body pieces joined, and whether the response ended.
private func body(_ events: [HTTPResponseReader.Event]) -> (text: String, ended: Bool) {
    var bytes: [UInt8] = []
    for case .body(let piece) in events { bytes += piece }
    return (String(decoding: bytes, as: UTF8.self), events.last == .end)
}

@Suite struct HTTPResponseReaderTests {
    @Test(arguments: [1, 2, 3, 7, 1000])
    func aChunkedBodyIsUnframedWhateverTheReadSize(size: Int) throws {
        let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/event-stream\r\n\r\n"
            + "5;ext=1\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: t\r\n\r\nignored"
        let events = try read(response, splitEvery: size, closing: false)
        #expect(events.first == .head(status: 200, headers: ["transfer-encoding": "chunked", "content-type": "text/event-stream"]))
        #expect(body(events) == ("hello, world!!!", true))
    }

    @Test func aSignedOrNegativeChunkSizeIsMalformedNotACrash() {
        for size in ["-5", "+5", "-0", "5x", "0x5"] {
            let response = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\(size)\r\nhello\r\n0\r\n\r\n"
            #expect(throws: HTTPResponseReader.Malformed.self, "\(size)") { _ = try read(response) }
        }
    }

    @Test func aSizedBodyEndsAtItsLengthAndBareLineFeedsAreAccepted() throws {
        let events = try read("HTTP/1.0 201 Created\nContent-Length: 4\nSet-Cookie: a\nSet-Cookie: b\n\nbodyEXTRA", closing: false)
        #expect(events.first == .head(status: 201, headers: ["content-length": "4", "set-cookie": "a, b"]))
        #expect(body(events) == ("body", true))
    }

    @Test func interimResponsesAreSkippedAndEmptyStatusesEndAtOnce() throws {
        let events = try read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer:  x  \r\n\r\n", closing: false)
        #expect(events == [.head(status: 204, headers: ["server": "x"]), .end])
    }

    @Test func aBodyWithoutFramingRunsToTheClose() throws {
        let events = try read("HTTP/1.1 200 OK\r\n\r\ndata: 1\n\ndata: 2\n\n", splitEvery: 5)
        #expect(body(events) == ("data: 1\n\ndata: 2\n\n", true))
    }

    @Test(arguments: [
        ("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "before the response ended"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "before the response ended"),
        ("", "without answering"),
        ("SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"),
        ("HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", "bad Content-Length"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n", "longer than its declared size"),
        ("HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "without a colon"),
    ])
    func brokenResponsesSayWhatIsWrong(response: String, expected: String) {
        do {
            _ = try read(response)
            Issue.record("expected a failure for \(response.debugDescription)")
        } catch let error as HTTPResponseReader.Malformed {
            #expect(error.detail.contains(expected), "\(error.detail)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anEndlessHeadIsRefused() {
        let response = "HTTP/1.1 200 OK\r\n" + String(repeating: "X-Padding: 0123456789abcdef\r\n", count: 3000)
        #expect(throws: HTTPResponseReader.Malformed(detail: "response head exceeds 64 KiB")) { try read(response, splitEvery: 4096, closing: false) }
    }
}

@Suite struct HTTPEndpointTests {
    @Test(arguments: [
        ("http://127.0.0.1:8080/v1/chat/completions", "127.0.0.1", 8080, "/v1/chat/completions", "127.0.0.1:8080"),
        ("HTTP://localhost/v1", "localhost", 80, "/v1", "localhost"),
        ("http://[::1]:11434/api?x=1#frag", "::1", 11434, "/api?x=1", "[::1]:11434"),
        ("http://example.test?key=v", "example.test", 80, "/?key=v", "example.test"),
        ("http://example.test:80", "example.test", 80, "/", "example.test"),
    ])
    func parsesWhatAServerURLMayBe(url: String, host: String, port: Int, target: String, authority: String) throws {
        let endpoint = try #require(HTTPEndpoint(url: url))
        #expect(endpoint == HTTPEndpoint(host: host, port: UInt16(port), target: target, authority: authority))
    }

    @Test(arguments: ["https://api.openai.com/v1", "http://user:pw@host/v1", "http://host:0/", "http://host:99999/", "http:///path", "http://host/a b", "http://[::1/"])
    func refusesWhatItCannotServe(url: String) {
        #expect(HTTPEndpoint(url: url) == nil)
    }

    @Test func theRequestCarriesHostLengthAndCloseOnceEach() throws {
        let spec = HTTPRequestSpec(url: "http://127.0.0.1:9/v1", headers: [("Content-Type", "application/json"), ("Host", "evil"), ("Content-Length", "1")], body: Array("{}".utf8))
        let endpoint = try #require(HTTPEndpoint(url: spec.url))
        let text = String(decoding: SocketTransport.requestBytes(spec, endpoint: endpoint), as: UTF8.self)
        #expect(text == "POST /v1 HTTP/1.1\r\nHost: 127.0.0.1:9\r\nContent-Type: application/json\r\nUser-Agent: modelroute\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}")
    }
}

/// Records what a transport hands over.
final class RecordingHandler: HTTPResponseHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var events: [String] = []
    func receive(status: Int, headers: [String: String]) -> Bool {
        lock.withLock { events.append("status \(status)") }
        return true
    }
    func receive(data: Data) -> Bool {
        lock.withLock { events.append(String(decoding: data, as: UTF8.self)) }
        return true
    }
    var recorded: [String] { lock.withLock { events } }
}

@Suite struct HTTPClientTests {
    @Test func aHeaderWithALineBreakIsNeverSent() async throws {
        let server = try TestHTTPServer(responses: [.json("{}")])
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [("X-Key", "a\r\nInjected: yes")], body: [])
        let outcome = await HTTPClient().perform(spec, timeout: 5, handler: RecordingHandler(), cancellation: CancellationSignal())
        #expect(outcome == .failed(#"header "X-Key" contains a line break"#, lasting: true))
        #expect(server.requests.isEmpty)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aSlowFirstByteTimesOutAndTheBodyArrivesInOrder(client: HTTPClient.PlainHTTPClient) async throws {
        let server = try TestHTTPServer(responses: [.json("{}", delay: 1), .json(#"{"a":1}"#)])
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [], body: Array("{}".utf8))
        let transport = HTTPClient(plainHTTP: client)
        defer { transport.shutdown() }
        let first = await transport.perform(spec, timeout: 0.2, handler: RecordingHandler(), cancellation: CancellationSignal())
        #expect(first == .timedOut)
        let handler = RecordingHandler()
        #expect(await transport.perform(spec, timeout: 5, handler: handler, cancellation: CancellationSignal()) == .completed)
        #expect(handler.recorded == ["status 200", #"{"a":1}"#])
    }

    /// Valid HTTP that FoundationNetworking's URLSession refused (no reason phrase) or
    /// stopped the process on (trailer fields after a chunked body): both clients take it.
    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func aStatusWithoutReasonAndAChunkedBodyWithTrailersAreAccepted(client: HTTPClient.PlainHTTPClient) async throws {
        var response = TestHTTPServer.Response(status: 200, headers: [("Content-Type", "application/json")], parts: [.bytes(Array(#"{"a":"#.utf8)), .bytes(Array("1}".utf8))], framing: .chunked)
        response.reasonPhrase = ""
        response.trailers = [("X-Checksum", "abc"), ("Server-Timing", "total;dur=12")]
        let server = try TestHTTPServer(responses: [response])
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        let handler = RecordingHandler()
        let outcome = await HTTPClient(plainHTTP: client).perform(spec, timeout: 5, handler: handler, cancellation: CancellationSignal())
        #expect(outcome == .completed)
        #expect(handler.recorded.first == "status 200")
        #expect(handler.recorded.dropFirst().joined() == #"{"a":1}"#)
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func cancellingStopsAStalledExchangeAtOnce(client: HTTPClient.PlainHTTPClient) async throws {
        // The server stays silent for 30 s; the exchange must end soon after the cancel,
        // whatever the machine's load.
        let server = try TestHTTPServer(responses: [.json("{}", delay: 30)], lifetime: 40)
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [], body: [])
        let cancellation = CancellationSignal()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.2) { cancellation.cancel() }
        let started = ContinuousClock.now
        let outcome = await HTTPClient(plainHTTP: client).perform(spec, timeout: 60, handler: RecordingHandler(), cancellation: cancellation)
        #expect(outcome == .cancelled)
        #expect(ContinuousClock.now - started < .seconds(15))
    }

    @Test func anEmptyHeaderValueIsSentEmptyNotDropped() async throws {
        let server = try TestHTTPServer(responses: [.json("{}")])
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [("X-Empty", ""), ("X-Full", "v")], body: [])
        let outcome = await HTTPClient(plainHTTP: .curl).perform(spec, timeout: 5, handler: RecordingHandler(), cancellation: CancellationSignal())
        #expect(outcome == .completed)
        let request = try #require(server.requests.first)
        #expect(request.header("x-empty") == "" && request.header("x-full") == "v")
        #expect(request.header("expect") == nil)
    }

    @Test func aRedirectIsTheAnswerAndIsNotFollowed() async throws {
        let target = try TestHTTPServer(responses: [.json("{}")])
        let server = try TestHTTPServer(responses: [.json("", status: 307, headers: [("Location", target.baseURL + "/stolen")])])
        let spec = HTTPRequestSpec(url: server.baseURL + "/x", headers: [("Authorization", "Bearer secret")], body: [])
        let handler = RecordingHandler()
        let outcome = await HTTPClient(plainHTTP: .curl).perform(spec, timeout: 5, handler: handler, cancellation: CancellationSignal())
        #expect(outcome == .completed)
        #expect(handler.recorded.first == "status 307")
        #expect(target.requests.isEmpty)
    }

    @Test func aMissingLibcurlIsALastingFailureThatSaysWhatToInstall() async throws {
        let transport = HTTPClient(library: .path("/nonexistent/libcurl.so.4"))
        let spec = HTTPRequestSpec(url: "https://api.openai.com/v1/chat/completions", headers: [], body: [])
        let outcome = await transport.perform(spec, timeout: 1, handler: RecordingHandler(), cancellation: CancellationSignal())
        guard case .failed(let detail, let lasting) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(lasting)
        #expect(detail.contains("/nonexistent/libcurl.so.4") && detail.contains("libcurl4") && detail.contains("MODELROUTE_LIBCURL"), "\(detail)")
    }

    @Test func libcurlIsLookedForByItsSystemNamesUnlessAPathIsGiven() {
        #expect(CurlLibrary.candidates(.system, environment: [:]).first == "libcurl.so.4")
        #expect(CurlLibrary.candidates(.system, environment: ["MODELROUTE_LIBCURL": "/opt/x.so"]) == ["/opt/x.so"])
    }

    @Test func aConnectionRefusedOverHTTPSIsAFailureARetryMayFix() async throws {
        let spec = HTTPRequestSpec(url: "https://127.0.0.1:9/v1", headers: [], body: [])
        let outcome = await HTTPClient().perform(spec, timeout: 5, handler: RecordingHandler(), cancellation: CancellationSignal())
        guard case .failed(let detail, let lasting) = outcome else {
            Issue.record("expected a failure, got \(outcome)")
            return
        }
        #expect(!lasting)
        #expect(detail.contains("127.0.0.1"), "\(detail)")
    }
}

/// Runs a built product; its exit status, standard output and standard error.
func runProduct(_ path: String, _ arguments: [String], environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let (process, output, errors) = pipedProcess(path, arguments, environment: environment)
    process.standardInput = FileHandle.nullDevice
    try process.run()
    let stdout = output.fileHandleForReading.readDataToEndOfFile()
    let stderr = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

@Suite struct StartupLinkingTests {
    /// The dynamic loader's list of what a program loads at start (what `ldd` prints).
    func loadedAtStart(_ path: String) throws -> String {
        try runProduct(path, [], environment: ["LD_TRACE_LOADED_OBJECTS": "1"]).stdout
    }

    @Test func theCommandStartsWithoutNetworkingLibraries() throws {
        let binary = try #require(builtProduct("modelroute"))
        let atStart = try loadedAtStart(binary)
        #expect(atStart.contains("libFoundationEssentials"), "\(atStart)")
        #expect(!atStart.contains("libFoundationNetworking") && !atStart.contains("libcurl") && !atStart.contains("libssl"), "\(atStart)")
        // The same check with libcurl preloaded finds it: the test can fail.
        let process = try runProduct("/usr/bin/env", ["LD_TRACE_LOADED_OBJECTS=1", binary], environment: ["LD_PRELOAD": "libcurl.so.4"])
        #expect(process.stdout.contains("libcurl"))
    }

    @Test(arguments: HTTPClient.PlainHTTPClient.allCases)
    func theCommandCallsOverEitherClient(client: HTTPClient.PlainHTTPClient) throws {
        let binary = try #require(builtProduct("modelroute"))
        // A status line without a reason phrase and trailer fields after the stream: valid
        // HTTP that FoundationNetworking refused or crashed on.
        var response = TestHTTPServer.Response.sse(Canned.openAIStream(["over ", client.rawValue]))
        response.reasonPhrase = ""
        response.trailers = [("X-Request-Cost", "0.01")]
        let server = try TestHTTPServer(responses: [response])
        let fixture = try processFixture(baseURL: server.baseURL)
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let run = try runProduct(
            binary, ["--routes", fixture.routes, "hello"],
            environment: ["TEST_OPENAI_KEY": fakeOpenAIKey, "MODELROUTE_LOG": fixture.directory + "/usage.jsonl", "HOME": fixture.directory, "MODELROUTE_HTTP_CLIENT": client.rawValue])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "over \(client.rawValue)\n")
    }

    @Test func withoutLibcurlAnHTTPSCallFailsSayingWhatToInstall() throws {
        let binary = try #require(builtProduct("modelroute"))
        let fixture = try processFixture(baseURL: "https://127.0.0.1:9/v1")
        defer { try? FileManager.default.removeItem(atPath: fixture.directory) }
        let run = try runProduct(
            binary, ["--routes", fixture.routes, "hello"],
            environment: ["TEST_OPENAI_KEY": fakeOpenAIKey, "MODELROUTE_LOG": fixture.directory + "/usage.jsonl", "HOME": fixture.directory,
                "MODELROUTE_LIBCURL": fixture.directory + "/missing.so"])
        #expect(run.status == 69)
        #expect(run.stderr.contains("missing.so") && run.stderr.contains("libcurl4"), "\(run.stderr)")
        #expect(!run.stderr.contains(fakeOpenAIKey))
    }

    /// A call that ends at once (here: its key is missing) while libcurl is still being
    /// loaded ahead of it must exit cleanly: exit handlers running under `dlopen` or
    /// libcurl's TLS set-up crashed about one run in a hundred and fifty.
    @Test func anEarlyExitWhileLibcurlLoadsNeverCrashes() throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        for _ in 0..<100 {
            let run = try runProduct(binary, ["hello"], environment: ["HOME": directory.path, "MODELROUTE_LOG": directory.path + "/usage.jsonl", "PATH": "/usr/bin:/bin"])
            #expect(run.status == 78, "\(run.stderr)")
            if run.status != 78 { break }
        }
    }

    @Test func anUnknownClientNameIsAUsageError() throws {
        let binary = try #require(builtProduct("modelroute"))
        let run = try runProduct(binary, ["--offline", "hi"], environment: ["MODELROUTE_HTTP_CLIENT": "wget", "HOME": "/nonexistent"])
        #expect(run.status == 64)
        #expect(run.stderr.contains("MODELROUTE_HTTP_CLIENT") && run.stderr.contains("builtin or curl"), "\(run.stderr)")
    }
}
