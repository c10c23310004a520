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
    private var socket: Int32 = -1

    init(endpoint: HTTPEndpoint, timeout: Double, wake: WakePipe, handler: any HTTPResponseHandler) {
        self.endpoint = endpoint
        self.timeout = timeout
        self.wake = wake
        self.handler = handler
    }

    /// Connects, sends `request`, and reads the response to its end.
    mutating func run(_ request: [UInt8]) -> TransportOutcome {
        defer { if socket >= 0 { close(socket) } }
        if let failure = connect() { return failure }
        if let failure = send(request) { return failure }
        return receive()
    }

    /// Waits until the socket is ready for `events` (nil), or says how the exchange ends
    /// instead: timed out, cancelled, or failed.
    private func wait(for events: Int16) -> TransportOutcome? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(timeout, 0.001) * 1_000_000_000)
        while true {
            var fds = [pollfd(fd: socket, events: events, revents: 0), pollfd(fd: wake.readEnd, events: Int16(POLLIN), revents: 0)]
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { return .timedOut }
            let milliseconds = Int32(clamping: (deadline - now + 999_999) / 1_000_000)
            let result = poll(&fds, 2, milliseconds)
            if result < 0 {
                if errno == EINTR { continue }
                return .failed("poll: \(SystemError.text(errno))")
            }
            if fds[1].revents != 0 { return .cancelled }
            if fds[0].revents != 0 { return nil }
        }
    }

    /// Opens a connection to the first address of the host that accepts one.
    private mutating func connect() -> TransportOutcome? {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            return .failed("could not resolve host \(endpoint.host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(first) }
        var lastError: Int32 = ECONNREFUSED
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let address = candidate {
            candidate = address.pointee.ai_next
            let descriptor = Glibc.socket(address.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard descriptor >= 0 else {
                lastError = errno
                continue
            }
            socket = descriptor
            if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else {
                    lastError = errno
                    close(descriptor)
                    socket = -1
                    continue
                }
                if let ending = wait(for: Int16(POLLOUT)) { return ending }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 {
                    lastError = error
                    close(descriptor)
                    socket = -1
                    continue
                }
            }
            // The request leaves in one write; answers should not wait for acknowledgements.
            var on: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            return nil
        }
        return .failed("could not connect to \(endpoint.authority): \(SystemError.text(lastError))")
    }

    /// Writes all of `bytes`.
    private func send(_ bytes: [UInt8]) -> TransportOutcome? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.send(socket, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return .failed("sending the request: \(SystemError.text(errno))") }
            if let ending = wait(for: Int16(POLLOUT)) { return ending }
        }
        return nil
    }

    /// Reads the response and hands it to the handler as it arrives.
    private func receive() -> TransportOutcome {
        var reader = HTTPResponseReader()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = recv(socket, buffer.baseAddress, buffer.count, 0)
            if count < 0 {
                if errno == EINTR { continue }
                guard errno == EAGAIN || errno == EWOULDBLOCK else {
                    return .failed(errno == ECONNRESET ? "the server reset the connection" : "reading the response: \(SystemError.text(errno))")
                }
                if let ending = wait(for: Int16(POLLIN)) { return ending }
                continue
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
