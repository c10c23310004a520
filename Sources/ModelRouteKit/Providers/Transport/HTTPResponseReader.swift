/// Reads an HTTP/1.1 response as its bytes arrive: the head, then the body unframed
/// (Content-Length, chunked, or up to the connection's close), piece by piece, so that
/// a streamed answer is passed on the moment it is read.
public struct HTTPResponseReader {
    /// What the bytes fed so far amount to.
    public enum Event: Equatable {
        /// The status and headers (names lowercased; repeated names joined with ", ").
        case head(status: Int, headers: [String: String])
        /// A piece of the body, unframed.
        case body([UInt8])
        /// The response is complete.
        case end
    }

    /// A response that is not HTTP/1.x, or that ended early.
    public struct Malformed: Error, Equatable {
        public let detail: String
    }

    /// The longest head accepted: status line and headers together.
    static let headLimit = 64 * 1024

    private enum Stage {
        case head
        case sized(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailer
        case untilClose
        case done
    }

    private var stage = Stage.head

    /// A reader at the start of a response.
    public init() {}
    /// Bytes of an unfinished head or line.
    private var pending: [UInt8] = []

    /// Whether the whole response has been read.
    public var isComplete: Bool {
        if case .done = stage { return true }
        return false
    }

    /// Reads `bytes`; returns what they complete. Bytes after the end are ignored.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) throws(Malformed) -> [Event] {
        var events: [Event] = []
        var index = 0
        while index < bytes.count {
            switch stage {
            case .head:
                let lineEnded = nextLineEnd(bytes, from: &index) != nil
                if pending.count > HTTPResponseReader.headLimit { throw Malformed(detail: "response head exceeds 64 KiB") }
                guard lineEnded, endsWithBlankLine else { continue }
                if let event = try parseHead() { events.append(event) }
                if case .done = stage { events.append(.end) }
            case .sized(let remaining):
                let count = min(remaining, bytes.count - index)
                events.append(.body(Array(bytes[index..<(index + count)])))
                index += count
                if remaining == count {
                    stage = .done
                    events.append(.end)
                } else {
                    stage = .sized(remaining: remaining - count)
                }
            case .chunkSize:
                guard nextLineEnd(bytes, from: &index) != nil else { try checkLine(); continue }
                let line = takeLine()
                let digits = line.prefix { $0 != UInt8(ascii: ";") }.filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\t") }
                // Hex digits only: Int(radix:) would also take a sign, and a negative size is no size.
                let isHex = digits.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x66) }
                guard !digits.isEmpty, digits.count <= 15, isHex, let size = Int(String(decoding: digits, as: UTF8.self), radix: 16), size >= 0 else {
                    throw Malformed(detail: "bad chunk size line")
                }
                stage = size == 0 ? .trailer : .chunkData(remaining: size)
            case .chunkData(let remaining):
                let count = min(remaining, bytes.count - index)
                events.append(.body(Array(bytes[index..<(index + count)])))
                index += count
                stage = remaining == count ? .chunkDataEnd : .chunkData(remaining: remaining - count)
            case .chunkDataEnd:
                guard nextLineEnd(bytes, from: &index) != nil else { try checkLine(); continue }
                guard takeLine().isEmpty else { throw Malformed(detail: "chunk longer than its declared size") }
                stage = .chunkSize
            case .trailer:
                guard nextLineEnd(bytes, from: &index) != nil else { try checkLine(); continue }
                if takeLine().isEmpty {
                    stage = .done
                    events.append(.end)
                }
            case .untilClose:
                events.append(.body(Array(bytes[index...])))
                index = bytes.count
            case .done:
                return events
            }
        }
        return events
    }

    /// Reads the end of the connection: completes a body that runs to the close, and
    /// reports any other unfinished response.
    public mutating func finish() throws(Malformed) -> [Event] {
        switch stage {
        case .done: return []
        case .untilClose:
            stage = .done
            return [.end]
        case .head where pending.isEmpty:
            throw Malformed(detail: "the server closed the connection without answering")
        default:
            throw Malformed(detail: "the server closed the connection before the response ended")
        }
    }

    /// Appends bytes up to and including the next line feed to `pending`; the index of
    /// that line feed, or nil when `bytes` ran out first.
    private mutating func nextLineEnd(_ bytes: UnsafeRawBufferPointer, from index: inout Int) -> Int? {
        let start = index
        while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
        pending.append(contentsOf: bytes[start..<min(index + 1, bytes.count)])
        guard index < bytes.count else { return nil }
        index += 1
        return index - 1
    }

    /// Takes the line in `pending`, without its line break.
    private mutating func takeLine() -> [UInt8] {
        var line = pending
        pending.removeAll(keepingCapacity: true)
        if line.last == UInt8(ascii: "\n") { line.removeLast() }
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        return line
    }

    /// Guards against a line that never ends.
    private func checkLine() throws(Malformed) {
        if pending.count > 16 * 1024 { throw Malformed(detail: "a chunk line exceeds 16 KiB") }
    }

    /// Whether the line just completed in `pending` is blank: the head is whole.
    private var endsWithBlankLine: Bool {
        pending.suffix(4).elementsEqual([13, 10, 13, 10]) || pending.suffix(2).elementsEqual([10, 10])
    }

    /// Parses the whole head in `pending`; nil for an interim (1xx) response, which is skipped.
    private mutating func parseHead() throws(Malformed) -> Event? {
        // Split on bytes: as Characters, "\r\n" is one grapheme and never equals "\n".
        let lines = pending.split(separator: 10).map { line in
            String(decoding: line.last == 13 ? line.dropLast() : line, as: UTF8.self)
        }.filter { !$0.isEmpty }
        pending.removeAll(keepingCapacity: true)
        guard let statusLine = lines.first else { throw Malformed(detail: "empty response head") }
        let parts = statusLine.split(separator: " ", maxSplits: 2)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]), status >= 100 else {
            throw Malformed(detail: "not an HTTP/1.x status line: \(String(statusLine.prefix(80)).debugDescription)")
        }
        if status < 200 { return nil }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { throw Malformed(detail: "header line without a colon") }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
            headers[name] = headers[name].map { $0 + ", " + value } ?? value
        }
        if status == 204 || status == 304 {
            stage = .done
        } else if let coding = headers["transfer-encoding"], coding.lowercased().contains("chunked") {
            stage = .chunkSize
        } else if let declared = headers["content-length"] {
            guard let length = Int(declared), length >= 0 else { throw Malformed(detail: "bad Content-Length \(declared.debugDescription)") }
            stage = length == 0 ? .done : .sized(remaining: length)
        } else {
            stage = .untilClose
        }
        return .head(status: status, headers: headers)
    }
}
