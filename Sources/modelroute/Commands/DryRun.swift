import ModelRouteKit

/// `--dry-run`: shows where a prompt would go without calling anything.
enum DryRun {
    /// Prints the decision; `explain` adds the evidence behind it.
    static func run(prompt: String, table: RoutingTable, decision: RoutingDecision, explain: Bool, context: CommandContext) throws -> ExitCode {
        context.stdout.write("route: \(decision.route)\nmodel: \(decision.model)\nrule: \(decision.reason.ruleName)\n")
        if explain {
            for evidence in decision.evidence { context.stdout.write("  \(evidence)\n") }
        }
        return .success
    }
}
