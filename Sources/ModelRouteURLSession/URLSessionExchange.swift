import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

// The URLSession client, built as a shared library that `modelroute` loads only when a
// call needs it (https). Linking FoundationNetworking pulls libcurl and some thirty
// libraries into the process, which costs every run about 11 ms of dynamic linking;
// loaded on demand, only the runs that go over TLS pay it.
//
// The interface is plain C so that the library and the program share no Swift types
// (each links its own copy of whatever it uses):
//
//   client   = modelroute_urlsession_open_v1()
//   exchange = modelroute_urlsession_exchange_v1(client)
//   outcome  = modelroute_urlsession_perform_v1(exchange, request, length, timeout, context, sink)  // blocks
//              modelroute_urlsession_cancel_v1(exchange)  // from any thread, before or during perform
//              modelroute_urlsession_release_v1(exchange)
//              modelroute_urlsession_close_v1(client)
//
// `request` is "URL\n", then "name: value\n" per header, then "\n", then the body.
// `sink(context, kind, number, bytes, count)` receives, in order: kind 1, the head
// (number = status, bytes = "name: value\n" lines); kind 2, each piece of the body;
// kind 3, a failure's description. It returns 0 to stop the exchange, else 1.
// `perform` returns 0 completed, 1 timed out, 2 cancelled, 3 failed, 4 failed for good.

/// The C signature of the event sink.
public typealias URLSessionEventSink = @convention(c) (UnsafeMutableRawPointer?, Int32, Int, UnsafePointer<UInt8>?, Int) -> Int32

/// Outcome codes, as `perform` returns them.
enum OutcomeCode: Int32 {
    case completed = 0, timedOut = 1, cancelled = 2, failed = 3, failedForGood = 4
}

/// Event kinds, as the sink receives them.
enum EventKind: Int32 {
    case head = 1, data = 2, failure = 3
}

@_cdecl("modelroute_urlsession_open_v1")
public func modelrouteURLSessionOpen() -> UnsafeMutableRawPointer {
    Unmanaged.passRetained(SessionClient()).toOpaque()
}

@_cdecl("modelroute_urlsession_close_v1")
public func modelrouteURLSessionClose(_ client: UnsafeMutableRawPointer) {
    let client = Unmanaged<SessionClient>.fromOpaque(client).takeRetainedValue()
    client.close()
}

@_cdecl("modelroute_urlsession_exchange_v1")
public func modelrouteURLSessionExchange(_ client: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
    let client = Unmanaged<SessionClient>.fromOpaque(client).takeUnretainedValue()
    return Unmanaged.passRetained(Exchange(client: client)).toOpaque()
}

@_cdecl("modelroute_urlsession_perform_v1")
public func modelrouteURLSessionPerform(
    _ exchange: UnsafeMutableRawPointer, _ request: UnsafePointer<UInt8>, _ length: Int, _ timeout: Double,
    _ context: UnsafeMutableRawPointer?, _ sink: URLSessionEventSink
) -> Int32 {
    let exchange = Unmanaged<Exchange>.fromOpaque(exchange).takeUnretainedValue()
    let bytes = UnsafeBufferPointer(start: request, count: length)
    return exchange.perform(Array(bytes), timeout: timeout, sink: EventSink(context: context, function: sink)).rawValue
}

@_cdecl("modelroute_urlsession_cancel_v1")
public func modelrouteURLSessionCancel(_ exchange: UnsafeMutableRawPointer) {
    Unmanaged<Exchange>.fromOpaque(exchange).takeUnretainedValue().cancel()
}

@_cdecl("modelroute_urlsession_release_v1")
public func modelrouteURLSessionRelease(_ exchange: UnsafeMutableRawPointer) {
    Unmanaged<Exchange>.fromOpaque(exchange).release()
}

/// The caller's sink and its context. The caller keeps the context alive until
/// `perform` returns, and events arrive one at a time on the session's serial queue.
struct EventSink: @unchecked Sendable {
    let context: UnsafeMutableRawPointer?
    let function: URLSessionEventSink

    func send(_ kind: EventKind, number: Int = 0, bytes: UnsafeRawBufferPointer) -> Bool {
        function(context, kind.rawValue, number, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count) != 0
    }

    func send(_ kind: EventKind, number: Int = 0, text: String) -> Bool {
        var text = text
        return text.withUTF8 { send(kind, number: number, bytes: UnsafeRawBufferPointer($0)) }
    }
}

/// A request decoded from the wire form described at the top of this file.
struct DecodedRequest {
    var url: String
    var headers: [(name: String, value: String)]
    var body: Data

    init?(_ bytes: [UInt8]) {
        var lines: [String] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index == start { break }
                lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
                start = index + 1
            }
            index += 1
        }
        guard index < bytes.count, let url = lines.first else { return nil }
        self.url = url
        headers = lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: ":") else { return nil }
            let value = line[line.index(after: colon)...].drop { $0 == " " }
            return (String(line[..<colon]), String(value))
        }
        body = Data(bytes[(index + 1)...])
    }
}

/// One process's URLSession, with a data delegate so that a streamed body reaches the
/// sink chunk by chunk (Linux Foundation has no `bytes(for:)`). Its delegate queue is
/// serial, so a sink sees its events in order.
final class SessionClient: NSObject, URLSessionDataDelegate, Sendable {
    /// The serial queue delegate callbacks run on.
    private let queue: OperationQueue
    /// The session, and whether `close()` was called (then no exchange starts).
    private let session = Mutex<(current: URLSession?, closed: Bool)>((nil, false))
    /// Exchanges in flight by task identifier.
    private let exchanges = Mutex<[Int: Exchange]>([:])

    override init() {
        queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "modelroute.urlsession"
        super.init()
        // Building the session sets up cookie storage, libcurl and TLS: do it now, on
        // the caller's warm-up thread, not when the request is ready.
        _ = currentSession()
    }

    private func currentSession() -> URLSession? {
        session.withLock { session in
            if session.closed { return nil }
            if let current = session.current { return current }
            let configuration = URLSessionConfiguration.ephemeral
            configuration.urlCache = nil
            configuration.httpCookieStorage = nil
            configuration.httpShouldSetCookies = false
            configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
            configuration.timeoutIntervalForResource = 24 * 3600
            let created = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
            session.current = created
            return created
        }
    }

    /// Ends the session once nothing is in flight.
    func close() {
        session.withLock { session in
            session.current?.finishTasksAndInvalidate()
            session = (nil, true)
        }
    }

    /// Starts `request` for `exchange`; nil once the client is closed.
    func start(_ request: URLRequest, for exchange: Exchange) -> URLSessionDataTask? {
        guard let session = currentSession() else { return nil }
        let task = session.dataTask(with: request)
        exchanges.withLock { $0[task.taskIdentifier] = exchange }
        return task
    }

    /// Forgets a task's exchange; the exchange, if it was still registered.
    func finish(_ task: URLSessionTask) -> Exchange? {
        exchanges.withLock { $0.removeValue(forKey: task.taskIdentifier) }
    }

    private func exchange(_ task: URLSessionTask) -> Exchange? {
        exchanges.withLock { $0[task.taskIdentifier] }
    }

    /// URL-loading errors that the same request would meet again: bad or unsupported
    /// URLs and TLS failures (untrusted, expired or mismatched certificates).
    static let lastingErrorCodes: Set<Int> = [
        NSURLErrorBadURL, NSURLErrorUnsupportedURL, NSURLErrorSecureConnectionFailed,
        NSURLErrorServerCertificateHasBadDate, NSURLErrorServerCertificateUntrusted,
        NSURLErrorServerCertificateHasUnknownRoot, NSURLErrorServerCertificateNotYetValid,
        NSURLErrorClientCertificateRejected, NSURLErrorClientCertificateRequired,
    ]

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let exchange = exchange(dataTask), let http = response as? HTTPURLResponse else {
            completionHandler(.allow)
            return
        }
        var head = ""
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { head += "\(name): \(value)\n" }
        }
        completionHandler(exchange.deliver(.head, number: http.statusCode, text: head) ? .allow : .cancel)
    }

    /// Redirects are never followed: a 3xx to another origin would carry the API key
    /// there. The redirect itself is the response, which modelroute reports.
    func urlSession(
        _ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse, newRequest request: URLRequest,
        completionHandler: @escaping @Sendable (URLRequest?) -> Void
    ) {
        completionHandler(nil)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let exchange = exchange(dataTask) else { return }
        let keepGoing = data.withUnsafeBytes { exchange.deliver(.data, bytes: $0) }
        if !keepGoing { dataTask.cancel() }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let exchange = finish(task) else { return }
        guard let error else { return exchange.end(.completed) }
        let nsError = error as NSError
        if exchange.timedOut.withLock({ $0 }) {
            exchange.end(.timedOut)
        } else if nsError.domain == NSURLErrorDomain && nsError.code == NSURLErrorCancelled {
            exchange.end(exchange.stoppedBySink.withLock { $0 } ? .completed : .cancelled)
        } else if nsError.domain == NSURLErrorDomain && nsError.code == NSURLErrorTimedOut {
            exchange.end(.timedOut)
        } else {
            _ = exchange.sink.withLock { $0 }?.send(.failure, text: nsError.localizedDescription)
            exchange.end(SessionClient.lastingErrorCodes.contains(nsError.code) ? .failedForGood : .failed)
        }
    }
}

/// One request and its response.
final class Exchange: Sendable {
    let client: SessionClient
    /// The caller's sink, while `perform` runs.
    let sink = Mutex<EventSink?>(nil)
    /// The task, once started, and whether a cancel came (perhaps before it started).
    private let task = Mutex<(current: URLSessionDataTask?, cancelled: Bool)>((nil, false))
    /// Set when the sink asked to stop, so that the cancellation is not mistaken for Ctrl-C.
    let stoppedBySink = Mutex(false)
    /// Set when the idle timer stopped the exchange.
    let timedOut = Mutex(false)
    /// When the last sign of life (response head or data) arrived.
    private let lastActivity = Mutex(DispatchTime.now())
    /// The outcome, and the signal `perform` waits for.
    private let outcome = Mutex(OutcomeCode.completed)
    private let ended = DispatchSemaphore(value: 0)

    init(client: SessionClient) {
        self.client = client
    }

    func perform(_ bytes: [UInt8], timeout: Double, sink: EventSink) -> OutcomeCode {
        guard let decoded = DecodedRequest(bytes), let url = URL(string: decoded.url) else {
            _ = sink.send(.failure, text: "invalid URL")
            return .failedForGood
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        for header in decoded.headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        request.httpBody = decoded.body
        self.sink.withLock { $0 = sink }
        defer { self.sink.withLock { $0 = nil } }
        guard let started = client.start(request, for: self) else {
            _ = sink.send(.failure, text: "the HTTP client was shut down")
            return .failedForGood
        }
        let cancelledEarly = task.withLock { task in
            task.current = started
            return task.cancelled
        }
        if cancelledEarly {
            _ = client.finish(started)
            return .cancelled
        }
        lastActivity.withLock { $0 = .now() }
        started.resume()
        watchIdleness(of: started, limit: UInt64(max(timeout, 0.001) * 1_000_000_000))
        ended.wait()
        return outcome.withLock { $0 }
    }

    func cancel() {
        let current = task.withLock { task in
            task.cancelled = true
            return task.current
        }
        current?.cancel()
    }

    /// Passes an event on; false when the sink asked to stop.
    func deliver(_ kind: EventKind, number: Int = 0, bytes: UnsafeRawBufferPointer) -> Bool {
        lastActivity.withLock { $0 = .now() }
        guard let sink = sink.withLock({ $0 }), sink.send(kind, number: number, bytes: bytes) else {
            stoppedBySink.withLock { $0 = true }
            return false
        }
        return true
    }

    func deliver(_ kind: EventKind, number: Int, text: String) -> Bool {
        var text = text
        return text.withUTF8 { deliver(kind, number: number, bytes: UnsafeRawBufferPointer($0)) }
    }

    func end(_ code: OutcomeCode) {
        outcome.withLock { $0 = code }
        ended.signal()
    }

    /// Cancels the task once nothing has arrived for `limit` nanoseconds. Foundation's
    /// own request timeout is not applied consistently on Linux, so the exchange keeps its own.
    private func watchIdleness(of task: URLSessionDataTask, limit: UInt64, after delay: UInt64? = nil) {
        let wait = delay ?? limit
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(min(wait, UInt64(Int.max))))) { [self] in
            guard task.state == .running else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            let last = lastActivity.withLock { $0.uptimeNanoseconds }
            let idle = now > last ? now - last : 0
            if idle >= limit {
                timedOut.withLock { $0 = true }
                task.cancel()
            } else {
                watchIdleness(of: task, limit: limit, after: limit - idle)
            }
        }
    }
}
