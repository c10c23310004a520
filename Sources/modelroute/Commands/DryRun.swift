import ModelRouteKit

/// `modelroute --dry-run`: the decision and the estimated input cost, without a call.
enum DryRun {
    /// Prints the decision; `classification` is the context it was made in (for `--explain`).
    static func run(
        prompt: String, classifier: Classifier, decision: RoutingDecision, explain: Bool, json: Bool = false, context: CommandContext,
        classification: ClassificationContext
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
        context.stdout.write(DecisionDescription.render(table: classifier.table, decision: decision, trace: trace, contributions: contributions))
        return .success
    }
}
