import Foundation
import Testing
import ModelRouteKit
@testable import modelroute

@Suite struct ArgumentParsingTests {
    @Test func unknownOptionSuggestsTheClosest() async {
        let result = await runCLI(["classify", "--forma", "csv"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("Did you mean '--format'?"))
    }
}
