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
