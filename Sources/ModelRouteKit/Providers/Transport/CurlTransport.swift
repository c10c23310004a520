import Dispatch
import FoundationEssentials
import ModelRouteCurl
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The system's libcurl, loaded with `dlopen` on first use (see `ModelRouteCurl.h`).
/// Linking it (or FoundationNetworking, which wraps it) into the program would make every
/// run, dry runs and reports included, pay milliseconds to load it and its twenty-odd
/// libraries; loaded on demand, only runs that call an https provider pay.
///
/// libcurl is used directly rather than through URLSession: FoundationNetworking on Linux
/// stops the process on a chunked response with trailer fields and refuses a status line
/// without a reason phrase (`HTTP/1.1 200`), both valid HTTP that libcurl itself accepts.
public final class CurlLibrary: @unchecked Sendable {
    /// Where libcurl is looked for.
    public enum Locator: Sendable, Hashable {
        /// `$MODELROUTE_LIBCURL` if set, else the system's libcurl by its usual names.
        case system
        /// Exactly this file.
        case path(String)
    }

    /// The names tried, in order, through the dynamic loader's search path: the OpenSSL
    /// build most distributions install, Debian's GnuTLS build, and the unversioned name.
    public static let systemNames = ["libcurl.so.4", "libcurl-gnutls.so.4", "libcurl.so"]

    /// The bound entry points; immutable once loaded, usable from any thread.
    let pointer: UnsafeMutableRawPointer

    private init(pointer: UnsafeMutableRawPointer) {
        self.pointer = pointer
    }

    /// The files tried for `locator`, in order.
    public static func candidates(_ locator: Locator, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        switch locator {
        case .path(let path):
            return [path]
        case .system:
            if let explicit = environment["MODELROUTE_LIBCURL"], !explicit.isEmpty { return [explicit] }
            return systemNames
        }
    }

    /// Why libcurl could not be used.
    public struct LoadFailure: Error, Sendable, Equatable {
        public let detail: String
    }

    /// Loads started ahead of need (`HTTPClient.warmUp`), which `settle()` waits for.
    static let loading = DispatchGroup()

    /// Waits (a few seconds at most) for a load started ahead of need to finish. A process
    /// must call this before `exit`: exit handlers that run while another thread is inside
    /// `dlopen` or libcurl's TLS set-up crash the process.
    public static func settle() {
        _ = loading.wait(timeout: .now() + 5)
    }

    /// Loaded libraries by locator: each is loaded once per process.
    private static let loaded = Mutex<[Locator: Result<CurlLibrary, LoadFailure>]>([:])

    /// Loads libcurl for `locator`, or says why it cannot.
    public static func load(_ locator: Locator) -> Result<CurlLibrary, LoadFailure> {
        loaded.withLock { loaded in
            if let known = loaded[locator] { return known }
            let result = attemptLoad(candidates(locator))
            loaded[locator] = result
            return result
        }
    }

    private static func attemptLoad(_ candidates: [String]) -> Result<CurlLibrary, LoadFailure> {
        var problems: [String] = []
        var error = [CChar](repeating: 0, count: 512)
        for path in candidates {
            if let pointer = modelroute_curl_open(path, &error, error.count) {
                return .success(CurlLibrary(pointer: pointer))
            }
            problems.append(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return .failure(
            LoadFailure(
                detail: "https needs libcurl (package libcurl4 on Debian and Ubuntu, libcurl on Fedora), which could not be loaded ("
                    + problems.joined(separator: "; ")
                    + "); install it, or set MODELROUTE_LIBCURL to its path"))
    }
}

/// HTTP over libcurl: https, and plain http when asked for.
final class CurlTransport: Sendable {
    private let locator: CurlLibrary.Locator

    init(locator: CurlLibrary.Locator) {
        self.locator = locator
    }

    /// Loads libcurl (and lets it initialise TLS); the library, or why there is none.
    @discardableResult
    func prepare() -> Result<CurlLibrary, CurlLibrary.LoadFailure> {
        CurlLibrary.load(locator)
    }

    func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome {
        let library: CurlLibrary
        switch prepare() {
        case .failure(let failure): return .failed(failure.detail, lasting: true)
        case .success(let loaded): library = loaded
        }
        if let problem = spec.unsendable { return .failed(problem, lasting: true) }
        guard let pointer = modelroute_curl_exchange(library.pointer) else { return .failed("out of memory") }
        let exchange = CurlExchange(pointer: pointer)
        let token = cancellation.onCancel { exchange.cancel() }
        defer { cancellation.remove(token) }
        if cancellation.isCancelled { return .cancelled }
        let sink = EventCollector(handler: handler)
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: exchange.perform(spec, timeout: timeout, sink: sink))
            }
        }
    }

    /// A header as libcurl takes it: "Name: value", or "Name;" for an empty value
    /// ("Name:" would remove the header instead).
    static func headerLine(_ header: (name: String, value: String)) -> String {
        header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)"
    }
}

/// One exchange in libcurl, released when the last reference (perhaps a late
/// cancellation handler) goes.
final class CurlExchange: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer

    init(pointer: UnsafeMutableRawPointer) {
        self.pointer = pointer
    }

    func cancel() { modelroute_curl_cancel(pointer) }

    /// Runs the exchange, blocking this thread until it ends.
    func perform(_ spec: HTTPRequestSpec, timeout: Double, sink: EventCollector) -> TransportOutcome {
        let lines = spec.headers.map(CurlTransport.headerLine)
        let code = withExtendedLifetime(sink) { () -> Int32 in
            let context = Unmanaged.passUnretained(sink).toOpaque()
            return withCStrings(lines) { headers in
                spec.body.withUnsafeBufferPointer { body in
                    modelroute_curl_perform(pointer, spec.url, headers.baseAddress, headers.count, body.baseAddress, body.count, timeout, context) {
                        context, kind, number, bytes, count in
                        guard let context else { return 0 }
                        let sink = Unmanaged<EventCollector>.fromOpaque(context).takeUnretainedValue()
                        return sink.receive(kind: kind, number: number, bytes: UnsafeBufferPointer(start: bytes, count: count)) ? 1 : 0
                    }
                }
            }
        }
        switch code {
        case 0: return .completed
        case 1: return .timedOut
        case 2: return .cancelled
        default: return .failed(sink.failure ?? "the request failed", lasting: code == 4)
        }
    }

    deinit { modelroute_curl_release(pointer) }
}

/// Calls `body` with C copies of `strings`, valid for the call.
private func withCStrings<R>(_ strings: [String], _ body: (UnsafeBufferPointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { strdup($0) }
    defer { copies.forEach { free($0) } }
    return copies.map { copy in copy.map { UnsafePointer($0) } }.withUnsafeBufferPointer(body)
}

/// Turns libcurl's events into handler calls; events come one at a time.
final class EventCollector: @unchecked Sendable {
    let handler: any HTTPResponseHandler
    /// The failure's description, if one came.
    private(set) var failure: String?

    init(handler: any HTTPResponseHandler) {
        self.handler = handler
    }

    func receive(kind: Int32, number: Int, bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        switch kind {
        case 1:
            var headers: [String: String] = [:]
            for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            }
            return handler.receive(status: number, headers: headers)
        case 2:
            return handler.receive(data: Data(bytes))
        default:
            failure = String(decoding: bytes, as: UTF8.self)
            return true
        }
    }
}
