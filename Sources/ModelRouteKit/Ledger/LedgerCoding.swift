/// JSON encoding and general decoding of log records.
extension LedgerRecord {
    /// The schema's keys in the order every record writes them: version 1's, then version 2's.
    public static let keys: [String] = [
        "v", "ts", "id", "route", "rule", "model", "provider", "input_tokens", "output_tokens", "cached_input_tokens",
        "usage_estimated", "cost_usd", "baseline_model", "baseline_cost_usd", "latency_ms", "ttft_ms", "status", "error",
        "attempts", "fallback_from", "cache_hit", "prompt_sha256", "prompt_chars", "tags",
    ] + versionTwoKeys

    /// The keys version 2 adds after `tags`, in order.
    public static let versionTwoKeys: [String] = [
        "offline", "response_cache", "cache_saved_usd", "escalated_from", "escalation_reason", "overhead_cost_usd", "difficulty",
        "budget", "experiment", "group", "priced", "messages",
    ]

    /// The record as one JSON line, ending in a newline, keys in schema order.
    public func jsonLine() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 640)
        encode(into: &writer)
        writer.bytes.append(UInt8(ascii: "\n"))
        return writer.bytes
    }

    /// Writes the record as one JSON object (no newline); `null` where a value does not apply.
    public func encode(into writer: inout JSONWriter) {
        writer.beginObject()
        encodeFields(into: &writer)
        writer.endObject()
    }

    /// Writes the record's keys and values into an object the caller has begun (for
    /// `--json`, which adds its own keys around them).
    public func encodeFields(into writer: inout JSONWriter) {
        writer.key("v"); writer.int(version)
        writer.key("ts"); writer.string(timestamp)
        writer.key("id"); writer.string(id)
        writer.key("route"); writer.string(route)
        writer.key("rule"); writer.string(rule)
        writer.key("model"); writer.string(model)
        writer.key("provider"); writer.string(provider)
        writer.key("input_tokens"); writer.int(inputTokens)
        writer.key("output_tokens"); writer.int(outputTokens)
        writer.key("cached_input_tokens"); writer.int(cachedInputTokens)
        writer.key("usage_estimated"); writer.bool(usageEstimated)
        writer.key("cost_usd"); writer.double(costUSD)
        writer.key("baseline_model"); writer.string(baselineModel)
        writer.key("baseline_cost_usd"); writer.double(baselineCostUSD)
        writer.key("latency_ms"); writer.int(latencyMilliseconds)
        writer.key("ttft_ms"); writer.int(timeToFirstTokenMilliseconds)
        writer.key("status"); writer.string(status.rawValue)
        writer.key("error"); writer.string(error)
        writer.key("attempts"); writer.int(attempts)
        writer.key("fallback_from"); writer.string(fallbackFrom)
        writer.key("cache_hit"); writer.bool(cacheHit)
        writer.key("prompt_sha256"); writer.string(promptSHA256)
        writer.key("prompt_chars"); writer.int(promptChars)
        writer.key("tags"); writer.stringObject(tags.map { ($0.key, $0.value) })
        if version >= 2 {
            writer.key("offline"); writer.bool(offline)
            writer.key("response_cache"); writer.string(responseCache)
            writer.key("cache_saved_usd"); writer.double(cacheSavedUSD)
            writer.key("escalated_from"); writer.string(escalatedFrom)
            writer.key("escalation_reason"); writer.string(escalationReason)
            writer.key("overhead_cost_usd"); writer.double(overheadCostUSD)
            writer.key("difficulty"); writer.double(difficulty)
            writer.key("budget"); writer.string(budget)
            writer.key("experiment"); writer.string(experiment)
            writer.key("group"); writer.string(group)
            writer.key("priced"); writer.bool(priced)
            writer.key("messages"); writer.int(messages)
        }
    }

    /// Decodes one line with the general JSON parser: any key order and white space,
    /// unknown keys ignored, a missing key that may be `null` read as `null`.
    public static func decode(line: UnsafeBufferPointer<UInt8>) throws(LedgerLineError) -> LedgerRecord {
        let node: JSONNode
        do {
            node = try JSONParser.parse(line)
        } catch {
            throw .notJSON(error.message)
        }
        guard case .object(let members) = node.value else { throw .notAnObject(node.value.kindDescription) }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.key] = member.value.value }
        let reader = FieldReader(fields: fields)

        let version = try reader.int("v")
        guard version == 1 || version == 2 else { throw .unsupportedVersion(version) }
        let timestamp = try reader.string("ts")
        guard LedgerTimestamp.parse(timestamp) != nil else { throw .invalidValue(key: "ts", reason: "not an RFC 3339 time") }
        let statusText = try reader.string("status")
        guard let status = Status(rawValue: statusText) else {
            throw .invalidValue(key: "status", reason: "\"\(statusText)\" is not ok, error or cancelled")
        }
        var tags: [(key: String, value: String)] = []
        switch fields["tags"] {
        case nil, .null?:
            break
        case .object(let pairs)?:
            for pair in pairs {
                guard case .string(let value) = pair.value.value else {
                    throw .wrongType(key: "tags.\(pair.key)", expected: "a string", found: pair.value.value.kindDescription)
                }
                tags.append((pair.key, value))
            }
        case let other?:
            throw .wrongType(key: "tags", expected: "an object", found: other.kindDescription)
        }
        var record = LedgerRecord(
            timestamp: timestamp, id: try reader.string("id"), route: try reader.optionalString("route"),
            rule: try reader.optionalString("rule"), model: try reader.optionalString("model"),
            provider: try reader.optionalString("provider"), inputTokens: try reader.int("input_tokens"),
            outputTokens: try reader.int("output_tokens"), cachedInputTokens: try reader.optionalInt("cached_input_tokens"),
            usageEstimated: try reader.bool("usage_estimated"), costUSD: try reader.double("cost_usd"),
            baselineModel: try reader.optionalString("baseline_model"),
            baselineCostUSD: try reader.optionalDouble("baseline_cost_usd"),
            latencyMilliseconds: try reader.int("latency_ms"),
            timeToFirstTokenMilliseconds: try reader.optionalInt("ttft_ms"), status: status,
            error: try reader.optionalString("error"), attempts: try reader.int("attempts"),
            fallbackFrom: try reader.optionalString("fallback_from"), cacheHit: try reader.bool("cache_hit"),
            promptSHA256: try reader.string("prompt_sha256"), promptChars: try reader.int("prompt_chars"), tags: tags)
        record.version = version
        // Version 2 keys; a version 1 line (or a key left out) reads as the default.
        record.offline = try reader.optionalBool("offline") ?? false
        record.responseCache = try reader.optionalString("response_cache")
        if let value = record.responseCache, !["hit", "miss", "bypass"].contains(value) {
            throw .invalidValue(key: "response_cache", reason: "\"\(value)\" is not hit, miss or bypass")
        }
        record.cacheSavedUSD = try reader.optionalDouble("cache_saved_usd")
        record.escalatedFrom = try reader.optionalString("escalated_from")
        record.escalationReason = try reader.optionalString("escalation_reason")
        record.overheadCostUSD = try reader.optionalDouble("overhead_cost_usd") ?? 0
        record.difficulty = try reader.optionalDouble("difficulty")
        if let score = record.difficulty, !(0...1).contains(score) { throw .invalidValue(key: "difficulty", reason: "\(score) is not from 0 to 1") }
        record.budget = try reader.optionalString("budget")
        record.experiment = try reader.optionalString("experiment")
        record.group = try reader.optionalString("group")
        record.priced = try reader.optionalBool("priced") ?? true
        record.messages = try reader.optionalInt("messages") ?? 1
        return record
    }

    /// Decodes one line held in an array.
    public static func decode(line: [UInt8]) throws(LedgerLineError) -> LedgerRecord {
        let result: Result<LedgerRecord, LedgerLineError> = line.withUnsafeBufferPointer { buffer in
            do throws(LedgerLineError) { return .success(try decode(line: buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }
}

/// Typed access to a decoded object's members, naming the key on a mismatch.
private struct FieldReader {
    /// Members by key.
    let fields: [String: JSONValue]

    /// A required string.
    func string(_ key: String) throws(LedgerLineError) -> String {
        guard let value = try optionalString(key) else { throw missingOrNull(key) }
        return value
    }

    /// A string or null (a missing key reads as null).
    func optionalString(_ key: String) throws(LedgerLineError) -> String? {
        switch fields[key] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        case let other?: throw .wrongType(key: key, expected: "a string", found: other.kindDescription)
        }
    }

    /// A required whole number.
    func int(_ key: String) throws(LedgerLineError) -> Int {
        guard let value = try optionalInt(key) else { throw missingOrNull(key) }
        return value
    }

    /// A whole number or null.
    func optionalInt(_ key: String) throws(LedgerLineError) -> Int? {
        switch fields[key] {
        case nil, .null?: return nil
        case .number(let number)?:
            guard number == number.rounded(), abs(number) < 9e15 else {
                throw .wrongType(key: key, expected: "a whole number", found: "\(number)")
            }
            return Int(number)
        case let other?: throw .wrongType(key: key, expected: "a whole number", found: other.kindDescription)
        }
    }

    /// A required number.
    func double(_ key: String) throws(LedgerLineError) -> Double {
        guard let value = try optionalDouble(key) else { throw missingOrNull(key) }
        return value
    }

    /// A number or null.
    func optionalDouble(_ key: String) throws(LedgerLineError) -> Double? {
        switch fields[key] {
        case nil, .null?: return nil
        case .number(let number)?: return number
        case let other?: throw .wrongType(key: key, expected: "a number", found: other.kindDescription)
        }
    }

    /// A boolean or null.
    func optionalBool(_ key: String) throws(LedgerLineError) -> Bool? {
        switch fields[key] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        case let other?: throw .wrongType(key: key, expected: "true or false", found: other.kindDescription)
        }
    }

    /// A required boolean.
    func bool(_ key: String) throws(LedgerLineError) -> Bool {
        switch fields[key] {
        case .bool(let flag)?: return flag
        case nil, .null?: throw missingOrNull(key)
        case let other?: throw .wrongType(key: key, expected: "true or false", found: other.kindDescription)
        }
    }

    /// The error for a key that is absent or null.
    private func missingOrNull(_ key: String) -> LedgerLineError {
        fields[key] == nil ? .missingKey(key) : .wrongType(key: key, expected: "a value", found: "null")
    }
}

/// Why one line of a log is not a record.
public enum LedgerLineError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The line is not JSON at all (or was cut short).
    case notJSON(String)
    /// The line is JSON but not an object.
    case notAnObject(String)
    /// A schema version this modelroute does not know.
    case unsupportedVersion(Int)
    /// A required key is absent.
    case missingKey(String)
    /// A key holds the wrong kind of value.
    case wrongType(key: String, expected: String, found: String)
    /// A key's value has the right type but no valid meaning.
    case invalidValue(key: String, reason: String)
    /// The last line has no newline and does not parse: a write was interrupted.
    case incompleteLastLine
    /// A line too long to be a record.
    case tooLong(bytes: Int)

    /// The reason as shown after `file:line: skipped:`.
    public var description: String {
        switch self {
        case .notJSON(let message): return "not JSON (\(message))"
        case .notAnObject(let kind): return "not a JSON object (found \(kind))"
        case .unsupportedVersion(let version): return "schema version \(version) is not supported (this modelroute reads versions 1 and 2)"
        case .missingKey(let key): return "missing key \"\(key)\""
        case .wrongType(let key, let expected, let found): return "\"\(key)\" should be \(expected), found \(found)"
        case .invalidValue(let key, let reason): return "invalid \"\(key)\": \(reason)"
        case .incompleteLastLine: return "incomplete last line (no newline at the end: a write was cut short)"
        case .tooLong(let bytes): return "a line of more than \(bytes) bytes cannot be a record"
        }
    }
}
