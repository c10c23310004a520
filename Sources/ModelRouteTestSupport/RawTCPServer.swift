#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A loopback TCP server that misbehaves on purpose, for clients of protocols other than
/// HTTP (Redis): on each connection it reads what arrives first, then does as told.
public final class RawTCPServer: @unchecked Sendable {
    /// What to do on a connection.
    public enum Behaviour: Sendable {
        /// Write these bytes, then close.
        case reply([UInt8])
        /// Say nothing for this many seconds, then close.
        case silence(Double)
        /// Close at once.
        case hangUp
    }

    public let port: UInt16
    private let listener: Int32
    private let behaviour: Behaviour

    public init(_ behaviour: Behaviour) throws {
        self.behaviour = behaviour
        let (descriptor, port) = try LoopbackSocket.bound(listening: true)
        self.port = port
        listener = descriptor
        Thread { [self] in acceptLoop() }.start()
    }

    /// Stops listening.
    public func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    deinit {
        stop()
        close(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            let behaviour = self.behaviour
            Thread {
                var buffer = [UInt8](repeating: 0, count: 4096)
                _ = recv(connection, &buffer, buffer.count, 0)
                switch behaviour {
                case .reply(let bytes): _ = bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                case .silence(let seconds): usleep(UInt32(seconds * 1_000_000))
                case .hangUp: break
                }
                close(connection)
            }.start()
        }
    }
}

/// A loopback port that refuses connections for as long as this object lives: bound but
/// not listening, so no other socket (another test's server) can take it meanwhile.
public final class RefusingPort: @unchecked Sendable {
    public let port: UInt16
    private let descriptor: Int32

    public init() throws {
        let (descriptor, port) = try LoopbackSocket.bound(listening: false)
        self.port = port
        self.descriptor = descriptor
    }

    /// `http://127.0.0.1:PORT`.
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    deinit { close(descriptor) }
}

/// A TCP socket bound to 127.0.0.1 at a port the system picks.
enum LoopbackSocket {
    /// The socket and its port; `listening` makes it accept connections (else they are refused).
    static func bound(listening: Bool) throws -> (descriptor: Int32, port: UInt16) {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw TestServerFailure("socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, !listening || listen(descriptor, 16) == 0 else {
            let code = errno
            close(descriptor)
            throw TestServerFailure("bind/listen: \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, UInt16(bigEndian: address.sin_port))
    }
}
