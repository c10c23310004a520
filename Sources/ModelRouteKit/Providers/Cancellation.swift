import Dispatch
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A one-way switch that Ctrl-C (or a test) flips; in-flight requests and backoff
/// waits register handlers so that they stop the moment it flips.
public final class CancellationSignal: Sendable {
    /// The flag and the handlers waiting for it.
    private struct State {
        var cancelled = false
        var handlers: [Int: @Sendable () -> Void] = [:]
        var nextToken = 0
    }

    /// The flag and handlers, shared across threads.
    private let state = Mutex(State())

    public init() {}

    /// Whether `cancel()` was called.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Flips the switch and runs every registered handler once.
    public func cancel() {
        let handlers = state.withLock { state -> [@Sendable () -> Void] in
            guard !state.cancelled else { return [] }
            state.cancelled = true
            defer { state.handlers.removeAll() }
            return Array(state.handlers.values)
        }
        for handler in handlers { handler() }
    }

    /// Registers a handler; if already cancelled it runs at once and nil is returned.
    @discardableResult
    public func onCancel(_ handler: @escaping @Sendable () -> Void) -> Int? {
        let token = state.withLock { state -> Int? in
            guard !state.cancelled else { return nil }
            state.nextToken += 1
            state.handlers[state.nextToken] = handler
            return state.nextToken
        }
        if token == nil { handler() }
        return token
    }

    /// Forgets a handler that is no longer needed.
    public func remove(_ token: Int?) {
        guard let token else { return }
        state.withLock { _ = $0.handlers.removeValue(forKey: token) }
    }

    /// Waits `seconds`, or less if cancelled; returns false when cancelled.
    public func sleep(seconds requested: Double) async -> Bool {
        // Every wait is bounded, whatever asked for it.
        let seconds = requested.isFinite ? min(requested, RetryTiming.longestWait) : 0
        if seconds <= 0 { return !isCancelled }
        let once = Mutex(false)
        let outcome: Bool = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let resume: @Sendable (Bool) -> Void = { value in
                let first = once.withLock { done -> Bool in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: value) }
            }
            let token = onCancel { resume(false) }
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                self.remove(token)
                resume(true)
            }
        }
        return outcome
    }
}

/// Turns SIGINT (Ctrl-C) into a `CancellationSignal` while a call runs, so that the
/// call can stop cleanly and still write its log record.
public final class InterruptMonitor: Sendable {
    /// The signal source; held in a mutex because Dispatch sources are not `Sendable`.
    private let source: Mutex<(any DispatchSourceSignal)?>

    /// Starts listening; the default SIGINT action (killing the process) is off until `stop()`.
    public init(signal cancellation: CancellationSignal) {
        Glibc.signal(SIGINT, SIG_IGN)
        let created = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        created.setEventHandler {
            cancellation.cancel()
            // A second Ctrl-C, should the first not end things quickly enough, kills at once.
            Glibc.signal(SIGINT, SIG_DFL)
        }
        created.resume()
        source = Mutex(created)
    }

    /// Stops listening and restores the default action.
    public func stop() {
        source.withLock { source in
            source?.cancel()
            source = nil
        }
        Glibc.signal(SIGINT, SIG_DFL)
    }
}
