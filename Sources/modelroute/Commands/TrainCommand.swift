import ModelRouteKit

/// `modelroute train`: fits a difficulty model on labelled prompts.
enum TrainCommand: Command {
    static let spec = CommandSpec(
        name: "train",
        abstract: "Train a difficulty model on labelled prompts, print how well it does, and write the model file.",
        usage: ["train [<options>] DATA.jsonl ...", "train --loso DATA.jsonl ..."],
        arguments: [("DATA", "JSONL files, one {\"prompt\": …, \"label\": \"easy|medium|hard\", \"source\": …} per line; '-' reads standard input.")],
        options: [
            OptionSpec("dev", value: "FILE", help: "Labelled prompts to score the model on (not trained on).", repeatable: true),
            OptionSpec("out", value: "PATH", help: "Where to write the model; a name ending in .c writes it as C data for building modelroute's built-in model.", default: "difficulty.model"),
            OptionSpec("loso", help: "Leave-one-source-out: train once per source on all the others and score the held-out one; writes no model."),
            OptionSpec("bits", value: "N", help: "Hash buckets are 2^N, 10 to 22.", default: "16"),
            OptionSpec("epochs", value: "N", help: "Passes over the data.", default: "8"),
            OptionSpec("l2", value: "X", help: "L2 regularization per update.", default: "1e-3"),
            OptionSpec("rate", value: "X", help: "AdaGrad's base step size.", default: "0.15"),
            OptionSpec("balance", value: "HOW", help: "Weight examples so each label (label) or each source within its label (source) counts the same.", default: "source"),
            OptionSpec("seed", value: "N", help: "Seed of the order examples are visited in.", default: "1"),
        ],
        discussion: """
            The model is a logistic regression on soft targets (easy 0, medium 0.5, hard 1) over hashed words,
            word pairs, the prompt's opening, and bins of a few counts (size, lines, numbers, math symbols,
            question marks, code); CJK characters count as words, so text without spaces works. Training is
            deterministic: the same files and options write the same bytes.

            Figures: accuracy and recall read a score below 0.33 as easy and from 0.67 as hard; the calibration
            table shows, per score band, the share of prompts labelled hard and easy. Dev figures come from prompts
            of the same sources as the training data; --loso shows how the model does on a kind of prompt it has
            never seen, which is the better guide to a user's prompts.

            Use the model with "classifier": "PATH" in routes.json and rules with "difficulty": {"min": …}.
            A bad line is reported with file:line:column and skipped; the run exits 65 at the end.

            EXAMPLES:
              modelroute train train.jsonl --dev dev.jsonl --out difficulty.model
              modelroute train --loso train.jsonl dev.jsonl
            """)

    static func run(_ arguments: ParsedArguments, context: CommandContext) async throws -> ExitCode {
        var options = DifficultyTrainer.Options()
        options.bits = try arguments.integer("bits", in: 10...22) ?? options.bits
        options.epochs = try arguments.integer("epochs", in: 1...1000) ?? options.epochs
        options.l2 = try arguments.number("l2", in: 0...1) ?? options.l2
        options.learningRate = try arguments.number("rate", in: 0.000001...100) ?? options.learningRate
        options.seed = UInt64(try arguments.integer("seed", in: 0...Int(Int32.max)) ?? Int(options.seed))
        if let balance = try arguments.choice("balance", among: DifficultyTrainer.Balance.allCases.map(\.rawValue)) {
            options.balance = DifficultyTrainer.Balance(rawValue: balance) ?? .source
        }
        guard !arguments.positionals.isEmpty else {
            throw UsageError.other("train needs labelled prompts: modelroute train DATA.jsonl [--dev DEV.jsonl] [--out MODEL]   (see --help)")
        }
        if arguments.flag("loso"), arguments.value("out") != nil { throw UsageError.conflicting("--loso", "--out") }
        var reader = LabelledFiles(context: context)
        let training = try reader.read(arguments.positionals, requirement: .label)
        let dev = try reader.read(arguments.allValues("dev"), requirement: .label)
        guard !training.isEmpty else { throw LabelledInputError.noPrompts(files: arguments.positionals) }

        let counts = Dictionary(grouping: training.compactMap(\.label), by: { $0 }).mapValues(\.count)
        let sources = Set(training.map { $0.source ?? "" }).count
        context.stdout.write(
            "training on \(training.count) prompts (easy \(counts[.easy] ?? 0), medium \(counts[.medium] ?? 0), hard \(counts[.hard] ?? 0)) from \(sources) source\(sources == 1 ? "" : "s")\n")
        context.stdout.flush()

        if arguments.flag("loso") {
            let start = MonotonicClock.now()
            let rows = LeaveOneSourceOut.run(training + dev, options: options)
            guard rows.count >= 2 else { throw UsageError.other("--loso needs prompts from at least two sources (the \"source\" field)") }
            context.stdout.write(LeaveOneSourceOut.render(rows))
            context.stderr.write("trained \(rows.count) models in \(formatted("%.1f", MonotonicClock.now() - start)) s\n")
            context.stderr.flush()
            return reader.badLines > 0 ? .dataError : .success
        }

        let start = MonotonicClock.now()
        let model = DifficultyTrainer.train(training, options: options)
        context.stderr.write("trained in \(formatted("%.2f", MonotonicClock.now() - start)) s\n")
        context.stderr.flush()
        context.stdout.write(DifficultyFigures(model: model, prompts: training).render(title: "training set"))
        if !dev.isEmpty { context.stdout.write(DifficultyFigures(model: model, prompts: dev).render(title: "dev set")) }

        let path = arguments.value("out") ?? "difficulty.model"
        let bytes = path.hasSuffix(".c") ? EmbeddedModelSource.render(model.fileBytes()) : model.fileBytes()
        do throws(SystemError) {
            try FileWriter.writeAtomically(bytes, to: path)
        } catch {
            throw LabelledInputError.cannotWrite(path: path, reason: error.description)
        }
        context.stdout.write("wrote \(path) (\(bytes.count) bytes)\n")
        return reader.badLines > 0 ? .dataError : .success
    }
}

/// The C source that holds a model's bytes as modelroute's built-in model.
enum EmbeddedModelSource {
    static func render(_ bytes: [UInt8]) -> [UInt8] {
        var text = Array("// The built-in difficulty model, written by `modelroute train --out difficulty-model.c` (see the README).\n#include \"ModelRouteModelData.h\"\n\nstatic const unsigned char model[] __attribute__((aligned(16))) = {\n".utf8)
        text.reserveCapacity(bytes.count * 4 + 256)
        for (index, byte) in bytes.enumerated() {
            text.append(contentsOf: String(byte).utf8)
            text.append(UInt8(ascii: ","))
            if index % 32 == 31 { text.append(0x0A) }
        }
        text.append(contentsOf: "\n};\n\nconst unsigned char *modelroute_builtin_difficulty_model(long *length) {\n    *length = (long)sizeof model;\n    return model;\n}\n".utf8)
        return text
    }
}
