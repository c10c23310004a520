/// One server-sent event: its `event:` name (nil when absent) and its `data:` lines
/// joined with newlines.
public struct SSEEvent: Sendable, Equatable {
    /// The `event:` field, if the server sent one (Anthropic does; OpenAI and Gemini do not).
    public var name: String?
    /// The `data:` lines, joined with "\n".
    public var data: String

    public init(name: String? = nil, data: String) {
        self.name = name
        self.data = data
    }
}

/// An incremental parser for `text/event-stream` (the WHATWG rules): feed it bytes as
/// they arrive, split anywhere, and it returns each event once its blank line is in.
///
/// Lines end with CRLF, LF or CR (a CR at the end of one chunk and an LF at the start
/// of the next are one line ending). Lines starting with `:` are comments (keep-alives).
/// `id:` and `retry:` are ignored: modelroute never reconnects a stream.
public struct SSEParser: Sendable {
    /// The current, not yet terminated line.
    private var line: [UInt8] = []
    /// Whether the previous chunk ended in CR, so a leading LF must be skipped.
    private var skipLineFeed = false
    /// `data:` lines of the event being assembled.
    private var dataLines: [String] = []
    /// Whether any `data:` field was seen for the event being assembled.
    private var hasData = false
    /// `event:` of the event being assembled.
    private var eventName: String?
    /// Whether no line has ended yet: a byte-order mark before the first line is dropped
    /// (as the WHATWG rules say), so the first event is not lost to an unknown field name.
    private var atStreamStart = true

    public init() {}

    /// Consumes a chunk and returns the events it completed, in order.
    public mutating func feed(_ bytes: UnsafeBufferPointer<UInt8>) -> [SSEEvent] {
        var events: [SSEEvent] = []
        var index = 0
        if skipLineFeed, !bytes.isEmpty {
            skipLineFeed = false
            if bytes[0] == 0x0A { index = 1 }
        }
        var runStart = index
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0A || byte == 0x0D {
                line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                if let event = endLine() { events.append(event) }
                if byte == 0x0D {
                    if index + 1 < bytes.count {
                        if bytes[index + 1] == 0x0A { index += 1 }
                    } else {
                        skipLineFeed = true
                    }
                }
                index += 1
                runStart = index
            } else {
                index += 1
            }
        }
        if runStart < bytes.count { line.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<bytes.count])) }
        return events
    }

    /// Consumes a chunk held in an array; see `feed(_:)` for buffers.
    public mutating func feed(_ bytes: [UInt8]) -> [SSEEvent] {
        bytes.withUnsafeBufferPointer { feed($0) }
    }

    /// Ends the stream: an event still missing its blank line is returned, because
    /// some servers close right after the last `data:` line.
    public mutating func finish() -> SSEEvent? {
        if !line.isEmpty {
            if let event = endLine() { return event }
        }
        return dispatch()
    }

    /// Handles one complete line; a blank line dispatches the event.
    private mutating func endLine() -> SSEEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }
        }
        if line.isEmpty { return dispatch() }
        if line[0] == UInt8(ascii: ":") { return nil }  // a comment, such as ": keep-alive"
        let colon = line.firstIndex(of: UInt8(ascii: ":"))
        let field = colon.map { Array(line[0..<$0]) } ?? line
        var valueStart = colon.map { $0 + 1 } ?? line.count
        if valueStart < line.count, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = String(decoding: line[valueStart...], as: UTF8.self)
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            dataLines.append(value)
            hasData = true
        case "event":
            eventName = value
        default:
            break
        }
        return nil
    }

    /// Returns the assembled event (if it has data) and starts a new one.
    private mutating func dispatch() -> SSEEvent? {
        defer {
            dataLines.removeAll(keepingCapacity: true)
            hasData = false
            eventName = nil
        }
        guard hasData else { return nil }
        return SSEEvent(name: eventName, data: dataLines.joined(separator: "\n"))
    }
}
