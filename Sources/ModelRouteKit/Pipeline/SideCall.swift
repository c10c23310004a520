/// A short question to a model beside the user's call (a `classify_with` question, a
/// judge's rating): sent without streaming, at temperature 0, with no retries or
/// fallbacks and its own timeout, never printed. A slow or failed answer is worth less
/// than the time it takes, so the caller carries on without it.
enum SideCall {
    /// What the question got.
    struct Result: Sendable {
        /// The answer; nil when the call failed (see `failure`).
        var answer: String?
        /// USD the question cost (its tokens at the asked model's prices).
        var cost: Double
        /// HTTP attempts made (1 offline too).
        var attempts: Int
        /// Why there is no answer, short.
        var failure: String?
        /// Whether the answer came from the mock provider.
        var offline: Bool
    }

    /// Asks `model` `question`. Offline (`--offline`, or a model of a mock provider) the
    /// answer is `offlineAnswer()`, and its tokens are estimated.
    static func ask(
        model: String, question: String, maxTokens: Int, timeoutSeconds: Double, purpose: String, runner: CallRunner,
        offlineAnswer: () -> String
    ) async -> Result {
        let table = runner.table
        let pricing = table.model(named: model)?.pricing
        let request = ChatRequest(prompt: question, system: nil, maxTokens: maxTokens, temperature: 0, stream: false)
        let isMock = runner.offline || table.model(named: model).flatMap { table.provider(named: $0.provider) }?.type == .mock
        if isMock {
            let answer = offlineAnswer()
            let usage = MockProvider.usage(for: request, answer: answer)
            let cost = pricing?.cost(inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0) ?? 0
            return Result(answer: answer, cost: cost, attempts: 1, failure: nil, offline: true)
        }
        // A one-route copy of the table: the asked model alone, no retries.
        var sideTable = table
        let routeName = purpose
        sideTable.routes.append(RouteConfig(
            name: routeName, model: model, maxTokens: maxTokens, retry: RetryPolicy(retries: 0, initialDelaySeconds: 0, maxDelaySeconds: 0)))
        var sideRunner = runner
        sideRunner.table = sideTable
        sideRunner.output = nil
        sideRunner.timeoutOverride = min(timeoutSeconds, runner.timeoutOverride ?? .infinity)
        let decision = RoutingDecision(route: routeName, model: model, reason: .override, evidence: [], features: PromptMeasurements())
        let outcome = await sideRunner.run(decision: decision, request: request)
        let usage = outcome.usage
        let cost = pricing?.cost(inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, cachedInputTokens: usage.cachedInputTokens ?? 0) ?? 0
        guard outcome.status == .ok else {
            return Result(answer: nil, cost: cost, attempts: outcome.attempts, failure: outcome.error?.shortMessage ?? outcome.status.rawValue, offline: false)
        }
        return Result(answer: outcome.text, cost: cost, attempts: outcome.attempts, failure: nil, offline: false)
    }
}
