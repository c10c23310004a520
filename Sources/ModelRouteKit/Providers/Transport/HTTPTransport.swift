import Dispatch
import FoundationEssentials

/// Receives one HTTP exchange's response as it arrives, in order, from one thread at a time.
public protocol HTTPResponseHandler: AnyObject, Sendable {
    /// The status line and headers (names lowercased); return false to cancel the exchange.
    func receive(status: Int, headers: [String: String]) -> Bool
    /// One piece of the body, as the server sent it; return false to cancel the exchange.
    func receive(data: Data) -> Bool
}

/// How an exchange ended at the transport level (HTTP error statuses are not failures here).
public enum TransportOutcome: Sendable, Equatable {
    /// The server finished the response, or a handler asked to stop.
    case completed
    /// No response or no further data within the timeout.
    case timedOut
    /// Cancelled by the caller or by Ctrl-C.
    case cancelled
    /// The connection failed; the text says how. `lasting` marks failures a retry
    /// cannot fix (a bad URL, a TLS certificate problem, a missing library).
    case failed(String, lasting: Bool = false)
}

/// Sends one POST and feeds its response to a handler.
public protocol HTTPTransport: Sendable {
    /// Sends `spec` and feeds the response to `handler` until it ends; `timeout` bounds
    /// the wait for the response and for each next piece of it.
    func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome
}

/// The HTTP client a call uses: plain `http://` (local and OpenAI-compatible servers)
/// goes over the built-in HTTP/1.1 client, and `https://` over URLSession, whose
/// library is loaded only when the first such request is made.
public final class HTTPClient: HTTPTransport {
    /// Which client serves plain `http://` URLs.
    public enum PlainHTTPClient: String, Sendable, CaseIterable {
        /// The built-in HTTP/1.1 client over a socket.
        case builtin
        /// URLSession, as for https.
        case urlsession
    }

    private let plainHTTP: PlainHTTPClient
    private let socket = SocketTransport()
    private let urlSession: URLSessionTransport

    /// `library` overrides where the URLSession library is looked for (tests).
    public init(plainHTTP: PlainHTTPClient = .builtin, library: URLSessionLibrary.Locator = .beside) {
        self.plainHTTP = plainHTTP
        urlSession = URLSessionTransport(locator: library)
    }

    /// Whether `url` goes over the built-in client.
    func usesBuiltin(_ url: String) -> Bool {
        plainHTTP == .builtin && HTTPEndpoint.isPlainHTTP(url)
    }

    public func perform(
        _ spec: HTTPRequestSpec, timeout: Double, handler: any HTTPResponseHandler, cancellation: CancellationSignal
    ) async -> TransportOutcome {
        if usesBuiltin(spec.url) {
            return await socket.perform(spec, timeout: timeout, handler: handler, cancellation: cancellation)
        }
        return await urlSession.perform(spec, timeout: timeout, handler: handler, cancellation: cancellation)
    }

    /// Starts loading URLSession on another thread when any of `urls` will need it, so
    /// that its set-up (libraries, libcurl and TLS initialisation: milliseconds) overlaps
    /// with reading the prompt and routing it.
    public func warmUp(for urls: [String]) {
        guard urls.contains(where: { !usesBuiltin($0) }) else { return }
        DispatchQueue.global(qos: .userInitiated).async { [urlSession] in urlSession.prepare() }
    }

    /// Ends the URLSession session, if one was made, once nothing is in flight.
    public func shutdown() {
        urlSession.shutdown()
    }
}
