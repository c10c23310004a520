import Dispatch
import FoundationEssentials
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The URLSession client library (`libModelRouteURLSession.so`, built from the
/// `ModelRouteURLSession` target), loaded with `dlopen` on first use. Linking
/// FoundationNetworking into the program would make every run, dry runs and reports
/// included, pay about 11 ms to load libcurl and its thirty-odd libraries.
public final class URLSessionLibrary: @unchecked Sendable {
    /// Where the library is looked for.
    public enum Locator: Sendable, Equatable {
        /// `$MODELROUTE_URLSESSION_LIBRARY` if set, else beside the running executable,
        /// else in `../lib/modelroute/` from it.
        case beside
        /// Exactly this file.
        case path(String)
    }

    /// The library's file name.
    public static let fileName = "libModelRouteURLSession.so"

    typealias Open = @convention(c) () -> UnsafeMutableRawPointer
    typealias Close = @convention(c) (UnsafeMutableRawPointer) -> Void
    typealias NewExchange = @convention(c) (UnsafeMutableRawPointer) -> UnsafeMutableRawPointer
    typealias Perform = @convention(c) (
        UnsafeMutableRawPointer, UnsafePointer<UInt8>, Int, Double, UnsafeMutableRawPointer?,
        @convention(c) (UnsafeMutableRawPointer?, Int32, Int, UnsafePointer<UInt8>?, Int) -> Int32
    ) -> Int32
    typealias ExchangeCall = @convention(c) (UnsafeMutableRawPointer) -> Void

    // The C entry points; immutable once loaded, callable from any thread.
    let open: Open
    let close: Close
    let newExchange: NewExchange
    let perform: Perform
    let cancel: ExchangeCall
    let release: ExchangeCall

    private init?(handle: UnsafeMutableRawPointer) {
        func symbol<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: type) }
        }
        guard let open = symbol("modelroute_urlsession_open_v1", as: Open.self),
            let close = symbol("modelroute_urlsession_close_v1", as: Close.self),
            let newExchange = symbol("modelroute_urlsession_exchange_v1", as: NewExchange.self),
            let perform = symbol("modelroute_urlsession_perform_v1", as: Perform.self),
            let cancel = symbol("modelroute_urlsession_cancel_v1", as: ExchangeCall.self),
            let release = symbol("modelroute_urlsession_release_v1", as: ExchangeCall.self)
        else { return nil }
        (self.open, self.close, self.newExchange, self.perform, self.cancel, self.release) = (open, close, newExchange, perform, cancel, release)
    }

    /// The files tried for `locator`, in order.
    public static func candidates(_ locator: Locator, environment: [String: String] = ProcessInfo.processInfo.environment) -> [String] {
        switch locator {
        case .path(let path):
            return [path]
        case .beside:
            if let explicit = environment["MODELROUTE_URLSESSION_LIBRARY"], !explicit.isEmpty { return [explicit] }
            guard let directory = RunningProgram.directory else { return [] }
            return [directory + "/" + fileName, directory + "/../lib/modelroute/" + fileName]
        }
    }

    /// Loaded libraries by locator: a library is loaded once per process.
    private static let loaded = Mutex<[Locator: Result<URLSessionLibrary, LoadFailure>]>([:])

    /// Why the library could not be used.
    public struct LoadFailure: Error, Sendable, Equatable {
        public let detail: String
    }

    /// Loads the library for `locator`, or says why it cannot.
    public static func load(_ locator: Locator) -> Result<URLSessionLibrary, LoadFailure> {
        loaded.withLock { loaded in
            if let known = loaded[locator] { return known }
            let result = attemptLoad(locator)
            loaded[locator] = result
            return result
        }
    }

    private static func attemptLoad(_ locator: Locator) -> Result<URLSessionLibrary, LoadFailure> {
        let candidates = candidates(locator)
        var problems: [String] = []
        for path in candidates where access(path, F_OK) == 0 {
            guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
                problems.append(dlerror().map { String(cString: $0) } ?? "cannot load \(path)")
                continue
            }
            guard let library = URLSessionLibrary(handle: handle) else {
                problems.append("\(path) is not a \(fileName) of this version of modelroute")
                continue
            }
            return .success(library)
        }
        if problems.isEmpty {
            let looked = candidates.isEmpty ? "" : " (looked for \(candidates.joined(separator: ", ")))"
            problems.append(
                "https needs \(fileName), which is built with modelroute but was not found beside it\(looked); "
                    + "install it next to the modelroute executable or set MODELROUTE_URLSESSION_LIBRARY to its path")
        }
        return .failure(LoadFailure(detail: problems.joined(separator: "; ")))
    }
}

extension URLSessionLibrary.Locator: Hashable {}

/// HTTP over the URLSession library: https, and plain http when asked for.
final class URLSessionTransport: Sendable {
    private let locator: URLSessionLibrary.Locator
    /// The library and its client, once loaded; a closed transport makes no new client.
    private let state = Mutex<(library: URLSessionLibrary?, client: OpaqueHandle?, closed: Bool)>((nil, nil, false))

    init(locator: URLSessionLibrary.Locator) {
        self.locator = locator
    }

    /// Loads the library and builds its session; the client, or why there is none.
    @discardableResult
    func prepare() -> Result<(URLSessionLibrary, OpaqueHandle), URLSessionLibrary.LoadFailure> {
        switch URLSessionLibrary.load(locator) {
        case .failure(let failure):
            return .failure(failure)
        case .success(let library):
            return state.withLock { state in
                if let client = state.client { return .success((library, client)) }
                guard !state.closed else { return .failure(.init(detail: "the HTTP client was shut down")) }
                let client = OpaqueHandle(library.open())
                state = (library, client, false)
                return .success((library, client))
            }
        }
    }

    func shutdown() {
        let open = state.withLock { state -> (URLSessionLibrary, OpaqueHandle)? in
            defer { state = (nil, nil, true) }
            guard let library = state.library, let client = state.client else { return nil }
            return (library, client)
        }
        if let (library, client) = open { library.close(client.pointer) }
    }

    func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome {
        let library: URLSessionLibrary
        let client: OpaqueHandle
        switch prepare() {
        case .failure(let failure): return .failed(failure.detail, lasting: true)
        case .success(let loaded): (library, client) = loaded
        }
        let exchange = PluginExchange(library: library, pointer: library.newExchange(client.pointer))
        let token = cancellation.onCancel { exchange.cancel() }
        defer { cancellation.remove(token) }
        if cancellation.isCancelled { return .cancelled }
        let request = URLSessionTransport.encode(spec)
        let sink = EventCollector(handler: handler)
        return await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async {
                continuation.resume(returning: exchange.perform(request, timeout: timeout, sink: sink))
            }
        }
    }

    /// The request in the library's wire form: URL, header lines, a blank line, the body.
    static func encode(_ spec: HTTPRequestSpec) -> [UInt8] {
        var head = spec.url + "\n"
        for header in spec.headers { head += "\(header.name): \(header.value)\n" }
        head += "\n"
        return Array(head.utf8) + spec.body
    }
}

/// A pointer the library handed out, passed between threads.
struct OpaqueHandle: @unchecked Sendable {
    let pointer: UnsafeMutableRawPointer
    init(_ pointer: UnsafeMutableRawPointer) { self.pointer = pointer }
}

/// One exchange in the library, released when the last reference (perhaps a late
/// cancellation handler) goes.
final class PluginExchange: @unchecked Sendable {
    let library: URLSessionLibrary
    let pointer: UnsafeMutableRawPointer

    init(library: URLSessionLibrary, pointer: UnsafeMutableRawPointer) {
        self.library = library
        self.pointer = pointer
    }

    func cancel() { library.cancel(pointer) }

    /// Runs the exchange, blocking this thread until it ends.
    func perform(_ request: [UInt8], timeout: Double, sink: EventCollector) -> TransportOutcome {
        let code = withExtendedLifetime(sink) {
            request.withUnsafeBufferPointer { bytes -> Int32 in
                guard let base = bytes.baseAddress else { return 4 }
                return library.perform(pointer, base, bytes.count, timeout, Unmanaged.passUnretained(sink).toOpaque()) { context, kind, number, bytes, count in
                    guard let context else { return 0 }
                    let sink = Unmanaged<EventCollector>.fromOpaque(context).takeUnretainedValue()
                    return sink.receive(kind: kind, number: number, bytes: UnsafeBufferPointer(start: bytes, count: count)) ? 1 : 0
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

    deinit { library.release(pointer) }
}

/// Turns the library's events into handler calls; events come one at a time.
final class EventCollector: @unchecked Sendable {
    let handler: any HTTPResponseHandler
    /// The failure's description, if the library sent one.
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
                headers[line[..<colon].lowercased()] = String(line[line.index(after: colon)...].drop { $0 == " " })
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
