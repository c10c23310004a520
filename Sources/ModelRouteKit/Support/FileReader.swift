#if canImport(Glibc)
import Glibc
#endif

/// Small, allocation-conscious file access over POSIX calls.
public enum FileReader {
    /// Why a file could not be read, in words for a message.
    public struct Failure: Error, Sendable, Equatable {
        public var reason: String
        /// errno of the failed call (ENOENT means "no such file").
        public var code: Int32
    }

    /// Whether `path` names an existing regular file (following links).
    public static func isRegularFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    /// Whether `path` names an existing directory (following links).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// Reads a whole file.
    public static func readAll(path: String) throws(Failure) -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw failure(errno) }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(reason: "it is a directory", code: EISDIR) }
        var result: [UInt8] = []
        result.reserveCapacity(max(0, Int(info.st_size)))
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw failure(errno)
            }
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }

    /// A failure for errno `code`.
    public static func failure(_ code: Int32) -> Failure {
        Failure(reason: code == ENOENT ? "no such file" : SystemError.text(code), code: code)
    }
}

/// Writes whole files.
public enum FileWriter {
    /// Creates `path` and the folders above it that are missing (mode 0700).
    public static func createDirectories(_ path: String) throws(SystemError) {
        var current = ""
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            current += "/" + part
            if FileReader.isDirectory(current) { continue }
            if mkdir(current, 0o700) != 0 && errno != EEXIST { throw SystemError(operation: "create \(current)", code: errno) }
        }
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it into place, so a
    /// reader never sees half a file and a failed write leaves the old one.
    public static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(SystemError) {
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw SystemError(operation: "create \(temporary)", code: errno) }
        var written = 0
        while written < bytes.count {
            let count = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(descriptor, base + written, raw.count - written)
            }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                let code = errno
                close(descriptor)
                unlink(temporary)
                throw SystemError(operation: "write \(path)", code: code)
            }
            written += count
        }
        guard fsync(descriptor) == 0 || errno == EINVAL, close(descriptor) == 0 else {
            let code = errno
            unlink(temporary)
            throw SystemError(operation: "write \(path)", code: code)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw SystemError(operation: "rename to \(path)", code: code)
        }
    }
}
