import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Trains a `DifficultyModel`: logistic regression on soft targets (easy 0, medium 0.5,
/// hard 1) by stochastic gradient descent with AdaGrad step sizes and L2
/// regularization, examples visited in an order drawn from a fixed seed. The same
/// examples and options give the same model, byte for byte.
///
/// Every label weighs the same in total, and with `balance: .source` every source
/// (the `source` field) weighs the same within its label, so that no one dataset's
/// wording dominates what the model learns.
public enum DifficultyTrainer {
    /// How examples are weighted.
    public enum Balance: String, Sendable, CaseIterable {
        /// Each label weighs the same in total.
        case label
        /// Each label the same, and each source the same within its label.
        case source
    }

    /// Training settings; the defaults are the built-in model's.
    public struct Options: Sendable, Equatable {
        /// log2 of the number of hash buckets.
        public var bits = 16
        /// Passes over the data.
        public var epochs = 8
        /// AdaGrad's base step.
        public var learningRate = 0.15
        /// L2 penalty per update.
        public var l2 = 1e-3
        public var balance = Balance.source
        /// Seed of the visiting order.
        public var seed: UInt64 = 1

        public init() {}
    }

    /// Features of one example, ready for training: bucket numbers and values.
    struct Encoded {
        var buckets: [Int32] = []
        var values: [Float] = []
    }

    /// Collects bucket numbers.
    private struct CollectingSink: DifficultyFeatureSink {
        let shift: UInt64
        var textBuckets: [Int32] = []
        var countBuckets: [Int32] = []

        mutating func text(_ hash: UInt64, _ kind: TextFeatureKind, _ token: TokenSpan) {
            textBuckets.append(Int32(truncatingIfNeeded: hash >> shift))
        }
        mutating func count(_ hash: UInt64, _ family: CountFamily, _ bin: Int) { countBuckets.append(Int32(truncatingIfNeeded: hash >> shift)) }
    }

    /// The features of `prompt` for a model of `bits` buckets.
    static func encode(_ prompt: String, bits: Int) -> Encoded {
        var sink = CollectingSink(shift: UInt64(64 - bits))
        var text = prompt
        text.withUTF8 { DifficultyFeatures.extract($0, into: &sink) }
        var encoded = Encoded()
        let textValue = Float(1 / Double(max(1, sink.textBuckets.count)).squareRoot())
        encoded.buckets = sink.textBuckets + sink.countBuckets
        encoded.values = Array(repeating: textValue, count: sink.textBuckets.count) + Array(repeating: 1, count: sink.countBuckets.count)
        return encoded
    }

    /// Each example's weight under `balance`, so that the weights add up to the number of examples.
    static func sampleWeights(_ examples: [LabelledPrompt], balance: Balance) -> [Double] {
        var perLabel: [DifficultyLabel: Int] = [:]
        var perSource: [String: Int] = [:]
        var sourcesPerLabel: [DifficultyLabel: Set<String>] = [:]
        for example in examples {
            guard let label = example.label else { continue }
            perLabel[label, default: 0] += 1
            let key = label.rawValue + "\u{0}" + (example.source ?? "")
            perSource[key, default: 0] += 1
            sourcesPerLabel[label, default: []].insert(example.source ?? "")
        }
        let total = Double(examples.count)
        let labels = Double(perLabel.count)
        return examples.map { example in
            guard let label = example.label else { return 0 }
            switch balance {
            case .label:
                return total / (labels * Double(perLabel[label] ?? 1))
            case .source:
                let key = label.rawValue + "\u{0}" + (example.source ?? "")
                let sources = Double(sourcesPerLabel[label]?.count ?? 1)
                return total / (labels * sources * Double(perSource[key] ?? 1))
            }
        }
    }

    /// Trains on the labelled examples (those without a label are ignored).
    public static func train(_ examples: [LabelledPrompt], options: Options = Options()) -> DifficultyModel {
        let labelled = examples.filter { $0.label != nil }
        let encoded = encodeAll(labelled.map(\.prompt), bits: options.bits)
        let targets = labelled.map { $0.label?.target ?? 0 }
        let sampleWeights = sampleWeights(labelled, balance: options.balance)
        let buckets = 1 << options.bits
        var weights = [Double](repeating: 0, count: buckets)
        var squares = [Double](repeating: 0, count: buckets)
        var bias = 0.0
        var biasSquares = 0.0
        var order = Array(labelled.indices)
        var generator = SeededGenerator(seed: options.seed)
        let epsilon = 1e-6
        for _ in 0..<options.epochs {
            order.shuffle(using: &generator)
            for index in order {
                let example = encoded[index]
                var z = bias
                for (bucket, value) in zip(example.buckets, example.values) { z += weights[Int(bucket)] * Double(value) }
                let error = (DifficultyMath.sigmoid(z) - targets[index]) * sampleWeights[index]
                biasSquares += error * error
                bias -= options.learningRate * error / (biasSquares + epsilon).squareRoot()
                for (bucket, value) in zip(example.buckets, example.values) {
                    let position = Int(bucket)
                    let gradient = error * Double(value) + options.l2 * weights[position]
                    squares[position] += gradient * gradient
                    weights[position] -= options.learningRate * gradient / (squares[position] + epsilon).squareRoot()
                }
            }
        }
        return DifficultyModel(bits: options.bits, bias: bias, weights: weights, examples: labelled.count, source: "trained")
    }

    /// Encodes prompts on every core; the result does not depend on the thread count.
    static func encodeAll(_ prompts: [String], bits: Int) -> [Encoded] {
        let results = UnsafeMutableBufferPointer<Encoded>.allocate(capacity: prompts.count)
        results.initialize(repeating: Encoded())
        defer { results.deallocate() }
        let threads = Processors.online
        let shared = UncheckedSendable(results)
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var index = thread
            while index < prompts.count {
                shared.value[index] = encode(prompts[index], bits: bits)
                index += threads
            }
        }
        return Array(results)
    }
}

/// How well a model's scores fit labelled prompts: what `train` prints for the dev set
/// and for each held-out source.
public struct DifficultyFigures: Sendable, Equatable {
    /// One row of the calibration table: prompts whose score fell in [low, high).
    public struct Bin: Sendable, Equatable {
        public var low: Double
        public var high: Double
        public var count = 0
        public var hard = 0
        public var easy = 0
    }

    public var count = 0
    /// Prompts whose label the score stands for (see `DifficultyLabel(score:)`).
    public var correct = 0
    /// Per label: prompts, and those scored as that label.
    public var perLabel: [DifficultyLabel: (total: Int, right: Int)] = [:]
    /// Per label: how many were scored easy, medium, hard.
    public var predicted: [DifficultyLabel: [DifficultyLabel: Int]] = [:]
    public var scoreSum = 0.0
    public var bins: [Bin] = (0..<10).map { Bin(low: Double($0) / 10, high: Double($0 + 1) / 10) }

    public var accuracy: Double { count > 0 ? Double(correct) / Double(count) : 0 }
    public var meanScore: Double { count > 0 ? scoreSum / Double(count) : 0 }

    /// Share of `label`'s prompts scored as it.
    public func recall(_ label: DifficultyLabel) -> Double? {
        guard let entry = perLabel[label], entry.total > 0 else { return nil }
        return Double(entry.right) / Double(entry.total)
    }

    /// Share of all prompts scored as `guess`.
    public func share(scoredAs guess: DifficultyLabel) -> Double {
        guard count > 0 else { return 0 }
        return Double(predicted.values.reduce(0) { $0 + ($1[guess] ?? 0) }) / Double(count)
    }

    /// Share of `label`'s prompts scored as `other`.
    public func share(_ label: DifficultyLabel, scoredAs other: DifficultyLabel) -> Double {
        guard let total = perLabel[label]?.total, total > 0 else { return 0 }
        return Double(predicted[label]?[other] ?? 0) / Double(total)
    }

    /// Scores every labelled prompt.
    public init(model: DifficultyModel, prompts: [LabelledPrompt]) {
        for prompt in prompts {
            guard let label = prompt.label else { continue }
            add(score: model.score(prompt.prompt), label: label)
        }
    }

    public static func == (lhs: DifficultyFigures, rhs: DifficultyFigures) -> Bool {
        lhs.count == rhs.count && lhs.correct == rhs.correct && lhs.bins == rhs.bins && lhs.scoreSum == rhs.scoreSum
    }

    mutating func add(score: Double, label: DifficultyLabel) {
        let guess = DifficultyLabel(score: score)
        count += 1
        scoreSum += score
        if guess == label { correct += 1 }
        var entry = perLabel[label] ?? (0, 0)
        entry.total += 1
        if guess == label { entry.right += 1 }
        perLabel[label] = entry
        predicted[label, default: [:]][guess, default: 0] += 1
        let bin = min(9, max(0, Int(score * 10)))
        bins[bin].count += 1
        if label == .hard { bins[bin].hard += 1 }
        if label == .easy { bins[bin].easy += 1 }
    }

    /// Accuracy, recall per label, and the calibration table, for people.
    public func render(title: String) -> String {
        var text = "\(title): \(count) prompts, accuracy \(formatted("%.3f", accuracy)) (easy below 0.33, hard from 0.67)\n"
        text += "  recall:"
        for label in DifficultyLabel.allCases {
            if let value = recall(label) { text += "  \(label.rawValue) \(formatted("%.3f", value))" }
        }
        text += "\n  score        prompts  share hard  share easy\n"
        for bin in bins where bin.count > 0 {
            text += "  " + formatted("%.1f–%.1f", bin.low, bin.high) + "  " + Text.pad(String(bin.count), 9, right: true)
                + "  " + Text.pad(formatted("%.1f%%", Double(bin.hard) / Double(bin.count) * 100), 10, right: true)
                + "  " + Text.pad(formatted("%.1f%%", Double(bin.easy) / Double(bin.count) * 100), 10, right: true) + "\n"
        }
        return text
    }
}

/// Training with each source held out in turn: how the model does on a kind of prompt
/// it has never seen, which is what a user's prompts are.
public enum LeaveOneSourceOut {
    /// One held-out source's figures.
    public struct Row: Sendable {
        public var source: String
        /// The held-out source's label; nil when its prompts have several.
        public var label: DifficultyLabel?
        public var figures: DifficultyFigures
    }

    /// Trains once per source on all the others (in parallel; each training is deterministic).
    public static func run(_ prompts: [LabelledPrompt], options: DifficultyTrainer.Options) -> [Row] {
        let sources = Array(Set(prompts.compactMap(\.source))).sorted()
        let rows = UnsafeMutableBufferPointer<Row?>.allocate(capacity: sources.count)
        rows.initialize(repeating: nil)
        defer { rows.deallocate() }
        let shared = UncheckedSendable(rows)
        let threads = min(Processors.online, max(1, sources.count))
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var index = thread
            while index < sources.count {
                let source = sources[index]
                let model = DifficultyTrainer.train(prompts.filter { $0.source != source }, options: options)
                let held = prompts.filter { $0.source == source }
                let labels = Set(held.compactMap(\.label))
                shared.value[index] = Row(source: source, label: labels.count == 1 ? labels.first : nil, figures: DifficultyFigures(model: model, prompts: held))
                index += threads
            }
        }
        return rows.compactMap { $0 }
    }

    /// The per-source table, for people.
    public static func render(_ rows: [Row]) -> String {
        let width = max(6, rows.map(\.source.count).max() ?? 0)
        var text = "leave-one-source-out: each source scored by a model trained on all the others\n"
        text += "  " + Text.pad("source", width) + "  label   prompts  right   scored easy/medium/hard   mean score\n"
        var rightSum = 0.0
        for row in rows {
            let figures = row.figures
            func share(_ guess: DifficultyLabel) -> Double { row.label.map { figures.share($0, scoredAs: guess) } ?? figures.share(scoredAs: guess) }
            rightSum += figures.accuracy
            text += "  " + Text.pad(row.source, width) + "  " + Text.pad(row.label?.rawValue ?? "mixed", 6) + "  "
                + Text.pad(String(figures.count), 7, right: true) + "  " + Text.pad(formatted("%.1f%%", figures.accuracy * 100), 6, right: true)
                + "   " + Text.pad(
                    formatted("%.0f%% / %.0f%% / %.0f%%", share(.easy) * 100, share(.medium) * 100, share(.hard) * 100), 22, right: true)
                + "   " + formatted("%.2f", figures.meanScore) + "\n"
        }
        if !rows.isEmpty { text += "  mean of the sources' accuracy: \(formatted("%.1f%%", rightSum / Double(rows.count) * 100))\n" }
        return text
    }
}
