import Dispatch
import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Where a plain `http://` URL points.
struct HTTPEndpoint: Equatable, Sendable {
    /// The host name or address, without IPv6 brackets.
    var host: String
    var port: UInt16
    /// The request target: path and query, at least "/".
    var target: String
    /// The `Host` header's value: the host as written, and the port unless it is 80.
    var authority: String

    /// Whether `url` is a plain `http://` URL (the scheme is case-insensitive).
    static func isPlainHTTP(_ url: String) -> Bool {
        url.prefix(7).lowercased() == "http://"
    }

    init(host: String, port: UInt16, target: String, authority: String) {
        (self.host, self.port, self.target, self.authority) = (host, port, target, authority)
    }

    /// Parses `http://host[:port][/path][?query]`; nil for anything else, including
    /// user info, an empty host, a bad port, and spaces or control characters.
    init?(url: String) {
        guard url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }), HTTPEndpoint.isPlainHTTP(url) else { return nil }
        var rest = Substring(url.dropFirst(7))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...]
        guard !authority.isEmpty, !authority.contains("@") else { return nil }
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portPart = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        if let portPart {
            guard !portPart.isEmpty, portPart.count <= 5, portPart.allSatisfy(\.isASCII), let port = UInt16(portPart), port > 0 else { return nil }
            self.port = port
        } else {
            self.port = 80
        }
        host = String(hostPart)
        target = path.isEmpty ? "/" : (path.hasPrefix("?") ? "/" + path : String(path))
        let bracketed = authority.hasPrefix("[") ? "[\(host)]" : host
        self.authority = port == 80 ? bracketed : "\(bracketed):\(port)"
    }
}

/// Plain HTTP/1.1 over a socket, one connection per request: what local and
/// OpenAI-compatible servers on `http://` need, with none of libcurl's start-up cost.
///
/// The exchange runs on a Dispatch thread (blocking I/O stays off Swift's cooperative
/// pool); it waits in `poll` on the socket and on a pipe that cancellation writes to,
/// so Ctrl-C stops it at once, and each wait is bounded by the timeout.
final class SocketTransport: Sendable {
    func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome {
        guard let endpoint = HTTPEndpoint(url: spec.url) else { return .failed("invalid URL", lasting: true) }
        if let problem = spec.unsendable { return .failed(problem, lasting: true) }
        guard let wake = WakePipe() else { return .failed("cannot create a pipe: \(SystemError.text(errno))") }
        let token = cancellation.onCancel { wake.signal() }
        defer { cancellation.remove(token) }
        if cancellation.isCancelled { return .cancelled }
        let request = SocketTransport.requestBytes(spec, endpoint: endpoint)
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                var exchange = SocketExchange(endpoint: endpoint, timeout: timeout, wake: wake, handler: handler)
                continuation.resume(returning: exchange.run(request))
            }
        }
    }

    /// Header names the client writes itself.
    static let ownHeaders: Set<String> = ["host", "content-length", "connection", "transfer-encoding"]

    /// The request as sent: head and body in one buffer, so that it leaves in one write.
    static func requestBytes(_ spec: HTTPRequestSpec, endpoint: HTTPEndpoint) -> [UInt8] {
        var head = "POST \(endpoint.target) HTTP/1.1\r\nHost: \(endpoint.authority)\r\n"
        var hasAgent = false
        for header in spec.headers where !ownHeaders.contains(header.name.lowercased()) {
            if header.name.lowercased() == "user-agent" { hasAgent = true }
            head += "\(header.name): \(header.value)\r\n"
        }
        if !hasAgent { head += "User-Agent: modelroute\r\n" }
        head += "Content-Length: \(spec.body.count)\r\nConnection: close\r\n\r\n"
        return Array(head.utf8) + spec.body
    }
}

/// A pipe whose read end a `poll` watches, so that another thread can end the wait.
final class WakePipe: Sendable {
    let readEnd: Int32
    let writeEnd: Int32

    init?() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return nil }
        (readEnd, writeEnd) = (ends[0], ends[1])
        for end in ends {
            _ = fcntl(end, F_SETFD, FD_CLOEXEC)
            _ = fcntl(end, F_SETFL, fcntl(end, F_GETFL) | O_NONBLOCK)
        }
    }

    func signal() {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }
}

/// One request on one connection.
struct SocketExchange {
    let endpoint: HTTPEndpoint
    let timeout: Double
    let wake: WakePipe
    let handler: any HTTPResponseHandler

    init(endpoint: HTTPEndpoint, timeout: Double, wake: WakePipe, handler: any HTTPResponseHandler) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.wake = wake
        self.handler = handler
    }

    /// Connects, sends `request`, and reads the response to its end.
    mutating func run(_ request: [UInt8]) -> TransportOutcome {
        var socket: TCPSocket
        switch TCPSocket.connect(host: endpoint.host, port: endpoint.port, authority: endpoint.authority, timeout: timeout, wake: wake) {
        case .success(let connected): socket = connected
        case .failure(let failure): return SocketExchange.outcome(failure)
        }
        defer { socket.close() }
        if let failure = socket.send(request, what: "sending the request") { return SocketExchange.outcome(failure) }
        return receive(socket)
    }

    /// How a socket failure ends the exchange.
    static func outcome(_ failure: TCPSocket.Failure) -> TransportOutcome {
        switch failure {
        case .timedOut: return .timedOut
        case .cancelled: return .cancelled
        case .failed(let message): return .failed(message)
        }
    }

    /// Reads the response and hands it to the handler as it arrives.
    private func receive(_ socket: TCPSocket) -> TransportOutcome {
        var reader = HTTPResponseReader()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count: Int
            switch socket.receive(into: buffer, what: "reading the response") {
            case .success(let received): count = received
            case .failure(let failure): return SocketExchange.outcome(failure)
            }
            do throws(HTTPResponseReader.Malformed) {
                let events = try count == 0 ? reader.finish() : reader.feed(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                for event in events {
                    switch event {
                    case .head(let status, let headers):
                        if !handler.receive(status: status, headers: headers) { return .completed }
                    case .body(let bytes):
                        if !handler.receive(data: Data(bytes)) { return .completed }
                    case .end:
                        return .completed
                    }
                }
                // The end of the connection ends the exchange, whatever the reader made of it.
                if count == 0 { return .completed }
            } catch {
                return .failed(error.detail)
            }
        }
    }
}
