import ModelRouteKit

/// `modelroute --dry-run`: the decision and the estimated input cost, without a call.
enum DryRun {
    /// Prints the decision; `classification` is the context it was made in (for `--explain`).
    static func run(
        prompt: String, table: RoutingTable, decision: RoutingDecision, explain: Bool, context: CommandContext,
        classification: ClassificationContext? = nil
    ) throws -> ExitCode {
        var trace: [Classifier.RuleTrace]?
        if explain, decision.reason != .override {
            let classification = classification ?? ClassificationContext(
                tier: context.environment["MODELROUTE_TIER"], date: context.now(), timeZone: context.timeZone)
            trace = Classifier(table: table).trace(prompt, context: classification)
        }
        context.stdout.write(DecisionDescription.render(table: table, decision: decision, trace: trace))
        return .success
    }
}
