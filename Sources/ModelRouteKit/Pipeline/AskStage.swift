/// The stage of a call that lets a cheap model decide the route: when a `classify_with`
/// rule held, its model is asked the rule's question, and the label its answer starts
/// with picks the route. An answer that fits no label, a failed or slow call, or a
/// missing key falls through to the decision the later rules made; the user's call never
/// fails here. What the question cost is returned, for the record's `cost_usd` and
/// `overhead_cost_usd`.
///
/// The question is sent without streaming, at temperature 0, with the rule's
/// `max_tokens` and `timeout_s`, and with no retries or fallbacks (a slow answer is
/// worth less than the time it takes).
///
/// Offline (`--offline`, or a mock model), the answer is deterministic: the first label
/// in file order when the prompt's difficulty score is below 0.5, else the last.
public enum AskStage {
    /// What asking did.
    public struct Result: Sendable {
        /// The decision to call with.
        public var decision: RoutingDecision
        /// USD spent on the question (its tokens at the asked model's prices).
        public var cost: Double
        /// HTTP attempts made (0 or 1; 1 offline too).
        public var attempts: Int
        /// What happened, for `--verbose` and `--explain`.
        public var note: String?
    }

    /// Asks, when the decision has a pending question; otherwise returns it unchanged.
    public static func resolve(
        _ decision: RoutingDecision, prompt: String, classifier: Classifier, runner: CallRunner
    ) async -> Result {
        guard let ask = decision.ask else { return Result(decision: decision, cost: 0, attempts: 0, note: nil) }
        var fallThrough = decision
        fallThrough.ask = nil
        let config = ask.config
        let table = classifier.table
        let pricing = table.model(named: config.model)?.pricing
        let request = ChatRequest(prompt: config.question(for: prompt), system: nil, maxTokens: config.maxTokens, temperature: 0, stream: false)
        let isMock = runner.offline || table.model(named: config.model).flatMap { table.provider(named: $0.provider) }?.type == .mock

        let answer: String
        let cost: Double
        let attempts: Int
        if isMock {
            let labels = config.labels
            let label = (decision.difficulty ?? 0) < 0.5 ? labels.first?.label : labels.last?.label
            answer = label ?? ""
            let usage = MockProvider.usage(for: request, answer: answer)
            cost = pricing?.cost(inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0) ?? 0
            attempts = 1
        } else {
            // A one-route copy of the table: the asked model alone, no retries.
            var askTable = table
            let routeName = "classify_with:" + ask.rule
            askTable.routes.append(RouteConfig(
                name: routeName, model: config.model, maxTokens: config.maxTokens,
                retry: RetryPolicy(retries: 0, initialDelaySeconds: 0, maxDelaySeconds: 0)))
            var askRunner = runner
            askRunner.table = askTable
            askRunner.output = nil
            askRunner.timeoutOverride = min(config.timeoutSeconds, runner.timeoutOverride ?? .infinity)
            let question = RoutingDecision(route: routeName, model: config.model, reason: decision.reason, evidence: [], features: decision.features)
            let outcome = await askRunner.run(decision: question, request: request)
            let usage = outcome.usage
            cost = pricing?.cost(inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, cachedInputTokens: usage.cachedInputTokens ?? 0) ?? 0
            attempts = outcome.attempts
            guard outcome.status == .ok else {
                let reason = outcome.error?.shortMessage ?? outcome.status.rawValue
                return Result(
                    decision: fallThrough, cost: cost, attempts: attempts,
                    note: "asked \(config.model) (rule \(ask.rule)): no answer (\(reason)); rule \(decision.reason.ruleName) decides")
            }
            answer = outcome.text
        }
        let shown = answer.trimmingWhitespace()
        let excerpt = shown.count > 40 ? String(shown.prefix(39)) + "…" : shown
        guard let (label, route) = config.match(answer: answer) else {
            return Result(
                decision: fallThrough, cost: cost, attempts: attempts,
                note: "asked \(config.model) (rule \(ask.rule)): the answer \"\(excerpt)\" fits no label; rule \(decision.reason.ruleName) decides")
        }
        let decided = classifier.decision(decision, answeredWith: route, label: label)
        return Result(
            decision: decided, cost: cost, attempts: attempts,
            note: "asked \(config.model) (rule \(ask.rule)\(isMock ? ", offline" : "")): \(label) → route \(route)")
    }
}
