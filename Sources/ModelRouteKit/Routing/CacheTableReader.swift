/// Reading the top-level `"cache"`.
extension TableReader {
    static let cacheKeys = ["ttl", "max_mb", "nondeterministic", "dir", "url", "password_env", "timeout_ms"]

    /// `{"ttl": "7d", "max_mb": 512}` for the local store, or `{"url": "redis://…", …}` for Redis.
    func readCache(_ node: JSONNode) throws(ConfigError) -> CacheConfig {
        let path = "cache"
        let fields = try members(node, path, known: TableReader.cacheKeys, what: "the cache")
        var config = CacheConfig()
        if let value = named(fields, "ttl") {
            let text = try string(value, "\(path).ttl")
            guard let seconds = DurationText.seconds(text), seconds > 0, seconds <= 366 * 86_400 else {
                throw error("\(path).ttl", "expected a duration like \"90s\", \"30m\", \"24h\", \"7d\" or \"2w\", above 0 and at most a year, found \"\(text)\"", at: value)
            }
            config.ttlSeconds = Int(seconds)
        }
        if let value = named(fields, "max_mb") { config.maxBytes = try integer(value, "\(path).max_mb", minimum: 1, maximum: 1_000_000) << 20 }
        if let value = named(fields, "nondeterministic") {
            guard case .bool(let flag) = value.value else {
                throw error("\(path).nondeterministic", "expected true or false, found \(value.value.kindDescription)", at: value)
            }
            config.nondeterministic = flag
        }
        if let value = named(fields, "dir") {
            var directory = try string(value, "\(path).dir")
            if !directory.hasPrefix("/"), let slash = source.lastIndex(of: "/") { directory = String(source[...slash]) + directory }
            config.store = .local(directory: directory)
        }
        guard let urlNode = named(fields, "url") else {
            for key in ["password_env", "timeout_ms"] where named(fields, key) != nil {
                throw error("\(path).\(key)", "\(key) applies to a Redis cache; add \"url\": \"redis://host:6379/0\"", at: named(fields, key))
            }
            return config
        }
        if let dir = named(fields, "dir") { throw error("\(path).dir", "a cache is local (dir) or in Redis (url), not both", at: dir) }
        let url = try string(urlNode, "\(path).url")
        var location: RedisLocation
        switch RedisLocation.parse(url) {
        case .success(let parsed): location = parsed
        case .failure(let problem): throw error("\(path).url", problem.message, at: urlNode)
        }
        if let value = named(fields, "password_env") {
            let name = try string(value, "\(path).password_env")
            guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }), !(name.first?.isNumber ?? true) else {
                throw error("\(path).password_env", "expected the NAME of an environment variable (letters, digits, _), not the password", at: value)
            }
            location.passwordEnvironmentVariable = name
        }
        if let value = named(fields, "timeout_ms") {
            location.timeoutSeconds = Double(try integer(value, "\(path).timeout_ms", minimum: 1, maximum: 60_000)) / 1000
        }
        config.store = .redis(location)
        return config
    }
}
