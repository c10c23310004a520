import FoundationEssentials
import ModelRouteKit
import Synchronization

/// `modelroute [PROMPT...]`: classify, call, stream, log. `--dry-run` stops after classifying.
enum RouteCommand: Command {
    /// Options and help of the main command.
    static let spec = CommandSpec(
        name: "",
        abstract: "Route a prompt to the right model, stream its answer, and log what it cost.",
        usage: ["[<options>] [PROMPT ...]", "[<options>] < prompt.txt", "classify|check|report|cache|log|eval|train|init [<options>]"],
        arguments: [("PROMPT", "The prompt; several words are joined with spaces. Without it, standard input is read; with piped input too, the prompt is the words, a blank line, then standard input.")],
        options: [
            CommonOptions.routes,
            OptionSpec("route", short: "r", value: "NAME", help: "Use this route instead of classifying (logged as rule \"override\")."),
            OptionSpec("model", short: "m", value: "NAME", help: "Call this model (a routes.json key) instead of classifying; no fallbacks unless it is the route's primary model."),
            CommonOptions.tier,
            OptionSpec("system", short: "s", value: "TEXT", help: "System prompt; replaces the route's \"system\"."),
            OptionSpec("max-tokens", value: "N", help: "Output token limit; replaces the route's \"max_tokens\" (Anthropic: 1024 when neither is set)."),
            OptionSpec("temperature", value: "X", help: "Sampling temperature, 0 to 2."),
            OptionSpec("timeout", value: "SECONDS", help: "Seconds to wait for a response or its next piece; replaces the provider's \"timeout_s\".", default: "300"),
            OptionSpec("no-stream", help: "Ask for the whole answer at once instead of streaming it."),
            OptionSpec("no-cache", help: "Neither read nor write the response cache for this call."),
            OptionSpec("refresh", help: "Skip the response cache's lookup, and store the new answer."),
            OptionSpec("max-cost", value: "USD", help: "Refuse the call (exit 77, before any network) if its worst case may cost more.", default: "$MODELROUTE_MAX_COST"),
            OptionSpec("no-checks", help: "Skip the route's answer checks for this call: stream at once, never escalate."),
            OptionSpec("json-answer", help: "The answer must be JSON: arms the route's \"json\" check, as \"answer_format\": \"json\" does."),
            OptionSpec("group", value: "SIDE", help: "Put the call on this side of the table's experiment: control or routed."),
            OptionSpec("json", help: "Print one JSON object instead of the answer, whatever the outcome: content, the log record's fields, exit_code. With --dry-run: the decision."),
            OptionSpec("tag", value: "KEY=VALUE", help: "Record a tag with the call, for `report --by tag:KEY`.", repeatable: true),
            OptionSpec("log", value: "PATH", help: "Usage log to append to.", default: "$MODELROUTE_LOG, else ~/.local/state/modelroute/usage.jsonl"),
            OptionSpec("offline", help: "Answer every call with the table's mock provider, keeping the routed model's prices ($MODELROUTE_OFFLINE=1)."),
            OptionSpec("dry-run", help: "Classify and estimate the cost; no call, no log."),
            OptionSpec("explain", help: "With --dry-run: show every rule tried and why it held or not. When calling: the decision and its evidence on stderr."),
            OptionSpec("verbose", short: "v", help: "Show the decision and every HTTP attempt on stderr (never a key)."),
        ],
        discussion: """
            Only the answer goes to standard output, streamed as it arrives and ended with a newline.
            Failed attempts are retried (connection errors, timeouts, HTTP 408, 409, 429, 500, 502, 503, 504, 529)
            with backoff, honouring Retry-After; then the route's fallbacks are tried in order. Once the answer
            has begun to print, nothing is retried.

            On a route with "checks", the answer is held until they pass (a terminal shows "checking…"), then
            printed; when one fails, the answer is discarded and the route's "escalate_to" answers instead, its
            own checks applying in turn. Holding costs the streaming: the first word arrives with the last.
            --no-checks streams at once. With an "experiment" in the table, a share of calls goes straight to
            its control model (--group control|routed picks the side).

            `modelroute --version` (or -V) prints the version; `modelroute help COMMAND` or `modelroute COMMAND --help` explains a command.

            EXIT STATUS: 0 answered; 1 answered, but the log could not be written; 64 bad command
            line; 65 prompt not UTF-8; 66 no prompt; 69 the provider refused or failed (after fallbacks);
            75 temporary failure, try again (rate limit, timeout, overload, stream cut short); 77 refused
            before anything was sent, by a budget or --max-cost;
            78 bad routing table, difficulty model or missing API key; 130 interrupted (Ctrl-C).
            """)

    /// Runs the command with Ctrl-C turned into cancellation.
    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        try await execute(arguments, context: context, cancellation: CancellationSignal(), catchesInterrupts: true)
    }

    /// Appends one record to the usage log; returns the failure, if any.
    typealias RecordAppender = @Sendable (LedgerRecord) -> LedgerError?

    /// The command itself; tests pass their own cancellation switch, log appender and table.
    /// With `catchesInterrupts`, Ctrl-C cancels the call once it starts (before that, while
    /// the prompt is read, it ends the process as usual).
    static func execute(
        _ arguments: ParsedArguments, context: CommandContext, cancellation: CancellationSignal,
        append customAppend: RecordAppender? = nil, table givenTable: RoutingTable? = nil, catchesInterrupts: Bool = false
    ) async throws -> ExitCode {
        let options = try CallOptions(arguments, environment: context.environment)
        if options.dryRun {
            let routed = try route(arguments, options: options, context: context, table: givenTable)
            return DryRun.run(
                prompt: routed.prompt, parts: routed.parts, classifier: routed.classifier, decision: routed.decision, explain: options.explain,
                json: options.json, context: context,
                classification: routed.classification)
        }
        let transport = HTTPClient(plainHTTP: options.httpClient)
        defer { transport.shutdown() }
        let routed = try route(arguments, options: options, context: context, table: givenTable)
        let (prompt, table) = (routed.prompt, routed.classifier.table)
        var decision = routed.decision
        /// Starts loading libcurl (for https) while other work goes on; not before a cache lookup
        /// that may answer without any network.
        func warmUp() {
            guard !options.offline else { return }
            let candidates = CallTarget.candidates(for: decision, table: table, offline: false)
            transport.warmUp(for: candidates.compactMap { table.model(named: $0).flatMap { table.provider(named: $0.provider) }?.baseURL })
        }
        if decision.ask != nil || table.cache == nil { warmUp() }

        // Budgets count spend in a small index beside the log, kept under the log's lock,
        // and in Redis when the table shares its state.
        let nowMillis = context.nowMillis()
        let recording = RecordStage(
            logPath: LedgerLocation.resolve(explicitPath: options.logPath, environment: context.environment), table: table,
            environment: context.environment, zone: context.zone, nowMillis: nowMillis)
        let append: RecordAppender = customAppend ?? { record in recording.append(record, warn: { context.warn($0) }) }
        let stdout = context.stdout
        let runner = CallRunner(
            table: table, environment: context.environment, offline: options.offline, timeoutOverride: options.timeout,
            transport: transport, cancellation: cancellation,
            output: options.json ? nil : printer(stdout),
            diagnostics: { context.diagnose($0) }, verbose: options.verbose)

        // From here on Ctrl-C cancels the call (the question included) instead of ending the process.
        let monitor = catchesInterrupts ? InterruptMonitor(signal: cancellation) : nil
        defer { monitor?.stop() }

        // A classify_with rule held: its model picks the route (or the later rules do).
        let asked = await AskStage.resolve(decision, prompt: prompt, classifier: routed.classifier, runner: runner)
        decision = asked.decision
        if let note = asked.note, options.verbose || options.explain { context.diagnose(note) }

        // The experiment's side: the control group skips routing.
        if options.group != nil && table.experiment == nil {
            throw UsageError.other("--group puts a call on one side of an experiment, and \(table.source) has none (add a top-level \"experiment\")")
        }
        let assignment = ExperimentStage.assign(
            decision, table: table, forced: options.group, overridden: options.route != nil || options.model != nil, draw: context.random)
        decision = assignment.decision

        func request(for route: RouteConfig?) -> ChatRequest {
            ChatRequest(
                prompt: prompt, system: options.system ?? route?.system, maxTokens: options.maxTokens ?? route?.maxTokens,
                temperature: options.temperature, stream: options.stream)
        }
        if options.verbose || options.explain {
            context.diagnose("route \(decision.route) (rule \(decision.reason.ruleName)) → model \(decision.model)\(options.offline ? " (offline: mock provider)" : "")")
            if let experiment = assignment.experiment, let group = assignment.group { context.diagnose("experiment \(experiment): group \(group.rawValue)") }
            if options.explain { for evidence in decision.evidence { context.diagnose("  \(evidence)") } }
        }

        // Budgets: before any network, downgrade or refuse a call that would break one.
        let budgetVerdict = BudgetStage.check(
            decision, table: table, tags: options.tags, index: recording.spendIndex, shared: recording.shared, request: request(for:),
            nowMillis: nowMillis, zone: context.zone, warn: { context.warn($0) })
        if case .proceed(let downgraded, let budget?)? = budgetVerdict {
            if options.verbose || options.explain { context.diagnose("budget \(budget): route \(decision.route) downgraded to \(downgraded.route) (model \(downgraded.model))") }
            decision = downgraded
        }

        // The response cache: a hit answers here, with no provider call.
        let cache = CacheStage(table: table, environment: context.environment, offline: options.offline)
        let cacheMode: CacheStage.Mode = options.noCache ? .off : options.refresh ? .refresh : .normal
        let lookupStart = ContinuousClock.now
        let lookup: CacheStage.Lookup
        if assignment.group == .control {
            lookup = table.cache == nil ? .off : .bypass  // control calls measure real spend
        } else {
            lookup = cache.lookup(
                decision, request: request(for: table.route(named: decision.route)), mode: cacheMode, nowMillis: context.nowMillis(),
                note: { note in if options.verbose || options.explain { context.diagnose(note) } }, warn: { context.warn($0) })
        }

        let finalDecision = decision
        func record(of outcome: CallOutcome, checked: EscalationStage.Result? = nil) -> LedgerRecord {
            var record = CallRecord.make(
                outcome: outcome, decision: finalDecision, table: table, prompt: prompt, tags: options.tags,
                finishedAt: context.now(), id: CallRecord.newID(), overheadCost: asked.cost + (checked?.overheadCost ?? 0))
            record.attempts += asked.attempts + (checked?.extraAttempts ?? 0)
            record.escalatedFrom = checked?.escalatedFrom
            record.escalationReason = checked?.escalationReason
            record.experiment = assignment.experiment
            record.group = assignment.group?.rawValue
            record.responseCache = lookup.recorded
            if case .proceed(_, let budget)? = budgetVerdict { record.budget = budget }
            return record
        }
        if case .hit(let entry) = lookup {
            let outcome = CacheStage.outcome(of: entry, latencyMilliseconds: CallRunner.milliseconds(ContinuousClock.now - lookupStart))
            if !options.json {
                stdout.write(entry.answer.hasSuffix("\n") || entry.answer.isEmpty ? entry.answer : entry.answer + "\n")
                stdout.flush()
            }
            var hit = record(of: outcome)
            CacheStage.priceHit(&hit)
            let logError = append(hit)
            if options.json { printJSON(hit, content: entry.answer, exitCode: logError?.exitCode ?? .success, to: stdout) }
            if let logError { throw logError }
            return .success
        }
        /// A refusal before any network: logged with the refusing budget's name and cost 0.
        func refuse(_ refusal: PolicyError, by name: String, error: String) -> PolicyError {
            var refused = record(of: CallOutcome(model: decision.model, status: .error, error: nil))
            refused.error = error
            refused.budget = name
            refused.offline = options.offline || table.provider(named: table.model(named: decision.model)?.provider ?? "")?.type == .mock
            if options.json { printJSON(refused, content: "", exitCode: refusal.exitCode, to: stdout) }
            if let logError = append(refused) { context.warn("the call was not logged: " + logError.message) }
            return refusal
        }
        // A budget's refusal: a cache hit (above) cost nothing and was answered.
        if case .refuse(let refusal, let budget)? = budgetVerdict { throw refuse(refusal, by: budget, error: "refused by budget \(budget)") }
        // The per-call ceiling: before any network; a cache hit (above) cost nothing.
        if let limit = options.maxCost,
            let refusal = SpendLimitStage.check(SpendLimitStage.worstCase(decision, table: table, request: request(for:), checksEnabled: !options.noChecks), limit: limit)
        {
            throw refuse(refusal, by: PolicyError.maxCostName, error: "refused by --max-cost")
        }
        if !(decision.ask != nil || table.cache == nil) { warmUp() }
        do throws(ProviderError) {
            try runner.preflight(decision: decision)
        } catch {
            // A missing key is found before any network; the call still gets its record.
            let failed = record(of: CallOutcome(model: decision.model, status: .error, error: error))
            if options.json { printJSON(failed, content: "", exitCode: error.exitCode, to: stdout) }
            if let logError = append(failed) {
                context.warn("the call was not logged: " + logError.message)
            }
            throw error
        }
        // "checking…" while an answer is held, on a terminal that can erase it again.
        let terminal = context.stderr.isTerminal && context.environment["TERM"] != "dumb"
        let checkingNote = "modelroute: " + context.style(context.stderr).symbol("checking…", "checking...")
        let checkingShown = Mutex(false)
        /// Clears "checking…" before another line goes to standard error.
        @Sendable func eraseChecking() {
            guard checkingShown.withLock({ shown in defer { shown = false }; return shown }) else { return }
            context.stderr.write("\r\u{1B}[K")
        }
        let checked = await EscalationStage.run(
            decision: decision, prompt: prompt, request: request(for:), runner: runner,
            settings: EscalationStage.Settings(
                checksEnabled: !options.noChecks, wantsJSON: options.jsonAnswer,
                output: options.json ? nil : printer(stdout),
                checking: { started in
                    guard terminal, checkingShown.withLock({ shown in defer { shown = started }; return shown != started }) else { return }
                    context.stderr.write(started ? checkingNote : "\r\u{1B}[K")
                    context.stderr.flush()
                },
                note: { note in
                    guard options.verbose || options.explain else { return }
                    eraseChecking()
                    context.diagnose(note)
                },
                warn: { warning in
                    eraseChecking()
                    context.warn(warning)
                }))
        let outcome = checked.outcome
        cache.save(checked, lookup: lookup, mode: cacheMode, request: request(for:), nowMillis: context.nowMillis(), warn: { context.warn($0) })

        if outcome.outputBegan && !outcome.outputClosed {
            if !outcome.text.hasSuffix("\n") { stdout.write("\n") }
            stdout.flush()
        }
        let record = record(of: outcome, checked: checked)
        let logError = append(record)
        // With --json every outcome prints one object, with the status the command exits with.
        let failure: (any ModelRouteError)? = outcome.outputClosed ? nil : outcome.error.map { $0 } ?? logError.map { $0 }
        if options.json { printJSON(record, content: outcome.text, exitCode: failure?.exitCode ?? .success, path: checked.steps, to: stdout) }
        if let failure = outcome.error, !outcome.outputClosed {
            if let logError { context.warn("the call was not logged: " + logError.message) }
            throw failure
        }
        if let logError { throw logError }
        return .success
    }

    /// Prints the `--json` object of a call.
    static func printJSON(_ record: LedgerRecord, content: String, exitCode: ExitCode, path: [EscalationStage.Step] = [], to stdout: OutputSink) {
        stdout.write(jsonSummary(record, content: content, exitCode: exitCode, path: path) + "\n")
        stdout.flush()
    }

    /// Writes each streamed piece at once; false once the reader has gone.
    static func printer(_ stdout: OutputSink) -> @Sendable (String) -> Bool {
        { piece in
            stdout.write(piece)
            stdout.flush()
            return !stdout.isBroken
        }
    }

    /// Reads the prompt, loads the table and decides the route: what a call and a dry run share.
    private static func route(
        _ arguments: ParsedArguments, options: CallOptions, context: CommandContext, table givenTable: RoutingTable?
    ) throws -> (prompt: String, parts: PromptInput.Prompt, classifier: Classifier, classification: ClassificationContext, decision: RoutingDecision) {
        let parts = try PromptInput.read(arguments.positionals, stdin: context.stdin)
        let prompt = parts.text
        // A call and a dry run refuse an empty prompt alike (exit 66).
        guard !prompt.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) else { throw PromptInputError.empty }
        let classifier = try givenTable.map { (table) throws(DifficultyModelError) in try Classifier.load(table: table) }
            ?? CommonOptions.loadClassifier(arguments, context: context)
        let classification = CommonOptions.classificationContext(arguments, context: context)
        let decision: RoutingDecision
        if options.route != nil || options.model != nil {
            decision = try classifier.override(route: options.route, model: options.model, prompt: prompt)
        } else {
            decision = classifier.classify(prompt, context: classification)
        }
        return (prompt, parts, classifier, classification, decision)
    }

    /// The `--json` object: `content` (the answer, "" when there is none), every field
    /// of the call's log record (schema 2, in its order), `path` (every answer on the way,
    /// first to last: route, model, status, the check it failed, its cost, whether it is the
    /// one printed), and `exit_code`, the status the command exits with (0 when it answered).
    static func jsonSummary(_ record: LedgerRecord, content: String, exitCode: ExitCode = .success, path: [EscalationStage.Step] = []) -> String {
        var json = JSONWriter(reservingCapacity: content.utf8.count + 1024)
        json.beginObject()
        json.key("content"); json.string(content)
        record.encodeFields(into: &json)
        json.key("path")
        json.beginArray()
        for step in path {
            json.beginObject()
            json.key("route"); json.string(step.route)
            json.key("model"); if let model = step.model { json.string(model) } else { json.null() }
            json.key("status"); json.string(step.status.rawValue)
            json.key("failed_check"); if let failure = step.failure { json.string(failure.reason) } else { json.null() }
            json.key("cost_usd"); json.double(step.cost)
            json.key("final"); json.bool(step.final)
            json.endObject()
        }
        json.endArray()
        json.key("exit_code"); json.int(Int(exitCode.rawValue))
        json.endObject()
        return json.text
    }
}
