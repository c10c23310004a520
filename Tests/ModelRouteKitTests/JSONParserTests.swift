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
