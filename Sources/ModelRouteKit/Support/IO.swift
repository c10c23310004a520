#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A buffered byte stream to a file descriptor (stdout, stderr) or to memory (tests).
///
/// `print` goes through Swift's locking stdio wrapper one string at a time; writing
/// JSONL for hundreds of thousands of prompts wants one `write(2)` per 64 KiB.
public final class OutputSink: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var captured: [UInt8] = []
        var broken = false
        /// errno of the first failed write that was not EPIPE (a full disk, an I/O error).
        var failure: Int32?
    }

    private let descriptor: Int32?
    /// The descriptor written to; nil for memory.
    public var fileDescriptor: Int32? { descriptor }
    private let state = Mutex(State())
    /// Whether this stream is a terminal (decides table output, colours, progress).
    public let isTerminal: Bool
    /// Bytes buffered before a write to the descriptor happens by itself.
    private static let bufferLimit = 64 * 1024

    private init(descriptor: Int32?, isTerminal: Bool) {
        self.descriptor = descriptor
        self.isTerminal = isTerminal
    }

    /// The process's standard output.
    public static func standardOutput() -> OutputSink { OutputSink(descriptor: 1, isTerminal: isatty(1) == 1) }
    /// The process's standard error.
    public static func standardError() -> OutputSink { OutputSink(descriptor: 2, isTerminal: isatty(2) == 1) }
    /// An in-memory stream whose text `captured` returns.
    public static func memory(isTerminal: Bool = false) -> OutputSink { OutputSink(descriptor: nil, isTerminal: isTerminal) }

    /// Appends text; it reaches the descriptor when the buffer fills or on `flush()`.
    public func write(_ text: String) {
        var text = text
        text.withUTF8 { write(bytes: $0) }
    }

    /// Appends bytes; see `write(_:)`.
    public func write(bytes: UnsafeBufferPointer<UInt8>) {
        append { $0.append(contentsOf: bytes) }
    }

    /// Appends what `build` adds to the buffer, under one lock: for many small pieces.
    public func append(_ build: (inout [UInt8]) -> Void) {
        state.withLock { state in
            if descriptor == nil {
                build(&state.captured)
                return
            }
            build(&state.buffer)
            if state.buffer.count >= OutputSink.bufferLimit { drain(&state) }
        }
    }

    /// Appends bytes; see `write(_:)`.
    public func write(bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { write(bytes: $0) }
    }

    /// Writes everything buffered now (streamed answers call this for every piece).
    public func flush() {
        state.withLock { drain(&$0) }
    }

    /// True once a write failed (typically EPIPE: the reader went away, as with `| head`).
    /// Callers stop producing output quietly when this turns true.
    public var isBroken: Bool { state.withLock { $0.broken } }

    /// Why output was lost, when a write failed for a reason other than a closed pipe
    /// (`> /dev/full`, a full disk): the command then exits 74. A closed pipe (`| head`)
    /// is the reader's choice and stays quiet.
    public var writeFailure: String? { state.withLock { $0.failure.map(SystemError.text) } }

    /// Everything written to a memory sink.
    public var captured: String { state.withLock { String(decoding: $0.captured, as: UTF8.self) } }

    private func drain(_ state: inout State) {
        guard let descriptor, !state.buffer.isEmpty else { return }
        defer { state.buffer.removeAll(keepingCapacity: true) }
        guard !state.broken else { return }
        state.buffer.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, base + offset, raw.count - offset)
                if written <= 0 {
                    if written < 0 && errno == EINTR { continue }
                    let code = written < 0 ? errno : EIO
                    state.broken = true
                    if code != EPIPE, state.failure == nil { state.failure = code }
                    return
                }
                offset += written
            }
        }
    }
}

/// A byte source: standard input, a file, or memory (tests).
public final class InputSource: Sendable {
    private let descriptor: Int32?
    private let memory: Mutex<[UInt8]>
    /// Whether this stream is a terminal (then modelroute does not wait on it for a prompt).
    public let isTerminal: Bool

    private init(descriptor: Int32?, memory: [UInt8], isTerminal: Bool) {
        self.descriptor = descriptor
        self.memory = Mutex(memory)
        self.isTerminal = isTerminal
    }

    /// The process's standard input.
    public static func standardInput() -> InputSource { InputSource(descriptor: 0, memory: [], isTerminal: isatty(0) == 1) }
    /// A source that yields these bytes, then end of file.
    public static func memory(_ bytes: [UInt8], isTerminal: Bool = false) -> InputSource {
        InputSource(descriptor: nil, memory: bytes, isTerminal: isTerminal)
    }
    /// A source that yields this text, then end of file.
    public static func memory(_ text: String, isTerminal: Bool = false) -> InputSource {
        memory(Array(text.utf8), isTerminal: isTerminal)
    }

    /// Whether something was piped or redirected in: a pipe, FIFO or regular file (a
    /// memory source counts). A terminal, `/dev/null`, a socket or a closed descriptor
    /// does not, so a prompt given as words is not held up waiting on them.
    public var isPipedOrFile: Bool {
        guard let descriptor else { return true }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return false }
        let kind = info.st_mode & S_IFMT
        return kind == S_IFIFO || kind == S_IFREG
    }

    /// Reads up to `buffer.count` bytes; 0 means end of input.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        if let descriptor {
            return try SystemError.readRetryingInterrupts(descriptor, into: buffer)
        }
        return memory.withLock { bytes in
            let count = min(buffer.count, bytes.count)
            if count > 0 {
                bytes.withUnsafeBytes { source in
                    buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<count]))
                }
                bytes.removeFirst(count)
            }
            return count
        }
    }

    /// Reads everything to end of input.
    public func readAll() throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let outcome: Result<Int, SystemError> = chunk.withUnsafeMutableBytes { buffer in
                do throws(SystemError) { return .success(try read(into: buffer)) } catch { return .failure(error) }
            }
            let count = try outcome.get()
            if count == 0 { return result }
            result.append(contentsOf: chunk[0..<count])
        }
    }
}

/// A failed system call, with the errno text.
public struct SystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var code: Int32

    public init(operation: String, code: Int32) {
        self.operation = operation
        self.code = code
    }

    public var description: String { "\(operation): \(SystemError.text(code))" }

    /// The system's words for an errno value.
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// `read(2)` that retries when interrupted by a signal.
    public static func readRetryingInterrupts(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(descriptor, base, buffer.count)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw SystemError(operation: "read", code: errno)
        }
    }
}

/// Facts about the machine that decide how much work runs at once.
public enum Processors {
    /// Cores online (at least 1): the number of threads bulk work (classify, report) uses.
    public static var online: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// The running program's own file.
public enum RunningProgram {
    /// The directory of the running executable, symbolic links resolved; nil when the
    /// system cannot say. Its sibling files (other products, such as the fuzz target and the benchmarks) live there.
    public static var directory: String? {
        guard let resolved = realpath("/proc/self/exe", nil) else { return nil }
        defer { free(resolved) }
        let path = String(cString: resolved)
        return path.lastIndex(of: "/").map { String(path[..<$0]) }
    }
}

/// Carries a value across threads where a lock, not the type, makes that safe; the
/// declaration site says which lock.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
