import Synchronization

/// Why Redis could not be used, in words; never holds the password.
public struct RedisFailure: Error, Sendable, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// One connection to Redis: AUTH and SELECT once, then one command at a time, each
/// reply awaited within the timeout.
struct RedisConnection {
    private var socket: TCPSocket
    private var buffer: [UInt8] = []
    let location: RedisLocation

    /// Connects, authenticates and selects the database.
    static func open(_ location: RedisLocation, password: String?) -> Result<RedisConnection, RedisFailure> {
        let authority = "\(location.host):\(location.port)"
        switch TCPSocket.connect(host: location.host, port: location.port, authority: authority, timeout: location.timeoutSeconds, wake: nil) {
        case .failure(let failure):
            return .failure(RedisFailure(describe(failure, location: location)))
        case .success(let socket):
            var connection = RedisConnection(socket: socket, location: location)
            if let password {
                let arguments = (location.user.map { [Array($0.utf8)] } ?? []) + [Array(password.utf8)]
                let refused = "\(location.display) refused the password from $\(location.passwordEnvironmentVariable ?? "?"): "
                if let failure = connection.handshake([Array("AUTH".utf8)] + arguments, secret: password, refused: { refused + $0 }) { return .failure(failure) }
            }
            if location.database != 0 {
                let select = [Array("SELECT".utf8), Array(String(location.database).utf8)]
                if let failure = connection.handshake(select, secret: nil, refused: { "\(location.display): SELECT \(location.database): \($0)" }) {
                    return .failure(failure)
                }
            }
            return .success(connection)
        }
    }

    /// Sends one command of the opening handshake; when it fails or Redis answers an error
    /// (worded by `refused`), closes the connection and says why, with `secret` redacted.
    private mutating func handshake(_ arguments: [[UInt8]], secret: String?, refused: (String) -> String) -> RedisFailure? {
        func redacted(_ text: String) -> String { secret.map { text.replacing($0, with: "[redacted]") } ?? text }
        let message: String
        switch command(arguments) {
        case .success(.error(let reply)): message = refused(reply)
        case .failure(let failure): message = failure.message
        case .success: return nil
        }
        close()
        return RedisFailure(redacted(message))
    }

    private init(socket: TCPSocket, location: RedisLocation) {
        self.socket = socket
        self.location = location
    }

    /// Sends one command and reads its reply.
    mutating func command(_ arguments: [[UInt8]]) -> Result<RESPValue, RedisFailure> {
        if let failure = socket.send(RESP.command(arguments), what: "sending to Redis") {
            return .failure(RedisFailure(RedisConnection.describe(failure, location: location)))
        }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            do throws(RESP.Malformed) {
                if let (value, end) = try RESP.parse(buffer) {
                    buffer.removeFirst(end)
                    return .success(value)
                }
            } catch {
                return .failure(RedisFailure("\(location.display) answered outside the protocol: \(error.detail)"))
            }
            switch socket.receive(into: chunk, what: "reading from Redis") {
            case .failure(let failure):
                return .failure(RedisFailure(RedisConnection.describe(failure, location: location)))
            case .success(0):
                return .failure(RedisFailure("\(location.display) closed the connection"))
            case .success(let count):
                buffer += chunk[..<count]
            }
        }
    }

    mutating func close() { socket.close() }

    /// A socket failure in words.
    static func describe(_ failure: TCPSocket.Failure, location: RedisLocation) -> String {
        switch failure {
        case .timedOut: return "\(location.display) did not answer within \(Int((location.timeoutSeconds * 1000).rounded())) ms"
        case .cancelled: return "the Redis request was cancelled"
        case .failed(let message): return "\(location.display): \(message)"
        }
    }
}

/// One process's use of a Redis server: a connection opened on first use, one command at a
/// time, and a failure that sticks, so that a server that is down costs one timeout, and is
/// said once, however many commands follow.
final class RedisSession: Sendable {
    let redis: RedisLocation
    let password: String?
    /// The open connection, or the failure that ended it.
    private let state = Mutex<(connection: RedisConnection?, failure: RedisFailure?)>((nil, nil))

    init(location: RedisLocation, password: String?) {
        self.redis = location
        self.password = password
    }

    /// Runs one command, opening the connection first; a failure or an error reply sticks.
    func run(_ arguments: [[UInt8]]) -> Result<RESPValue, RedisFailure> {
        state.withLock { state in
            if let failure = state.failure { return .failure(failure) }
            if state.connection == nil {
                switch RedisConnection.open(redis, password: password) {
                case .success(let connection): state.connection = connection
                case .failure(let failure):
                    state.failure = failure
                    return .failure(failure)
                }
            }
            guard var connection = state.connection else { return .failure(RedisFailure("no connection")) }
            let result = connection.command(arguments)
            state.connection = connection
            switch result {
            case .failure(let failure):
                connection.close()
                state.connection = nil
                state.failure = failure
            case .success(.error(let message)):
                state.failure = RedisFailure("\(redis.display) answered an error: \(message)")
                return .failure(state.failure ?? RedisFailure(message))
            case .success: break
            }
            return result
        }
    }
}

/// The response cache in Redis, shared by every machine that names the same server:
/// entries are the local store's bytes under `modelroute:response:1:KEY`, written with
/// `SET … EX ttl`, so Redis expires them itself. When Redis cannot be reached or answers
/// an error, the store says why once and every later use in the process is skipped: a
/// cache never makes a call fail.
public final class RedisStore: ResponseStore {
    /// The key prefix, followed by the cache key's 64 hex digits.
    public static let prefix = "modelroute:response:1:"

    let session: RedisSession
    var redis: RedisLocation { session.redis }

    public var location: String { redis.display }

    public init(location: RedisLocation, password: String?) {
        session = RedisSession(location: location, password: password)
    }

    /// One command on the session.
    private func run(_ arguments: [[UInt8]]) -> Result<RESPValue, RedisFailure> { session.run(arguments) }

    public func load(_ key: String, nowMillis: Int64, ttlSeconds: Int) -> CacheLookup {
        switch run([Array("GET".utf8), Array((RedisStore.prefix + key).utf8)]) {
        case .failure(let failure): return .unavailable(failure.message)
        case .success(.bulk(nil)): return .miss(note: nil)
        case .success(.bulk(let bytes?)):
            switch CacheEntry.decode(bytes) {
            case .success(let entry):
                guard nowMillis - entry.createdMillis < Int64(ttlSeconds) * 1000 else { return .miss(note: "the Redis entry has expired") }
                return .hit(entry)
            case .failure(let problem): return .miss(note: "the Redis entry is unusable (\(problem.reason)); it is replaced on the next store")
            }
        case .success(let other): return .unavailable("\(redis.display) answered GET with \(other)")
        }
    }

    public func save(_ entry: CacheEntry, key: String, ttlSeconds: Int) -> String? {
        let arguments = [Array("SET".utf8), Array((RedisStore.prefix + key).utf8), entry.encoded(), Array("EX".utf8), Array(String(ttlSeconds).utf8)]
        switch run(arguments) {
        case .failure(let failure): return "the answer was not cached: \(failure.message)"
        case .success: return nil
        }
    }
}

extension RedisStore {
    /// Every key of modelroute's entries (`SCAN … MATCH prefix*`, a thousand at a time).
    public func entryKeys() -> Result<[String], RedisFailure> {
        var cursor = "0"
        var keys: [String] = []
        repeat {
            let reply = session.run([Array("SCAN".utf8), Array(cursor.utf8), Array("MATCH".utf8), Array((RedisStore.prefix + "*").utf8), Array("COUNT".utf8), Array("1000".utf8)])
            guard case .success(.array(let parts?)) = reply, parts.count == 2, case .bulk(let next?) = parts[0], case .array(let found?) = parts[1] else {
                if case .failure(let failure) = reply { return .failure(failure) }
                return .failure(RedisFailure("\(redis.display) answered SCAN outside the protocol"))
            }
            for case .bulk(let key?) in found { keys.append(String(decoding: key, as: UTF8.self)) }
            cursor = String(decoding: next, as: UTF8.self)
        } while cursor != "0" && keys.count < 10_000_000
        return .success(Array(Set(keys)))
    }

    /// Deletes `keys` (`UNLINK`, a thousand at a time); how many went.
    public func delete(_ keys: [String]) -> Result<Int, RedisFailure> {
        var removed = 0
        var start = 0
        while start < keys.count {
            let batch = keys[start..<min(keys.count, start + 1000)]
            switch session.run([Array("UNLINK".utf8)] + batch.map { Array($0.utf8) }) {
            case .success(.integer(let count)): removed += Int(count)
            case .success: break
            case .failure(let failure): return .failure(failure)
            }
            start += 1000
        }
        return .success(removed)
    }
}
