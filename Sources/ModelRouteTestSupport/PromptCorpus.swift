import ModelRouteKit

/// Deterministic prompt files for the classify benchmark: a mix of chores, questions,
/// long documents, code blocks, escapes and non-ASCII text, like a real team's traffic.
public enum PromptCorpus {
    static let vocabulary = """
        the a of to and in is for on that with as this be are from by at or an it not we can you your will have has more \
        data system user service request response model price cost latency report customer order payment invoice account \
        table query index cache memory thread process network server client error retry timeout deploy build test release \
        please could would should explain describe list write create update review check improve reduce increase quickly \
        information performance formatting conversion renamed summary translation plan design budget schedule meeting
        """.split(separator: " ").map(String.init)
    static let openers = [
        "Please format this list:", "Convert the following to JSON:", "Summarize the text below.", "Translate into German:",
        "Explain why the following happens.", "Write a short note about", "Review this pull request description:",
        "What is the best way to", "Draft an email to the team about", "Design a system that handles",
        "Give me a security audit checklist for", "Rename the fields in", "Classify these support tickets:",
    ]
    static let codeBlock = "```swift\nfunc total(_ items: [Item]) -> Double {\n    return items.reduce(0) { $0 + $1.price }\n}\n```"
    static let nonASCII = ["Grüße aus München", "café crème", "Приветствие команде", "请把这段话翻译成英文", "東京の天気", "naïve façade"]

    /// One JSONL line (with newline) holding a prompt of roughly `targetBytes` bytes.
    public static func line(index: Int, targetBytes: Int, generator: inout SeededGenerator) -> String {
        var bytes: [UInt8] = []
        JSONWriter.appendQuoted(prompt(targetBytes: targetBytes, generator: &generator), to: &bytes)
        return "{\"id\":\"p\(index)\",\"prompt\":" + String(decoding: bytes, as: UTF8.self) + "}\n"
    }

    /// A prompt of at least `targetBytes` bytes (it stops at the first piece that reaches it).
    public static func prompt(targetBytes: Int, generator: inout SeededGenerator) -> String {
        var prompt = openers[Int(generator.next() % UInt64(openers.count))]
        while prompt.utf8.count < targetBytes {
            let roll = generator.next() % 100
            if roll < 2 {
                prompt += "\n" + codeBlock + "\n"
            } else if roll < 5 {
                prompt += " " + nonASCII[Int(generator.next() % UInt64(nonASCII.count))]
            } else if roll < 8 {
                prompt += ".\n"
            } else if roll < 9 {
                prompt += " \"quoted\""
            } else {
                prompt += " " + vocabulary[Int(generator.next() % UInt64(vocabulary.count))]
            }
        }
        return prompt
    }

    /// Prompt sizes: most short, some medium, a few long, averaging near a kilobyte.
    public static func size(generator: inout SeededGenerator) -> Int {
        let roll = generator.next() % 100
        if roll < 50 { return 80 + Int(generator.next() % 300) }
        if roll < 90 { return 400 + Int(generator.next() % 1600) }
        return 2000 + Int(generator.next() % 6000)
    }

    /// A routing table (the default's shape) whose keyword rules hold `keywordCount`
    /// keywords in all. The same nine real keywords sit in the same rules at every size;
    /// the rest are near-misses built from the prompts' own words ("for can zz",
    /// "planinformationx"), which drive the automaton deep without matching, so every
    /// size routes every prompt the same way and only the keyword count differs.
    public static func routingTable(keywordCount: Int) -> String {
        var generator = SeededGenerator(seed: 7)
        let hard = ["architect", "security audit", "migration plan", "design a system"]
        let chores = ["format", "convert", "rename", "translate", "summarize"]
        var extra: [String] = []
        while extra.count < keywordCount - hard.count - chores.count {
            let first = vocabulary[Int(generator.next() % UInt64(vocabulary.count))]
            let second = vocabulary[Int(generator.next() % UInt64(vocabulary.count))]
            let candidate = generator.next() % 2 == 0 ? "\(first)\(second)x" : "\(first) \(second) zz"
            if !extra.contains(candidate) { extra.append(candidate) }
        }
        let half = extra.count / 2
        func list(_ words: [String]) -> String { words.map { "\"\($0)\"" }.joined(separator: ", ") }
        let hardList = list(hard + extra[..<half])
        let choresList = list(chores + extra[half...])
        return """
            {"version": 1, "default_route": "mid", "baseline_model": "big",
             "providers": {"openai": {"type": "openai"}, "offline": {"type": "mock"}},
             "models": {"small": {"provider": "openai", "input_per_mtok": 0.4, "output_per_mtok": 1.6},
                        "medium": {"provider": "openai", "input_per_mtok": 2, "output_per_mtok": 8},
                        "big": {"provider": "openai", "input_per_mtok": 3, "output_per_mtok": 15}},
             "routes": {"fast": {"model": "small"}, "mid": {"model": "medium"}, "power": {"model": "big"}},
             "rules": [
               {"name": "hard", "route": "power", "any": [\(hardList)]},
               {"name": "code", "route": "mid", "has_code": true},
               {"name": "chores", "route": "fast", "any": [\(choresList)], "max_words": 300},
               {"name": "long", "route": "power", "min_words": 800},
               {"name": "short", "route": "fast", "max_words": 25, "none": ["why", "explain", "design"]}
             ]}
            """
    }
}
