import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// The response cache on this machine's disk: `ROOT/responses/XX/REST`, where `XX` are the
/// key's first two hex digits (256 fan-out folders) and `REST` the other 62. Folders are
/// 0700 and files 0600 (answers may be sensitive). Each entry is written to a temporary
/// file beside its place and renamed into it, so a reader sees the old entry, the new one,
/// or none, never half of one, and many processes may read and write at once with no
/// global lock. A file's modification time is when it was stored (expiry), its access time
/// when it was last used (a hit sets it): the least recently used entries are the ones
/// evicted when a fan-out folder outgrows its 1/256 share of `max_mb`, so `stats` and
/// `prune` need no more than a `stat` per entry.
public final class LocalStore: ResponseStore {
    /// The cache's root folder.
    public let root: String
    /// The size limit, bytes.
    public let maxBytes: Int

    /// Entries below the root.
    var responses: String { root + "/responses" }
    public var location: String { root }

    public init(root: String, maxBytes: Int) {
        self.root = root
        self.maxBytes = maxBytes
    }

    /// `directory`, else `$XDG_CACHE_HOME/modelroute`, else `~/.cache/modelroute`.
    public static func root(directory: String?, environment: [String: String]) -> String {
        if let directory { return directory }
        if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty { return xdg + "/modelroute" }
        return (environment["HOME"] ?? "") + "/.cache/modelroute"
    }

    /// The file of `key`: `ROOT/responses/XX/REST`.
    public func path(_ key: String) -> String { responses + "/" + key.prefix(2) + "/" + key.dropFirst(2) }

    public func load(_ key: String, nowMillis: Int64, ttlSeconds: Int) -> CacheLookup {
        let file = path(key)
        let bytes: [UInt8]
        do throws(FileReader.Failure) {
            bytes = try FileReader.readAll(path: file)
        } catch {
            return .miss(note: error.code == ENOENT ? nil : "cannot read cache entry \(file): \(error.reason)")
        }
        let entry: CacheEntry
        switch CacheEntry.decode(bytes) {
        case .success(let decoded): entry = decoded
        case .failure(let problem): return .miss(note: "cache entry \(file) is unusable (\(problem.reason)); it is replaced on the next store")
        }
        guard nowMillis - entry.createdMillis < Int64(ttlSeconds) * 1000 else { return .miss(note: "cache entry \(file) has expired") }
        // Last used now, for eviction (a failure only makes the entry look older).
        // Linux's UTIME_NOW and UTIME_OMIT (macros Swift does not import): access time now, modification time kept.
        var times = [timespec(tv_sec: 0, tv_nsec: (1 << 30) - 1), timespec(tv_sec: 0, tv_nsec: (1 << 30) - 2)]
        _ = utimensat(AT_FDCWD, file, &times, 0)
        return .hit(entry)
    }

    public func save(_ entry: CacheEntry, key: String, ttlSeconds: Int) -> String? {
        let file = path(key)
        let folder = responses + "/" + key.prefix(2)
        do throws(SystemError) {
            try FileWriter.createDirectories(folder)
            try FileWriter.writeAtomically(entry.encoded(), to: file, mode: 0o600)
        } catch {
            return "the answer was not cached: \(error.description)"
        }
        trim(folder: folder, limit: maxBytes / 256)
        return nil
    }

    // MARK: Upkeep

    /// One file in the store.
    struct File {
        /// The fan-out folder and the file's name in it.
        var folder: String
        var name: String
        /// The whole path.
        var path: String { folder + "/" + name }
        var bytes: Int
        /// Last use (access time), epoch seconds.
        var used: Int64
        /// When it was stored (modification time), epoch seconds.
        var stored: Int64
        /// Whether it is a temporary file left by a writer.
        var temporary: Bool
    }

    /// The files of one fan-out folder.
    func files(in folder: String) -> [File] {
        guard let directory = opendir(folder) else { return [] }
        defer { closedir(directory) }
        var result: [File] = []
        let descriptor = dirfd(directory)
        while let item = readdir(directory) {
            var info = stat()
            let isFile = withUnsafeBytes(of: item.pointee.d_name) { raw -> Bool in
                // "." and ".." are folders, so the regular-file test leaves them out.
                guard let base = raw.baseAddress?.assumingMemoryBound(to: CChar.self) else { return false }
                return fstatat(descriptor, base, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFREG
            }
            guard isFile else { continue }
            let name = withUnsafeBytes(of: item.pointee.d_name) { raw in String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self) }
            result.append(File(folder: folder, name: name, bytes: Int(info.st_size), used: Int64(info.st_atim.tv_sec), stored: Int64(info.st_mtim.tv_sec), temporary: name.contains(".tmp-")))
        }
        return result
    }

    /// Every fan-out folder that exists.
    func folders() -> [String] {
        var result: [String] = []
        let digits = Array("0123456789abcdef")
        for high in digits {
            for low in digits {
                let name = String(high) + String(low)
                let folder = responses + "/" + name
                if FileReader.isDirectory(folder) { result.append(folder) }
            }
        }
        return result
    }

    /// Evicts the least recently used entries of a folder until it holds at most `limit` bytes.
    func trim(folder: String, limit: Int) {
        _ = evict(files(in: folder).filter { !$0.temporary }, limit: limit)
    }

    /// Removes the least recently used of `entries` until they hold at most `limit` bytes;
    /// returns how many went and how many bytes they held.
    func evict(_ entries: [File], limit: Int) -> (count: Int, bytes: Int) {
        var total = entries.reduce(0) { $0 + $1.bytes }
        var evicted = (count: 0, bytes: 0)
        guard total > limit else { return evicted }
        for file in entries.sorted(by: { $0.used < $1.used }) where total > limit {
            if unlink(file.path) == 0 {
                total -= file.bytes
                evicted.count += 1
                evicted.bytes += file.bytes
            }
        }
        return evicted
    }

    /// What the store holds.
    public struct Stats: Sendable, Equatable {
        public var entries = 0
        public var bytes = 0
        public var expired = 0
    }

    /// Counts entries, bytes and expired entries.
    public func stats(nowMillis: Int64, ttlSeconds: Int) -> Stats {
        var stats = Stats()
        for folder in folders() {
            for file in files(in: folder) where !file.temporary {
                stats.entries += 1
                stats.bytes += file.bytes
                if isExpired(file, nowMillis: nowMillis, ttlSeconds: ttlSeconds) { stats.expired += 1 }
            }
        }
        return stats
    }

    /// Whether an entry has expired, by when it was stored.
    func isExpired(_ file: File, nowMillis: Int64, ttlSeconds: Int) -> Bool {
        nowMillis / 1000 - file.stored >= Int64(ttlSeconds)
    }

    /// What `prune` removed.
    public struct Pruned: Sendable, Equatable {
        public var expired = 0
        public var evicted = 0
        public var bytesFreed = 0
        public var remaining = Stats()
    }

    /// Removes expired entries, temporary files older than an hour, and then
    /// the least recently used entries until the store fits `max_mb`.
    public func prune(nowMillis: Int64, ttlSeconds: Int) -> Pruned {
        var result = Pruned()
        var kept: [File] = []
        let nowSeconds = nowMillis / 1000
        for folder in folders() {
            for file in files(in: folder) {
                if file.temporary {
                    if nowSeconds - file.stored > 3600, unlink(file.path) == 0 { result.bytesFreed += file.bytes }
                    continue
                }
                if isExpired(file, nowMillis: nowMillis, ttlSeconds: ttlSeconds) {
                    if unlink(file.path) == 0 {
                        result.expired += 1
                        result.bytesFreed += file.bytes
                    }
                } else {
                    kept.append(file)
                }
            }
        }
        let evicted = evict(kept, limit: maxBytes)
        result.evicted = evicted.count
        result.bytesFreed += evicted.bytes
        result.remaining = Stats(entries: kept.count - evicted.count, bytes: kept.reduce(0) { $0 + $1.bytes } - evicted.bytes, expired: 0)
        return result
    }

    /// Removes every entry; returns how many and their bytes.
    public func clear() -> (entries: Int, bytes: Int) {
        var removed = (entries: 0, bytes: 0)
        for folder in folders() {
            for file in files(in: folder) where unlink(file.path) == 0 {
                if !file.temporary {
                    removed.entries += 1
                    removed.bytes += file.bytes
                }
            }
            rmdir(folder)
        }
        return removed
    }
}
