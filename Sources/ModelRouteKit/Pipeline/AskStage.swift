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
        let asked = await SideCall.ask(
            model: config.model, question: config.question(for: prompt), maxTokens: config.maxTokens, timeoutSeconds: config.timeoutSeconds,
            purpose: "classify_with:" + ask.rule, runner: runner
        ) {
            let labels = config.labels
            return ((decision.difficulty ?? 0) < 0.5 ? labels.first?.label : labels.last?.label) ?? ""
        }
        let (cost, attempts, isMock) = (asked.cost, asked.attempts, asked.offline)
        guard let answer = asked.answer else {
            return Result(
                decision: fallThrough, cost: cost, attempts: attempts,
                note: "asked \(config.model) (rule \(ask.rule)): no answer (\(asked.failure ?? "failed")); rule \(decision.reason.ruleName) decides")
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
