/// Finds every keyword of every rule in one pass over the folded prompt
/// (Aho–Corasick compiled to a DFA over byte classes), so classification costs the
/// same per byte whether the table has 10 keywords or 10,000.
struct KeywordAutomaton: Sendable {
    /// One keyword as matched: its folded bytes and how its edges must meet the text.
    struct Pattern: Sendable {
        /// Length of the folded keyword in bytes.
        var length: Int32
        /// In word mode: whether the text before the match must not be a word character.
        var checksStart: Bool
        /// In word mode: whether the text after the match must not be a word character.
        var checksEnd: Bool
    }

    /// Byte → its class; bytes that occur in no keyword share class 0.
    private let byteClass: [UInt8]
    private let classCount: Int
    /// Next state for (state × classCount + class).
    private let transitions: [Int32]
    /// For state s, its matches are `outputs[outputStart[s]..<outputStart[s + 1]]`.
    private let outputStart: [Int32]
    /// Pattern indices.
    private let outputs: [Int32]
    /// Patterns by index.
    let patterns: [Pattern]

    /// Number of patterns, which is the size of a match set.
    var patternCount: Int { patterns.count }

    /// Builds the automaton for folded keywords and their modes.
    init(keywords: [(folded: [UInt8], mode: KeywordMatchMode)]) {
        var classOf = [UInt8](repeating: 0, count: 256)
        var count = 1
        for keyword in keywords {
            for byte in keyword.folded where classOf[Int(byte)] == 0 {
                classOf[Int(byte)] = UInt8(truncatingIfNeeded: count)
                count += 1
            }
        }
        // More than 255 distinct bytes cannot happen in UTF-8 keywords, but stay safe.
        if count > 256 {
            for byte in 0..<256 { classOf[byte] = UInt8(byte) }
            count = 256
        }
        byteClass = classOf
        classCount = count

        // The trie.
        var children: [[Int32]] = [[Int32](repeating: -1, count: count)]
        var terminal: [[Int32]] = [[]]
        var patterns: [Pattern] = []
        for (index, keyword) in keywords.enumerated() {
            var state = 0
            for byte in keyword.folded {
                let symbol = Int(classOf[Int(byte)])
                if children[state][symbol] < 0 {
                    children[state][symbol] = Int32(children.count)
                    children.append([Int32](repeating: -1, count: count))
                    terminal.append([])
                }
                state = Int(children[state][symbol])
            }
            terminal[state].append(Int32(index))
            patterns.append(KeywordAutomaton.pattern(for: keyword.folded, mode: keyword.mode))
        }
        self.patterns = patterns

        // Failure links by breadth-first search, resolving the DFA as we go.
        let stateCount = children.count
        var transitions = [Int32](repeating: 0, count: stateCount * count)
        var failure = [Int32](repeating: 0, count: stateCount)
        var outputsByState = terminal
        var queue: [Int] = []
        for symbol in 0..<count {
            let child = children[0][symbol]
            if child >= 0 {
                transitions[symbol] = child
                queue.append(Int(child))
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            let fail = Int(failure[state])
            outputsByState[state].append(contentsOf: outputsByState[fail].filter { !outputsByState[state].contains($0) })
            for symbol in 0..<count {
                let child = children[state][symbol]
                if child >= 0 {
                    failure[Int(child)] = transitions[fail * count + symbol]
                    transitions[state * count + symbol] = child
                    queue.append(Int(child))
                } else {
                    transitions[state * count + symbol] = transitions[fail * count + symbol]
                }
            }
        }
        self.transitions = transitions
        var starts: [Int32] = [0]
        var flat: [Int32] = []
        for state in 0..<stateCount {
            flat.append(contentsOf: outputsByState[state])
            starts.append(Int32(flat.count))
        }
        outputStart = starts
        outputs = flat
    }

    private static func pattern(for folded: [UInt8], mode: KeywordMatchMode) -> Pattern {
        guard mode == .word, !folded.isEmpty else {
            return Pattern(length: Int32(folded.count), checksStart: false, checksEnd: false)
        }
        return folded.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return Pattern(length: 0, checksStart: false, checksEnd: false) }
            let first = TextFolding.scalar(at: 0, in: base)
            let last = TextFolding.scalar(before: buffer.count, in: base)
            return Pattern(
                length: Int32(folded.count), checksStart: TextFolding.isWordCharacter(first), checksEnd: TextFolding.isWordCharacter(last))
        }
    }

    /// Marks in `matches` every pattern that occurs in the folded text.
    func search(_ text: UnsafePointer<UInt8>, count: Int, into matches: inout MatchSet) {
        if patterns.isEmpty { return }
        transitions.withUnsafeBufferPointer { transitions in
            byteClass.withUnsafeBufferPointer { byteClass in
                outputStart.withUnsafeBufferPointer { outputStart in
                    var state = 0
                    for index in 0..<count {
                        state = Int(transitions[state &* classCount &+ Int(byteClass[Int(text[index])])])
                        let first = Int(outputStart[state])
                        let end = Int(outputStart[state + 1])
                        if first != end {
                            report(first..<end, endingAt: index + 1, in: text, count: count, into: &matches)
                        }
                    }
                }
            }
        }
    }

    private func report(_ range: Range<Int>, endingAt end: Int, in text: UnsafePointer<UInt8>, count: Int, into matches: inout MatchSet) {
        for slot in range {
            let index = Int(outputs[slot])
            if matches.contains(index) { continue }
            let pattern = patterns[index]
            let start = end - Int(pattern.length)
            if pattern.checksStart, start > 0, TextFolding.isWordCharacter(TextFolding.scalar(before: start, in: text)) { continue }
            if pattern.checksEnd, end < count, TextFolding.isWordCharacter(TextFolding.scalar(at: end, in: text)) { continue }
            matches.insert(index)
        }
    }
}

/// Which patterns matched in the current prompt; cleared in O(1) between prompts.
struct MatchSet {
    private var marks: [UInt32]
    private var generation: UInt32 = 1

    init(count: Int) {
        marks = [UInt32](repeating: 0, count: count)
    }

    func contains(_ index: Int) -> Bool { marks[index] == generation }
    mutating func insert(_ index: Int) { marks[index] = generation }

    /// Forgets every match.
    mutating func removeAll() {
        generation &+= 1
        if generation == 0 {
            for index in marks.indices { marks[index] = 0 }
            generation = 1
        }
    }
}
