/// `modelroute prices import`: the table's prices from LiteLLM's community price table
/// (`model_prices_and_context_window.json`: per model `input_cost_per_token`,
/// `output_cost_per_token`, `cache_read_input_token_cost`, `max_input_tokens`,
/// `litellm_provider`).
///
/// Matching, for each model of the table: a model of a `mock` provider, or of an `openai`
/// provider with a custom `base_url` (a local or compatible server, priced its own way), is
/// not matched. Otherwise the first entry found of: the model's `id` as a key whose
/// `litellm_provider` is the provider's type (`openai`, `anthropic`, `gemini`); then
/// `TYPE/ID` (`gemini/gemini-2.5-flash`); for Gemini ids written `models/…`, without that
/// prefix. Everything else is listed as unmatched, and left as it is.
public enum PriceImport {
    /// One model's prices in the file, per token as LiteLLM writes them.
    public struct Entry: Sendable, Equatable {
        public var input: Double?
        public var output: Double?
        public var cacheRead: Double?
        public var maxInputTokens: Int?
        public var provider: String?
    }

    /// What the file says of one model of the table.
    public struct Match: Sendable, Equatable {
        /// The table's model (its key).
        public var model: String
        /// The file's key it matched.
        public var source: String
        public var old: ModelPricing
        public var new: ModelPricing
        public var oldContext: Int?
        public var newContext: Int?
        /// Whether anything differs.
        public var changes: Bool { old != new || (newContext != nil && newContext != oldContext) }
    }

    /// A price file that cannot be used.
    public struct Failure: ModelRouteError, Equatable {
        public var message: String
        public var exitCode: ExitCode { .dataError }
    }

    /// Reads the file's entries; entries with prices out of range are left out.
    public static func entries(_ bytes: [UInt8], source: String) throws(Failure) -> [String: Entry] {
        let root: JSONNode
        do throws(JSONSyntaxError) {
            root = try JSONParser.parse(bytes)
        } catch {
            let location = SourceLocation(offset: error.offset, in: bytes)
            throw Failure(message: "\(source):\(location.line):\(location.column): not JSON: \(error.message)")
        }
        guard case .object(let members) = root.value else { throw Failure(message: "\(source): expected LiteLLM's object of model names to prices") }
        var result: [String: Entry] = [:]
        func perToken(_ node: JSONNode?) -> Double? {
            guard case .number(let value)? = node?.value, value.isFinite, value >= 0, value <= 0.1 else { return nil }
            return value
        }
        for member in members where member.key != "sample_spec" {
            let node = member.value
            let context = node["max_input_tokens"]?.intValue.flatMap { (1...100_000_000).contains($0) ? $0 : nil }
            result[member.key] = Entry(
                input: perToken(node["input_cost_per_token"]), output: perToken(node["output_cost_per_token"]),
                cacheRead: perToken(node["cache_read_input_token_cost"]), maxInputTokens: context, provider: node["litellm_provider"]?.stringValue)
        }
        return result
    }

    /// Matches the table's models; the matched, and the unmatched with why.
    public static func match(_ table: RoutingTable, entries: [String: Entry]) -> (matches: [Match], unmatched: [(model: String, reason: String)]) {
        var matches: [Match] = []
        var unmatched: [(String, String)] = []
        for model in table.models {
            guard let provider = table.provider(named: model.provider) else { continue }
            if provider.type == .mock {
                unmatched.append((model.name, "a mock provider"))
                continue
            }
            if provider.type == .openai, let url = provider.baseURL, url != provider.type.defaultBaseURL {
                unmatched.append((model.name, "an OpenAI-compatible server at \(url): set its prices by hand"))
                continue
            }
            let id = model.id.hasPrefix("models/") ? String(model.id.dropFirst("models/".count)) : model.id
            let type = provider.type.rawValue
            let found = [id, "\(type)/\(id)"].lazy.compactMap { key -> (String, Entry)? in
                guard let entry = entries[key], entry.input != nil, entry.output != nil else { return nil }
                if key == id, let owner = entry.provider, owner != type { return nil }
                return (key, entry)
            }.first
            guard let (key, entry) = found, let input = entry.input, let output = entry.output else {
                unmatched.append((model.name, "no entry \"\(id)\" of provider \(type)"))
                continue
            }
            func perMillion(_ perToken: Double) -> Double { (perToken * 1e6 * 1e6).rounded() / 1e6 }
            let new = ModelPricing(
                inputPerMillion: perMillion(input), outputPerMillion: perMillion(output),
                cachedInputPerMillion: entry.cacheRead.map(perMillion) ?? model.pricing.cachedInputPerMillion)
            matches.append(Match(model: model.name, source: key, old: model.pricing, new: new, oldContext: model.contextTokens, newContext: entry.maxInputTokens))
        }
        return (matches, unmatched)
    }

    /// The table's text with the matched prices written in, every other byte (key order,
    /// `_comment` keys, spacing) kept, and `"prices_as_of"` set to `date`.
    public static func rewrite(_ text: [UInt8], matches: [Match], date: String) -> [UInt8]? {
        guard let root = try? JSONParser.parse(text), case .object(let top) = root.value,
            let models = top.first(where: { $0.key == "models" })?.value, case .object(let modelMembers) = models.value
        else { return nil }
        var edits: [(start: Int, end: Int, text: String)] = []
        func number(_ value: Double) -> String { JSONValue.number(value).numberText }
        for match in matches where match.changes {
            guard let member = modelMembers.first(where: { $0.key == match.model }), case .object(let fields) = member.value.value else { continue }
            var additions: [String] = []
            func set(_ key: String, _ value: String) {
                if let field = fields.first(where: { $0.key == key }) {
                    edits.append((field.value.offset, JSONText.valueEnd(text, from: field.value.offset), value))
                } else {
                    additions.append("\"\(key)\": \(value)")
                }
            }
            // Only what changed is written: "0.40" stays "0.40" when the price is the same.
            let unknown = fields.contains { $0.key == "prices" }
            if unknown || match.new.inputPerMillion != match.old.inputPerMillion { set("input_per_mtok", number(match.new.inputPerMillion)) }
            if unknown || match.new.outputPerMillion != match.old.outputPerMillion { set("output_per_mtok", number(match.new.outputPerMillion)) }
            if let cached = match.new.cachedInputPerMillion, cached != match.old.cachedInputPerMillion { set("cached_input_per_mtok", number(cached)) }
            if let context = match.newContext, context != match.oldContext { set("context_tokens", String(context)) }
            if fields.contains(where: { $0.key == "prices" }), let field = fields.first(where: { $0.key == "prices" }) {
                // "prices": "unknown" goes once prices are known: drop the member with its comma.
                let start = JSONText.memberStart(text, keyOffset: field.keyOffset)
                var end = JSONText.valueEnd(text, from: field.value.offset)
                if start == field.keyOffset {
                    // The first member: its comma is the one after it.
                    var next = end
                    while next < text.count, [32, 9, 10, 13].contains(text[next]) { next += 1 }
                    if next < text.count, text[next] == UInt8(ascii: ",") { end = next + 1 }
                    while end < text.count, [32, 9].contains(text[end]) { end += 1 }
                }
                edits.append((start, end, ""))
            }
            if !additions.isEmpty {
                let close = JSONText.valueEnd(text, from: member.value.offset) - 1
                var insertAt = close
                while insertAt > member.value.offset, [32, 9, 10, 13].contains(text[insertAt - 1]) { insertAt -= 1 }
                let empty = fields.isEmpty
                edits.append((insertAt, insertAt, (empty ? "" : ", ") + additions.joined(separator: ", ")))
            }
        }
        if let existing = top.first(where: { $0.key == "prices_as_of" }) {
            edits.append((existing.value.offset, JSONText.valueEnd(text, from: existing.value.offset), "\"\(date)\""))
        } else if let first = top.first {
            let lineStart = text[..<first.keyOffset].lastIndex(of: 10).map { $0 + 1 } ?? first.keyOffset
            let indent = String(decoding: text[lineStart..<first.keyOffset], as: UTF8.self)
            let separator = indent.allSatisfy({ $0 == " " || $0 == "\t" }) && lineStart < first.keyOffset ? "\n" + indent : " "
            edits.append((first.keyOffset, first.keyOffset, "\"prices_as_of\": \"\(date)\"," + separator))
        }
        var result = text
        for edit in edits.sorted(by: { $0.start > $1.start }) {
            result.replaceSubrange(edit.start..<edit.end, with: Array(edit.text.utf8))
        }
        return result
    }
}

extension PriceImport {
    /// A price as the table writes it ("0.4", "2", "1.25").
    public static func text(_ price: Double?) -> String { price.map { JSONValue.number($0).numberText } ?? "-" }
}

/// Byte positions in JSON text that the parser does not keep: where a value ends, where a
/// member (with the comma before it) starts.
enum JSONText {
    /// The offset just past the value starting at `start`.
    static func valueEnd(_ text: [UInt8], from start: Int) -> Int {
        guard start < text.count else { return start }
        var index = start
        switch text[index] {
        case UInt8(ascii: "\""):
            index += 1
            while index < text.count, text[index] != UInt8(ascii: "\"") { index += text[index] == UInt8(ascii: "\\") ? 2 : 1 }
            return min(index + 1, text.count)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < text.count {
                let byte = text[index]
                if byte == UInt8(ascii: "\"") {
                    index = valueEnd(text, from: index)
                    continue
                }
                if byte == UInt8(ascii: "{") || byte == UInt8(ascii: "[") { depth += 1 }
                if byte == UInt8(ascii: "}") || byte == UInt8(ascii: "]") {
                    depth -= 1
                    if depth == 0 { return index + 1 }
                }
                index += 1
            }
            return index
        default:
            while index < text.count, !",}] \t\r\n".utf8.contains(text[index]) { index += 1 }
            return index
        }
    }

    /// Where a member whose key starts at `keyOffset` begins, with the comma and white space
    /// before it (or, for a first member, up to the brace).
    static func memberStart(_ text: [UInt8], keyOffset: Int) -> Int {
        var index = keyOffset
        while index > 0, [32, 9, 10, 13].contains(text[index - 1]) { index -= 1 }
        if index > 0, text[index - 1] == UInt8(ascii: ",") { return index - 1 }
        return keyOffset
    }
}
