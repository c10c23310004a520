/// The stage that puts a call on one side of the table's experiment: with probability
/// `control_share` (one uniform draw per call) the call skips routing and goes to the
/// control model, with that model's provider's retries and no checks; otherwise it is
/// routed as usual. Records carry `experiment` and `group` either way.
///
/// `--group control|routed` forces a side. A call whose route or model is chosen on the
/// command line (`--route`, `--model`) is outside the experiment unless `--group` says
/// otherwise, so that explicit calls never dilute either group.
public enum ExperimentStage {
    /// The two sides.
    public enum Group: String, Sendable, CaseIterable {
        case control
        case routed
    }

    /// The side a call is on, and the decision to call with.
    public struct Assignment: Sendable {
        public var decision: RoutingDecision
        /// The experiment's name; nil when the call is outside any.
        public var experiment: String?
        public var group: Group?
    }

    /// Assigns a call. `draw` is a uniform number from [0, 1).
    public static func assign(
        _ decision: RoutingDecision, table: RoutingTable, forced: Group?, overridden: Bool, draw: () -> Double
    ) -> Assignment {
        guard let experiment = table.experiment, forced != nil || !overridden else {
            return Assignment(decision: decision, experiment: nil, group: nil)
        }
        let group = forced ?? (draw() < experiment.controlShare ? .control : .routed)
        guard group == .control else { return Assignment(decision: decision, experiment: experiment.name, group: .routed) }
        let control = RoutingDecision(
            route: ExperimentConfig.controlRoute, model: experiment.controlModel, reason: .experiment, evidence: [], features: decision.features,
            difficulty: decision.difficulty)
        return Assignment(decision: control, experiment: experiment.name, group: .control)
    }

    /// The line dry runs and `classify` show: the share, never the side.
    public static func summary(_ experiment: ExperimentConfig) -> String {
        let percent = experiment.controlShare * 100
        let shown = percent == percent.rounded() ? String(Int(percent)) : formatted("%.1f", percent)
        return "experiment \(experiment.name): \(shown) % of calls go to control (\(experiment.controlModel))"
    }
}
