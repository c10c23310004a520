import FoundationEssentials
import ModelRouteKit

/// `modelroute prices import FILE [--write]`: the table's prices from LiteLLM's price table.
enum PricesCommand: Command {
    static let spec = CommandSpec(
        name: "prices",
        abstract: "Update the routing table's prices (and context windows) from LiteLLM's model_prices_and_context_window.json.",
        usage: ["prices import FILE [--routes PATH] [--write]"],
        arguments: [("FILE", "LiteLLM's price table (a copy ships in the litellm Python package as litellm/model_prices_and_context_window_backup.json).")],
        options: [
            CommonOptions.routes,
            OptionSpec("write", help: "Rewrite the table with the new prices, keeping its key order and _comment keys, and set \"prices_as_of\" to today."),
        ],
        discussion: """
            Prints each matched model's changes (old → new, USD per million tokens) and lists the models it could
            not match. A model is matched by its id under its provider's type (openai, anthropic, gemini), or as
            TYPE/ID; models of mock providers and of OpenAI-compatible servers with their own base_url are left
            alone. max_input_tokens becomes the model's "context_tokens". Without --write nothing changes.

            EXAMPLES:
              modelroute prices import model_prices_and_context_window.json
              modelroute prices import prices.json --routes team.json --write
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        guard arguments.positionals.first == "import", arguments.positionals.count == 2 else {
            throw UsageError.other("usage: modelroute prices import FILE [--routes PATH] [--write]")
        }
        let file = arguments.positionals[1]
        let bytes: [UInt8]
        do throws(FileReader.Failure) {
            bytes = try FileReader.readAll(path: file)
        } catch {
            throw PriceImportInputError(message: "cannot read \(file): \(error.reason)")
        }
        let entries = try PriceImport.entries(bytes, source: file)
        let table = try CommonOptions.loadTable(arguments, context: context)
        let (matches, unmatched) = PriceImport.match(table, entries: entries)
        var text = ""
        func price(_ value: Double?) -> String { PriceImport.text(value) }
        for match in matches {
            var parts: [String] = []
            if match.old.inputPerMillion != match.new.inputPerMillion { parts.append("input \(price(match.old.inputPerMillion)) → \(price(match.new.inputPerMillion))") }
            if match.old.outputPerMillion != match.new.outputPerMillion { parts.append("output \(price(match.old.outputPerMillion)) → \(price(match.new.outputPerMillion))") }
            if match.old.cachedInputPerMillion != match.new.cachedInputPerMillion {
                parts.append("cached \(price(match.old.cachedInputPerMillion)) → \(price(match.new.cachedInputPerMillion))")
            }
            if let new = match.newContext, new != match.oldContext { parts.append("context \(match.oldContext.map(String.init) ?? "-") → \(new)") }
            text += "  \(match.model) (\"\(match.source)\"): " + (parts.isEmpty ? "unchanged" : parts.joined(separator: ", ")) + "\n"
        }
        var out = "Prices from \(file) for \(table.source) (USD per million tokens):\n" + (matches.isEmpty ? "  no model matched\n" : text)
        if !unmatched.isEmpty {
            out += "Not matched (left as they are):\n" + unmatched.map { "  \($0.model): \($0.reason)\n" }.joined()
        }
        let changed = matches.filter(\.changes).count
        guard arguments.flag("write") else {
            out += changed > 0 ? "\(changed) model\(changed == 1 ? "" : "s") would change; --write writes the table.\n" : "Nothing to change.\n"
            context.stdout.write(out)
            return .success
        }
        guard FileReader.isRegularFile(table.source) else {
            throw PriceImportInputError(message: "the table in use is \(table.source), which cannot be written; `modelroute init` writes it to a file, or give --routes PATH")
        }
        let original: [UInt8]
        do throws(FileReader.Failure) {
            original = try FileReader.readAll(path: table.source)
        } catch {
            throw PriceImportInputError(message: "cannot read \(table.source): \(error.reason)")
        }
        let today = String(LedgerTimestamp.localString(epochMilliseconds: context.nowMillis(), zone: context.zone).prefix(10))
        guard let rewritten = PriceImport.rewrite(original, matches: matches, date: today) else {
            throw PriceImportInputError(message: "\(table.source) could not be rewritten")
        }
        // The rewritten table must load as the old one did, before it replaces it.
        _ = try RoutingTableLoader.load(json: rewritten, source: table.source)
        do throws(SystemError) {
            try FileWriter.writeAtomically(rewritten, to: table.source, mode: 0o644)
        } catch {
            throw PriceImportInputError(message: "cannot write \(table.source): \(error.description)")
        }
        out += "Wrote \(table.source): \(changed) model\(changed == 1 ? "" : "s") changed, prices_as_of \(today).\n"
        context.stdout.write(out)
        return .success
    }
}

/// A price file or table that cannot be read or written. Exit 66 (EX_NOINPUT).
struct PriceImportInputError: ModelRouteError {
    var message: String
    var exitCode: ExitCode { .noInput }
}
