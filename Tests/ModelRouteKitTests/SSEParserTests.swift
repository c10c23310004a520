import Testing
@testable import ModelRouteKit

@Suite struct SSEParserTests {
    /// Feeds `text` cut at the given offsets and returns every event.
    func parse(_ text: String, cuts: [Int] = []) -> [SSEEvent] {
        let bytes = Array(text.utf8)
        var parser = SSEParser()
        var events: [SSEEvent] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            events += parser.feed(Array(bytes[start..<cut]))
            start = cut
        }
        if let last = parser.finish() { events.append(last) }
        return events
    }

    let stream = "event: message_start\ndata: {\"a\":1}\n\n: keep-alive\n\ndata: first line\ndata: second line\n\ndata: [DONE]\n\n"
    let expected = [SSEEvent(name: "message_start", data: #"{"a":1}"#), SSEEvent(data: "first line\nsecond line"), SSEEvent(data: "[DONE]")]

    @Test func readsNamedEventsMultiLineDataAndSkipsComments() {
        #expect(parse(stream) == expected)
    }

    @Test func acceptsCRLFAndBareCRLineEndings() {
        #expect(parse(stream.replacingOccurrences(of: "\n", with: "\r\n")) == expected)
        #expect(parse(stream.replacingOccurrences(of: "\n", with: "\r")) == expected)
    }

    @Test func eventsSplitAtEveryByteBoundaryParseTheSame() {
        for text in [stream, stream.replacingOccurrences(of: "\n", with: "\r\n"), stream.replacingOccurrences(of: "\n", with: "\r")] {
            let count = text.utf8.count
            for cut in 0...count {
                #expect(parse(text, cuts: [cut]) == expected, "cut at \(cut)")
            }
            // And one byte at a time.
            #expect(parse(text, cuts: Array(0...count)) == expected)
        }
    }

    @Test func multiByteCharactersSplitAcrossChunksSurvive() {
        let text = "data: {\"t\":\"héllo 世界 🎉\"}\n\n"
        for cut in 0...text.utf8.count {
            #expect(parse(text, cuts: [cut]) == [SSEEvent(data: "{\"t\":\"héllo 世界 🎉\"}")])
        }
    }

    @Test func aLastEventWithoutItsBlankLineIsStillDelivered() {
        #expect(parse("data: tail") == [SSEEvent(data: "tail")])
        #expect(parse("data: x\n\n:comment only") == [SSEEvent(data: "x")])
    }

    @Test func fieldsWithoutSpaceAndUnknownFieldsAreHandled() {
        #expect(parse("data:x\nid: 7\nretry: 100\nunknown: y\n\n") == [SSEEvent(data: "x")])
        #expect(parse("event: ping\n\n").isEmpty)  // no data, no event
    }
}
