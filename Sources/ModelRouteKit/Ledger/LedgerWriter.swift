#if canImport(Glibc)
import Glibc
#endif

/// Appends records to the usage log, safely with any number of other processes doing
/// the same: each record is one `write(2)` on a descriptor opened with `O_APPEND`,
/// made while holding an exclusive `flock(2)` on the file.
public struct LedgerWriter: Sendable {
    /// The log file's path.
    public let path: String

    /// A writer for the log at `path` (nothing is opened until `append`).
    public init(path: String) {
        self.path = path
    }

    /// Appends one record as one line, creating the file (0600) and its missing
    /// directories (0700) first if needed.
    public func append(_ record: LedgerRecord) throws(LedgerError) {
        try append(line: record.jsonLine())
    }

    /// Appends one record and, still holding the lock, hands the file's size before and
    /// after the append to `whileLocked` (the spend index is kept in step that way).
    public func append(_ record: LedgerRecord, whileLocked: (_ before: Int64, _ after: Int64) -> Void) throws(LedgerError) {
        try append(line: record.jsonLine(), whileLocked: whileLocked)
    }

    /// Appends bytes that already form one or more whole lines.
    public func append(line: [UInt8], whileLocked: (_ before: Int64, _ after: Int64) -> Void = { _, _ in }) throws(LedgerError) {
        let descriptor = try open()
        defer { close(descriptor) }
        while flock(descriptor, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            throw .cannotLock(path: path, reason: SystemError.text(errno))
        }
        var info = stat()
        let before = fstat(descriptor, &info) == 0 ? Int64(info.st_size) : -1
        // A writer killed mid-line (or a full disk) can leave the file without a final
        // newline; starting on a fresh line keeps that damage to the one broken line.
        var bytes = line
        if endsWithoutNewline(descriptor) { bytes.insert(UInt8(ascii: "\n"), at: 0) }
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return write(descriptor, base + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: SystemError.text(errno))
            }
            if written == 0 { throw .cannotWrite(path: path, reason: SystemError.text(ENOSPC)) }
            offset += written
        }
        if fstat(descriptor, &info) == 0 { whileLocked(before, Int64(info.st_size)) }
    }

    /// Opens for appending, creating what is missing. Read access is asked for so that
    /// the last byte can be checked; a write-only file is still appended to.
    private func open() throws(LedgerError) -> Int32 {
        // A FIFO or socket would swallow the record (nobody may be reading): refuse it.
        // Character devices such as /dev/null are a deliberate choice and allowed.
        var info = stat()
        if stat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFIFO: throw .notAFile(path: path, kind: "a FIFO (named pipe)")
            case S_IFSOCK: throw .notAFile(path: path, kind: "a socket")
            default: break
            }
        }
        func attempt() -> Int32 {
            var descriptor = Glibc.open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            if descriptor < 0, errno == EACCES { descriptor = Glibc.open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600) }
            return descriptor
        }
        var descriptor = attempt()
        if descriptor < 0, errno == ENOENT {
            try createDirectories(for: path)
            descriptor = attempt()
        }
        guard descriptor >= 0 else {
            let code = errno
            if code == EISDIR { throw .cannotOpen(path: path, reason: "it is a directory") }
            throw .cannotOpen(path: path, reason: SystemError.text(code))
        }
        return descriptor
    }

    /// Whether the file is non-empty and its last byte is not a newline.
    private func endsWithoutNewline(_ descriptor: Int32) -> Bool {
        var info = stat()
        guard fstat(descriptor, &info) == 0, info.st_size > 0 else { return false }
        var last: UInt8 = 0
        guard pread(descriptor, &last, 1, info.st_size - 1) == 1 else { return false }
        return last != UInt8(ascii: "\n")
    }

    /// `mkdir -p` of the file's directory, new directories with mode 0700.
    private func createDirectories(for file: String) throws(LedgerError) {
        var components = file.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        components.removeLast()
        var current = file.hasPrefix("/") ? "" : "."
        for component in components where !component.isEmpty {
            current += "/" + component
            if mkdir(current, 0o700) != 0, errno != EEXIST {
                throw .cannotCreateDirectory(path: current, reason: SystemError.text(errno))
            }
        }
    }
}

/// Where the log lives: `--log`, `$MODELROUTE_LOG`, `$XDG_STATE_HOME/modelroute/usage.jsonl`,
/// `~/.local/state/modelroute/usage.jsonl`.
public enum LedgerLocation {
    /// The log path for these settings (the first one given wins).
    public static func resolve(explicitPath: String?, environment: [String: String]) -> String {
        if let explicitPath { return explicitPath }
        if let path = environment["MODELROUTE_LOG"], !path.isEmpty { return path }
        let state = environment["XDG_STATE_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? "") + "/.local/state")
        return state + "/modelroute/usage.jsonl"
    }
}

/// Failures to append to the usage log. Exit 1: the answer was printed, only its
/// record is missing (74 is kept for output that could not be written).
public enum LedgerError: ModelRouteError, Equatable {
    /// A missing directory on the way to the log could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// The log could not be opened or created.
    case cannotOpen(path: String, reason: String)
    /// The advisory lock could not be taken.
    case cannotLock(path: String, reason: String)
    /// The write failed (disk full, quota, I/O error).
    case cannotWrite(path: String, reason: String)
    /// The log path names something a record would be lost in.
    case notAFile(path: String, kind: String)

    /// What failed, where, and what still holds.
    public var message: String {
        let hint = "The answer was not affected; only its usage record is missing. Set --log or MODELROUTE_LOG to a writable file."
        switch self {
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create the usage log's directory \(path): \(reason). \(hint)"
        case .cannotOpen(let path, let reason):
            return "cannot open the usage log \(path): \(reason). \(hint)"
        case .cannotLock(let path, let reason):
            return "cannot lock the usage log \(path): \(reason). \(hint)"
        case .cannotWrite(let path, let reason):
            return "cannot write to the usage log \(path): \(reason). \(hint)"
        case .notAFile(let path, let kind):
            return "the usage log \(path) is \(kind), not a file; a record appended there could be lost, so none was. \(hint)"
        }
    }

    /// Always 1 (`failure`), as the README's exit status table says.
    public var exitCode: ExitCode { .failure }
}
