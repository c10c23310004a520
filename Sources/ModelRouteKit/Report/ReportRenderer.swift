import FoundationEssentials

/// `--format` of `modelroute report`.
public enum ReportFormat: String, Sendable, CaseIterable {
    /// Aligned columns for people.
    case table
    /// One JSON document.
    case json
    /// One row per innermost group (or one row of totals), RFC 4180.
    case csv
}

/// Turns a `ReportResult` into text.
public enum ReportRenderer {
    /// The report in `format`. `style` dresses the table (colour, Unicode bars, the width
    /// to fit); `timeZone` is the zone of the dates shown.
    public static func render(_ result: ReportResult, format: ReportFormat, style: TextStyle = .plain, timeZone: LocalZone) -> String {
        switch format {
        case .table: return table(result, style: style, timeZone: timeZone)
        case .json: return json(result)
        case .csv: return csv(result)
        }
    }

    // MARK: Table

    /// Width of the share-of-cost bar, in cells.
    static let barWidth = 16

    /// The table: title, groups with bars, totals, notes.
    private static func table(_ result: ReportResult, style: TextStyle, timeZone: LocalZone) -> String {
        var text = ""
        var days = LocalDays(zone: timeZone)
        var title = "modelroute usage: \(grouped(result.totals.calls)) call\(result.totals.calls == 1 ? "" : "s")"
        if let first = result.firstMillis, let last = result.lastMillis {
            let from = LedgerTimestamp.dateString(days: days.day(first))
            let to = LedgerTimestamp.dateString(days: days.day(last))
            title += from == to ? " on \(from)" : " from \(from) to \(to)"
        }
        var place = result.files.count == 1 ? "in \(result.files[0])" : "in \(result.files.count) logs"
        if let width = style.width, title.count + 1 + place.count > width {
            // Too wide for one line: the log on a line of its own, its path cut in the middle if need be.
            if result.files.count == 1 { place = "in " + Text.middleCut(result.files[0], width - 5) }
            title += "\n  " + place
        } else {
            title += " " + place
        }
        text += style.paint(title, .heading) + "\n"
        if !result.dimensions.isEmpty {
            text += "\n" + groupTable(result, style: style)
            if result.dimensions.first == .day { text += dailyChart(result, style: style) }
        }
        let totals = result.totals
        var rows: [(String, String)] = []
        rows.append(("calls", grouped(totals.calls)))
        rows.append(("input tokens", grouped(totals.inputTokens) + (totals.cachedInputTokens > 0 ? "  (\(grouped(totals.cachedInputTokens)) cached)" : "")))
        rows.append(("output tokens", grouped(totals.outputTokens)))
        rows.append(("cost", Money.format(totals.cost) + (result.repricedAll ? "  (at today's prices; logged " + Money.format(totals.loggedCost) + ", " + signed(totals.cost - totals.loggedCost) + ")" : "")))
        let baselineName = result.baselineModels.isEmpty ? "" : "  (" + (result.repriced ? "repriced as " : "") + result.baselineModels.joined(separator: ", ") + ")"
        rows.append(("baseline cost", Money.format(totals.baselineCost) + baselineName
            + (result.repricedAll ? "  (logged " + Money.format(totals.loggedBaselineCost) + ", " + signed(totals.baselineCost - totals.loggedBaselineCost) + ")" : "")))
        rows.append(("saved", style.paint(Money.format(totals.saved), tone(saved: totals.saved)) + (totals.savedPercent.map { "  (" + percent($0) + ")" } ?? "")))
        if totals.cacheSaved > 0 {
            rows.append(("", "of which routing " + Money.format(totals.saved - totals.cacheSaved) + ", response cache " + Money.format(totals.cacheSaved)))
        }
        rows.append(("latency", "p50 " + milliseconds(totals.latencyP50) + ", p95 " + milliseconds(totals.latencyP95)))
        rows.append(("cache hits", grouped(totals.cacheHits) + (totals.responseLookups > 0 || totals.responseHits > 0 ? "  (the provider's prompt cache)" : "")))
        if totals.responseLookups > 0 || totals.responseHits > 0 {
            let rate = totals.responseLookups > 0 ? Double(totals.responseHits) / Double(totals.responseLookups) * 100 : 0
            rows.append(("response hits", grouped(totals.responseHits) + " of " + grouped(totals.responseLookups) + " response cache lookup"
                + (totals.responseLookups == 1 ? "" : "s") + formatted(" (%.1f%%), saved ", rate) + Money.format(totals.cacheSaved)))
        }
        rows.append(("fallbacks", grouped(totals.fallbacks)))
        rows.append(("errors", grouped(totals.errors) + (totals.cancelled > 0 ? "  (and \(grouped(totals.cancelled)) cancelled)" : "")))
        if totals.unpricedCalls > 0 {
            rows.append(("unpriced", grouped(totals.unpricedCalls) + " call" + (totals.unpricedCalls == 1 ? "" : "s") + ", " + grouped(totals.unpricedTokens)
                + " tokens  (models with \"prices\": \"unknown\": not in cost, no savings counted)"))
        }
        if totals.escalations > 0 {
            rows.append(("escalations", grouped(totals.escalations) + formatted("  (%.1f%% of calls)", Double(totals.escalations) / Double(max(totals.calls, 1)) * 100)))
        }
        if totals.overheadCost > 0 {
            rows.append(("overhead", Money.format(totals.overheadCost) + "  (discarded answers, judge and classify_with calls; in cost, so saved is net of it)"))
        }
        text += "\n"
        for (label, value) in rows { text += "  " + Text.pad(label, 14) + value + "\n" }
        text += qualitySections(result, style: style)
        if result.outsideWindow > 0 {
            text += "\n" + Text.fit("\(grouped(result.outsideWindow)) record\(result.outsideWindow == 1 ? " was" : "s were") outside --since/--until.", width: style.width) + "\n"
        }
        if result.offlineLeftOut > 0 {
            let count = result.offlineLeftOut
            text += "\n" + Text.fit("Left out \(grouped(count)) offline call\(count == 1 ? "" : "s") (answered by the mock provider: not real spend); --include-offline counts \(count == 1 ? "it" : "them").", width: style.width) + "\n"
        }
        if result.badLines > 0 {
            text += "\n" + Text.fit("Skipped \(grouped(result.badLines)) line\(result.badLines == 1 ? "" : "s") that \(result.badLines == 1 ? "is not a record" : "are not records") (listed on standard error).", width: style.width) + "\n"
        }
        return text
    }

    /// A difference with its sign: "+$0.0123", "-$0.0004".
    static func signed(_ value: Double) -> String { (value >= 0 ? "+" : "") + Money.format(value) }

    /// Green for money saved, red for money lost against the baseline.
    static func tone(saved: Double) -> TextStyle.Tone? { saved > 0 ? .good : saved < 0 ? .bad : nil }

    /// The group table's columns, dropped in this order (least useful first) when the
    /// table is wider than the style's width: p95, p50, the share-of-cost bar, baseline,
    /// input tokens, output tokens, saved %. The group, calls, cost and saved always stay
    /// (the group's name is cut to fit if it must be).
    static let dropOrder = [9, 8, 10, 5, 2, 3, 7]

    /// The groups as aligned rows, sub-groups indented under their parent.
    private static func groupTable(_ result: ReportResult, style: TextStyle) -> String {
        let header = [
            result.dimensions.map(\.description).joined(separator: " / "), "calls", "input tok", "output tok", "cost", "baseline",
            "saved", "saved %", "p50 ms", "p95 ms", "share of cost",
        ]
        var flat: [(depth: Int, group: ReportGroup)] = []
        func collect(_ groups: [ReportGroup], depth: Int) {
            for group in groups {
                flat.append((depth, group))
                collect(group.children, depth: depth + 1)
            }
        }
        collect(result.groups, depth: 0)
        // Each money column shows one number of decimals, so its figures line up.
        let costs = Money.column(flat.map(\.group.stats.cost))
        let baselines = Money.column(flat.map(\.group.stats.baselineCost))
        let saved = Money.column(flat.map(\.group.stats.saved))
        var rows: [[String]] = []
        for (index, entry) in flat.enumerated() {
            let stats = entry.group.stats
            let share = result.totals.cost > 0 ? stats.cost / result.totals.cost : 0
            rows.append([
                String(repeating: "  ", count: entry.depth) + entry.group.value.label, grouped(stats.calls), grouped(stats.inputTokens),
                grouped(stats.outputTokens), costs[index], baselines[index], saved[index],
                stats.savedPercent.map(percent) ?? "-", stats.latencyP50.map(grouped) ?? "-", stats.latencyP95.map(grouped) ?? "-",
                bar(share, decorated: style.unicode) + " " + Text.pad(percent(share * 100), 6, right: true),
            ])
        }
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        let kept = Columns.fit(widths: widths, width: style.width, dropOrder: dropOrder)
        if let width = style.width {
            // Still too wide with only the fixed columns: cut the group names.
            let others = kept.dropFirst().reduce(0) { $0 + widths[$1] + 2 }
            widths[0] = max(8, min(widths[0], width - others))
        }
        func line(_ cells: [String], tones: [Int: TextStyle.Tone] = [:], heading: Bool = false) -> String {
            var text = ""
            for (position, index) in kept.enumerated() {
                if position > 0 { text += "  " }
                let last = position == kept.count - 1
                let cell = last && index == 10 ? cells[index] : Text.pad(cells[index], widths[index], right: index > 0)
                text += style.paint(cell, heading ? .heading : tones[index])
            }
            return text
        }
        var text = line(header, heading: true) + "\n"
        let ruleWidth = kept.reduce(0) { $0 + widths[$1] } + 2 * (kept.count - 1)
        text += String(repeating: style.symbol("─", "-"), count: ruleWidth) + "\n"
        for (index, row) in rows.enumerated() {
            let tone = Self.tone(saved: flat[index].group.stats.saved)
            text += line(row, tones: [6: tone].compactMapValues { $0 }) + "\n"
        }
        return text
    }

    /// Spend per day as a one-line chart under a `--by day` table: a sparkline of eighth
    /// blocks on a Unicode terminal, else ASCII levels (` .:-=+*#`), with the busiest day.
    private static func dailyChart(_ result: ReportResult, style: TextStyle) -> String {
        let days = result.groups.compactMap { group -> (String, Double)? in
            guard case .day = group.value else { return nil }
            return (group.value.label, group.stats.cost)
        }
        guard days.count > 1, let top = days.max(by: { $0.1 < $1.1 }) else { return "" }
        let levels = style.unicode ? ["▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"] : [".", ":", "-", "=", "+", "*", "#", "@"]
        var line = ""
        for (_, cost) in days {
            if cost <= 0 {
                line += " "
            } else {
                let level = top.1 > 0 ? Int((cost / top.1 * Double(levels.count - 1)).rounded()) : 0
                line += levels[min(levels.count - 1, max(0, level))]
            }
        }
        // A chart wider than the screen is cut to its most recent days.
        let label = "spend per day  "
        if let width = style.width, label.count + line.count > width {
            line = String(line.suffix(max(1, width - label.count)))
        }
        var text = "\n" + label + line + "\n"
        text += String(repeating: " ", count: label.count) + "\(days[0].0) \(style.symbol("…", "to")) \(days[days.count - 1].0), most \(Money.format(top.1)) on \(top.0)\n"
        return text
    }

    /// A bar `barWidth` cells wide filled to `share` (0…1): eighth blocks when
    /// decorated, `#` otherwise.
    static func bar(_ share: Double, decorated: Bool) -> String {
        let clamped = min(1, max(0, share))
        if !decorated {
            let cells = Int((clamped * Double(barWidth)).rounded())
            return String(repeating: "#", count: cells) + String(repeating: " ", count: barWidth - cells)
        }
        let eighths = Int((clamped * Double(barWidth * 8)).rounded())
        var text = String(repeating: "█", count: eighths / 8)
        let partial = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"][eighths % 8]
        text += partial
        let used = eighths / 8 + (partial.isEmpty ? 0 : 1)
        return text + String(repeating: " ", count: barWidth - used)
    }

    // MARK: JSON

    /// The whole report as one JSON object.
    private static func json(_ result: ReportResult) -> String {
        var writer = JSONWriter(reservingCapacity: 4096)
        writer.beginObject()
        writer.key("logs")
        writer.beginArray()
        for file in result.files { writer.string(file) }
        writer.endArray()
        writer.key("since"); writer.string(result.window.since.map(LedgerTimestamp.string(epochMilliseconds:)))
        writer.key("until"); writer.string(result.window.until.map(LedgerTimestamp.string(epochMilliseconds:)))
        writer.key("by")
        writer.beginArray()
        for dimension in result.dimensions { writer.string(dimension.description) }
        writer.endArray()
        writer.key("baseline_models")
        writer.beginArray()
        for model in result.baselineModels { writer.string(model) }
        writer.endArray()
        writer.key("repriced"); writer.bool(result.repriced)
        writer.key("repriced_all"); writer.bool(result.repricedAll)
        if result.repricedAll {
            writer.key("logged_cost_usd"); writer.raw(Money.plain(result.totals.loggedCost))
            writer.key("logged_baseline_cost_usd"); writer.raw(Money.plain(result.totals.loggedBaselineCost))
        }
        writer.key("first_ts"); writer.string(result.firstMillis.map(LedgerTimestamp.string(epochMilliseconds:)))
        writer.key("last_ts"); writer.string(result.lastMillis.map(LedgerTimestamp.string(epochMilliseconds:)))
        writer.key("records_read"); writer.int(result.records)
        writer.key("outside_window"); writer.int(result.outsideWindow)
        writer.key("offline_left_out"); writer.int(result.offlineLeftOut)
        writer.key("skipped_lines"); writer.int(result.badLines)
        writer.key("totals")
        writeStats(result.totals, total: result.totals.cost, into: &writer)
        writer.key("groups")
        writeGroups(result.groups, total: result.totals.cost, into: &writer)
        writeQuality(result, into: &writer)
        writer.endObject()
        return writer.text + "\n"
    }

    /// Groups and their sub-groups as a JSON array.
    private static func writeGroups(_ groups: [ReportGroup], total: Double, into writer: inout JSONWriter) {
        writer.beginArray()
        for group in groups {
            writer.beginObject()
            writer.key("by"); writer.string(group.dimension.description)
            writer.key("value")
            if case .none = group.value { writer.null() } else { writer.string(group.value.label) }
            writer.key("stats")
            writeStats(group.stats, total: total, into: &writer)
            if !group.children.isEmpty {
                writer.key("groups")
                writeGroups(group.children, total: total, into: &writer)
            }
            writer.endObject()
        }
        writer.endArray()
    }

    /// A group's figures as a JSON object.
    private static func writeStats(_ stats: GroupStats, total: Double, into writer: inout JSONWriter) {
        writer.beginObject()
        for (key, value) in statFields(stats, total: total) {
            writer.key(key)
            writer.raw(value)
        }
        writer.endObject()
    }

    /// The figures of a group as JSON/CSV number texts (empty → null), in output order.
    private static func statFields(_ stats: GroupStats, total: Double) -> [(String, String)] {
        func optional(_ value: String?) -> String { value ?? "null" }
        return [
            ("calls", String(stats.calls)),
            ("input_tokens", String(stats.inputTokens)),
            ("output_tokens", String(stats.outputTokens)),
            ("cached_input_tokens", String(stats.cachedInputTokens)),
            ("cost_usd", Money.plain(stats.cost)),
            ("baseline_cost_usd", Money.plain(stats.baselineCost)),
            ("saved_usd", Money.plain(stats.saved)),
            ("saved_percent", optional(stats.savedPercent.map { formatted("%.2f", $0) })),
            ("share_of_cost", total > 0 ? formatted("%.4f", stats.cost / total) : "null"),
            ("cache_hits", String(stats.cacheHits)),
            ("fallbacks", String(stats.fallbacks)),
            ("errors", String(stats.errors)),
            ("cancelled", String(stats.cancelled)),
            ("latency_p50_ms", optional(stats.latencyP50.map(String.init))),
            ("latency_p95_ms", optional(stats.latencyP95.map(String.init))),
            ("escalations", String(stats.escalations)),
            ("response_cache_hits", String(stats.responseHits)),
            ("response_cache_lookups", String(stats.responseLookups)),
            ("cache_saved_usd", Money.plain(stats.cacheSaved)),
            ("unpriced_calls", String(stats.unpricedCalls)),
            ("unpriced_tokens", String(stats.unpricedTokens)),
            ("overhead_cost_usd", Money.plain(stats.overheadCost)),
        ]
    }

    // MARK: CSV

    /// A header and one row per innermost group (or the totals).
    private static func csv(_ result: ReportResult) -> String {
        let names = statFields(GroupStats(), total: 0).map(\.0)
        var text = (result.dimensions.map(\.description) + names).map(CSV.field).joined(separator: ",") + "\n"
        func row(_ values: [String], _ stats: GroupStats) {
            let figures = statFields(stats, total: result.totals.cost).map { $0.1 == "null" ? "" : $0.1 }
            text += (values.map(CSV.field) + figures).joined(separator: ",") + "\n"
        }
        if result.dimensions.isEmpty {
            row([], result.totals)
            return text
        }
        func walk(_ groups: [ReportGroup], _ path: [String]) {
            for group in groups {
                let values = path + [group.value == .none ? "" : group.value.label]
                if group.children.isEmpty { row(values, group.stats) } else { walk(group.children, values) }
            }
        }
        walk(result.groups, [])
        return text
    }

    // MARK: Numbers

    /// 1234567 → "1,234,567".
    public static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var text = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { text += "," }
            text.append(character)
        }
        return (value < 0 ? "-" : "") + text
    }

    /// `12.3%`.
    private static func percent(_ value: Double) -> String { formatted("%.1f%%", value) }

    /// `1,234 ms`, or `-` when there were no calls.
    private static func milliseconds(_ value: Int?) -> String { value.map { grouped($0) + " ms" } ?? "-" }
}
