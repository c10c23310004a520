import Foundation
import Testing
@testable import ModelRouteKit
@testable import modelroute

/// The longest line of `text` in characters, ANSI colour sequences not counted.
private func widest(_ text: String) -> Int {
    text.split(separator: "\n").map { Columns.visibleWidth(String($0)) }.max() ?? 0
}

@Suite struct TextStyleTests {
    let terminal = ["TERM": "xterm-256color", "LANG": "en_US.UTF-8"]

    @Test func colourFollowsTheFlagThenNoColorThenClicolorForceThenTheTerminal() {
        func color(_ choice: ColorChoice, terminal isTerminal: Bool, _ environment: [String: String]) -> Bool {
            TextStyle.resolve(choice: choice, isTerminal: isTerminal, terminalColumns: nil, environment: environment).color
        }
        #expect(color(.auto, terminal: true, terminal))
        #expect(!color(.auto, terminal: false, terminal))
        #expect(!color(.auto, terminal: true, terminal.merging(["NO_COLOR": "1"]) { $1 }))
        // An empty NO_COLOR does not count (no-color.org).
        #expect(color(.auto, terminal: true, terminal.merging(["NO_COLOR": ""]) { $1 }))
        #expect(color(.auto, terminal: false, ["CLICOLOR_FORCE": "1"]))
        #expect(!color(.auto, terminal: false, ["CLICOLOR_FORCE": "0"]))
        #expect(!color(.auto, terminal: false, ["CLICOLOR_FORCE": "1", "NO_COLOR": "1"]))
        #expect(!color(.auto, terminal: true, terminal.merging(["CLICOLOR": "0"]) { $1 }))
        #expect(!color(.auto, terminal: true, ["TERM": "dumb"]))
        #expect(color(.always, terminal: false, ["NO_COLOR": "1"]))
        #expect(!color(.never, terminal: true, terminal.merging(["CLICOLOR_FORCE": "1"]) { $1 }))
    }

    @Test func unicodeNeedsAUTF8LocaleAndATerminalThatIsNotDumb() {
        func unicode(terminal isTerminal: Bool, _ environment: [String: String]) -> Bool {
            TextStyle.resolve(choice: .auto, isTerminal: isTerminal, terminalColumns: nil, environment: environment).unicode
        }
        #expect(unicode(terminal: true, ["LANG": "en_US.UTF-8"]))
        #expect(unicode(terminal: true, ["LC_ALL": "C.utf8", "LANG": "C"]))
        #expect(!unicode(terminal: true, ["LC_ALL": "C", "LANG": "en_US.UTF-8"]))
        #expect(!unicode(terminal: true, [:]))
        #expect(!unicode(terminal: true, ["LANG": "en_US.UTF-8", "TERM": "dumb"]))
        #expect(!unicode(terminal: false, ["LANG": "en_US.UTF-8"]))
        // Colour and character set are separate: no colour, still Unicode.
        let style = TextStyle.resolve(choice: .never, isTerminal: true, terminalColumns: nil, environment: ["LANG": "en_US.UTF-8"])
        #expect(style.unicode && !style.color)
    }

    @Test func widthIsColumnsThenTheTerminalElseUnlimited() {
        #expect(TextStyle.resolve(choice: .auto, isTerminal: false, terminalColumns: nil, environment: ["COLUMNS": "90"]).width == 90)
        #expect(TextStyle.resolve(choice: .auto, isTerminal: true, terminalColumns: 132, environment: [:]).width == 132)
        #expect(TextStyle.resolve(choice: .auto, isTerminal: true, terminalColumns: 132, environment: ["COLUMNS": "abc"]).width == 132)
        #expect(TextStyle.resolve(choice: .auto, isTerminal: false, terminalColumns: nil, environment: ["COLUMNS": "5"]).width == nil)
        #expect(TextStyle.resolve(choice: .auto, isTerminal: false, terminalColumns: nil, environment: [:]).width == nil)
    }

    @Test func aMoneyColumnUsesOneNumberOfDecimals() {
        #expect(Money.column([12.5, 0.000045, 0]) == ["$12.500000", "$0.000045", "$0.000000"])
        #expect(Money.column([12.5, 3]) == ["$12.50", "$3.00"])
        #expect(Money.column([-0.02, 1]) == ["-$0.0200", "$1.0000"])
    }

    @Test func columnsAreDroppedInTheirOrderUntilTheRestFit() {
        #expect(Columns.fit(widths: [10, 10, 10, 10], width: 100, dropOrder: [3, 2]) == [0, 1, 2, 3])
        #expect(Columns.fit(widths: [10, 10, 10, 10], width: 34, dropOrder: [3, 2]) == [0, 1, 2])
        #expect(Columns.fit(widths: [10, 10, 10, 10], width: 10, dropOrder: [3, 2]) == [0, 1])
        #expect(Columns.fit(widths: [10, 10], width: nil, dropOrder: [1]) == [0, 1])
    }
}

@Suite struct FittingOutputTests {
    func log(_ directory: TemporaryDirectory) throws -> String { try directory.write("usage.jsonl", handLog) }

    @Test(arguments: [80, 120])
    func theReportTableFitsTheWidth(columns: Int) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try log(directory)
        let result = await runCLI(["report", "--log", path, "--by", "route,model"], environment: ["COLUMNS": String(columns)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(widest(result.stdout) <= columns, "\(result.stdout)")
        let unlimited = await runCLI(["report", "--log", path, "--by", "route,model"])
        #expect(widest(unlimited.stdout) > 80, "without a width every column shows")
        #expect(unlimited.stdout.contains("p95 ms") && !result.stdout.contains("p95 ms"), "p95 goes first")
        #expect(result.stdout.contains("saved") && result.stdout.contains("cost"))
    }

    @Test func colourIsAddedOnlyWhenAsked() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try log(directory)
        let coloured = await runCLI(["report", "--log", path, "--by", "route", "--color", "always"])
        #expect(coloured.stdout.contains("\u{1B}[32m$0.009500\u{1B}[0m"), "saved is green: \(coloured.stdout.debugDescription)")
        #expect(coloured.stdout.contains("\u{1B}[1m"), "headings are bold")
        let forced = await runCLI(["report", "--log", path], environment: ["CLICOLOR_FORCE": "1"])
        #expect(forced.stdout.contains("\u{1B}["))
        let plain = await runCLI(["report", "--log", path, "--by", "route"], environment: ["CLICOLOR_FORCE": "1", "NO_COLOR": "1"])
        #expect(!plain.stdout.contains("\u{1B}"))
        let never = await runCLI(["report", "--log", path, "--color", "never"], environment: ["CLICOLOR_FORCE": "1"])
        #expect(!never.stdout.contains("\u{1B}"))
        let damaged = try directory.write("damaged.jsonl", handLog + "not a record\n")
        let warned = await runCLI(["report", "--log", damaged, "--color", "always"])
        #expect(warned.stderr.contains("modelroute: \u{1B}[33mwarning:\u{1B}[0m "), "\(warned.stderr.debugDescription)")
        let quiet = await runCLI(["report", "--log", damaged])
        #expect(quiet.stderr.contains("modelroute: warning: ") && !quiet.stderr.contains("\u{1B}"))
        let bad = await runCLI(["report", "--log", path, "--color", "sometimes"])
        #expect(bad.status == 64 && bad.stderr.contains("auto, always, never"), "\(bad.stderr)")
    }

    @Test func aByDayReportEndsWithASpendChart() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let path = try log(directory)
        let result = await runCLI(["report", "--log", path, "--by", "day", "--since", "2026-10-30", "--until", "2026-11-03"])
        #expect(result.status == 0, "\(result.stderr)")
        // 10-30 and 10-31 spent nothing, 11-01 the most, 11-02 a little (ASCII levels off a terminal).
        #expect(result.stdout.contains("spend per day    @:\n"), "\(result.stdout)")
        #expect(result.stdout.contains("2026-10-30 to 2026-11-02, most $0.0195 on 2026-11-01"), "\(result.stdout)")
        let utc = TimeZone(identifier: "UTC") ?? .current
        let report = try ReportEngine.run(ReportRequest(logs: [path], dimensions: [.day], timeZone: utc), files: [path])
        let rendered = ReportRenderer.render(report, format: .table, style: TextStyle(unicode: true), timeZone: LocalZone(utc))
        #expect(rendered.contains("spend per day  █▂\n"), "\(rendered)")
    }

    @Test(arguments: [80, 120])
    func theClassifyTableFitsTheWidthAndShowsThePromptWhenThereIsRoom(columns: Int) async throws {
        let prompts = "hello there\n\nProve that the square root of 2 is irrational, step by step, with every lemma\nWrite a haiku about the sea\n"
        let result = await runCLI(["classify", "--lines", "--format", "table", "-"], stdin: prompts, environment: ["COLUMNS": String(columns)])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(widest(result.stdout) <= columns, "\(result.stdout)")
        let rows = result.stdout.split(separator: "\n")
        #expect(rows.first?.contains("route") == true && rows.first?.contains("rule") == true)
        if columns >= 120 {
            #expect(rows.first?.hasSuffix("  prompt") == true)
            #expect(result.stdout.contains("Write a haiku"))
            #expect(result.stdout.contains("Prove that the") && result.stdout.contains("…"))
            // Line ids: the blank line 2 is not a prompt, so the rows are lines 1, 3 and 4.
            let ids = rows.dropFirst().prefix(3).map { $0.split(separator: " ", omittingEmptySubsequences: true)[1] }
            #expect(ids == ["1", "3", "4"], "\(result.stdout)")
        } else {
            #expect(rows.first?.hasSuffix("prompt") == false)
        }
    }

    @Test func withLinesEachRowsIdIsItsLineNumberInEveryFormat() async throws {
        let prompts = "first\n\nthird\n"
        let jsonl = await runCLI(["classify", "--lines", "--format", "jsonl", "-"], stdin: prompts)
        #expect(jsonl.stdout.contains(#""index":1,"id":"1""#) && jsonl.stdout.contains(#""index":2,"id":"3""#), "\(jsonl.stdout)")
        let csv = await runCLI(["classify", "--lines", "--format", "csv", "-"], stdin: prompts)
        #expect(csv.stdout.contains("\n1,1,") && csv.stdout.contains("\n2,3,"), "\(csv.stdout)")
        // Across chunks, too: line numbers continue from one chunk to the next.
        var options = ClassifyRun.Options()
        options.format = .jsonl
        options.inputFormat = .lines
        options.chunkSize = 64
        options.threads = 2
        options.noSummary = true
        let many = (1...200).map { "prompt number \($0)" }.joined(separator: "\n") + "\n"
        let stdout = OutputSink.memory()
        var run = ClassifyRun(classifier: Classifier(table: try RoutingTableLoader.load(json: Array(EmbeddedRoutes.json.utf8), source: "t")), options: options, stdout: stdout, stderr: .memory())
        _ = run.run(inputs: ["-"], standardInput: .memory(many))
        stdout.flush()
        let lines = stdout.captured.split(separator: "\n")
        #expect(lines.count == 200)
        #expect(lines.last?.contains(#""index":200,"id":"200""#) == true, "\(lines.last ?? "")")
    }

    @Test func explainMarksAreASCIIUnlessUnicodeIsOn() throws {
        let table = try RoutingTableLoader.load(json: Array(EmbeddedRoutes.json.utf8), source: "t")
        let classifier = try Classifier.load(table: table)
        let context = ClassificationContext()
        let decision = classifier.classify("hi", context: context)
        let trace = classifier.trace("hi", context: context)
        let plain = DecisionDescription.render(table: table, decision: decision, trace: trace)
        let fancy = DecisionDescription.render(table: table, decision: decision, trace: trace, style: TextStyle(color: true, unicode: true))
        #expect(plain.contains("  - free-tier -> ") && !plain.contains("✓") && !plain.contains("\u{1B}"))
        #expect(fancy.contains("\u{1B}[31m✗\u{1B}[0m free-tier → "), "\(fancy)")
    }

    @Test func helpWrapsToTheWidth() async throws {
        for command in ["report", "classify", "log"] {
            let result = await runCLI([command, "--help"], environment: ["COLUMNS": "60"])
            #expect(result.status == 0)
            // Example commands and single words longer than a line (paths) stay whole; everything else fits.
            let long = result.stdout.split(separator: "\n").filter {
                $0.count > 60 && !$0.hasPrefix("  modelroute ") && !$0.hasPrefix("  git ") && $0.trimmingCharacters(in: .whitespaces).contains(" ")
            }
            #expect(long.isEmpty, "\(command): \(long)")
            #expect(result.stdout.contains("--color WHEN"))
        }
        let wide = await runCLI(["report", "--help"], environment: ["COLUMNS": "200"])
        let narrow = await runCLI(["report", "--help"], environment: ["COLUMNS": "60"])
        #expect(wide.stdout.split(separator: "\n").count < narrow.stdout.split(separator: "\n").count)
        // Not a terminal and no COLUMNS: 80.
        let piped = await runCLI(["report", "--help"])
        #expect(piped.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 || $0.hasPrefix("  modelroute ") }, "\(piped.stdout)")
    }

    @Test func explainFitsTheWidth() async throws {
        let result = await runCLI(["--dry-run", "--explain", "Prove that the square root of 2 is irrational, with every step"], environment: ["COLUMNS": "60"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(widest(result.stdout) <= 60, "\(result.stdout)")
        #expect(result.stdout.contains("\n  moved most by: "))
    }

    @Test func theInstallScriptIsValidShellAndLinksStatically() throws {
        let script = repositoryRoot.appendingPathComponent("Examples/install.sh").path
        let text = try String(contentsOfFile: script, encoding: .utf8)
        #expect(text.contains("--static-swift-stdlib") && text.contains("mkdir -p \"$prefix/bin\""))
        #expect(FileManager.default.isExecutableFile(atPath: script))
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/bin/sh")
        check.arguments = ["-n", script]
        try check.run()
        check.waitUntilExit()
        #expect(check.terminationStatus == 0)
    }
}

/// Colour, character set and width as the shipped binary sees a real terminal: a
/// pseudo-terminal from `script` (util-linux), sized with `stty`.
@Suite struct RealTerminalTests {
    /// Runs `command` in a pseudo-terminal; what it printed, carriage returns removed.
    func onTerminal(_ command: String, environment: [String: String]) throws -> String? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return nil }
        let run = try runProduct("/usr/bin/script", ["-qec", command, "/dev/null"], environment: environment)
        return run.stdout.replacingOccurrences(of: "\r", with: "")
    }

    @Test func onATerminalReportIsColouredUnicodeAndFitsItsWidth() throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let log = try directory.write("usage.jsonl", handLog)
        let report = "\(binary) report --log \(log) --by route,model"
        let base = ["PATH": "/usr/bin:/bin", "HOME": directory.path, "TERM": "xterm", "LANG": "C.UTF-8"]
        guard let shown = try onTerminal("stty cols 90; \(report)", environment: base) else { return }
        #expect(shown.contains("\u{1B}[1m") && shown.contains("─"), "\(shown.debugDescription)")
        #expect(widest(shown) <= 90 && !shown.contains("p95 ms"), "\(shown)")
        let noColor = try onTerminal("stty cols 90; \(report)", environment: base.merging(["NO_COLOR": "1"]) { $1 }) ?? ""
        #expect(!noColor.contains("\u{1B}") && noColor.contains("─"), "colour off, Unicode kept: \(noColor.debugDescription)")
        let ascii = try onTerminal("stty cols 90; \(report)", environment: base.merging(["LANG": "C", "TERM": "dumb"]) { $1 }) ?? ""
        #expect(!ascii.contains("\u{1B}") && !ascii.contains("─") && ascii.contains("---"), "\(ascii.debugDescription)")
        // Into a pipe: no colour, ASCII, every column.
        let piped = try runProduct(binary, ["report", "--log", log, "--by", "route,model"], environment: base)
        #expect(!piped.stdout.contains("\u{1B}") && piped.stdout.contains("p95 ms") && !piped.stdout.contains("─"))
    }

    @Test func aHeldAnswerSaysCheckingOnATerminalOnlyAndErasesIt() throws {
        let binary = try #require(builtProduct("modelroute"))
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = repositoryRoot.appendingPathComponent("Examples/escalation.json").path
        let call = "\(binary) --routes \(routes) --offline --log \(directory.path)/usage.jsonl 'Translate good morning into French'"
        let base = ["PATH": "/usr/bin:/bin", "HOME": directory.path, "TERM": "xterm", "LANG": "C.UTF-8"]
        guard let shown = try onTerminal(call, environment: base) else { return }
        #expect(shown.contains("modelroute: checking…\u{1B}[K"), "the note, then erased: \(shown.debugDescription)")
        #expect(shown.hasSuffix("[mock gpt-4.1] Translate good morning into French\n"), "\(shown.debugDescription)")
        let piped = try runProduct(binary, ["--routes", routes, "--offline", "--log", directory.path + "/usage.jsonl", "Translate good morning into French"], environment: base)
        #expect(piped.status == 0 && piped.stderr == "", "no note into a pipe or file: \(piped.stderr.debugDescription)")
        #expect(piped.stdout == "[mock gpt-4.1] Translate good morning into French\n")
    }
}
