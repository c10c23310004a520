import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// A non-blocking TCP connection whose every wait is bounded by `timeout` and ends at
/// once when `wake` is signalled: what the plain HTTP client and the Redis client share.
struct TCPSocket {
    /// Why a connection or a wait ended early.
    enum Failure: Error, Equatable {
        case timedOut
        case cancelled
        case failed(String)
    }

    /// The socket; -1 once closed.
    private(set) var descriptor: Int32
    /// Seconds any one wait may take.
    let timeout: Double
    /// Ends waits early when written to (Ctrl-C); nil for none.
    let wake: WakePipe?

    /// Opens a connection to the first address of `host` that accepts one.
    static func connect(host: String, port: UInt16, authority: String, timeout: Double, wake: WakePipe?) -> Result<TCPSocket, Failure> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            return .failure(.failed("could not resolve host \(host): \(String(cString: gai_strerror(status)))"))
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
            var socket = TCPSocket(descriptor: descriptor, timeout: timeout, wake: wake)
            if Glibc.connect(descriptor, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 {
                guard errno == EINPROGRESS else {
                    lastError = errno
                    socket.close()
                    continue
                }
                if let ending = socket.wait(for: Int16(POLLOUT)) {
                    socket.close()
                    return .failure(ending)
                }
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
                if error != 0 {
                    lastError = error
                    socket.close()
                    continue
                }
            }
            // Requests leave in one write; answers should not wait for acknowledgements.
            var on: Int32 = 1
            setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            return .success(socket)
        }
        return .failure(.failed("could not connect to \(authority): \(SystemError.text(lastError))"))
    }

    /// Waits until the socket is ready for `events` (nil), or says why the wait ended instead.
    func wait(for events: Int16) -> Failure? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(max(timeout, 0.001) * 1_000_000_000)
        while true {
            var fds = [pollfd(fd: descriptor, events: events, revents: 0), pollfd(fd: wake?.readEnd ?? -1, events: Int16(POLLIN), revents: 0)]
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

    /// Writes all of `bytes`; `what` names them in a failure ("sending the request: …").
    func send(_ bytes: [UInt8], what: String) -> Failure? {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written > 0 {
                offset += written
                continue
            }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { return .failed("\(what): \(SystemError.text(errno))") }
            if let ending = wait(for: Int16(POLLOUT)) { return ending }
        }
        return nil
    }

    /// Reads what has arrived into `buffer`, waiting for it; 0 at the end of the connection.
    func receive(into buffer: UnsafeMutableRawBufferPointer, what: String) -> Result<Int, Failure> {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return .success(count) }
            if errno == EINTR { continue }
            guard errno == EAGAIN || errno == EWOULDBLOCK else {
                return .failure(.failed(errno == ECONNRESET ? "the server reset the connection" : "\(what): \(SystemError.text(errno))"))
            }
            if let ending = wait(for: Int16(POLLIN)) { return .failure(ending) }
        }
    }

    /// Closes the connection.
    mutating func close() {
        if descriptor >= 0 { Glibc.close(descriptor) }
        descriptor = -1
    }
}
