import Testing
@testable import ModelRouteKit

@Suite struct JSONParserTests {
    @Test func parsesNestedValuesInOrder() throws {
        let node = try JSONParser.parse(Array(#"{"b": [1, 2.5, true, null], "a": "x\u00e9\n"}"#.utf8))
        guard case .object(let members) = node.value else { Issue.record("not an object"); return }
        #expect(members.map(\.key) == ["b", "a"])
        #expect(node["a"]?.stringValue == "xé\n")
    }

    @Test func reportsLineAndColumnOfASyntaxError() {
        let text = Array("{\n  \"a\": 1,\n  \"b\": 2,\n}".utf8)
        do {
            _ = try JSONParser.parse(text)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "trailing comma before '}'")
            #expect(SourceLocation(offset: error.offset, in: text) == SourceLocation(line: 4, column: 1))
        }
    }
}

@Suite struct JSONByteScanTests {
    @Test func findsTheFirstSpecialByteAtEveryPosition() {
        for length in 0..<40 {
            for position in 0...length {
                for special: UInt8 in [0x22, 0x5C, 0x00, 0x1F, 0x0A] {
                    var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: length)
                    for index in bytes.indices where index % 7 == 3 { bytes[index] = 0xC3 }  // non-ASCII is plain text
                    if position < length { bytes[position] = special }
                    let found = bytes.withUnsafeBufferPointer { buffer in
                        buffer.baseAddress.map { JSONByteScan.nextSpecial($0, from: 0, to: length) } ?? 0
                    }
                    #expect(found == position, "length \(length), special \(special) at \(position)")
                }
            }
        }
    }
}

@Suite struct JSONStringUnescaperTests {
    /// Decodes `json` (the text after an opening quote) both ways: into an array and
    /// into a reusable buffer.
    private func decode(_ json: [UInt8]) -> (array: Result<[UInt8], JSONSyntaxError>, buffer: Result<[UInt8], JSONSyntaxError>, end: Int) {
        json.withUnsafeBufferPointer { bytes in
            var arrayIndex = 0
            var array: [UInt8] = [0x2A]  // decoding appends after what is there
            let arrayResult = JSONStringUnescaper.unescape(bytes, from: &arrayIndex, into: &array).map { Array(array.dropFirst()) }
            var bufferIndex = 0
            let buffer = ByteBuffer(capacity: 16)
            let bufferResult = JSONStringUnescaper.unescape(bytes, from: &bufferIndex, into: buffer).map { Array(buffer.bytes) }
            #expect(arrayIndex == bufferIndex)
            return (arrayResult, bufferResult, arrayIndex)
        }
    }

    @Test func decodesEveryEscapeAtEveryOffsetFromAWordBoundary() throws {
        let escapes: [(json: String, text: String)] = [
            (#"\""#, "\""), (#"\\"#, "\\"), (#"\/"#, "/"), (#"\b"#, "\u{8}"), (#"\f"#, "\u{C}"), (#"\n"#, "\n"), (#"\r"#, "\r"), (#"\t"#, "\t"),
            (#"\u00e9"#, "é"), (#"\u00E9"#, "é"), (#"\u6771"#, "東"), (#"\ud83d\ude00"#, "😀"), (#"\u0000"#, "\u{0}"), ("é", "é"), ("😀", "😀"),
        ]
        for (json, text) in escapes {
            for offset in 0..<12 {
                for tail in [0, 1, 7, 8, 9, 20] {
                    let prefix = String(repeating: "a", count: offset)
                    let suffix = String(repeating: "z", count: tail)
                    let result = decode(Array((prefix + json + suffix + "\"" + "after").utf8))
                    let expected = Array((prefix + text + suffix).utf8)
                    #expect(try result.array.get() == expected, "\(json) at \(offset), \(tail) after")
                    #expect(try result.buffer.get() == expected, "\(json) at \(offset), \(tail) after")
                    #expect(result.end == (prefix + json + suffix).utf8.count + 1, "stops just past the closing quote")
                }
            }
        }
    }

    @Test func refusesBrokenStringsWhereverTheFaultIs() {
        let faults = [#"\x"#, "\u{1}", "\n", #"\u12"#, #"\u12G4"#, #"\ud83d"#, #"\ud83dx"#, #"\ud83d\u0041"#, #"\ude00"#]
        for fault in faults {
            for offset in [0, 3, 7, 8, 15] {
                let json = Array((String(repeating: "a", count: offset) + fault + "tail\"").utf8)
                let result = decode(json)
                #expect((try? result.array.get()) == nil, "\(fault) at \(offset)")
                #expect((try? result.buffer.get()) == nil, "\(fault) at \(offset)")
            }
        }
        for unterminated in ["abc" + String(repeating: "x", count: 20), "abc\\", "", #"abc\""#] {
            let result = decode(Array(unterminated.utf8))
            #expect((try? result.array.get()) == nil, "\(unterminated)")
            #expect((try? result.buffer.get()) == nil, "\(unterminated)")
        }
    }
}

@Suite struct JSONWriterTests {
    /// Every string survives quoting and parsing back, written to an array and to a
    /// buffer alike: quotes, backslashes, every control character, non-ASCII.
    @Test func quotedStringsParseBackToThemselves() throws {
        var samples = ["", "plain", "a \"quoted\" word", "back\\slash", "tab\tnew\nline\r", "é 東京 😀", String(repeating: "x\"", count: 20)]
        samples += (0..<0x20).map { "c\(Unicode.Scalar(UInt8($0)))d" }
        for sample in samples {
            var array: [UInt8] = []
            JSONWriter.appendQuoted(sample, to: &array)
            var buffer = ByteBuffer(capacity: 16)
            JSONWriter.appendQuoted(sample, to: &buffer)
            #expect(Array(buffer.bytes) == array)
            #expect(try JSONParser.parse(array).stringValue == sample, "\(String(decoding: array, as: UTF8.self))")
        }
    }

    @Test(arguments: [0, 7, -7, 10, 1234567890, -9876543210, Int.max, Int.min])
    func integersPrintAsSwiftPrintsThem(value: Int) {
        var array: [UInt8] = []
        JSONWriter.appendInteger(value, to: &array)
        #expect(String(decoding: array, as: UTF8.self) == String(value))
    }
}

@Suite struct JSONNumberTextTests {
    @Test(arguments: [0.0, 1.0, 42.0, -3.0, 0.0000036, 0.000027, 0.5, 1.25, 123.4567891234, 0.0000000001, 2.5e-11, 1e20, -0.75, 1234567.5])
    func numbersRoundTripAndCostsPrintAsPlainDecimals(value: Double) throws {
        var bytes: [UInt8] = []
        JSONWriter.appendNumber(value, to: &bytes)
        guard case .number(let parsed) = try JSONParser.parse(bytes).value else { Issue.record("not a number"); return }
        #expect(parsed == value, "\(String(decoding: bytes, as: UTF8.self))")
        if value > 0, value < 1e6 { #expect(!bytes.contains(UInt8(ascii: "e")) || (value * 1e10).rounded() != value * 1e10) }
    }

    @Test func smallCostsHaveNoExponent() {
        var bytes: [UInt8] = []
        JSONWriter.appendNumber(0.0000036, to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "0.0000036")
    }
}

/// Objects with thousands of keys (a large routing table) parse in linear time and still
/// refuse a duplicate key, wherever it is.
@Suite struct LargeObjectTests {
    @Test func aDuplicateKeyIsFoundInALargeObject() {
        let keys = (0..<5000).map { "\"k\($0)\": \($0)" }
        let good = "{" + keys.joined(separator: ", ") + "}"
        #expect((try? JSONParser.parse(Array(good.utf8))) != nil)
        for duplicate in ["k0", "k15", "k16", "k4999"] {
            let bad = "{" + keys.joined(separator: ", ") + ", \"\(duplicate)\": 1}"
            do {
                _ = try JSONParser.parse(Array(bad.utf8))
                Issue.record("\(duplicate) should be a duplicate")
            } catch {
                #expect(error.message == "duplicate key \"\(duplicate)\"")
            }
        }
    }

    @Test func aTableWithThousandsOfRoutesLoadsWholly() throws {
        let count = 3000
        let models = (0..<count).map { "\"m\($0)\": {\"provider\": \"p\", \"input_per_mtok\": 1, \"output_per_mtok\": 2}" }.joined(separator: ", ")
        let routes = (0..<count).map { "\"r\($0)\": {\"model\": \"m\($0)\", \"fallbacks\": [\"m\(($0 + 1) % count)\"]}" }.joined(separator: ", ")
        let rules = (0..<count).map { "{\"name\": \"rule\($0)\", \"route\": \"r\($0)\", \"any\": [\"kw\($0)\"]}" }.joined(separator: ", ")
        let json = "{\"version\": 1, \"default_route\": \"r0\", \"providers\": {\"p\": {\"type\": \"mock\"}}, \"models\": {\(models)}, \"routes\": {\(routes)}, \"rules\": [\(rules)]}"
        let table = try RoutingTableLoader.load(json: Array(json.utf8), source: "big.json")
        #expect(table.routes.count == count && table.rules.count == count)
        let decision = Classifier(table: table).classify("please kw2999 now", context: ClassificationContext())
        #expect(decision.route == "r2999" && decision.model == "m2999")
        let duplicated = json.replacingOccurrences(of: "{\"name\": \"rule2999\"", with: "{\"name\": \"rule5\"")
        #expect(throws: ConfigError.self) { try RoutingTableLoader.load(json: Array(duplicated.utf8), source: "big.json") }
    }
}
