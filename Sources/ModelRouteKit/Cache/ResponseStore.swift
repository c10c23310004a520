/// One place entries live (a folder of files, a Redis server), behind one interface, so
/// the cache stage does not care which. A store never fails a call: what goes wrong is a
/// miss, or a warning.
public protocol ResponseStore: Sendable {
    /// Looks `key` up; entries older than `ttlSeconds` at `nowMillis` are misses.
    func load(_ key: String, nowMillis: Int64, ttlSeconds: Int) -> CacheLookup
    /// Stores `entry` under `key`; returns a warning when it could not.
    func save(_ entry: CacheEntry, key: String, ttlSeconds: Int) -> String?
    /// Where the store is, for messages.
    var location: String { get }
}

/// What a lookup found.
public enum CacheLookup: Sendable, Equatable {
    /// A fresh, whole entry.
    case hit(CacheEntry)
    /// Nothing usable; `note` says why when there was something (expired, corrupt) for `--verbose`.
    case miss(note: String?)
    /// The store cannot be reached; the call goes on uncached.
    case unavailable(String)
}
