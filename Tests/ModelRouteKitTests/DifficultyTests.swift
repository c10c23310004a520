import Foundation
import Testing
import ModelRouteTestSupport
@testable import ModelRouteKit
@testable import modelroute

/// A planted dataset: easy prompts carry "zorblat", hard ones "quuxian", medium ones
/// neither, in the same filler words, so only the planted words can separate them.
func plantedPrompts(count: Int, seed: UInt64) -> [LabelledPrompt] {
    var generator = SeededGenerator(seed: seed)
    let filler = ["please", "the", "list", "of", "items", "for", "our", "team", "today", "check", "notes", "a", "with", "and"]
    return (0..<count).map { index in
        let label = DifficultyLabel.allCases[index % 3]
        var words = (0..<8).map { _ in filler[Int(generator.next() % UInt64(filler.count))] }
        switch label {
        case .easy: words.insert("zorblat", at: Int(generator.next() % 8))
        case .hard: words.insert("quuxian", at: Int(generator.next() % 8))
        case .medium: break
        }
        return LabelledPrompt(prompt: words.joined(separator: " "), label: label, source: "planted-\(index % 2)", line: index + 1)
    }
}

@Suite struct DifficultyModelTests {
    @Test func trainingIsDeterministicAndTheSeedMatters() {
        let prompts = plantedPrompts(count: 150, seed: 1)
        var options = DifficultyTrainer.Options()
        options.bits = 12
        let first = DifficultyTrainer.train(prompts, options: options).fileBytes()
        let second = DifficultyTrainer.train(prompts, options: options).fileBytes()
        #expect(first == second)
        options.seed = 2
        #expect(DifficultyTrainer.train(prompts, options: options).fileBytes() != first)
    }

    @Test func aPlantedDatasetIsSeparated() {
        var options = DifficultyTrainer.Options()
        options.bits = 12
        let model = DifficultyTrainer.train(plantedPrompts(count: 300, seed: 3), options: options)
        let figures = DifficultyFigures(model: model, prompts: plantedPrompts(count: 90, seed: 4))
        #expect(figures.accuracy >= 0.95, "\(figures.render(title: "planted"))")
        #expect(model.score("check the zorblat notes") < 1.0 / 3)
        #expect(model.score("check the quuxian notes") >= 2.0 / 3)
        let medium = model.score("check the notes")
        #expect(medium > 1.0 / 3 && medium < 2.0 / 3)
    }

    @Test func leaveOneSourceOutScoresEachSourceWithAModelThatNeverSawIt() {
        var options = DifficultyTrainer.Options()
        options.bits = 12
        let rows = LeaveOneSourceOut.run(plantedPrompts(count: 120, seed: 5), options: options)
        #expect(rows.map(\.source) == ["planted-0", "planted-1"])
        // Each planted source mixes the labels; the other source still teaches the planted words.
        #expect(rows.allSatisfy { $0.label == nil && $0.figures.count == 60 && $0.figures.accuracy > 0.6 }, "\(LeaveOneSourceOut.render(rows))")
        #expect(LeaveOneSourceOut.render(rows).contains("planted-1  mixed"))
    }

    @Test func theModelFileRoundTripsAndItsDamageIsNamed() throws {
        var options = DifficultyTrainer.Options()
        options.bits = 10
        let model = DifficultyTrainer.train(plantedPrompts(count: 60, seed: 6), options: options)
        let bytes = model.fileBytes()
        func parse(_ bytes: [UInt8]) -> Result<DifficultyModel, DifficultyModelError> {
            bytes.withUnsafeBytes { raw in
                do throws(DifficultyModelError) {
                    return .success(try DifficultyModel.parse(raw, source: "m.model", verifyChecksum: true, copy: true))
                } catch { return .failure(error) }
            }
        }
        let loaded = try parse(bytes).get()
        for prompt in ["check the zorblat notes", "东京的天气怎么样？", "", "def f(x):\n    return x ** 2\n"] {
            #expect(loaded.score(prompt) == model.score(prompt))
        }
        #expect(loaded.fileBytes() == bytes)

        func failure(_ bytes: [UInt8]) -> DifficultyModelError? {
            if case .failure(let error) = parse(bytes) { return error }
            return nil
        }
        func replacing(_ old: String, _ new: String) -> [UInt8] {
            let header = String(decoding: bytes.prefix(400), as: UTF8.self)
            let end = header.range(of: "weights int16le\n").map { header.utf8.distance(from: header.startIndex, to: $0.upperBound) } ?? 0
            let text = String(decoding: bytes.prefix(end), as: UTF8.self).replacingOccurrences(of: old, with: new)
            return Array(text.utf8) + bytes.dropFirst(end)
        }
        #expect(failure(Array("hello\n".utf8)) == .notAModel(path: "m.model"))
        #expect(failure(replacing("format 1", "format 2")) == .unsupportedFormat(path: "m.model", found: 2))
        #expect(failure(replacing("features 1", "features 9")) == .featureVersion(path: "m.model", found: 9))
        #expect(failure(replacing("buckets 1024", "buckets 1000")) != nil)
        #expect(failure(replacing("scale ", "scale -")) != nil)
        if case .corrupt(_, let reason)? = failure(Array(bytes.dropLast(3))) { #expect(reason.contains("truncated")) } else { Issue.record("a cut file must be refused") }
        var flipped = bytes
        flipped[bytes.count - 7] ^= 0x40
        if case .corrupt(_, let reason)? = failure(flipped) { #expect(reason.contains("sha256")) } else { Issue.record("a damaged weight must be refused") }
        #expect(DifficultyModelError.featureVersion(path: "m.model", found: 9).message.contains("m.model"))
    }

    @Test func theBuiltInModelIsIntactAndTrainedOnTheFullVocabulary() throws {
        let bytes = DifficultyModel.builtInFileBytes
        #expect(bytes.count > 1 << 17)
        let verified = bytes.withUnsafeBytes { raw in
            try? DifficultyModel.parse(raw, source: "built-in", verifyChecksum: true, copy: true)
        }
        #expect(verified != nil, "the embedded model's weights do not match their sha256")
        #expect(DifficultyModel.builtIn.bits == 16 && DifficultyModel.builtIn.examples > 5000)
        // Sanity on prompts of the issue: hard math and code high, a chore low.
        let model = DifficultyModel.builtIn
        #expect(model.score("When rolling two dice, what is the probability that the sum is 7? Show your reasoning.") >= 0.6)
        #expect(model.score("Write a program to find the nth Fibonacci number using dynamic programming.") >= 0.6)
        #expect(model.score("Fix the typos: teh meeting is on tusday") <= 0.4)
    }

    @Test func explainingNamesTheFeaturesThatMovedTheScore() {
        let explained = DifficultyModel.builtIn.explain("Prove that the square root of 2 is irrational.")
        #expect(explained.score == DifficultyModel.builtIn.score("Prove that the square root of 2 is irrational."))
        #expect(!explained.contributions.isEmpty && explained.contributions.count <= 6)
        let weights = explained.contributions.map { abs($0.weight) }
        #expect(weights == weights.sorted(by: >))
    }

    @Test func cjkCharactersAreWordsAndFeatures() throws {
        #expect(try decide("東京の天気", rules: "").features.words == 5)
        #expect(try decide("Tokyo天気 today", rules: "").features.words == 4)
        #expect(try decide("a\u{3000}b", rules: "").features.words == 2)  // the ideographic space separates
        // Text without spaces still gives the model words and pairs to weigh.
        var sink = CountingSink()
        var text = "证明对于任意整数n，n的立方减n能被6整除。"
        text.withUTF8 { DifficultyFeatures.extract($0, into: &sink) }
        #expect(sink.text > 40)
    }
}

/// Counts features.
private struct CountingSink: DifficultyFeatureSink {
    var text = 0
    var counts = 0
    mutating func text(_ hash: UInt64, _ kind: TextFeatureKind, _ token: TokenSpan) { text += 1 }
    mutating func count(_ hash: UInt64, _ family: CountFamily, _ bin: Int) { counts += 1 }
}

@Suite struct DifficultyRoutingTests {
    @Test func theDifficultyConditionBoundsTheScore() throws {
        let rules = #"{"name": "hard", "route": "power", "difficulty": {"min": 0.6}}, {"name": "easy", "route": "fast", "difficulty": {"max": 0.4}}"#
        let hard = try decide("Find all real solutions of x^4 - 5x^2 + 4 = 0 and prove there are no others.", rules: rules)
        #expect(hard.route == "power" && hard.reason.ruleName == "hard")
        let score = try #require(hard.difficulty)
        #expect(hard.evidence == [.difficulty(score, min: 0.6, max: nil)])
        let easy = try decide("Translate to French: good morning", rules: rules)
        #expect(easy.route == "fast" && easy.reason.ruleName == "easy")
        // A table without the condition computes no score.
        #expect(try decide("anything", rules: #"{"route": "fast", "any": ["x"]}"#).difficulty == nil)
    }

    @Test func badDifficultyAndClassifyWithEntriesAreNamed() {
        func message(_ rule: String) -> String {
            do {
                _ = try table(rules: rule)
                return ""
            } catch {
                return (error as? any ModelRouteError)?.message ?? "\(error)"
            }
        }
        #expect(message(#"{"route": "fast", "difficulty": {"min": 0.7, "max": 0.3}}"#).contains("rules[0].difficulty.min: min 0.7 is above max 0.3"))
        #expect(message(#"{"route": "fast", "difficulty": {"min": 1.5}}"#).contains("runs from 0 to 1"))
        #expect(message(#"{"route": "fast", "difficulty": {}}"#).contains("give \"min\", \"max\" or both"))
        #expect(message(#"{"route": "fast", "difficulty": {"mn": 0.2}}"#).contains("did you mean \"min\"?"))
        let ask = #""classify_with": {"model": "small", "prompt": "Is it hard? {prompt}", "labels": {"EASY": "fast", "HARD": "power"}}"#
        #expect(message("{\"route\": \"fast\", \(ask)}").contains("takes its route from the answer's label"))
        #expect(message(#"{"classify_with": {"model": "small", "prompt": "no placeholder", "labels": {"A": "fast"}}}"#).contains("must contain {prompt}"))
        #expect(message(#"{"classify_with": {"model": "small", "prompt": "{prompt}", "labels": {"A": "fats"}}}"#).contains("did you mean \"fast\"?"))
        #expect(message(#"{"classify_with": {"model": "tiny", "prompt": "{prompt}", "labels": {"A": "fast"}}}"#).contains("unknown model \"tiny\""))
        #expect(message("{\(ask)}") == "")
    }

    @Test func answersMatchTheirLabelAtTheStart() {
        let config = AskConfig(model: "m", prompt: "{prompt}", labels: [("SIMPLE", "fast"), ("COMPLEX", "power"), ("VERY COMPLEX", "max")])
        #expect(config.match(answer: "COMPLEX")?.route == "power")
        #expect(config.match(answer: "  \"complex.\"\n")?.route == "power")
        #expect(config.match(answer: "Very complex")?.route == "max")
        #expect(config.match(answer: "SIMPLE: it is a lookup")?.route == "fast")
        #expect(config.match(answer: "simpler") == nil)
        #expect(config.match(answer: "I think COMPLEX") == nil)
        #expect(config.match(answer: "") == nil)
    }

    @Test func aClassifyWithRuleIsNotCalledInDryRunsAndClassify() async throws {
        let rules = #"{"name": "ask", "classify_with": {"model": "small", "prompt": "{prompt}", "labels": {"HARD": "power"}}}, {"name": "rest", "route": "fast"}"#
        let decision = try decide("hello", rules: rules)
        #expect(decision.route == "fast" && decision.reason.ruleName == "rest")
        #expect(decision.ask?.config.model == "small" && decision.ask?.rule == "ask")
        let trace = Classifier(table: try table(rules: rules)).trace("hello", context: ClassificationContext())
        #expect(trace.first?.asks == true && trace.first?.detail.hasPrefix("would ask small") == true)
        #expect(trace.last?.holds == true && trace.last?.rule == "rest")

        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("ask.json", tableJSON(rules: rules))
        let rows = await runCLI(["classify", "--routes", routes, "--lines", "--format", "jsonl", "-"], stdin: "hello\nthere\n")
        #expect(rows.status == 0)
        #expect(rows.stdout.contains(#""rule":"rest","evidence":["would ask small first (rule ask)"]"#))
        #expect(rows.stderr.contains("2 prompts would first ask a classify_with model (classify never asks)"))
        let dry = await runCLI(["--dry-run", "--routes", routes, "hello"])
        #expect(dry.stdout.contains("would ask small first (rule ask)"))
    }

    /// The same score wherever it is computed: classify rows, the dry run, the call's record.
    @Test func theScoreIsTheSameInClassifyTheDryRunAndTheRecord() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let prompt = "A train leaves at 3 pm going 60 mph; another leaves at 4 pm going 80 mph. When does the second catch up?"
        let expected = DifficultyText.rounded(DifficultyModel.builtIn.score(prompt))
        let escaped = prompt.replacingOccurrences(of: "\"", with: "\\\"")
        let rows = await runCLI(["classify", "--routes", routes, "--jsonl", "--format", "jsonl", "--no-summary", "-"], stdin: "{\"prompt\": \"\(escaped)\"}\n")
        let row = try JSONParser.parse(Array(rows.stdout.utf8))
        #expect(row["difficulty"]?.value == .number(expected))
        let dry = await runCLI(["--dry-run", "--routes", routes, prompt])
        #expect(dry.stdout.contains("difficulty: \(DifficultyText.score(expected))"))
        let table = try RoutingTableLoader.load(json: Array(try String(contentsOfFile: routes, encoding: .utf8).utf8), source: routes)
        let call = await runCall(["--offline", prompt], table: table, environment: [:])
        #expect(call.status == 0)
        #expect(call.records.first?.difficulty == expected)
        #expect(call.records.first?.offline == true)
    }

    @Test func aDamagedModelFileNamedByTheTableExits78WithItsPath() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let text = tableJSON(rules: #"{"route": "power", "difficulty": {"min": 0.5}}"#)
            .replacingOccurrences(of: #""keyword_match": "word","#, with: #""keyword_match": "word", "classifier": "models/d.model","#)
        let routes = try directory.write("routes.json", text)
        try directory.write("models/d.model", "modelroute difficulty model\nformat 7\n")
        let check = await runCLI(["check", "--routes", routes])
        #expect(check.status == 78)
        #expect(check.stderr.contains(directory.path + "/models/d.model") && check.stderr.contains("format 7 is not supported"))
        let dry = await runCLI(["--dry-run", "--routes", routes, "hi"])
        #expect(dry.status == 78)

        var options = DifficultyTrainer.Options()
        options.bits = 10
        try directory.write("models/d.model", bytes: DifficultyTrainer.train(plantedPrompts(count: 60, seed: 8), options: options).fileBytes())
        let good = await runCLI(["--dry-run", "--routes", routes, "check the quuxian notes"])
        #expect(good.status == 0 && good.stdout.contains("route: power"))
        #expect(good.stdout.contains("model \(directory.path)/models/d.model"))
    }
}

@Suite struct TrainCommandTests {
    @Test func trainWritesTheSameModelTwiceAndReportsDevFigures() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        func jsonl(_ prompts: [LabelledPrompt]) -> String {
            prompts.map { #"{"prompt": "\#($0.prompt)", "label": "\#($0.label?.rawValue ?? "")", "source": "\#($0.source ?? "")"}"# }.joined(separator: "\n") + "\n"
        }
        let data = try directory.write("train.jsonl", jsonl(plantedPrompts(count: 120, seed: 9)))
        let dev = try directory.write("dev.jsonl", jsonl(plantedPrompts(count: 30, seed: 10)))
        let first = await runCLI(["train", data, "--dev", dev, "--bits", "12", "--out", directory.path + "/a.model"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("dev set: 30 prompts, accuracy"))
        #expect(first.stdout.contains("share hard"))
        _ = await runCLI(["train", data, "--dev", dev, "--bits", "12", "--out", directory.path + "/b.model"])
        let a = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/a.model"))
        let b = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/b.model"))
        #expect(a == b && a.count > 8192)
        let source = await runCLI(["train", data, "--bits", "10", "--out", directory.path + "/m.c"])
        #expect(source.status == 0)
        #expect(try String(contentsOfFile: directory.path + "/m.c", encoding: .utf8).contains("modelroute_builtin_difficulty_model(long *length)"))
        let loso = await runCLI(["train", "--loso", data, "--bits", "12"])
        #expect(loso.stdout.contains("leave-one-source-out") && loso.stdout.contains("planted-0"))
    }

    @Test func badLabelledLinesAreNamedAndSkipped() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let data = try directory.write("bad.jsonl", #"""
        {"prompt": "check the zorblat notes", "label": "easy"}
        {"prompt": "check the quuxian notes", "label": "difficult"}
        {"prompt": 3, "label": "easy"}
        not json
        {"label": "hard"}
        {"prompt": "check the notes", "label": "medium"}
        """#)
        let result = await runCLI(["train", data, "--bits", "10", "--out", directory.path + "/x.model"])
        #expect(result.status == 65)
        #expect(result.stderr.contains("bad.jsonl:2:48: unknown label \"difficult\"; allowed labels: easy, medium, hard; line skipped"))
        #expect(result.stderr.contains("bad.jsonl:3:12: \"prompt\" must be a string, found a number"))
        #expect(result.stderr.contains("bad.jsonl:4:1: not JSON"))
        #expect(result.stderr.contains("bad.jsonl:5:1: missing \"prompt\""))
        #expect(result.stdout.contains("training on 2 prompts"))
        let missing = await runCLI(["train", directory.path + "/none.jsonl"])
        #expect(missing.status == 66 && missing.stderr.contains("none.jsonl: no such file"))
    }
}
