import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Synchronization

/// Receives one HTTP exchange's response as it arrives, on the transport's delegate queue.
public protocol HTTPResponseHandler: AnyObject, Sendable {
    /// The status line and headers (names lowercased); return false to cancel the exchange.
    func receive(status: Int, headers: [String: String]) -> Bool
    /// One piece of the body, as the server sent it; return false to cancel the exchange.
    func receive(data: Data) -> Bool
}

/// How an exchange ended at the transport level (HTTP error statuses are not failures here).
public enum TransportOutcome: Sendable, Equatable {
    /// The server finished the response (or closed the connection: see `SSEParser` users).
    case completed
    /// No response or no further data within the timeout.
    case timedOut
    /// Cancelled by the caller, by a handler, or by Ctrl-C.
    case cancelled
    /// The connection failed; the text is the system's description. `lasting` marks
    /// failures a retry cannot fix (a bad URL, a TLS certificate problem).
    case failed(String, lasting: Bool = false)
}

/// HTTP over `URLSession` with a data delegate, so that a streamed body reaches the
/// handler chunk by chunk (Linux Foundation has no `bytes(for:)`).
///
/// One transport serves one process's call (retries and fallbacks included); its
/// delegate queue is serial, so a handler sees its events in order.
public final class HTTPTransport: NSObject, URLSessionDataDelegate, Sendable {
    /// One exchange in flight.
    private final class Exchange: Sendable {
        let handler: any HTTPResponseHandler
        let continuation: CheckedContinuation<TransportOutcome, Never>
        /// Set when a handler asked to stop, so that the cancellation is not mistaken for Ctrl-C.
        let stoppedByHandler = Mutex(false)
        /// Set when the idle timer stopped the exchange.
        let timedOut = Mutex(false)
        /// When the last sign of life (response head or data) arrived.
        let lastActivity = Mutex(DispatchTime.now())

        init(handler: any HTTPResponseHandler, continuation: CheckedContinuation<TransportOutcome, Never>) {
            self.handler = handler
            self.continuation = continuation
        }
    }

    /// The serial queue delegate callbacks run on.
    private let queue: OperationQueue
    /// The session, once created, and whether `shutdown()` was called (then none is made).
    private let session = Mutex<(current: URLSession?, closed: Bool)>((nil, false))
    /// Exchanges in flight by task identifier.
    private let exchanges = Mutex<[Int: Exchange]>([:])

    public override init() {
        queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "modelroute.http"
        super.init()
    }

    /// The session, created on first use (so that mock-only runs never load networking).
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

    /// Starts building the session on another thread, so that Foundation's networking
    /// set-up (cookie storage, libcurl and TLS initialisation: milliseconds) overlaps
    /// with reading the prompt and routing it.
    public func warmUp() {
        DispatchQueue.global(qos: .userInitiated).async { [self] in _ = currentSession() }
    }

    /// Sends a POST and feeds the response to `handler` until it ends; `timeout` bounds
    /// the wait for the response and for each next piece of it.
    public func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome {
        guard let url = URL(string: spec.url) else { return .failed("invalid URL", lasting: true) }
        if cancellation.isCancelled { return .cancelled }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        for header in spec.headers { request.setValue(header.value, forHTTPHeaderField: header.name) }
        request.httpBody = Data(spec.body)
        guard let session = currentSession() else { return .failed("the HTTP client was shut down", lasting: true) }
        let task = session.dataTask(with: request)
        let identifier = task.taskIdentifier
        let token = cancellation.onCancel { task.cancel() }
        let outcome = await withCheckedContinuation { continuation in
            let exchange = Exchange(handler: handler, continuation: continuation)
            exchanges.withLock { $0[identifier] = exchange }
            task.resume()
            watchIdleness(of: exchange, task: task, timeout: timeout)
        }
        cancellation.remove(token)
        return outcome
    }

    /// Cancels `task` once nothing has arrived for `timeout` seconds. Foundation's own
    /// request timeout is not applied consistently on Linux, so the transport keeps its own.
    private func watchIdleness(of exchange: Exchange, task: URLSessionTask, timeout: Double) {
        let limit = UInt64(max(timeout, 0.001) * 1_000_000_000)
        scheduleIdleCheck(exchange, task: task, limit: limit, after: limit)
    }

    /// Checks the exchange after `delay` nanoseconds and reschedules while it is alive.
    private func scheduleIdleCheck(_ exchange: Exchange, task: URLSessionTask, limit: UInt64, after delay: UInt64) {
        let identifier = task.taskIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, UInt64(Int.max))))) { [self] in
            guard exchanges.withLock({ $0[identifier] != nil }) else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            let last = exchange.lastActivity.withLock { $0.uptimeNanoseconds }
            let idle = now > last ? now - last : 0
            if idle >= limit {
                exchange.timedOut.withLock { $0 = true }
                task.cancel()
            } else {
                scheduleIdleCheck(exchange, task: task, limit: limit, after: limit - idle)
            }
        }
    }

    /// URL-loading errors that the same request would meet again: bad or unsupported
    /// URLs and TLS failures (untrusted, expired or mismatched certificates).
    static let lastingErrorCodes: Set<Int> = [
        NSURLErrorBadURL, NSURLErrorUnsupportedURL, NSURLErrorSecureConnectionFailed,
        NSURLErrorServerCertificateHasBadDate, NSURLErrorServerCertificateUntrusted,
        NSURLErrorServerCertificateHasUnknownRoot, NSURLErrorServerCertificateNotYetValid,
        NSURLErrorClientCertificateRejected, NSURLErrorClientCertificateRequired,
    ]

    /// Ends the session once nothing is in flight; call when the call is over.
    public func shutdown() {
        session.withLock { session in
            session.current?.finishTasksAndInvalidate()
            session = (nil, true)
        }
    }

    /// The exchange a task belongs to.
    private func exchange(_ task: URLSessionTask) -> Exchange? {
        exchanges.withLock { $0[task.taskIdentifier] }
    }

    /// Hands the status and headers to the handler.
    public func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void
    ) {
        guard let exchange = exchange(dataTask), let http = response as? HTTPURLResponse else {
            completionHandler(.allow)
            return
        }
        exchange.lastActivity.withLock { $0 = .now() }
        var headers: [String: String] = [:]
        for (name, value) in http.allHeaderFields {
            if let name = name as? String, let value = value as? String { headers[name.lowercased()] = value }
        }
        if exchange.handler.receive(status: http.statusCode, headers: headers) {
            completionHandler(.allow)
        } else {
            exchange.stoppedByHandler.withLock { $0 = true }
            completionHandler(.cancel)
        }
    }

    /// Hands each piece of the body to the handler as it arrives.
    public func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let exchange = exchange(dataTask) else { return }
        exchange.lastActivity.withLock { $0 = .now() }
        if !exchange.handler.receive(data: data) {
            exchange.stoppedByHandler.withLock { $0 = true }
            dataTask.cancel()
        }
    }

    /// Ends the exchange: completed, timed out, cancelled or failed.
    public func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        guard let exchange = exchanges.withLock({ $0.removeValue(forKey: task.taskIdentifier) }) else { return }
        let outcome: TransportOutcome
        if let error {
            let nsError = error as NSError
            if exchange.timedOut.withLock({ $0 }) {
                outcome = .timedOut
            } else if nsError.domain == NSURLErrorDomain && nsError.code == NSURLErrorCancelled {
                outcome = exchange.stoppedByHandler.withLock { $0 } ? .completed : .cancelled
            } else if nsError.domain == NSURLErrorDomain && nsError.code == NSURLErrorTimedOut {
                outcome = .timedOut
            } else {
                outcome = .failed(nsError.localizedDescription, lasting: HTTPTransport.lastingErrorCodes.contains(nsError.code))
            }
        } else {
            outcome = .completed
        }
        exchange.continuation.resume(returning: outcome)
    }
}
