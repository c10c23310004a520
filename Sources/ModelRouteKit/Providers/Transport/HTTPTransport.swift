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
/// goes over the built-in HTTP/1.1 client, and `https://` over the system's libcurl,
/// which is loaded only when the first such request is made.
public final class HTTPClient: HTTPTransport {
    /// Which client serves plain `http://` URLs.
    public enum PlainHTTPClient: String, Sendable, CaseIterable {
        /// The built-in HTTP/1.1 client over a socket.
        case builtin
        /// libcurl, as for https.
        case curl
    }

    private let plainHTTP: PlainHTTPClient
    private let socket = SocketTransport()
    private let curl: CurlTransport

    /// `library` overrides where libcurl is looked for (tests).
    public init(plainHTTP: PlainHTTPClient = .builtin, library: CurlLibrary.Locator = .system) {
        self.plainHTTP = plainHTTP
        curl = CurlTransport(locator: library)
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
        return await curl.perform(spec, timeout: timeout, handler: handler, cancellation: cancellation)
    }

    /// Starts loading libcurl on another thread when any of `urls` will need it, so that
    /// its set-up (libraries and TLS initialisation: milliseconds) overlaps with reading
    /// the prompt and routing it.
    public func warmUp(for urls: [String]) {
        guard urls.contains(where: { !usesBuiltin($0) }) else { return }
        CurlLibrary.loading.enter()
        DispatchQueue.global(qos: .userInitiated).async { [curl] in
            curl.prepare()
            CurlLibrary.loading.leave()
        }
    }

    /// Kept for callers that end a client explicitly; each exchange cleans up after
    /// itself, so there is nothing left to end.
    public func shutdown() {}
}
