import FoundationEssentials
import Synchronization

/// What a call produced, whatever happened: the input of its log record.
public struct CallOutcome: Sendable {
    /// The answer (possibly partial when the call failed or was cancelled mid-stream).
    public var text: String
    /// The model (routes.json key) that answered, or the last one tried; nil if none was.
    public var model: String?
    /// The provider that was called for it.
    public var provider: String?
    /// Token counts (provider's, or estimated where it gave none).
    public var usage: TokenUsage
    /// True when any count is modelroute's estimate.
    public var usageEstimated: Bool
    /// Every HTTP attempt made, across all models (a mock answer counts as one).
    public var attempts: Int
    /// The route's primary model when a fallback answered or was last tried.
    public var fallbackFrom: String?
    /// Milliseconds from the start of the call to the first piece of a streamed answer.
    public var timeToFirstTokenMilliseconds: Int?
    /// Milliseconds from the start of the call to its end.
    public var latencyMilliseconds: Int
    /// `ok`, `error` or `cancelled`.
    public var status: LedgerRecord.Status
    /// Why it failed or stopped; nil for `ok`.
    public var error: ProviderError?
    /// Whether any text reached the output while streaming.
    public var outputBegan: Bool
    /// Whether the output closed (EPIPE) and the call stopped for that reason.
    public var outputClosed: Bool
    /// The provider said the answer stopped at the token limit.
    public var truncated = false

    public init(
        text: String = "", model: String? = nil, provider: String? = nil, usage: TokenUsage = TokenUsage(),
        usageEstimated: Bool = false, attempts: Int = 0, fallbackFrom: String? = nil,
        timeToFirstTokenMilliseconds: Int? = nil, latencyMilliseconds: Int = 0, status: LedgerRecord.Status = .ok,
        error: ProviderError? = nil, outputBegan: Bool = false, outputClosed: Bool = false
    ) {
        self.text = text
        self.model = model
        self.provider = provider
        self.usage = usage
        self.usageEstimated = usageEstimated
        self.attempts = attempts
        self.fallbackFrom = fallbackFrom
        self.timeToFirstTokenMilliseconds = timeToFirstTokenMilliseconds
        self.latencyMilliseconds = latencyMilliseconds
        self.status = status
        self.error = error
        self.outputBegan = outputBegan
        self.outputClosed = outputClosed
    }
}

/// Calls a route's models in order, retrying each as its policy allows, streaming
/// the answer to `output` as it arrives, and never retrying once output has begun.
public struct CallRunner: Sendable {
    /// The routing table: models, providers, prices.
    public var table: RoutingTable
    /// Where API keys and `${VAR}` header values come from.
    public var environment: [String: String]
    /// Sends `--offline` calls to the mock provider.
    public var offline: Bool
    /// Overrides every provider's timeout (`--timeout`).
    public var timeoutOverride: Double?
    /// The HTTP client.
    public var transport: any HTTPTransport
    /// Ctrl-C's switch.
    public var cancellation: CancellationSignal
    /// Receives each streamed piece; returns false once the reader is gone (EPIPE).
    /// Nil collects the answer without printing it (`--json`, where a retry mid-stream is harmless).
    public var output: (@Sendable (String) -> Bool)?
    /// Receives progress lines (`--verbose`) and fallback notes; never given a secret.
    public var diagnostics: @Sendable (String) -> Void
    /// Whether to report each attempt through `diagnostics`.
    public var verbose: Bool
    /// A uniform draw from [0, 1) for backoff jitter (tests fix it).
    public var random: @Sendable () -> Double
    /// The wall clock, for `Retry-After` dates.
    public var now: @Sendable () -> Date

    public init(
        table: RoutingTable, environment: [String: String], offline: Bool = false, timeoutOverride: Double? = nil,
        transport: any HTTPTransport, cancellation: CancellationSignal, output: (@Sendable (String) -> Bool)?,
        diagnostics: @escaping @Sendable (String) -> Void, verbose: Bool = false,
        random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.table = table
        self.environment = environment
        self.offline = offline
        self.timeoutOverride = timeoutOverride
        self.transport = transport
        self.cancellation = cancellation
        self.output = output
        self.diagnostics = diagnostics
        self.verbose = verbose
        self.random = random
        self.now = now
    }

    /// Checks the first model before any network: its key and header variables.
    /// A failure here is a configuration error (exit 78).
    public func preflight(decision: RoutingDecision) throws(ProviderError) {
        let candidates = CallTarget.candidates(for: decision, table: table, offline: offline)
        _ = try CallTarget.prepare(
            modelName: candidates[0], table: table, route: table.route(named: decision.route), environment: environment,
            offline: offline, timeoutOverride: timeoutOverride)
    }

    /// Makes the call. Never throws: every ending is an outcome with a status.
    public func run(decision: RoutingDecision, request: ChatRequest) async -> CallOutcome {
        let clock = ContinuousClock()
        let start = clock.now
        let route = table.route(named: decision.route)
        let candidates = CallTarget.candidates(for: decision, table: table, offline: offline)
        var outcome = CallOutcome()
        var failures: [String] = []
        var lastError: ProviderError?
        func finish(_ outcome: inout CallOutcome) {
            outcome.latencyMilliseconds = Self.milliseconds(clock.now - start)
            let estimated = Self.fillEstimates(&outcome.usage, request: request, answer: outcome.text, status: outcome.status, outputBegan: outcome.outputBegan || !outcome.text.isEmpty)
            outcome.usageEstimated = outcome.usageEstimated || estimated
        }
        for (index, modelName) in candidates.enumerated() {
            // A prompt over the model's window skips it, with no request, to the next one.
            if let window = table.model(named: modelName)?.contextTokens, request.estimatedInputTokens > window {
                let error = ProviderError.contextTooLong(model: modelName, tokens: request.estimatedInputTokens, window: window)
                failures.append(error.message)
                if lastError == nil { lastError = error }
                if index + 1 < candidates.count { diagnostics("\(error.message); trying \(candidates[index + 1])") }
                continue
            }
            let target: CallTarget
            do {
                target = try CallTarget.prepare(
                    modelName: modelName, table: table, route: route, environment: environment, offline: offline,
                    timeoutOverride: timeoutOverride)
            } catch {
                // A skipped fallback does not decide the exit status; the failures that were tried do.
                failures.append(error.message)
                if lastError == nil { lastError = error }
                if index + 1 < candidates.count { diagnostics("\(error.message); trying \(candidates[index + 1])") }
                continue
            }
            outcome.model = modelName
            outcome.provider = target.provider.name
            outcome.fallbackFrom = index > 0 ? candidates[0] : nil
            var retry = 0
            while true {
                if cancellation.isCancelled {
                    outcome.status = .cancelled
                    outcome.error = .cancelled
                    finish(&outcome)
                    return outcome
                }
                outcome.attempts += 1
                let result = await attempt(target: target, request: request, number: outcome.attempts, clock: clock, start: start)
                outcome.text = result.text
                outcome.usage = result.usage
                outcome.usageEstimated = result.usageEstimated
                outcome.outputBegan = result.outputBegan
                outcome.truncated = result.truncated
                if outcome.timeToFirstTokenMilliseconds == nil, let first = result.firstOutput {
                    outcome.timeToFirstTokenMilliseconds = Self.milliseconds(first - start)
                }
                switch result.ending {
                case .success:
                    outcome.status = .ok
                    finish(&outcome)
                    return outcome
                case .outputClosed:
                    outcome.status = .cancelled
                    outcome.outputClosed = true
                    outcome.error = .streamInterrupted(provider: target.provider.name, model: modelName, status: result.status, detail: "the output was closed")
                    finish(&outcome)
                    return outcome
                case .cancelled:
                    outcome.status = .cancelled
                    outcome.error = .cancelled
                    finish(&outcome)
                    return outcome
                case .failed(let error, let retryable, let retryAfter):
                    lastError = error
                    if result.outputBegan {
                        // Retrying now would print the answer a second time.
                        outcome.status = .error
                        outcome.error = error
                        finish(&outcome)
                        return outcome
                    }
                    guard retryable, retry < target.retry.retries else {
                        if verbose { diagnostics("attempt \(outcome.attempts) failed: \(error.message)") }
                        failures.append(error.message)
                        break
                    }
                    let delay: Double
                    if let retryAfter {
                        guard retryAfter <= target.retry.maxDelaySeconds else {
                            failures.append(error.message + " (Retry-After \(ProviderError.format(retryAfter)) s is over the \(ProviderError.format(target.retry.maxDelaySeconds)) s cap)")
                            break
                        }
                        delay = retryAfter
                    } else {
                        delay = RetryTiming.backoff(retry: retry, policy: target.retry, unit: random())
                    }
                    if verbose {
                        let reason = retryAfter == nil ? "backoff" : "Retry-After"
                        diagnostics("attempt \(outcome.attempts) failed: \(error.message); retrying in \(formatted("%.2f", delay)) s (\(reason))")
                    }
                    retry += 1
                    if await !cancellation.sleep(seconds: delay) {
                        outcome.status = .cancelled
                        outcome.error = .cancelled
                        finish(&outcome)
                        return outcome
                    }
                    continue
                }
                break
            }
            if index + 1 < candidates.count {
                diagnostics("\(failures.last ?? "\(modelName) failed"); falling back to \(candidates[index + 1])")
            }
        }
        outcome.status = .error
        outcome.text = ""
        outcome.outputBegan = false
        let temporary = lastError?.isTemporary ?? false
        outcome.error = .allFailed(route: decision.route, failures: failures, temporary: temporary)
        finish(&outcome)
        return outcome
    }

    /// Fills counts the provider did not report with estimates; returns whether it did.
    /// A call that failed before any answer costs nothing and estimates nothing.
    static func fillEstimates(_ usage: inout TokenUsage, request: ChatRequest, answer: String, status: LedgerRecord.Status, outputBegan: Bool) -> Bool {
        if usage.isComplete { return false }
        if status != .ok && !outputBegan && usage.inputTokens == nil && usage.outputTokens == nil {
            usage = TokenUsage(inputTokens: 0, outputTokens: 0, cachedInputTokens: nil)
            return false
        }
        if usage.inputTokens == nil {
            usage.inputTokens = request.estimatedInputTokens
        }
        if usage.outputTokens == nil { usage.outputTokens = TokenEstimator.estimate(answer) }
        return true
    }

    /// Whole milliseconds in a duration.
    public static func milliseconds(_ duration: Duration) -> Int {
        let (seconds, attoseconds) = duration.components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }

    // MARK: One attempt

    /// How one attempt ended.
    enum Ending: Sendable {
        case success
        case failed(ProviderError, retryable: Bool, retryAfter: Double?)
        case cancelled
        case outputClosed
    }

    /// One attempt's result: its ending and what it produced.
    struct AttemptResult: Sendable {
        var ending: Ending
        var text: String = ""
        var usage = TokenUsage()
        /// Whether `usage` is an estimate (the mock provider's always is).
        var usageEstimated = false
        var outputBegan = false
        var firstOutput: ContinuousClock.Instant?
        var status = 0
        /// The provider said the answer stopped at the token limit.
        var truncated = false
    }

    /// Makes one HTTP attempt (or answers from the mock provider).
    private func attempt(target: CallTarget, request: ChatRequest, number: Int, clock: ContinuousClock, start: ContinuousClock.Instant) async -> AttemptResult {
        guard let wire = target.wire else { return mockAttempt(target: target, request: request, clock: clock) }
        var spec = wire.makeRequest(request, model: target.model.id, baseURL: target.baseURL, apiKey: target.apiKey)
        spec.headers += target.headers
        if verbose { diagnostics(target.redact("attempt \(number): \(target.model.name) via \(target.provider.name): POST \(spec.url)")) }
        let exchange = ResponseCollector(wire: wire, streamRequested: request.stream, output: output, clock: clock)
        let transportOutcome = await transport.perform(spec, timeout: target.timeoutSeconds, handler: exchange, cancellation: cancellation)
        let result = exchange.conclude(transportOutcome, target: target, now: now())
        if verbose, case .success = result.ending { diagnostics("attempt \(number): HTTP \(result.status), answered") }
        return result
    }

    /// Answers from the mock provider, streaming word by word when there is an output.
    private func mockAttempt(target: CallTarget, request: ChatRequest, clock: ContinuousClock) -> AttemptResult {
        let pieces = MockProvider.pieces(for: request, model: target.model.id, behaviour: target.model.mock)
        let answer = pieces.joined()
        var result = AttemptResult(ending: .success, text: answer, usage: MockProvider.usage(for: request, answer: answer), usageEstimated: true, status: 200)
        result.truncated = target.model.mock == .truncated
        if request.stream { result.firstOutput = clock.now }
        if let output {
            for piece in pieces {
                if cancellation.isCancelled {
                    result.ending = .cancelled
                    return result
                }
                result.outputBegan = true
                if !output(piece) {
                    result.ending = .outputClosed
                    return result
                }
            }
        }
        return result
    }
}

/// Collects one HTTP response: streams SSE pieces to the output as they arrive,
/// buffers anything else, and judges the whole when the exchange ends.
final class ResponseCollector: HTTPResponseHandler, Sendable {
    /// How the body is being read.
    enum Mode: Sendable {
        case undecided
        case events
        case buffered
    }

    /// Everything learned so far; touched only from the transport's serial queue, but
    /// kept in a mutex so the compiler can prove it.
    struct State: Sendable {
        var status = 0
        var headers: [String: String] = [:]
        var mode = Mode.undecided
        var parser = SSEParser()
        var body: [UInt8] = []
        var text = ""
        var usage = TokenUsage()
        var complete = false
        var streamError: String?
        var violation: String?
        var outputBegan = false
        var outputClosed = false
        var firstOutput: ContinuousClock.Instant?
        var truncated = false
        /// Set once the collector asked to stop; later pieces are ignored.
        var stopped = false
    }

    /// Bytes of a non-streamed body kept; more is a misbehaving server.
    static let bodyLimit = 16 * 1024 * 1024

    /// The format the response is in.
    let wire: any WireFormat
    /// Whether a stream was asked for.
    let streamRequested: Bool
    /// Where streamed text goes; nil to collect only.
    let output: (@Sendable (String) -> Bool)?
    /// The clock for the first piece's time.
    let clock: ContinuousClock
    /// What has arrived so far.
    let state = Mutex(State())

    init(wire: any WireFormat, streamRequested: Bool, output: (@Sendable (String) -> Bool)?, clock: ContinuousClock) {
        self.wire = wire
        self.streamRequested = streamRequested
        self.output = output
        self.clock = clock
    }

    /// Notes the status and headers.
    func receive(status: Int, headers: [String: String]) -> Bool {
        state.withLock { state in
            state.status = status
            state.headers = headers
        }
        return true
    }

    /// Takes one piece of the body.
    func receive(data: Data) -> Bool {
        state.withLock { state in
            // Pieces that were already in flight when the exchange was stopped are dropped.
            if state.stopped { return false }
            let keepGoing = consume(data, &state)
            if !keepGoing { state.stopped = true }
            return keepGoing
        }
    }

    /// Reads one piece of the body; returns false to stop the exchange.
    private func consume(_ data: Data, _ state: inout State) -> Bool {
        if state.mode == .undecided { state.mode = decideMode(state, first: data.first) }
        switch state.mode {
        case .events:
            let events = data.withUnsafeBytes { raw in state.parser.feed(raw.bindMemory(to: UInt8.self)) }
            for event in events where !handle(event, &state) { return false }
            return true
        case .buffered, .undecided:
            state.body.append(contentsOf: data)
            return state.body.count <= ResponseCollector.bodyLimit
        }
    }

    /// SSE when the status is 2xx and the server says so, or (for servers with a wrong
    /// content type) when a stream was asked for and the body starts like one.
    private func decideMode(_ state: State, first: UInt8?) -> Mode {
        guard (200..<300).contains(state.status) else { return .buffered }
        let type = state.headers["content-type"]?.lowercased() ?? ""
        if type.contains("text/event-stream") { return .events }
        if type.contains("json") || type.contains("html") || !streamRequested { return .buffered }
        if let first, Array("de:ir".utf8).contains(first) { return .events }
        return .buffered
    }

    /// Applies one event; returns false to stop the exchange.
    private func handle(_ event: SSEEvent, _ state: inout State) -> Bool {
        let update: StreamUpdate
        do throws(FormatViolation) {
            update = try wire.parseEvent(event)
        } catch {
            state.violation = error.detail
            return false
        }
        if let usage = update.usage { state.usage.merge(usage) }
        if update.complete { state.complete = true }
        if update.truncated { state.truncated = true }
        if let error = update.error {
            state.streamError = error
            return false
        }
        if !update.text.isEmpty {
            state.text += update.text
            if state.firstOutput == nil { state.firstOutput = clock.now }
            if let output {
                state.outputBegan = true
                if !output(update.text) {
                    state.outputClosed = true
                    return false
                }
            }
        }
        // The last event: the answer is whole; do not wait for the server to close.
        return !update.final
    }

    /// Judges the exchange once the transport is done with it.
    func conclude(_ outcome: TransportOutcome, target: CallTarget, now: Date) -> CallRunner.AttemptResult {
        state.withLock { state in
            var result = CallRunner.AttemptResult(ending: .success)
            result.status = state.status
            let provider = target.provider.name
            let model = target.model.name
            func fail(_ error: ProviderError, retryable: Bool, retryAfter: Double? = nil) -> CallRunner.AttemptResult {
                var result = result
                result.ending = .failed(error, retryable: retryable, retryAfter: retryAfter)
                return result
            }
            // Completes partial SSE state: a last event without its blank line.
            if state.mode == .events, case .completed = outcome, !state.outputClosed, state.streamError == nil, state.violation == nil,
                let last = state.parser.finish()
            {
                _ = handle(last, &state)
            }
            result.text = state.text
            result.usage = state.usage
            result.outputBegan = state.outputBegan
            result.firstOutput = state.firstOutput
            result.truncated = state.truncated
            if state.outputClosed {
                result.ending = .outputClosed
                return result
            }
            switch outcome {
            case .cancelled:
                result.ending = .cancelled
                return result
            case .timedOut:
                if state.outputBegan {
                    return fail(.streamInterrupted(provider: provider, model: model, status: state.status, detail: "no data for \(ProviderError.format(target.timeoutSeconds)) s"), retryable: false)
                }
                return fail(.timeout(provider: provider, model: model, seconds: target.timeoutSeconds), retryable: true)
            case .failed(let description, let lasting):
                let detail = target.redact(description)
                if state.outputBegan {
                    return fail(.streamInterrupted(provider: provider, model: model, status: state.status, detail: detail), retryable: false)
                }
                return fail(.connection(provider: provider, model: model, detail: detail, lasting: lasting), retryable: !lasting)
            case .completed:
                break
            }
            if (300..<400).contains(state.status) {
                let location = target.redact(state.headers["location"] ?? "an unnamed address")
                let message = "the server redirected to \(location); redirects are not followed, so the API key is never sent to another address: set base_url to where the API answers"
                return fail(.http(provider: provider, model: model, status: state.status, message: message, keyVariable: nil), retryable: false)
            }
            if !(200..<300).contains(state.status) {
                let message = target.redact(describeErrorBody(state.body, headers: state.headers))
                let retryable = ProviderError.retryableStatuses.contains(state.status)
                let retryAfter = retryable ? RetryTiming.retryAfter(headers: state.headers, now: now) : nil
                return fail(
                    .http(provider: provider, model: model, status: state.status, message: message, keyVariable: target.provider.apiKeyEnvironmentVariable),
                    retryable: retryable, retryAfter: retryAfter)
            }
            if state.mode == .events {
                if let violation = state.violation {
                    let detail = target.redact(violation)
                    if state.outputBegan { return fail(.streamInterrupted(provider: provider, model: model, status: state.status, detail: detail), retryable: false) }
                    return fail(.badResponse(provider: provider, model: model, status: state.status, detail: detail), retryable: false)
                }
                if let error = state.streamError {
                    let detail = "the provider reported an error: " + target.redact(error)
                    if state.outputBegan { return fail(.streamInterrupted(provider: provider, model: model, status: state.status, detail: detail), retryable: false) }
                    // Errors inside a stream are mostly overload; before any output a retry is safe.
                    return fail(.badResponse(provider: provider, model: model, status: state.status, detail: detail), retryable: true)
                }
                if !state.complete {
                    let detail = "the stream ended without its final event"
                    if state.outputBegan { return fail(.streamInterrupted(provider: provider, model: model, status: state.status, detail: detail), retryable: false) }
                    return fail(.connection(provider: provider, model: model, detail: detail + " (HTTP \(state.status))"), retryable: true)
                }
                return result
            }
            // A whole body: JSON as the format promises, or a clear error.
            let node: JSONNode
            do throws(JSONSyntaxError) {
                node = try JSONParser.parse(state.body)
            } catch {
                return fail(.badResponse(provider: provider, model: model, status: state.status, detail: target.redact(describeNonJSON(state.body, headers: state.headers, error: error))), retryable: false)
            }
            let reply: ParsedReply
            do throws(FormatViolation) {
                reply = try wire.parseReply(node)
            } catch {
                return fail(.badResponse(provider: provider, model: model, status: state.status, detail: target.redact(error.detail)), retryable: false)
            }
            result.text = reply.text
            result.usage = reply.usage
            result.truncated = reply.truncated
            if let output, !reply.text.isEmpty {
                result.outputBegan = true
                if !output(reply.text) { result.ending = .outputClosed }
            }
            return result
        }
    }

    /// The provider's own message from an error body, or a description of what came instead.
    private func describeErrorBody(_ body: [UInt8], headers: [String: String]) -> String {
        if let node = try? JSONParser.parse(body), let message = wire.errorMessage(node) { return message }
        if body.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return "no error message (empty body)" }
        if looksLikeHTML(body, headers: headers) { return "an HTML page instead of an API response (is base_url right, or is a proxy in the way?)" }
        return WireSupport.snippet(String(decoding: body.prefix(2000), as: UTF8.self))
    }

    /// Why a 2xx body could not be used.
    private func describeNonJSON(_ body: [UInt8], headers: [String: String], error: JSONSyntaxError) -> String {
        if body.isEmpty { return "an empty body" }
        if looksLikeHTML(body, headers: headers) { return "an HTML page instead of JSON (is base_url right, or is a proxy in the way?)" }
        if error.offset >= body.count || error.message.contains("end of input") || error.message.contains("unterminated") {
            return "the JSON body is truncated (\(body.count) bytes)"
        }
        return "the body is not valid JSON (\(error.message) at byte \(error.offset))"
    }

    /// Whether a body is an HTML page (a proxy's or a login page).
    private func looksLikeHTML(_ body: [UInt8], headers: [String: String]) -> Bool {
        if headers["content-type"]?.lowercased().contains("html") == true { return true }
        let start = body.drop(while: { $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }).prefix(15)
        let lowered = String(decoding: start, as: UTF8.self).lowercased()
        return lowered.hasPrefix("<!doctype html") || lowered.hasPrefix("<html")
    }
}
