/// The top-level `"cache"`: where answers are kept, for how long, and how much.
public struct CacheConfig: Sendable, Equatable {
    /// Where entries live.
    public enum Store: Sendable, Equatable {
        /// Files under `$XDG_CACHE_HOME/modelroute/` (else `~/.cache/modelroute/`), or `directory`.
        case local(directory: String?)
        /// A Redis server, shared by every machine that names it.
        case redis(RedisLocation)
    }

    /// Seconds an entry stays fresh (`"ttl"`, default 7 days).
    public var ttlSeconds: Int
    /// The local store's size limit in bytes (`"max_mb"`, default 512).
    public var maxBytes: Int
    /// Whether calls with a temperature above 0 are cached too.
    public var nondeterministic: Bool
    /// Where entries live.
    public var store: Store

    public static let defaultTTLSeconds = 7 * 86_400
    public static let defaultMaxMegabytes = 512

    public init(ttlSeconds: Int = CacheConfig.defaultTTLSeconds, maxBytes: Int = CacheConfig.defaultMaxMegabytes << 20, nondeterministic: Bool = false, store: Store = .local(directory: nil)) {
        self.ttlSeconds = ttlSeconds
        self.maxBytes = maxBytes
        self.nondeterministic = nondeterministic
        self.store = store
    }
}

/// `redis://[user@]host[:port][/db]`, with the password in an environment variable.
public struct RedisLocation: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var database: Int
    /// An ACL user name, if the URL gives one.
    public var user: String?
    /// The NAME of the environment variable holding the password (`"password_env"`).
    public var passwordEnvironmentVariable: String?
    /// Seconds to wait for Redis before going on uncached (`"timeout_ms"`, default 200 ms).
    public var timeoutSeconds: Double

    /// The password from the variable `password_env` names; nil when none is named, or it is unset or empty.
    public func password(in environment: [String: String]) -> String? {
        passwordEnvironmentVariable.flatMap { environment[$0] }.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The URL without secrets, for messages.
    public var display: String { "redis://\(user.map { $0 + "@" } ?? "")\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    public init(host: String, port: UInt16 = 6379, database: Int = 0, user: String? = nil, passwordEnvironmentVariable: String? = nil, timeoutSeconds: Double = 0.2) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.passwordEnvironmentVariable = passwordEnvironmentVariable
        self.timeoutSeconds = timeoutSeconds
    }

    /// Parses a `redis://` URL; the reason when it cannot be used.
    public static func parse(_ url: String) -> Result<RedisLocation, RedisURLProblem> {
        guard url.hasPrefix("redis://") else { return .failure(RedisURLProblem("expected a redis://host:port/db URL (rediss:// with TLS is not supported)")) }
        var rest = Substring(url.dropFirst("redis://".count))
        var location = RedisLocation(host: "")
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            guard !userInfo.contains(":") else {
                return .failure(RedisURLProblem("the URL holds a password; put it in an environment variable and name it with \"password_env\""))
            }
            if !userInfo.isEmpty { location.user = String(userInfo) }
            rest = rest[rest.index(after: at)...]
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let path = rest[rest.index(after: slash)...]
            if !path.isEmpty {
                guard let database = Int(path), (0...10_000).contains(database) else {
                    return .failure(RedisURLProblem("the database after the host must be a number from 0 to 10000, found \"\(path)\""))
                }
                location.database = database
            }
        }
        var host = authority
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let port = UInt16(after.dropFirst()), port > 0 else { return .failure(RedisURLProblem("the port must be a number from 1 to 65535")) }
                location.port = port
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let port = UInt16(authority[authority.index(after: colon)...]), port > 0 else {
                return .failure(RedisURLProblem("the port must be a number from 1 to 65535"))
            }
            location.port = port
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else { return .failure(RedisURLProblem("the URL has no host")) }
        location.host = String(host)
        return .success(location)
    }
}

/// Why a `redis://` URL cannot be used.
public struct RedisURLProblem: Error, Sendable, Equatable {
    public var message: String
    init(_ message: String) { self.message = message }
}

/// Durations as routes.json and the command line write them: `90s`, `30m`, `24h`, `7d`, `2w`.
public enum DurationText {
    /// Seconds in `text`, or nil when it is not a whole number followed by s, m, h, d or w.
    public static func seconds(_ text: String) -> Int64? {
        guard let unit = text.last, let count = Int64(text.dropLast()), count >= 0, count < 100_000 else { return nil }
        switch unit {
        case "s": return count
        case "m": return count * 60
        case "h": return count * 3600
        case "d": return count * 86_400
        case "w": return count * 7 * 86_400
        default: return nil
        }
    }
}
