import Foundation
import Testing
import ModelRouteTestSupport
@testable import ModelRouteKit

@Suite struct ClassifierTests {
    private func words(_ count: Int) -> String { Array(repeating: "word", count: count).joined(separator: " ") }

    @Test func theFirstRuleThatHoldsDecidesElseTheDefaultRoute() throws {
        let rules = #"{"name": "one", "route": "fast", "any": ["alpha"]}, {"name": "two", "route": "power", "any": ["alpha", "beta"]}"#
        #expect(try decide("alpha and beta", rules: rules).reason == .rule(name: "one", index: 0))
        #expect(try decide("only beta", rules: rules).route == "power")
        let none = try decide("gamma", rules: rules)
        #expect(none.reason == .defaultRoute)
        #expect(none.route == "mid")
        #expect(none.model == "medium")
        #expect(none.reason.ruleName == "default")
    }

    @Test(arguments: [(100, false), (101, true), (102, true)])
    func minWordsIsInclusive(count: Int, holds: Bool) throws {
        #expect(try decide(words(count), rules: #"{"route": "power", "min_words": 101}"#).route == (holds ? "power" : "mid"))
    }

    @Test(arguments: [(199, true), (200, true), (201, false)])
    func maxWordsIsInclusive(count: Int, holds: Bool) throws {
        #expect(try decide(words(count), rules: #"{"route": "fast", "max_words": 200}"#).route == (holds ? "fast" : "mid"))
    }

    @Test func boundedWordCountsStopEarlyButDecideTheSame() throws {
        var text = "one two  three\u{00A0}four\tfive"
        text.withUTF8 { utf8 in
            #expect(WordCounter.count(utf8) == 5)
            #expect(WordCounter.count(utf8, stoppingAt: 3) == 3)
            #expect(WordCounter.count(utf8, stoppingAt: 9) == 5)
        }
        // A bulk scratch skips counting words unless a rule asks, and then counts as far as needed.
        func bulkDecision(_ rules: String, _ prompt: String) throws -> RoutingDecision? {
            let classifier = Classifier(table: try table(rules: rules))
            let scratch = ClassifierScratch(classifier: classifier)
            scratch.measuresEverything = false
            var prompt = prompt
            return prompt.withUTF8 { classifier.classify(utf8: $0, context: ClassificationContext(), scratch: scratch) }
        }
        let cutRules = #"{"route": "fast", "max_words": 4}, {"route": "power", "min_words": 5}"#
        let decision = try bulkDecision(cutRules, text)
        #expect(decision?.route == "power")
        #expect(decision?.features.words == 5)
        #expect(decision?.evidence == [.measure(.words, value: 5, bound: .min, limit: 5)])
        // A count that ended before its bound is exact and serves the later rules.
        let reused = try bulkDecision(#"{"route": "power", "min_words": 10}, {"route": "fast", "max_words": 6}"#, text)
        #expect(reused?.route == "fast")
        #expect(reused?.features.words == 5)
        #expect(reused?.evidence == [.measure(.words, value: 5, bound: .max, limit: 6)])
        // A count cut short at its bound is not: the evidence still shows all seven words.
        let cutShort = try bulkDecision(cutRules, "one two three four five six seven")
        #expect(cutShort?.evidence == [.measure(.words, value: 7, bound: .min, limit: 5)])
    }

    @Test func asciiWhiteSpaceIsTabToCarriageReturnAndSpace() {
        for byte in UInt8.min...UInt8.max {
            let expected = byte < 0x80 && Unicode.Scalar(byte).properties.isWhitespace
            #expect(TextFolding.isASCIISpace(byte) == expected, "byte \(byte)")
            #expect((TextFolding.asciiSpace[Int(byte)] == 1) == expected, "byte \(byte)")
        }
    }

    @Test func wordsAreRunsOfNonWhiteSpace() throws {
        let decision = try decide("  one\ttwo\n\nthree\u{00A0}four\u{3000}five-six  ", rules: "")
        #expect(decision.features.words == 5)
    }

    @Test func charsCountUnicodeScalarsAndBoundsAreInclusive() throws {
        let prompt = "héllo 世界"  // 8 scalars
        #expect(try decide(prompt, rules: "").features.chars == 8)
        #expect(try decide(prompt, rules: #"{"route": "fast", "min_chars": 8, "max_chars": 8}"#).route == "fast")
        #expect(try decide(prompt, rules: #"{"route": "fast", "min_chars": 9}"#).route == "mid")
        #expect(try decide(prompt, rules: #"{"route": "fast", "max_chars": 7}"#).route == "mid")
    }

    @Test func tokensFollowTheDocumentedEstimate() throws {
        #expect(TokenEstimator.estimate("") == 0)
        #expect(TokenEstimator.estimate("abcd") == 1)
        #expect(TokenEstimator.estimate("abcde") == 2)
        #expect(TokenEstimator.estimate("世界") == 2)
        #expect(TokenEstimator.estimate("éé") == 1)
        let prompt = String(repeating: "a", count: 400)
        #expect(try decide(prompt, rules: #"{"route": "power", "min_tokens": 100}"#).route == "power")
        #expect(try decide(prompt, rules: #"{"route": "power", "min_tokens": 101}"#).route == "mid")
        #expect(try decide(prompt, rules: #"{"route": "fast", "max_tokens": 100}"#).route == "fast")
    }

    @Test func linesCountLineBreaksPlusOne() throws {
        #expect(try decide("a\nb\r\nc", rules: "").features.lines == 3)
        #expect(try decide("", rules: "").features.lines == 0)
        #expect(try decide("a\n", rules: "").features.lines == 1)
        #expect(try decide("a\n\n", rules: "").features.lines == 2)
        #expect(try decide("a\nb\nc", rules: #"{"route": "power", "min_lines": 3}"#).route == "power")
        #expect(try decide("a\nb", rules: #"{"route": "power", "min_lines": 3}"#).route == "mid")
    }

    @Test func emptyAndWhiteSpacePromptsTakeTheDefaultRoute() throws {
        let rules = #"{"route": "power", "any": ["x"]}, {"route": "power", "min_words": 1}"#
        for prompt in ["", "   \n\t  "] {
            let decision = try decide(prompt, rules: rules)
            #expect(decision.reason == .defaultRoute)
            #expect(decision.features.words == 0)
        }
        #expect(try decide("", rules: #"{"route": "fast", "max_words": 0}"#).route == "fast")
    }

    @Test func wordMatchingNeedsWordBoundariesAndSubstringDoesNot() throws {
        let rule = #"{"route": "fast", "any": ["format"]}"#
        #expect(try decide("Please format this", rules: rule).route == "fast")
        #expect(try decide("format", rules: rule).route == "fast")
        #expect(try decide("(format)", rules: rule).route == "fast")
        #expect(try decide("some information here", rules: rule).route == "mid")
        #expect(try decide("formatting", rules: rule).route == "mid")
        #expect(try decide("reformat", rules: rule).route == "mid")
        #expect(try decide("some information here", rules: rule, keywordMatch: "substring").route == "fast")
        let perRule = #"{"route": "fast", "match": "substring", "any": ["format"]}"#
        #expect(try decide("information", rules: perRule).route == "fast")
    }

    @Test func phrasesMatchAcrossAnyWhiteSpace() throws {
        let rule = #"{"route": "power", "any": ["security audit"]}"#
        #expect(try decide("run a SECURITY\n  Audit now", rules: rule).route == "power")
        #expect(try decide("security auditor", rules: rule).route == "mid")
        #expect(try decide("insecurity audit", rules: rule).route == "mid")
    }

    @Test func keywordsWithPunctuationMatch() throws {
        let rule = ##"{"route": "fast", "any": ["tl;dr", "c++", "#include"]}"##
        #expect(try decide("give me a TL;DR please", rules: rule).route == "fast")
        #expect(try decide("I write C++ daily", rules: rule).route == "fast")
        #expect(try decide("the #include line", rules: rule).route == "fast")
    }

    @Test func caseFoldingIsUnicodeAware() throws {
        #expect(try decide("STRASSE bauen", rules: #"{"route": "fast", "any": ["straße"]}"#).route == "fast")
        #expect(try decide("die Straße", rules: #"{"route": "fast", "any": ["STRASSE"]}"#).route == "fast")
        #expect(try decide("ΟΔΥΣΣΕΥΣ", rules: #"{"route": "fast", "any": ["οδυσσευς"]}"#).route == "fast")
        #expect(try decide("Ünïcödé Prompt", rules: #"{"route": "fast", "any": ["ünïcödé"]}"#).route == "fast")
        #expect(try decide("ÉCOLE", rules: #"{"route": "fast", "any": ["école"]}"#).route == "fast")
    }

    @Test func scriptsWithoutSpacesMatchInsideText() throws {
        let rule = #"{"route": "fast", "any": ["翻译"]}"#
        #expect(try decide("请把这段话翻译成英文", rules: rule).route == "fast")
        #expect(try decide("请把这段话翻成英文", rules: rule).route == "mid")
        #expect(try decide("please use format于此", rules: #"{"route": "fast", "any": ["format"]}"#).route == "fast")
    }

    @Test func allNeedsEveryKeywordAndNoneNeedsNoKeyword() throws {
        let all = #"{"route": "power", "all": ["migrate", "database"]}"#
        #expect(try decide("migrate the database", rules: all).route == "power")
        #expect(try decide("migrate the app", rules: all).route == "mid")
        let none = #"{"route": "fast", "none": ["why", "explain"]}"#
        #expect(try decide("list three colours", rules: none).route == "fast")
        #expect(try decide("explain colours", rules: none).route == "mid")
    }

    @Test func overlappingKeywordsAreAllFound() throws {
        let rules = #"{"route": "fast", "all": ["he", "she", "hers", "his"]}"#
        #expect(try decide("she said his and hers, he", rules: rules).route == "fast")
        let table = try table(rules: #"{"route": "fast", "any": ["she", "he", "hers"], "match": "substring"}"#)
        let decision = Classifier(table: table).classify("ushers", context: ClassificationContext())
        #expect(decision.evidence == [.keywordsFound(condition: "any", keywords: ["she", "he", "hers"])])
    }

    @Test func aThousandKeywordsStillMatchExactlyTheRightOnes() throws {
        let keywords = (0..<1000).map { "term\($0)x" }
        let list = keywords.map { "\"\($0)\"" }.joined(separator: ", ")
        let table = try table(rules: "{\"route\": \"fast\", \"any\": [\(list)]}")
        let classifier = Classifier(table: table)
        let decision = classifier.classify("about term7x and term999x but not term1000x or xterm5x", context: ClassificationContext())
        #expect(decision.evidence == [.keywordsFound(condition: "any", keywords: ["term7x", "term999x"])])
        #expect(classifier.classify("term12 term12xx", context: ClassificationContext()).route == "mid")
    }

    @Test func hasCodeSeesFencesAndCodeLinesButNotProse() {
        func code(_ text: String) -> Bool {
            var text = text
            return text.withUTF8 { CodeDetector.containsCode($0) }
        }
        #expect(code("Fix this:\n```\nprint(1)\n```"))
        #expect(code("Look:\n   ~~~python\nx = 1\n"))
        #expect(code("int main() {\n  return 0;\n}"))
        #expect(code("def add(a, b):\n    return a + b\nimport os"))
        #expect(code("if a == b && c:\n  x = y => z"))
        #expect(!code("Let me know what you think.\nReturn the book tomorrow."))
        #expect(!code("one line of code;"))
        #expect(!code("Write a haiku about autumn."))
        #expect(!code(""))
    }

    @Test func hasCodeConditionsRouteBothWays() throws {
        let rules = #"{"route": "power", "has_code": true}, {"route": "fast", "has_code": false}"#
        #expect(try decide("```\nlet x = 1\n```", rules: rules).route == "power")
        #expect(try decide("just words", rules: rules).route == "fast")
    }

    @Test func tierMatchesOnlyListedTiers() throws {
        let rule = #"{"route": "power", "tier": ["pro", "enterprise"]}"#
        #expect(try decide("hi", rules: rule, context: ClassificationContext(tier: "pro")).route == "power")
        #expect(try decide("hi", rules: rule, context: ClassificationContext(tier: "free")).route == "mid")
        #expect(try decide("hi", rules: rule, context: ClassificationContext(tier: nil)).route == "mid")
    }

    @Test(arguments: [(8, false), (9, true), (16, true), (17, false)])
    func hoursWindowsIncludeTheStartHourAndExcludeTheEnd(hour: Int, inside: Bool) throws {
        let zone = try #require(TimeZone(identifier: "Europe/Berlin"))
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let date = try #require(calendar.date(from: DateComponents(year: 2026, month: 11, day: 23, hour: hour, minute: 59)))
        let context = ClassificationContext(date: date, timeZone: zone)
        #expect(try decide("hi", rules: #"{"route": "power", "hours": "9-17"}"#, context: context).route == (inside ? "power" : "mid"))
    }

    @Test(arguments: [(21, false), (22, true), (23, true), (0, true), (5, true), (6, false)])
    func hoursWindowsMayCrossMidnight(hour: Int, inside: Bool) throws {
        let zone = try #require(TimeZone(identifier: "UTC"))
        let date = Date(timeIntervalSince1970: Double(hour) * 3600 + 86_400 * 100)
        let context = ClassificationContext(date: date, timeZone: zone)
        #expect(try decide("hi", rules: #"{"route": "fast", "hours": "22-6"}"#, context: context).route == (inside ? "fast" : "mid"))
    }

    @Test func evidenceNamesWhatMadeTheRuleHold() throws {
        let decision = try decide("please format this now", rules: #"{"name": "trivial", "route": "fast", "any": ["format", "convert"], "max_words": 200}"#)
        #expect(decision.evidence == [.keywordsFound(condition: "any", keywords: ["format"]), .measure(.words, value: 4, bound: .max, limit: 200)])
        #expect(decision.evidence.map(\.description) == ["any: found \"format\"", "words 4 ≤ max_words 200"])
    }

    @Test func traceExplainsEveryRuleTried() throws {
        let table = try table(rules: #"{"name": "a", "route": "power", "min_words": 10}, {"name": "b", "route": "fast", "any": ["hi"]}, {"name": "c", "route": "mid"}"#)
        let trace = Classifier(table: table).trace("hi there", context: ClassificationContext())
        #expect(trace.map(\.rule) == ["a", "b"])
        #expect(trace[0].holds == false)
        #expect(trace[0].detail == "words 2 < min_words 10")
        #expect(trace[1].holds == true)
    }

    @Test func invalidUTF8IsRefusedWithItsOffset() throws {
        let classifier = Classifier(table: try table(rules: ""))
        let scratch = ClassifierScratch(classifier: classifier)
        for bytes: [UInt8] in [[0x61, 0x62, 0xFF, 0x63], [0x61, 0x62, 0xC3], [0x61, 0x62, 0xED, 0xA0, 0x80], [0x61, 0x62, 0xC0, 0xAF]] {
            let decision = bytes.withUnsafeBufferPointer { classifier.classify(utf8: $0, context: ClassificationContext(), scratch: scratch) }
            #expect(decision == nil)
            #expect(scratch.invalidOffset == 2)
        }
    }

    @Test func aTenMegabytePromptIsMeasuredAndMatched() throws {
        let chunk = "lorem ipsum dolor sit amet, consectetur adipiscing elit\n"
        let prompt = String(repeating: chunk, count: 10_000_000 / chunk.utf8.count) + "final keyword"
        let decision = try decide(prompt, rules: #"{"route": "power", "all": ["final keyword", "lorem"]}"#)
        #expect(decision.route == "power")
        #expect(decision.features.words == 8 * (10_000_000 / chunk.utf8.count) + 2)
    }

    @Test func overridesChooseTheRouteOrModelAndCheckTheNames() throws {
        let classifier = Classifier(table: try table(rules: ""))
        let byRoute = try classifier.override(route: "power", model: nil, prompt: "hi")
        #expect(byRoute.route == "power")
        #expect(byRoute.model == "big")
        #expect(byRoute.reason.ruleName == "override")
        let byModel = try classifier.override(route: nil, model: "small", prompt: "hi")
        #expect(byModel.route == "fast")
        #expect(throws: RoutingError.self) { try classifier.override(route: "powr", model: nil, prompt: "hi") }
        #expect(RoutingError.unknownRoute("powr", known: ["power"]).message.contains("did you mean \"power\"?"))
    }
}

@Suite struct KeywordScanningPathTests {
    /// The one-pass scan over raw text and the fold-first path must find the same
    /// keywords and measure the same counts, whatever the text.
    @Test(arguments: [
        "Please FORMAT this", "Security\n\n  AUDIT needed", "xsecurity  audit", "ÉCOLE d'été format", "Straße und STRASSE",
        "naïve FAÇADE\u{00A0}format", "请把这段话翻译成英文 format", "emoji 😀 format 😀", "tl;dr: TL;DR", "İstanbul format",
        "", "   ", "a\u{2003}b format\n", "Ünïcödé ÜNÏCÖDÉ",
    ])
    func fastAndFoldFirstPathsAgree(text: String) throws {
        let keywords = ["format", "security audit", "école", "straße", "façade", "翻译", "tl;dr", "ünïcödé", "istanbul", "b format"]
        let list = keywords.map { "\"\($0)\"" }.joined(separator: ", ")
        let classifier = Classifier(table: try table(rules: "{\"route\": \"fast\", \"any\": [\(list)]}"))
        let automaton = classifier.automatonForTesting
        var fastMatches = MatchSet(count: automaton.patternCount)
        var slowMatches = MatchSet(count: automaton.patternCount)
        var folds = FoldTable()
        let scanner = PromptScanner()
        var text = text
        let (fast, slow): (KeywordAutomaton.Counts?, PromptMeasurements?) = text.withUTF8 { utf8 in
            let fast = automaton.scan(utf8, folds: &folds, into: &fastMatches)
            let slow = scanner.scan(utf8, fold: true)
            automaton.search(scanner.foldedText, count: scanner.foldedCount, into: &slowMatches)
            return (fast, slow)
        }
        let measured = try #require(slow)
        if let fast {
            #expect(text.withUTF8 { WordCounter.count($0) } == measured.words)
            #expect(text.utf8.count - fast.continuationBytes == measured.chars)
            for index in 0..<automaton.patternCount {
                #expect(fastMatches.contains(index) == slowMatches.contains(index), "\(keywords[index]) in \(text)")
            }
        }
        let decision = classifier.classify(text, context: ClassificationContext())
        let expected = (0..<automaton.patternCount).filter { slowMatches.contains($0) }.map { keywords[$0] }
        #expect(decision.evidence == (expected.isEmpty ? [] : [.keywordsFound(condition: "any", keywords: expected)]), "\(text)")
    }
}

@Suite struct TwoWalkTests {
    /// Long prompts are walked as two halves at once; whatever straddles the middle
    /// (a phrase, a run of white space, a word boundary) must be found as one walk
    /// finds it, and nothing counted twice.
    @Test(arguments: [TransitionTable.Width.narrow, .wide])
    func twoHalvesFindWhatOneWalkFinds(width: TransitionTable.Width) throws {
        let keywords = ["format", "security audit", "école", "tl;dr", "翻译", "b format", "design a system", "x"]
        let pieces = ["format", "security", "audit", " ", "   ", "\n\n\t ", "École", "d'été", "tl;dr", "翻译", "b", "lorem", "informat", "FORMATX",
                      "design", "a", "system", "DESIGN  A\nSYSTEM", "x", "ipsum", ".", "😀"]
        let automaton = KeywordAutomaton(
            keywords: keywords.map { (Array($0.utf8), $0 == "x" ? KeywordMatchMode.substring : .word) }, width: width)
        #expect(automaton.isNarrow == (width == .narrow))
        var generator = SeededGenerator(seed: 11)
        var twoWalkTexts = 0
        for round in 0..<400 {
            var text = ""
            let target = KeywordAutomaton.twoWalkMinimum + Int(generator.next() % 600)
            while text.utf8.count < target {
                let roll = Int(generator.next() % 100)
                // Mostly ASCII words and spaces, so the middle is usually ASCII.
                let piece = roll < 85 ? pieces[Int(generator.next() % 6)] : pieces[Int(generator.next() % UInt64(pieces.count))]
                text += piece + (roll % 3 == 0 ? "" : " ")
            }
            if round % 4 == 0 {
                // A phrase across the middle, with a long run of white space inside.
                let head = String(decoding: Array(text.utf8)[..<(text.utf8.count / 2 - 9)], as: UTF8.self)
                text = head + " Security" + String(repeating: " ", count: Int(generator.next() % 80)) + "AUDIT " + text
            }
            var fastMatches = MatchSet(count: automaton.patternCount)
            var slowMatches = MatchSet(count: automaton.patternCount)
            var folds = FoldTable()
            let scanner = PromptScanner()
            let (fast, slow, split): (KeywordAutomaton.Counts?, PromptMeasurements?, (middle: Int, start: Int)?) = text.withUTF8 { utf8 in
                let fast = automaton.scan(utf8, folds: &folds, into: &fastMatches)
                let slow = scanner.scan(utf8, fold: true)
                automaton.search(scanner.foldedText, count: scanner.foldedCount, into: &slowMatches)
                return (fast, slow, automaton.twoWalkSplit(utf8))
            }
            let measured = try #require(slow)
            guard let fast else { continue }
            if split != nil { twoWalkTexts += 1 }
            #expect(text.utf8.count - fast.continuationBytes == measured.chars, "\(text)")
            #expect((text.utf8.count - fast.continuationBytes + fast.extraQuarters + 3) / 4 == measured.tokens, "\(text)")
            for index in 0..<automaton.patternCount {
                #expect(fastMatches.contains(index) == slowMatches.contains(index), "\(keywords[index]) in \(text)")
            }
        }
        #expect(twoWalkTexts > 200, "the test exercises the two-walk path")
    }
}

@Suite struct TransitionLayoutTests {
    /// The narrow (16-bit) and wide (32-bit) tables must walk alike: same matches, same
    /// counts, on raw and on folded text, for many keywords sharing many prefixes.
    @Test func narrowAndWideTablesFindTheSameKeywords() {
        let words = ["for", "can", "plan", "information", "security", "audit", "design", "a", "system", "é", "tl;dr", "x"]
        var keywords: [(folded: [UInt8], mode: KeywordMatchMode)] = []
        for first in words {
            for second in words where second != first {
                keywords.append((Array("\(first) \(second)".utf8), keywords.count % 3 == 0 ? .substring : .word))
                keywords.append((Array("\(first)\(second)x".utf8), .word))
            }
        }
        let narrow = KeywordAutomaton(keywords: keywords)
        let wide = KeywordAutomaton(keywords: keywords, width: .wide)
        #expect(narrow.isNarrow && !wide.isNarrow, "narrow by default when the offsets fit")
        // 3,000 distinct keywords of 12 letters and more: over 8,000 states, too many for 16 bits.
        let many = (0..<3000).map { (folded: Array("keyword\(String($0, radix: 26))zz".utf8), mode: KeywordMatchMode.word) }
        #expect(!KeywordAutomaton(keywords: many).isNarrow, "a table too large for 16-bit offsets is wide")
        var generator = SeededGenerator(seed: 5)
        var matchedSomething = 0
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int(generator.next() % 60) {
                text += words[Int(generator.next() % UInt64(words.count))].uppercased()
                text += ["", " ", "  ", "\n\t", "xx ", ". "][Int(generator.next() % 6)]
            }
            var results: [[Int32]] = []
            var counts: [Int?] = []
            for automaton in [narrow, wide] {
                var matches = MatchSet(count: automaton.patternCount)
                var folds = FoldTable()
                let scanned = text.withUTF8 { automaton.scan($0, folds: &folds, into: &matches) }
                counts.append(scanned.map { $0.continuationBytes * 1000 + $0.extraQuarters })
                var searched = MatchSet(count: automaton.patternCount)
                let folded = Array(text.lowercased().utf8)
                folded.withUnsafeBufferPointer { automaton.search($0.baseAddress.unsafelyUnwrapped, count: folded.count, into: &searched) }
                if scanned != nil { #expect(matches.found.sorted() == searched.found.sorted(), "\(text)") }
                results.append(matches.found.sorted())
            }
            #expect(results[0] == results[1], "\(text)")
            #expect(counts[0] == counts[1], "\(text)")
            if !results[0].isEmpty { matchedSomething += 1 }
        }
        #expect(matchedSomething > 100, "the texts exercise matches")
    }
}

@Suite struct EvidenceTextTests {
    @Test(arguments: [
        Evidence.keywordsFound(condition: "any", keywords: ["a \"quoted\" word", "tl;dr", "é\\x"]),
        .keywordsFound(condition: "all", keywords: ["one"]), .keywordsAbsent(count: 3), .keywordsAbsent(count: 1),
        .measure(.words, value: 12, bound: .min, limit: 10), .measure(.tokens, value: 0, bound: .max, limit: 5),
        .hasCode(true), .hasCode(false), .tier("pro"), .hour(23, window: HourWindow(start: 22, end: 6)),
    ])
    func theJSONFormIsTheDescriptionQuoted(evidence: Evidence) throws {
        var bytes: [UInt8] = []
        evidence.appendJSON(to: &bytes)
        let decoded = try JSONParser.parse(bytes)
        #expect(decoded.stringValue == evidence.description)
    }
}

@Suite struct KeywordPositionTests {
    /// The scan reads eight ASCII bytes at a step; a keyword must be found, with its
    /// boundaries checked, wherever it falls relative to those steps.
    @Test func aKeywordIsFoundAtEveryOffset() throws {
        let classifier = Classifier(table: try table(rules: #"{"route": "fast", "any": ["format"]}"#))
        for offset in 0..<20 {
            let padding = String(repeating: "x ", count: offset / 2) + (offset % 2 == 0 ? "" : " ")
            for (suffix, expected) in [(" tail text here", "fast"), ("ted text here..", "mid"), ("", "fast")] {
                let prompt = padding + "format" + suffix
                #expect(classifier.classify(prompt, context: ClassificationContext()).route == expected, "\(prompt)")
                let glued = padding + "reformat" + suffix
                #expect(classifier.classify(glued, context: ClassificationContext()).route == "mid", "\(glued)")
            }
        }
    }
}
