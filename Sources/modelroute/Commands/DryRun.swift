import ModelRouteKit

/// `modelroute --dry-run`: the decision and the estimated input cost, without a call.
enum DryRun {
    /// Prints the decision; `classification` is the context it was made in (for `--explain`).
    static func run(
        prompt: String, parts: PromptInput.Prompt? = nil, classifier: Classifier, decision: RoutingDecision, explain: Bool, json: Bool = false,
        context: CommandContext, classification: ClassificationContext
    ) -> ExitCode {
        if json {
            context.stdout.write(DecisionDescription.renderJSON(table: classifier.table, decision: decision))
            return .success
        }
        var trace: [Classifier.RuleTrace]?
        var contributions: [DifficultyModel.Contribution]?
        if explain {
            if decision.reason != .override { trace = classifier.trace(prompt, context: classification) }
            contributions = classifier.difficultyModel?.explain(prompt).contributions
        }
        context.stdout.write(DecisionDescription.render(table: classifier.table, decision: decision, trace: trace, contributions: contributions, style: context.style(context.stdout)))
        if explain, let parts, let words = parts.words, let piped = parts.standardInput {
            // Words and standard input together: say what each part brought.
            context.stdout.write(
                "\nprompt parts: the words (\(words.unicodeScalars.count) chars), a blank line, standard input (\(piped.unicodeScalars.count) chars, "
                    + "~\(TokenEstimator.estimate(piped)) tokens)\n")
        }
        return .success
    }
}
