/// The `judge` check: a cheap model rates the answer from 0 to 1, and a rating below the
/// threshold fails it. A judge that fails, times out or answers something that is not a
/// number from 0 to 1 has failed itself, not the answer: the answer stands, and the
/// judge's cost still counts as overhead.
///
/// Offline (`--offline`, or a judge model of a mock provider) the rating is
/// deterministic: 0.2 for an answer that is empty, a refusal, or under 3 words, else 0.9.
public enum JudgeStage {
    /// What the judge said.
    public struct Verdict: Sendable {
        /// The failure, when the rating is below the threshold.
        public var failure: AnswerCheckStage.Failure?
        /// The rating, when the judge gave one.
        public var rating: Double?
        /// USD the rating cost.
        public var cost: Double
        /// HTTP attempts made.
        public var attempts: Int
        /// What happened, for `--verbose` and `--explain`.
        public var note: String
    }

    /// Rates `answer` to `prompt`.
    public static func rate(_ answer: String, prompt: String, judge: JudgeConfig, runner: CallRunner) async -> Verdict {
        let asked = await SideCall.ask(
            model: judge.model, question: judge.question(prompt: prompt, answer: answer), maxTokens: judge.maxTokens,
            timeoutSeconds: judge.timeoutSeconds, purpose: "judge", runner: runner
        ) {
            offlineRating(answer)
        }
        let threshold = formatted("%.2f", judge.threshold)
        guard let reply = asked.answer else {
            return Verdict(
                failure: nil, rating: nil, cost: asked.cost, attempts: asked.attempts,
                note: "judge \(judge.model) gave no rating (\(asked.failure ?? "failed")); the answer stands")
        }
        guard let rating = JudgeConfig.rating(in: reply) else {
            let shown = reply[...].trimmingWhitespace()
            let excerpt = shown.count > 40 ? String(shown.prefix(39)) + "…" : shown
            return Verdict(
                failure: nil, rating: nil, cost: asked.cost, attempts: asked.attempts,
                note: "judge \(judge.model) answered \"\(excerpt)\", not a rating from 0 to 1; the answer stands")
        }
        let shown = formatted("%.2f", rating)
        if rating < judge.threshold {
            return Verdict(
                failure: AnswerCheckStage.Failure(reason: "judge \(shown) < \(threshold)", detail: "judge \(judge.model) rated the answer \(shown), under \(threshold)"),
                rating: rating, cost: asked.cost, attempts: asked.attempts, note: "judge \(judge.model) rated the answer \(shown) (threshold \(threshold)): fails")
        }
        return Verdict(
            failure: nil, rating: rating, cost: asked.cost, attempts: asked.attempts,
            note: "judge \(judge.model) rated the answer \(shown) (threshold \(threshold)): passes")
    }

    /// The offline judge's rating, as text.
    static func offlineRating(_ answer: String) -> String {
        let words = answer.split(whereSeparator: { $0.isWhitespace }).count
        return words < 3 || AnswerCheckStage.refusalPhrase(answer) != nil ? "0.2" : "0.9"
    }
}
