#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// A real `redis-server` (Debian package `redis-server`) on 127.0.0.1 at a free port, with
/// its own temporary folder and no persistence, for tests and benchmarks. It stops when
/// `stop()` is called or the object goes away.
public final class RedisTestServer: @unchecked Sendable {
    /// Where the server binary is looked for.
    public static let candidates = ["/usr/bin/redis-server", "/usr/local/bin/redis-server", "/usr/sbin/redis-server"]

    /// The installed binary, if any.
    public static var binary: String? { candidates.first { FileManager.default.isExecutableFile(atPath: $0) } }

    public let port: UInt16
    public let directory: String
    private let process: Process

    /// `redis://127.0.0.1:PORT/DB`.
    public func url(database: Int = 0) -> String { "redis://127.0.0.1:\(port)/\(database)" }

    /// Starts a server; `password` turns on AUTH. Waits until it accepts connections.
    public init(password: String? = nil) throws {
        guard let binary = RedisTestServer.binary else {
            throw TestServerFailure("redis-server is not installed: apt-get install redis-server (.ci/run installs it)")
        }
        port = try RedisTestServer.freePort()
        directory = NSTemporaryDirectory() + "modelroute-redis-\(getpid())-\(port)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--dir", directory, "--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", ""]
        if let password { arguments += ["--requirepass", password] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while !RedisTestServer.accepts(port: port) {
            guard Date() < deadline, process.isRunning else {
                stop()
                throw TestServerFailure("redis-server did not start on port \(port)")
            }
            usleep(10_000)
        }
    }

    /// Stops the server (and waits for it to go).
    public func stop() {
        if process.isRunning {
            // SIGKILL: the server keeps nothing, and a child of the test runner may have
            // SIGTERM blocked.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    deinit { stop() }

    /// A port nothing listens on now (the system's pick for a socket bound to port 0).
    static func freePort() throws -> UInt16 {
        let (descriptor, port) = try LoopbackSocket.bound(listening: false)
        close(descriptor)
        return port
    }

    /// Whether something accepts connections on the port.
    static func accepts(port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// A test server that could not be started.
public struct TestServerFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
