/// The parts of a report about answer quality: escalations and their overhead, a warning
/// for routes whose first answers fail too often, and the verdict of an experiment.
extension ReportRenderer {
    /// The text sections, empty when the window has no escalations, overhead or experiment.
    static func qualitySections(_ result: ReportResult, style: TextStyle) -> String {
        var text = ""
        let totals = result.totals
        let width = style.width
        if totals.escalations > 0 {
            text += "\n" + style.paint("Escalations", .heading) + " (first answers that failed a check and were replaced)\n"
            let shown = (result.escalationsByRoute + result.escalationsByModel).filter { $0.escalations > 0 }
            let nameWidth = shown.map(\.name.count).max() ?? 0
            text += rateLines(result.escalationsByRoute, label: "route", width: nameWidth)
            text += rateLines(result.escalationsByModel, label: "model", width: nameWidth)
        }
        for rate in result.escalationsByRoute where rate.deservesWarning {
            text += "\n" + style.paint("warning:", .warning) + " "
                + Text.fit(
                    "route \(rate.name) escalates \(formatted("%.1f", rate.rate * 100)) % of its \(grouped(rate.calls)) calls (over "
                        + "\(Int(EscalationRate.warningRate * 100)) %): a cheap model that fails one call in five usually costs more than it saves; "
                        + "tighten the rule that sends prompts there, or route them higher.", width: width.map { $0 - 9 }, indent: 2) + "\n"
        }
        for experiment in result.experiments where experiment.control.calls > 0 && experiment.routed.calls > 0 {
            text += verdict(experiment, style: style)
        }
        return text
    }

    /// One line per name with escalations.
    private static func rateLines(_ rates: [EscalationRate], label: String, width nameWidth: Int) -> String {
        rates.filter { $0.escalations > 0 }.map { rate in
            "  \(label) " + Text.pad(rate.name, nameWidth) + "  " + grouped(rate.escalations) + " of " + grouped(rate.calls)
                + formatted(" (%.1f%%)", rate.rate * 100) + "\n"
        }.joined()
    }

    /// An experiment's verdict: cost per call of each group, the measured savings with its
    /// interval, the estimate from baseline prices, and each group's error and escalation rates.
    static func verdict(_ experiment: ExperimentResult, style: TextStyle) -> String {
        var text = "\n" + style.paint("Experiment \(experiment.name)", .heading) + " (routed calls measured against the control group)\n"
        let rows: [(String, GroupStats)] = [("routed", experiment.routed), ("control", experiment.control)]
        let means = Money.column(rows.map { ExperimentResult.mean($0.1) })
        text += "  group      calls   cost/call   errors   escalated\n"
        for ((name, stats), mean) in zip(rows, means) {
            let calls = Double(max(stats.calls, 1))
            text += "  " + Text.pad(name, 8) + Text.pad(grouped(stats.calls), 8, right: true) + Text.pad(mean, 12, right: true)
                + Text.pad(formatted("%.1f%%", Double(stats.errors) / calls * 100), 9, right: true)
                + Text.pad(formatted("%.1f%%", Double(stats.escalations) / calls * 100), 12, right: true) + "\n"
        }
        if let measured = experiment.measuredSavings {
            let tone: TextStyle.Tone? = measured.savings > 0 ? .good : measured.savings < 0 ? .bad : nil
            text += "  measured savings: " + style.paint(formatted("%.1f%%", measured.savings * 100), tone)
                + formatted(" per call (95%% CI %.1f%% to %.1f%%)", measured.low * 100, measured.high * 100) + "\n"
        } else {
            text += "  measured savings: need at least 2 calls in each group, and a control cost above 0\n"
        }
        if let estimated = experiment.routed.savedPercent {
            text += formatted("  estimated savings of the routed calls from baseline prices: %.1f%%\n", estimated)
        }
        return text
    }

    /// The quality figures for `--format json`: escalation rates and experiments.
    static func writeQuality(_ result: ReportResult, into writer: inout JSONWriter) {
        func rates(_ key: String, _ list: [EscalationRate]) {
            writer.key(key)
            writer.beginArray()
            for rate in list {
                writer.beginObject()
                writer.key("name"); writer.string(rate.name)
                writer.key("calls"); writer.int(rate.calls)
                writer.key("escalations"); writer.int(rate.escalations)
                writer.key("rate"); writer.raw(formatted("%.4f", rate.rate))
                writer.key("warning"); writer.bool(rate.deservesWarning)
                writer.endObject()
            }
            writer.endArray()
        }
        rates("escalations_by_route", result.escalationsByRoute)
        rates("escalations_by_model", result.escalationsByModel)
        writer.key("experiments")
        writer.beginArray()
        for experiment in result.experiments {
            writer.beginObject()
            writer.key("name"); writer.string(experiment.name)
            for (name, stats) in [("routed", experiment.routed), ("control", experiment.control)] {
                writer.key(name)
                writer.beginObject()
                writer.key("calls"); writer.int(stats.calls)
                writer.key("cost_usd"); writer.raw(Money.plain(stats.cost))
                writer.key("cost_per_call_usd"); writer.raw(Money.plain(ExperimentResult.mean(stats)))
                writer.key("errors"); writer.int(stats.errors)
                writer.key("escalations"); writer.int(stats.escalations)
                writer.endObject()
            }
            let measured = experiment.measuredSavings
            writer.key("measured_savings"); writer.double(measured?.savings)
            writer.key("measured_savings_low"); writer.double(measured?.low)
            writer.key("measured_savings_high"); writer.double(measured?.high)
            writer.key("estimated_savings"); writer.double(experiment.routed.savedPercent.map { $0 / 100 })
            writer.endObject()
        }
        writer.endArray()
    }
}
