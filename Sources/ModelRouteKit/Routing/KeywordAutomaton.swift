/// Finds every keyword of every rule in one pass over a prompt (Aho–Corasick compiled
/// to a DFA over byte classes), so classification costs the same per byte whether the
/// table has 10 keywords or 10,000.
///
/// Keywords are stored case-folded with single spaces. The byte classes fold ASCII case
/// (`A` and `a` share a class) and map every ASCII white space byte to the class of
/// ' ', and every state entered by a space loops on further white space. So the
/// automaton runs directly on raw ASCII text, with "Security\n  Audit" matching
/// "security audit"; text with non-ASCII bytes is folded first (`PromptScanner`).
struct KeywordAutomaton: Sendable {
    /// One keyword as matched: its folded bytes and how its edges must meet the text.
    struct Pattern: Sendable {
        /// The folded keyword.
        var bytes: [UInt8]
        /// In word mode: whether the text before the match must not be a word character.
        var checksStart: Bool
        /// In word mode: whether the text after the match must not be a word character.
        var checksEnd: Bool
    }

    /// The transition table (see `TransitionTable`).
    private let table: TransitionTable
    /// For state s, its matches are `outputs[outputBounds[2s]..<outputBounds[2s + 1]]`.
    private let outputBounds: [Int32]
    /// Pattern indices.
    private let outputs: [Int32]
    /// Patterns by index.
    let patterns: [Pattern]
    /// Bytes in the longest pattern.
    private let longestPattern: Int

    /// Whether the table stores 16-bit state numbers.
    var isNarrow: Bool { table.width == .narrow }

    /// Number of patterns, which is the size of a match set.
    var patternCount: Int { patterns.count }

    /// Builds the automaton for folded keywords and their modes: bytes become classes
    /// (bytes that occur in no keyword share class 0); `width` forces a table
    /// layout, for tests (see `TransitionTable`).
    init(keywords: [(folded: [UInt8], mode: KeywordMatchMode)], width: TransitionTable.Width? = nil) {
        var classOf = [UInt8](repeating: 0, count: 256)
        var count = 1
        for keyword in keywords {
            for byte in keyword.folded where classOf[Int(byte)] == 0 && count < 256 {
                classOf[Int(byte)] = UInt8(count)
                count += 1
            }
        }
        for upper in UInt8(ascii: "A")...UInt8(ascii: "Z") { classOf[Int(upper)] = classOf[Int(upper + 32)] }
        for space in 0x09...0x0D { classOf[space] = classOf[0x20] }
        let spaceClass = Int(classOf[0x20])

        // The trie: children[state × count + symbol], -1 for none, in one flat array
        // sized for the most states the keywords can make.
        let stateLimit = 1 + keywords.reduce(0) { $0 + $1.folded.count }
        var children = [Int32](repeating: -1, count: stateLimit * count)
        var stateCount = 1
        // The keywords ending at each state, as lists: first in `terminalHead[state]`,
        // the next after pattern p in `terminalNext[p]`.
        var terminalHead = [Int32](repeating: -1, count: stateLimit)
        var terminalNext = [Int32](repeating: -1, count: keywords.count)
        var enteredBySpace = [Bool](repeating: false, count: stateLimit)
        var patterns: [Pattern] = []
        patterns.reserveCapacity(keywords.count)
        children.withUnsafeMutableBufferPointer { children in
            for (index, keyword) in keywords.enumerated() {
                var state = 0
                for byte in keyword.folded {
                    let slot = state * count + Int(classOf[Int(byte)])
                    if children[slot] < 0 {
                        children[slot] = Int32(stateCount)
                        enteredBySpace[stateCount] = byte == 0x20
                        stateCount += 1
                    }
                    state = Int(children[slot])
                }
                terminalNext[index] = terminalHead[state]
                terminalHead[state] = Int32(index)
                patterns.append(KeywordAutomaton.pattern(for: keyword.folded, mode: keyword.mode))
            }
        }
        self.patterns = patterns
        longestPattern = patterns.reduce(0) { max($0, $1.bytes.count) }

        // Failure links by breadth-first search, resolving the DFA as we go. A state's
        // outputs are its own keywords, then its failure state's (those of a proper
        // suffix: shorter, so never the same ones), copied within one flat array.
        var transitions = [Int32](repeating: 0, count: stateCount * count)
        var failure = [Int32](repeating: 0, count: stateCount)
        var bounds = [Int32](repeating: 0, count: 2 * stateCount)
        var flat: [Int32] = []
        var queue = [Int32](repeating: 0, count: stateCount)
        var queued = 0
        children.withUnsafeBufferPointer { children in
            transitions.withUnsafeMutableBufferPointer { transitions in
                for symbol in 0..<count where children[symbol] >= 0 {
                    transitions[symbol] = children[symbol]
                    queue[queued] = children[symbol]
                    queued += 1
                }
                var head = 0
                while head < queued {
                    let state = Int(queue[head])
                    head += 1
                    let fail = Int(failure[state])
                    bounds[2 * state] = Int32(flat.count)
                    var terminal = terminalHead[state]
                    while terminal >= 0 {
                        flat.append(terminal)
                        terminal = terminalNext[Int(terminal)]
                    }
                    for slot in Int(bounds[2 * fail])..<Int(bounds[2 * fail + 1]) { flat.append(flat[slot]) }
                    bounds[2 * state + 1] = Int32(flat.count)
                    let row = state * count
                    let failRow = fail * count
                    for symbol in 0..<count {
                        let child = children[row + symbol]
                        if child >= 0 {
                            failure[Int(child)] = transitions[failRow + symbol]
                            transitions[row + symbol] = child
                            queue[queued] = child
                            queued += 1
                        } else {
                            transitions[row + symbol] = transitions[failRow + symbol]
                        }
                    }
                }
            }
        }
        // A run of white space reads as one space: a state entered by a space stays put
        // on more of it (keywords neither start nor end with a space).
        if spaceClass != 0 {
            for state in 1..<stateCount where enteredBySpace[state] { transitions[state * count + spaceClass] = Int32(state) }
        }
        let completesKeyword = (0..<stateCount).map { bounds[2 * $0] < bounds[2 * $0 + 1] }
        table = TransitionTable(next: transitions, classCount: count, byteClass: classOf, completesKeyword: completesKeyword, width: width)
        outputBounds = bounds
        outputs = flat
    }

    private static func pattern(for folded: [UInt8], mode: KeywordMatchMode) -> Pattern {
        guard mode == .word, !folded.isEmpty else {
            return Pattern(bytes: folded, checksStart: false, checksEnd: false)
        }
        return folded.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return Pattern(bytes: folded, checksStart: false, checksEnd: false) }
            let first = TextFolding.scalar(at: 0, in: base)
            let last = TextFolding.scalar(before: buffer.count, in: base)
            return Pattern(bytes: folded, checksStart: TextFolding.isWordCharacter(first), checksEnd: TextFolding.isWordCharacter(last))
        }
    }

    /// What the fused pass measured besides the matches.
    struct Counts {
        /// UTF-8 continuation bytes, so that scalars = bytes - continuation bytes.
        var continuationBytes = 0
        /// Quarter-tokens beyond one per scalar (see `TokenEstimator`).
        var extraQuarters = 0
    }

    /// Prompts at least this long are walked as two halves at once (see `scan`).
    static let twoWalkMinimum = 256

    /// The fast path: matches keywords in the raw text while counting scalars, in one
    /// pass (words and lines are counted separately, only as far as a rule needs).
    /// Non-ASCII scalars are folded on the fly when their fold has the same UTF-8
    /// length, and non-ASCII white space reads as a space. Returns nil (matches
    /// incomplete) on anything else — invalid UTF-8, a fold that changes length — and the
    /// caller then folds the whole text with `PromptScanner` and uses `search`.
    ///
    /// Each step of the automaton waits for the table load of the step before, so a
    /// single walk leaves the core mostly idle, the more so when a large table misses
    /// the cache. A long prompt is therefore walked as two halves in lockstep, whose
    /// loads overlap. The second walk starts from the root far enough before the middle
    /// (`twoWalkSplit`) to be, at the middle, in the state a single walk would be in;
    /// the text it reads before the middle is ASCII, where it counts nothing.
    func scan(_ text: UnsafeBufferPointer<UInt8>, folds: inout FoldTable, into matches: inout MatchSet) -> Counts? {
        guard let base = text.baseAddress else { return Counts() }
        switch table.width {
        case .narrow: return Walker(automaton: self, steps: table.steps(UInt16.self), text: base, count: text.count).scan(folds: &folds, into: &matches)
        case .wide: return Walker(automaton: self, steps: table.steps(UInt32.self), text: base, count: text.count).scan(folds: &folds, into: &matches)
        }
    }

    /// Where the first walk ends and the second starts, when the text is walked in two:
    /// as many symbols before the middle as the longest keyword has, a run of white
    /// space being one symbol. Nil for short text, for non-ASCII text in that stretch
    /// (it would be counted twice), and when there are no keywords.
    func twoWalkSplit(_ text: UnsafeBufferPointer<UInt8>) -> (middle: Int, start: Int)? {
        guard let base = text.baseAddress, !patterns.isEmpty, text.count >= KeywordAutomaton.twoWalkMinimum else { return nil }
        let middle = text.count / 2
        var position = middle
        var symbols = 0
        while symbols <= longestPattern {
            guard position > 64 else { return nil }
            let byte = base[position - 1]
            guard byte < 0x80 else { return nil }
            position -= 1
            if TextFolding.isASCIISpace(byte) {
                while position > 0, TextFolding.isASCIISpace(base[position - 1]) { position -= 1 }
            }
            symbols += 1
        }
        return (middle, position)
    }

    /// One walk of the automaton over `text[position..<end]`.
    private struct Cursor {
        /// The current state's row.
        var row = 0
        var position: Int
        var end: Int
    }

    /// The automaton's tables and one text, for the walks of one `scan`.
    private struct Walker<Entry: FixedWidthInteger & UnsignedInteger> {
        let automaton: KeywordAutomaton
        let steps: TransitionSteps<Entry>
        let text: UnsafePointer<UInt8>
        let count: Int

        func scan(folds: inout FoldTable, into matches: inout MatchSet) -> Counts? {
            var counts = Counts()
            var first = Cursor(position: 0, end: count)
            if let split = automaton.twoWalkSplit(UnsafeBufferPointer(start: text, count: count)) {
                first.end = split.middle
                var second = Cursor(position: split.start, end: count)
                guard walkInLockstep(&first, &second, folds: &folds, counts: &counts, matches: &matches),
                    walk(&second, until: second.end, folds: &folds, counts: &counts, matches: &matches)
                else { return nil }
            }
            guard walk(&first, until: first.end, folds: &folds, counts: &counts, matches: &matches) else { return nil }
            return counts
        }

        /// Walks both cursors eight ASCII bytes each per round until one nears its end.
        /// Returns false when the text must be folded first.
        func walkInLockstep(_ a: inout Cursor, _ b: inout Cursor, folds: inout FoldTable, counts: inout Counts, matches: inout MatchSet) -> Bool {
            let raw = UnsafeRawPointer(text)
            while a.position &+ 8 <= a.end && b.position &+ 8 <= b.end {
                let wordA = raw.loadUnaligned(fromByteOffset: a.position, as: UInt64.self)
                let wordB = raw.loadUnaligned(fromByteOffset: b.position, as: UInt64.self)
                if wordA & 0x8080_8080_8080_8080 != 0 {
                    // Non-ASCII: this word alone, one byte or scalar at a time.
                    guard walk(&a, until: a.position &+ 8, folds: &folds, counts: &counts, matches: &matches) else { return false }
                    continue
                }
                if wordB & 0x8080_8080_8080_8080 != 0 {
                    guard walk(&b, until: b.position &+ 8, folds: &folds, counts: &counts, matches: &matches) else { return false }
                    continue
                }
                var rowA = a.row
                var rowB = b.row
                var lane = 0
                while lane < 8 {
                    let shift = UInt64(truncatingIfNeeded: lane &* 8)
                    rowA = steps.next(rowA, Int(truncatingIfNeeded: (wordA &>> shift) & 0xFF))
                    rowB = steps.next(rowB, Int(truncatingIfNeeded: (wordB &>> shift) & 0xFF))
                    lane &+= 1
                    // A keyword ends here in one walk or both: report, and go on from
                    // the next byte.
                    if steps.completes(max(rowA, rowB)) { break }
                }
                a.row = rowA
                b.row = rowB
                a.position &+= lane
                b.position &+= lane
                if steps.completes(rowA) { automaton.report(row: rowA, endingAt: a.position, in: text, count: count, into: &matches) }
                if steps.completes(rowB) { automaton.report(row: rowB, endingAt: b.position, in: text, count: count, into: &matches) }
            }
            return true
        }

        /// Walks one cursor up to `stop`, or just past it to finish a scalar. Returns
        /// false when the text must be folded first.
        func walk(_ cursor: inout Cursor, until stop: Int, folds: inout FoldTable, counts: inout Counts, matches: inout MatchSet) -> Bool {
            var row = cursor.row
            var index = cursor.position
            defer {
                cursor.row = row
                cursor.position = index
            }
            // With no keywords the automaton has only its root state, whose transitions
            // all lead back to it, and a byte in no keyword (class 0) leads to the root
            // from anywhere: the loop then just counts.
            while index < stop {
                // The hot loop: a run of ASCII bytes, with every piece of state in
                // locals so the compiler keeps them in registers.
                var runRow = row
                var position = index
                var matched = false
                // Eight ASCII bytes at a time: one check for the high bits, then
                // eight table steps with no per-byte bounds or ASCII test.
                let raw = UnsafeRawPointer(text)
                wordLoop: while position &+ 8 <= stop {
                    let word = raw.loadUnaligned(fromByteOffset: position, as: UInt64.self)
                    if word & 0x8080_8080_8080_8080 != 0 { break }
                    for lane in 0..<8 {
                        let byte = Int(truncatingIfNeeded: (word &>> UInt64(lane &* 8)) & 0xFF)
                        runRow = steps.next(runRow, byte)
                        if steps.completes(runRow) {
                            position &+= lane &+ 1
                            matched = true
                            break wordLoop
                        }
                    }
                    position &+= 8
                }
                // No calls in here: a keyword's end breaks out to be reported below.
                while !matched && position < stop {
                    let byte = text[position]
                    if byte >= 0x80 { break }
                    position &+= 1
                    runRow = steps.next(runRow, Int(byte))
                    if !steps.completes(runRow) { continue }
                    matched = true
                    break
                }
                row = runRow
                index = position
                if matched {
                    automaton.report(row: row, endingAt: position, in: text, count: count, into: &matches)
                    continue
                }
                if index >= stop { break }
                guard let (value, length) = UTF8Decoding.decode(text, index, count) else { return false }
                let action = folds.action(for: value)
                let start = index
                index &+= length
                counts.continuationBytes &+= length &- 1
                counts.extraQuarters &+= TokenEstimator.weight(value) &- 1
                switch action {
                case .bail:
                    return false
                case .space:
                    row = steps.next(row, 0x20)  // a keyword never ends with a space
                case .feed(let packed):
                    // The folded bytes are as many as the raw ones, so match
                    // positions in the raw text stay right.
                    for offset in 0..<length {
                        let foldedByte = UInt8(truncatingIfNeeded: packed >> UInt32(8 * offset))
                        row = steps.next(row, Int(foldedByte))
                        if !steps.completes(row) { continue }
                        automaton.report(row: row, endingAt: start + offset + 1, in: text, count: count, into: &matches)
                    }
                }
            }
            return true
        }
    }

    /// Marks in `matches` every pattern that occurs in folded text (valid UTF-8).
    func search(_ text: UnsafePointer<UInt8>, count: Int, into matches: inout MatchSet) {
        if patterns.isEmpty { return }
        switch table.width {
        case .narrow: search(text, count: count, steps: table.steps(UInt16.self), into: &matches)
        case .wide: search(text, count: count, steps: table.steps(UInt32.self), into: &matches)
        }
    }

    private func search<Entry>(_ text: UnsafePointer<UInt8>, count: Int, steps: TransitionSteps<Entry>, into matches: inout MatchSet) {
        var row = 0
        for index in 0..<count {
            row = steps.next(row, Int(text[index]))
            if steps.completes(row) {
                report(row: row, endingAt: index + 1, in: text, count: count, into: &matches)
            }
        }
    }

    /// Marks the patterns that end at `end` in the state entered at `row`.
    private func report(row: Int, endingAt end: Int, in text: UnsafePointer<UInt8>, count: Int, into matches: inout MatchSet) {
        let state = table.state(ofRow: row)
        for slot in Int(outputBounds[2 * state])..<Int(outputBounds[2 * state + 1]) {
            let index = Int(outputs[slot])
            if matches.contains(index) { continue }
            let pattern = patterns[index]
            if pattern.checksStart {
                let start = KeywordAutomaton.start(of: pattern.bytes, endingAt: end, in: text)
                if start > 0, TextFolding.isWordCharacter(TextFolding.scalar(before: start, in: text)) { continue }
            }
            if pattern.checksEnd, end < count, TextFolding.isWordCharacter(TextFolding.scalar(at: end, in: text)) { continue }
            matches.insert(index)
        }
    }

    /// Where a match of `pattern` ending at `end` starts: its bytes read backwards, where a
    /// space in the pattern stands for a whole run of white space in the text.
    private static func start(of pattern: [UInt8], endingAt end: Int, in text: UnsafePointer<UInt8>) -> Int {
        var position = end
        for byte in pattern.reversed() {
            if byte == 0x20 {
                while position > 0 {
                    let previous = text[position - 1]
                    if previous < 0x80 {
                        guard TextFolding.asciiSpace[Int(previous)] == 1 else { break }
                        position -= 1
                    } else {
                        var lead = position - 1
                        while lead > 0, text[lead] & 0xC0 == 0x80 { lead -= 1 }
                        guard TextFolding.isWhitespace(TextFolding.scalar(at: lead, in: text)) else { break }
                        position = lead
                    }
                }
            } else {
                position -= 1
            }
        }
        return max(0, position)
    }
}

/// The automaton's transitions, laid out so that a step is one load: one row per state
/// of `stride` entries (the class count rounded up to a power of two), rows aligned to
/// 64 bytes, and each entry the next state's row offset in units of 8 bytes. A step
/// then loads from (table + the byte's column offset) + entry × 8, an address the
/// processor forms in the load itself, so nothing but the load waits on the previous
/// step. States are numbered with those that complete a keyword last, so "a keyword
/// ends here" is `entry >= threshold`.
///
/// Entries are 16-bit whenever the offsets fit (about 8,000 states with 32 classes, so
/// a thousand keywords): a row of up to 32 classes is then a single cache line, which
/// matters once the table outgrows the first-level cache. Larger tables use 32 bits.
final class TransitionTable: @unchecked Sendable {  // immutable once built
    enum Width {
        case narrow
        case wide
    }

    let width: Width
    /// The rows.
    private let base: UnsafeRawPointer
    /// Byte → the byte offset of its class's column within a row (256 entries).
    private let columnOffsets: UnsafeMutablePointer<UInt16>
    /// Entries at or above this lead to a state that completes a keyword.
    private let threshold: Int
    /// A row's offset in entry units (8 bytes) is its number times this.
    private let unit: Int
    /// Row number → the automaton's own state number.
    private let states: [Int32]
    private let memory: UnsafeMutableRawPointer

    /// `next[state × classCount + class]` is the next state; `completesKeyword[state]`
    /// whether entering that state completes a keyword. `width` forces a layout where
    /// it fits (for tests); by default the narrow one is used when it fits.
    init(next: [Int32], classCount: Int, byteClass: [UInt8], completesKeyword: [Bool], width: Width? = nil) {
        let stateCount = completesKeyword.count
        var stride = 4
        while stride < classCount { stride <<= 1 }
        // Rows in the new order: states that complete no keyword first (the root, 0,
        // stays 0), then those that do.
        var rowOf = [Int](repeating: 0, count: stateCount)
        var states: [Int32] = []
        states.reserveCapacity(stateCount)
        for state in 0..<stateCount where !completesKeyword[state] {
            rowOf[state] = states.count
            states.append(Int32(state))
        }
        let firstCompleting = states.count
        for state in 0..<stateCount where completesKeyword[state] {
            rowOf[state] = states.count
            states.append(Int32(state))
        }
        let narrowUnit = stride * 2 / 8
        let narrow = width != .wide && (stateCount - 1) * narrowUnit <= Int(UInt16.max)
        self.width = narrow ? .narrow : .wide
        let entrySize = narrow ? 2 : 4
        unit = stride * entrySize / 8
        threshold = firstCompleting * unit
        self.states = states
        columnOffsets = UnsafeMutablePointer<UInt16>.allocate(capacity: 256)
        for byte in 0..<256 { columnOffsets[byte] = UInt16(Int(byteClass[byte]) * entrySize) }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: max(stateCount * stride * entrySize, 64), alignment: 64)
        self.memory = memory
        base = UnsafeRawPointer(memory)
        let rowEntries = stride
        let unit = self.unit
        func fill<Entry: FixedWidthInteger>(_ type: Entry.Type) {
            let entries = memory.initializeMemory(as: Entry.self, repeating: 0, count: stateCount * rowEntries)
            next.withUnsafeBufferPointer { next in
                for state in 0..<stateCount {
                    let row = entries + rowOf[state] * rowEntries
                    for symbol in 0..<classCount {
                        row[symbol] = Entry(truncatingIfNeeded: rowOf[Int(next[state * classCount + symbol])] * unit)
                    }
                }
            }
        }
        if narrow { fill(UInt16.self) } else { fill(UInt32.self) }
    }

    deinit {
        memory.deallocate()
        columnOffsets.deallocate()
    }

    /// Steps over this table; `Entry` must match `width` (UInt16 narrow, UInt32 wide).
    func steps<Entry: FixedWidthInteger & UnsignedInteger>(_ entry: Entry.Type) -> TransitionSteps<Entry> {
        TransitionSteps(base: base, columnOffsets: columnOffsets, threshold: threshold)
    }

    /// The automaton's state number for an entry (a row offset).
    func state(ofRow row: Int) -> Int { Int(states[row / unit]) }
}

/// One step of the automaton over a `TransitionTable` of 16- or 32-bit entries; the
/// scan is specialized for each.
struct TransitionSteps<Entry: FixedWidthInteger & UnsignedInteger> {
    let base: UnsafeRawPointer
    let columnOffsets: UnsafePointer<UInt16>
    let threshold: Int

    /// The next row from `row` on `byte` (raw: the column offset folds ASCII case).
    @inline(__always) func next(_ row: Int, _ byte: Int) -> Int {
        let column = base + Int(columnOffsets[byte])
        return Int(column.load(fromByteOffset: row &* 8, as: Entry.self))
    }

    /// Whether entering the state at `row` completes a keyword.
    @inline(__always) func completes(_ row: Int) -> Bool { row >= threshold }
}

/// Case folds of non-ASCII scalars, computed once per scalar and kept for the run.
/// Only folds that keep the UTF-8 length ("É" → "é", "ß" → "ss") can be applied in
/// place by the fast path.
struct FoldTable {
    /// What the fast path does with one non-ASCII scalar.
    enum Action: Equatable {
        /// Feed these folded bytes (as many as the scalar's own), packed low byte first.
        case feed(UInt32)
        /// It is white space: feed one space.
        case space
        /// Its fold changes length: leave the prompt to the fold-first path.
        case bail
    }

    /// Basic Multilingual Plane scalar → 0 unknown, 1 bail, 2 space, else packed bytes.
    /// Allocated on the first non-ASCII scalar, so ASCII-only use costs nothing.
    private var table: [UInt32] = []

    @inline(__always)
    mutating func action(for value: UInt32) -> Action {
        if value < 0x10000 {
            if table.isEmpty { table = [UInt32](repeating: 0, count: 0x10000) }
            var entry = table[Int(value)]
            if entry == 0 {
                entry = FoldTable.encode(FoldTable.compute(value))
                table[Int(value)] = entry
            }
            return entry == 1 ? .bail : entry == 2 ? .space : .feed(entry)
        }
        return FoldTable.compute(value)
    }

    private static func encode(_ action: Action) -> UInt32 {
        switch action {
        case .bail: return 1
        case .space: return 2
        case .feed(let packed): return packed
        }
    }

    private static func compute(_ value: UInt32) -> Action {
        guard let scalar = Unicode.Scalar(value) else { return .bail }
        if TextFolding.isWhitespace(value) { return .space }
        var folded: [UInt8] = []
        if scalar.properties.changesWhenCaseMapped {
            folded = TextFolding.foldedUTF8(value)
        } else {
            JSONStringUnescaper.appendUTF8(scalar, to: &folded)
        }
        guard folded.count == UTF8.width(scalar) else { return .bail }
        var packed: UInt32 = 0
        for (offset, byte) in folded.enumerated() { packed |= UInt32(byte) << UInt32(8 * offset) }
        return .feed(packed)
    }
}

/// Which patterns matched in the current prompt; cleared in O(1) between prompts.
struct MatchSet {
    private var marks: [UInt32]
    private var generation: UInt32 = 1
    /// The matched pattern indices, in the order found.
    private(set) var found: [Int32] = []

    init(count: Int) {
        marks = [UInt32](repeating: 0, count: count)
    }

    func contains(_ index: Int) -> Bool { marks[index] == generation }
    mutating func insert(_ index: Int) {
        marks[index] = generation
        found.append(Int32(index))
    }

    /// Forgets every match.
    mutating func removeAll() {
        found.removeAll(keepingCapacity: true)
        generation &+= 1
        if generation == 0 {
            for index in marks.indices { marks[index] = 0 }
            generation = 1
        }
    }
}
