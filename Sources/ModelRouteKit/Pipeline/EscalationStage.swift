import FoundationEssentials

/// The call with answer checks: calls the route, holds the answer while its checks run
/// (local ones first, in the route's order, then the judge), prints it when they pass,
/// and when one fails, discards it and calls the route's `escalate_to` instead, whose own
/// checks and `escalate_to` apply in turn. A route without checks streams as before,
/// so an escalated answer streams when its route has none. Nothing is printed twice.
///
/// When a check fails on a route with no `escalate_to`, or the escalation itself fails,
/// the held answer is printed after all, with a warning: a weak answer is more use to a
/// script than none.
public enum EscalationStage {
    /// One answer on the way: which route and model gave it, and what became of it.
    public struct Step: Sendable {
        /// The route called.
        public var route: String
        /// The model that answered (or was last tried).
        public var model: String?
        /// How its call ended.
        public var status: LedgerRecord.Status
        /// The check it failed; nil when it passed or had none.
        public var failure: AnswerCheckStage.Failure?
        /// USD it cost, its judge included.
        public var cost: Double
        /// Whether this answer is the one printed.
        public var final: Bool
    }

    /// How the call went.
    public struct Result: Sendable {
        /// The printed answer's call (status, text, tokens, timings).
        public var outcome: CallOutcome
        /// Every answer, first to last.
        public var steps: [Step]
        /// The first model whose answer failed and was replaced.
        public var escalatedFrom: String?
        /// The check that failed first.
        public var escalationReason: String?
        /// USD of discarded answers and judge calls.
        public var overheadCost: Double
        /// HTTP attempts besides the final answer's (discarded answers, judges).
        public var extraAttempts: Int
        /// Whether the printed answer passed its route's checks (true when it had none, false
        /// when checks were turned off or a failing answer was printed anyway): only such
        /// answers go into the response cache.
        public var answerPassed = true
    }

    /// What the stage needs besides the call itself.
    public struct Settings: Sendable {
        /// False with `--no-checks`.
        public var checksEnabled: Bool
        /// `--json-answer`: JSON is asked for whatever the route says.
        public var wantsJSON: Bool
        /// Where the answer goes, piece by piece; false once the reader is gone. Nil collects it (`--json`).
        public var output: (@Sendable (String) -> Bool)?
        /// Called with true when an answer is held for checking and false when checking ends (the terminal's "checking…").
        public var checking: @Sendable (Bool) -> Void
        /// Takes each step as it happens, for `--verbose` and `--explain`.
        public var note: @Sendable (String) -> Void
        /// Takes what standard error shows whatever the flags: a failed check that could not escalate.
        public var warn: @Sendable (String) -> Void

        public init(
            checksEnabled: Bool, wantsJSON: Bool, output: (@Sendable (String) -> Bool)?,
            checking: @escaping @Sendable (Bool) -> Void = { _ in }, note: @escaping @Sendable (String) -> Void = { _ in },
            warn: @escaping @Sendable (String) -> Void = { _ in }
        ) {
            self.checksEnabled = checksEnabled
            self.wantsJSON = wantsJSON
            self.output = output
            self.checking = checking
            self.note = note
            self.warn = warn
        }
    }

    /// Makes the call. `request` builds the request for a route (its system prompt and
    /// `max_tokens`, unless the command line set them).
    public static func run(
        decision: RoutingDecision, prompt: String, request: (RouteConfig?) -> ChatRequest, runner: CallRunner, settings: Settings
    ) async -> Result {
        let table = runner.table
        var current = decision
        var steps: [Step] = []
        var overhead = 0.0
        var extraAttempts = 0
        var escalatedFrom: String?
        var escalationReason: String?
        /// The last answer that failed its checks, in case the escalation fails.
        var held: (outcome: CallOutcome, stepIndex: Int)?
        let clock = ContinuousClock()
        let start = clock.now
        func elapsed() -> Int { CallRunner.milliseconds(clock.now - start) }
        var utf8 = prompt
        let promptWords = utf8.withUTF8 { WordCounter.count($0) }

        /// The whole call's wall time, every answer and judge included.
        func finish(_ final: CallOutcome, passed: Bool = true) -> Result {
            var outcome = final
            outcome.latencyMilliseconds = elapsed()
            if let last = steps.indices.last { steps[last].final = true }
            var result = Result(
                outcome: outcome, steps: steps, escalatedFrom: escalatedFrom, escalationReason: escalationReason, overheadCost: overhead,
                extraAttempts: extraAttempts)
            result.answerPassed = passed
            return result
        }
        func cost(of outcome: CallOutcome) -> Double {
            let usage = outcome.usage
            return table.model(named: outcome.model ?? "")?.pricing.cost(
                inputTokens: usage.inputTokens ?? 0, outputTokens: usage.outputTokens ?? 0, cachedInputTokens: usage.cachedInputTokens ?? 0) ?? 0
        }
        /// Prints a held answer; marks the outcome as printed (or the output as closed).
        func release(_ outcome: inout CallOutcome) {
            guard let output = settings.output, !outcome.text.isEmpty else { return }
            // What the user waited for the first piece: until the checks let it out.
            outcome.timeToFirstTokenMilliseconds = elapsed()
            outcome.outputBegan = true
            if !output(outcome.text) {
                outcome.outputClosed = true
                outcome.status = .cancelled
            }
        }

        while true {
            let route = table.route(named: current.route)
            let checks = settings.checksEnabled ? route?.checks ?? [] : []
            var stageRunner = runner
            stageRunner.output = checks.isEmpty ? settings.output : nil
            if !checks.isEmpty { settings.checking(true) }
            let stepStart = elapsed()
            var outcome = await stageRunner.run(decision: current, request: request(route))
            if let first = outcome.timeToFirstTokenMilliseconds { outcome.timeToFirstTokenMilliseconds = stepStart + first }
            steps.append(Step(route: current.route, model: outcome.model, status: outcome.status, failure: nil, cost: cost(of: outcome), final: false))

            guard outcome.status == .ok, !checks.isEmpty else {
                if !checks.isEmpty { settings.checking(false) }
                if outcome.status == .error, let previous = held {
                    // The escalation failed: the answer that failed its check is better than none.
                    overhead += steps[steps.count - 1].cost
                    extraAttempts += outcome.attempts
                    settings.warn(
                        "the escalation to route \(current.route) failed (\(outcome.error?.shortMessage ?? "error")); printing the answer of \(previous.outcome.model ?? "the first model"), which failed check \(escalationReason ?? "?")")
                    var answer = previous.outcome
                    overhead -= cost(of: answer)
                    extraAttempts -= answer.attempts
                    release(&answer)
                    answer.latencyMilliseconds = elapsed()
                    steps[previous.stepIndex].final = true
                    var result = Result(
                        outcome: answer, steps: steps, escalatedFrom: nil, escalationReason: escalationReason.map { $0 + "; escalation failed" },
                        overheadCost: overhead, extraAttempts: extraAttempts)
                    result.answerPassed = false
                    return result
                }
                // Checks turned off on a route that has some: the answer was never checked.
                return finish(outcome, passed: settings.checksEnabled || route?.checks.isEmpty ?? true)
            }

            let answer = AnswerCheckStage.Answer(
                text: outcome.text, truncated: outcome.truncated, promptWords: promptWords,
                wantsJSON: settings.wantsJSON || route?.answerFormat == .json)
            var failure = AnswerCheckStage.firstFailure(checks, answer: answer)
            if failure == nil {
                for case .judge(let judge) in checks {
                    let verdict = await JudgeStage.rate(outcome.text, prompt: prompt, judge: judge, runner: runner)
                    overhead += verdict.cost
                    extraAttempts += verdict.attempts
                    steps[steps.count - 1].cost += verdict.cost
                    settings.note(verdict.note)
                    failure = verdict.failure
                }
            }
            settings.checking(false)
            let model = outcome.model ?? current.model
            guard let failure else {
                settings.note("the answer of \(model) (route \(current.route)) passed its checks: \(checks.map(\.name).joined(separator: ", "))")
                release(&outcome)
                return finish(outcome)
            }
            steps[steps.count - 1].failure = failure
            guard let next = route?.escalateTo, let nextRoute = table.route(named: next) else {
                settings.warn("the answer of \(model) (route \(current.route)) failed check \(failure.reason): \(failure.detail); the route has no escalate_to, so it is printed as it is")
                if escalationReason == nil { escalationReason = failure.reason }
                release(&outcome)
                return finish(outcome, passed: false)
            }
            settings.note("the answer of \(model) (route \(current.route)) failed check \(failure.reason): \(failure.detail); escalating to route \(next)")
            overhead += cost(of: outcome)
            extraAttempts += outcome.attempts
            if escalatedFrom == nil {
                escalatedFrom = model
                escalationReason = failure.reason
            }
            held = (outcome, steps.count - 1)
            current = RoutingDecision(
                route: next, model: nextRoute.model, reason: decision.reason, evidence: decision.evidence, features: decision.features,
                difficulty: decision.difficulty)
        }
    }
}
