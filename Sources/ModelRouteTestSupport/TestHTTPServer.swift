#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import ModelRouteKit

/// A loopback HTTP/1.1 server for tests and benchmarks: it listens on 127.0.0.1 at a
/// port the system picks, answers each request with the next scripted response, and
/// records what it received. It stops by itself after `lifetime` seconds.
public final class TestHTTPServer: Sendable {
    /// A request as received.
    public struct Request: Sendable {
        public var method: String
        /// Path and query, as sent.
        public var path: String
        /// Header names (lowercased) and values, in order.
        public var headers: [(name: String, value: String)]
        public var body: [UInt8]

        /// The first value of a header.
        public func header(_ name: String) -> String? { headers.first { $0.name == name.lowercased() }?.value }
        /// The body as text.
        public var bodyText: String { String(decoding: body, as: UTF8.self) }
        /// The whole request as text, headers and body, for "never contains" checks.
        public var rawText: String {
            "\(method) \(path)\n" + headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n") + "\n\n" + bodyText
        }
    }

    /// What to send back for one request.
    public struct Response: Sendable {
        /// How the body's end is signalled.
        public enum Framing: Sendable {
            /// `Content-Length` (the declared length may be larger, to fake a cut).
            case contentLength(Int?)
            /// `Transfer-Encoding: chunked`, one chunk per part.
            case chunked
            /// No length: the body ends when the connection closes.
            case close
        }

        /// One step of sending the body.
        public enum Part: Sendable {
            /// Bytes to send, in one write.
            case bytes([UInt8])
            /// A pause before the next part.
            case pause(Double)
            /// Close the connection now, whatever the framing promised.
            case hangUp
        }

        public var status: Int
        public var headers: [(name: String, value: String)]
        public var parts: [Part]
        public var framing: Framing
        /// Seconds to wait before sending anything.
        public var delay: Double
        /// The status line's reason phrase: nil for the usual one, "" for none at all
        /// (`HTTP/1.1 200`, which is valid HTTP).
        public var reasonPhrase: String? = nil
        /// Trailer fields after the last chunk of a chunked body.
        public var trailers: [(name: String, value: String)] = []
        /// Bytes sent as the whole response instead of the above, then the connection closes.
        public var raw: [UInt8]? = nil

        /// Exactly `bytes` as the response, status line and framing included (or not).
        public static func raw(_ bytes: [UInt8]) -> Response {
            var response = Response(parts: [])
            response.raw = bytes
            return response
        }

        public init(status: Int = 200, headers: [(name: String, value: String)] = [], parts: [Part], framing: Framing = .contentLength(nil), delay: Double = 0) {
            self.status = status
            self.headers = headers
            self.parts = parts
            self.framing = framing
            self.delay = delay
        }

        /// A JSON (or any text) body with a status and optional extra headers.
        public static func json(_ text: String, status: Int = 200, headers: [(name: String, value: String)] = [], delay: Double = 0) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")] + headers, parts: [.bytes(Array(text.utf8))], delay: delay)
        }

        /// An HTML page, as a misconfigured proxy sends.
        public static func html(status: Int = 200) -> Response {
            Response(status: status, headers: [("Content-Type", "text/html")], parts: [.bytes(Array("<!DOCTYPE html><html><body><h1>Gateway</h1></body></html>".utf8))])
        }

        /// An SSE stream of `events` (each one event's lines, without the blank line).
        /// `lineEnding` is "\n" or "\r\n"; `splitEvery` cuts the byte stream into writes of
        /// that many bytes (with `pause` between them); `keepAlive` puts a comment before each event;
        /// `hangUpAfter` closes the connection after that many events.
        public static func sse(
            _ events: [String], lineEnding: String = "\n", splitEvery: Int? = nil, pause: Double = 0,
            keepAlive: Bool = false, hangUpAfter: Int? = nil, framing: Framing = .chunked
        ) -> Response {
            var stream: [UInt8] = []
            var boundaries: [Int] = []
            for (index, event) in events.enumerated() {
                if let hangUpAfter, index == hangUpAfter { break }
                if keepAlive { stream += Array((": keep-alive" + lineEnding + lineEnding).utf8) }
                let lines = event.split(separator: "\n", omittingEmptySubsequences: false)
                stream += Array((lines.joined(separator: lineEnding) + lineEnding + lineEnding).utf8)
                boundaries.append(stream.count)
            }
            var parts: [Part] = []
            if let splitEvery, splitEvery > 0 {
                var offset = 0
                while offset < stream.count {
                    let end = min(offset + splitEvery, stream.count)
                    parts.append(.bytes(Array(stream[offset..<end])))
                    if pause > 0 { parts.append(.pause(pause)) }
                    offset = end
                }
            } else {
                var start = 0
                for end in boundaries {
                    parts.append(.bytes(Array(stream[start..<end])))
                    if pause > 0 { parts.append(.pause(pause)) }
                    start = end
                }
            }
            if hangUpAfter != nil { parts.append(.hangUp) }
            return Response(status: 200, headers: [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")], parts: parts, framing: framing)
        }
    }

    /// Mutable state shared with the serving threads.
    private struct State {
        var requests: [Request] = []
        var stopped = false
        var sendTimes: [Int: [Double]] = [:]
    }

    /// The port the server listens on.
    public let port: UInt16
    /// The listening socket.
    private let listener: Int32
    /// Requests and the stop flag.
    private let state = Mutex(State())
    /// Chooses the response for each request.
    private let respond: @Sendable (Request, Int) -> Response
    /// When the server stops by itself.
    private let deadline: Date

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Serves `responses` in order; requests beyond them get a 500 saying so.
    public convenience init(responses: [Response], lifetime: Double = 30) throws {
        try self.init(lifetime: lifetime) { _, index in
            index < responses.count ? responses[index] : .json(#"{"error":{"message":"the test server has no response scripted for this request"}}"#, status: 500)
        }
    }

    /// Serves whatever `respond` returns for each request (with its 0-based number).
    public init(lifetime: Double = 30, respond: @escaping @Sendable (Request, Int) -> Response) throws {
        self.respond = respond
        deadline = Date().addingTimeInterval(lifetime)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw SystemError(operation: "socket", code: errno) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            let code = errno
            close(descriptor)
            throw SystemError(operation: "bind/listen", code: code)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        listener = descriptor
        port = UInt16(bigEndian: actual.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        stop()
    }

    /// Every request received so far, in order.
    public var requests: [Request] { state.withLock { $0.requests } }

    /// For each request (by number), when each body part was handed to the kernel,
    /// in `MonotonicClock` seconds (the benchmark's per-chunk latency measure).
    public func sendTimes(request: Int) -> [Double] { state.withLock { $0.sendTimes[request] ?? [] } }

    /// Stops accepting connections (open ones finish their response).
    public func stop() {
        let wasRunning = state.withLock { state -> Bool in
            defer { state.stopped = true }
            return !state.stopped
        }
        if wasRunning { shutdown(listener, Int32(SHUT_RDWR)) }
    }

    /// Waits until `count` requests have arrived or `timeout` passes; returns whether they did.
    public func waitForRequests(_ count: Int, timeout: Double = 10) -> Bool {
        let end = Date().addingTimeInterval(timeout)
        while Date() < end {
            if requests.count >= count { return true }
            usleep(1000)
        }
        return requests.count >= count
    }

    /// Whether it was stopped or its lifetime is over.
    private var isStopped: Bool { state.withLock { $0.stopped } || Date() > deadline }

    /// Accepts connections until stopped, one thread each.
    private func acceptLoop() {
        defer { close(listener) }
        while !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 50) > 0 else { continue }
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { continue }
            var noDelay: Int32 = 1
            setsockopt(connection, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
            let thread = Thread { [self] in serve(connection) }
            thread.start()
        }
    }

    /// Reads requests on one connection and answers each; closes after a response
    /// that says `Connection: close` (all of them).
    private func serve(_ connection: Int32) {
        defer { close(connection) }
        var buffer: [UInt8] = []
        guard let request = readRequest(connection, &buffer) else { return }
        let index = state.withLock { state -> Int in
            state.requests.append(request)
            return state.requests.count - 1
        }
        let response = respond(request, index)
        if response.delay > 0 { usleep(UInt32(response.delay * 1_000_000)) }
        if let raw = response.raw {
            _ = send(connection, raw)
            return
        }
        let reason = response.reasonPhrase ?? Self.reason(response.status)
        var head = "HTTP/1.1 \(response.status)\(reason.isEmpty ? "" : " " + reason)\r\n"
        for header in response.headers { head += "\(header.name): \(header.value)\r\n" }
        let bodyLength = response.parts.reduce(0) { total, part in
            if case .bytes(let bytes) = part { return total + bytes.count }
            return total
        }
        switch response.framing {
        case .contentLength(let declared): head += "Content-Length: \(declared ?? bodyLength)\r\n"
        case .chunked: head += "Transfer-Encoding: chunked\r\n"
        case .close: break
        }
        head += "Connection: close\r\n\r\n"
        guard send(connection, Array(head.utf8)) else { return }
        for part in response.parts {
            switch part {
            case .bytes(let bytes):
                if case .chunked = response.framing {
                    guard !bytes.isEmpty else { continue }
                    guard send(connection, Array((String(bytes.count, radix: 16) + "\r\n").utf8) + bytes + Array("\r\n".utf8)) else { return }
                } else {
                    guard send(connection, bytes) else { return }
                }
                let sent = MonotonicClock.now()
                state.withLock { $0.sendTimes[index, default: []].append(sent) }
            case .pause(let seconds):
                usleep(UInt32(seconds * 1_000_000))
            case .hangUp:
                return
            }
        }
        if case .chunked = response.framing {
            let trailers = response.trailers.map { "\($0.name): \($0.value)\r\n" }.joined()
            _ = send(connection, Array("0\r\n\(trailers)\r\n".utf8))
        }
    }

    /// Reads one request (head and `Content-Length` body); answers `Expect: 100-continue`.
    private func readRequest(_ connection: Int32, _ buffer: inout [UInt8]) -> Request? {
        let separator: [UInt8] = [13, 10, 13, 10]
        var headEnd: Int?
        var chunk = [UInt8](repeating: 0, count: 65536)
        while headEnd == nil {
            guard let count = receive(connection, &chunk) else { return nil }
            buffer += chunk[0..<count]
            if buffer.count >= 4 {
                for index in 0...(buffer.count - 4) where buffer[index..<index + 4].elementsEqual(separator) {
                    headEnd = index
                    break
                }
            }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        guard requestLine.count >= 2 else { return nil }
        var headers: [(name: String, value: String)] = []
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        var request = Request(method: String(requestLine[0]), path: String(requestLine[1]), headers: headers, body: [])
        let length = Int(request.header("content-length") ?? "0") ?? 0
        var body = Array(buffer[(headEnd + 4)...])
        if request.header("expect")?.lowercased() == "100-continue", body.count < length {
            guard send(connection, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return nil }
        }
        while body.count < length {
            guard let count = receive(connection, &chunk) else { return nil }
            body += chunk[0..<count]
        }
        request.body = Array(body.prefix(length))
        return request
    }

    /// One `recv` with a poll so that a silent client cannot hold a thread past the deadline.
    private func receive(_ connection: Int32, _ chunk: inout [UInt8]) -> Int? {
        while true {
            if Date() > deadline { return nil }
            var poller = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 50)
            if ready == 0 { continue }
            if ready < 0 { return errno == EINTR ? 0 : nil }
            let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            return count > 0 ? count : nil
        }
    }

    /// Writes all bytes; false when the client went away.
    private func send(_ connection: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.send(connection, base + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }

    /// The reason phrase for a status.
    static func reason(_ status: Int) -> String {
        switch status {
        case 200: return "OK"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 422: return "Unprocessable Entity"
        case 429: return "Too Many Requests"
        case 500: return "Internal Server Error"
        case 502: return "Bad Gateway"
        case 503: return "Service Unavailable"
        case 504: return "Gateway Timeout"
        case 529: return "Overloaded"
        default: return "Status"
        }
    }
}
