#if canImport(Glibc)
import Glibc
#endif

/// `--color`: whether output for people is coloured.
public enum ColorChoice: String, Sendable, CaseIterable {
    /// Colour on a terminal, unless `NO_COLOR` says no or `CLICOLOR_FORCE` says yes.
    case auto
    case always
    case never
}

/// How text for people is dressed: colour (ANSI SGR), Unicode symbols and bars, and the
/// width to fit. Colour and character set are separate choices: `--color always` into a
/// file still draws ASCII, and a UTF-8 terminal with `NO_COLOR` still draws blocks.
public struct TextStyle: Sendable, Equatable {
    /// ANSI colour and bold.
    public var color: Bool
    /// Unicode symbols (✓ ✗ ─ █ ▁…▇) rather than ASCII (+ - # .:=).
    public var unicode: Bool
    /// Columns to fit tables to; nil for no limit.
    public var width: Int?

    public init(color: Bool = false, unicode: Bool = false, width: Int? = nil) {
        self.color = color
        self.unicode = unicode
        self.width = width
    }

    /// No colour, ASCII, no width limit: files, pipes, tests.
    public static let plain = TextStyle()

    /// What a piece of text is, for its colour.
    public enum Tone: Sendable {
        case heading, good, bad, warning, dim
    }

    /// `text` in the colour of `tone`, when colour is on (and there is a tone).
    public func paint(_ text: String, _ tone: Tone?) -> String {
        guard color, let tone, !text.isEmpty else { return text }
        let code: String
        switch tone {
        case .heading: code = "1"
        case .good: code = "32"
        case .bad: code = "31"
        case .warning: code = "33"
        case .dim: code = "2"
        }
        return "\u{1B}[\(code)m\(text)\u{1B}[0m"
    }

    /// `unicode` when Unicode is on, else `ascii`.
    public func symbol(_ unicode: String, _ ascii: String) -> String { self.unicode ? unicode : ascii }

    /// Resolves the style of one stream.
    ///
    /// - Colour: `always` and `never` decide. `auto`: off when `NO_COLOR` is set and not
    ///   empty (no-color.org); else on when `CLICOLOR_FORCE` is set and not `0` (even into
    ///   a pipe); else off when `CLICOLOR` is `0`; else on for a terminal whose `TERM` is
    ///   not `dumb`.
    /// - Unicode: a terminal, `TERM` not `dumb`, and a UTF-8 locale (the first of
    ///   `LC_ALL`, `LC_CTYPE`, `LANG` that is set names UTF-8).
    /// - Width: `$COLUMNS` when it is a number from 20 to 10000, else the terminal's width,
    ///   else no limit (a file or a pipe gets every column).
    public static func resolve(choice: ColorChoice, isTerminal: Bool, terminalColumns: Int?, environment: [String: String]) -> TextStyle {
        func set(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        let dumb = environment["TERM"] == "dumb"
        let color: Bool
        switch choice {
        case .always: color = true
        case .never: color = false
        case .auto:
            if set("NO_COLOR") != nil {
                color = false
            } else if let force = set("CLICOLOR_FORCE"), force != "0" {
                color = true
            } else if environment["CLICOLOR"] == "0" {
                color = false
            } else {
                color = isTerminal && !dumb
            }
        }
        let locale = (set("LC_ALL") ?? set("LC_CTYPE") ?? set("LANG") ?? "").lowercased()
        let utf8 = locale.contains("utf-8") || locale.contains("utf8")
        var width: Int?
        if let columns = set("COLUMNS").flatMap(Int.init), (20...10_000).contains(columns) {
            width = columns
        } else if isTerminal, let columns = terminalColumns, columns > 0 {
            width = max(20, columns)
        }
        return TextStyle(color: color, unicode: isTerminal && !dumb && utf8, width: width)
    }
}

extension OutputSink {
    /// The width of the terminal this stream writes to, if it is one that says.
    public var terminalColumns: Int? {
        guard isTerminal, let descriptor = fileDescriptor else { return nil }
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }
}

/// Text laid out in columns.
public enum Columns {
    /// Which of `columns` (each with its width, in order) fit in `width` cells with
    /// `gap` between them, dropping them in `dropOrder` (indices, least useful first)
    /// until the rest fit; the indices kept, in order. Columns not in `dropOrder` stay.
    public static func fit(widths: [Int], gap: Int = 2, width: Int?, dropOrder: [Int]) -> [Int] {
        var kept = Array(widths.indices)
        guard let width else { return kept }
        func total() -> Int { kept.reduce(0) { $0 + widths[$1] } + gap * max(0, kept.count - 1) }
        for index in dropOrder where total() > width {
            kept.removeAll { $0 == index }
        }
        return kept
    }

    /// Visible width of `text`: characters, not counting ANSI escape sequences.
    public static func visibleWidth(_ text: String) -> Int {
        var count = 0
        var inEscape = false
        for scalar in text.unicodeScalars {
            if inEscape {
                if scalar == "m" { inEscape = false }
            } else if scalar == "\u{1B}" {
                inEscape = true
            } else {
                count += 1
            }
        }
        return count
    }
}
