import ModelRouteKit

/// One option a command accepts. Its help text lives here, next to its definition,
/// so `--help` cannot drift from what the parser takes.
struct OptionSpec: Sendable {
    /// Long name without dashes ("format"); the key under which values are stored.
    let name: String
    /// Optional one-letter alias without the dash ("h").
    let short: Character?
    /// Placeholder for the value ("FORMAT"); nil for a flag that takes none.
    let valueName: String?
    /// One line of help.
    let help: String
    /// Shown as "(default: …)" in help.
    let defaultDescription: String?
    /// Whether the option may be given more than once.
    let repeatable: Bool

    init(_ name: String, short: Character? = nil, value: String? = nil, help: String, default defaultDescription: String? = nil, repeatable: Bool = false) {
        self.name = name
        self.short = short
        self.valueName = value
        self.help = help
        self.defaultDescription = defaultDescription
        self.repeatable = repeatable
    }

    var isFlag: Bool { valueName == nil }
}

/// What a command is, for the parser and for `--help`.
struct CommandSpec: Sendable {
    /// The subcommand's name ("classify"), or "" for the main command.
    let name: String
    /// One sentence for the overview.
    let abstract: String
    /// Usage lines after "modelroute".
    let usage: [String]
    /// Positional arguments with their help.
    let arguments: [(name: String, help: String)]
    /// Options, in the order help lists them; `--help` is added by the parser.
    let options: [OptionSpec]
    /// Paragraphs shown after the options.
    let discussion: String

    static let helpOption = OptionSpec("help", short: "h", help: "Show help for this command.")
    static let colorOption = OptionSpec(
        "color", value: "WHEN",
        help: "Colour for people: auto (a terminal; NO_COLOR turns it off, CLICOLOR_FORCE on), always or never.", default: "auto")

    /// Every option, with the two every command takes.
    var allOptions: [OptionSpec] { options + [CommandSpec.colorOption, CommandSpec.helpOption] }
}

/// The arguments of one invocation, by option name.
struct ParsedArguments: Sendable {
    var flags: Set<String> = []
    var values: [String: [String]] = [:]
    var positionals: [String] = []

    func flag(_ name: String) -> Bool { flags.contains(name) }
    /// The last value given for an option.
    func value(_ name: String) -> String? { values[name]?.last }
    /// Every value given for a repeatable option, in order.
    func allValues(_ name: String) -> [String] { values[name] ?? [] }

    /// The option's value as a whole number within `range`.
    func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw UsageError.invalidValue(option: name, value: text, expected: "a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The option's value as a number within `range`.
    func number(_ name: String, in range: ClosedRange<Double>) throws(UsageError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite, range.contains(number) else {
            throw UsageError.invalidValue(option: name, value: text, expected: "a number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// The option's value, which must be one of `choices`.
    func choice(_ name: String, among choices: [String]) throws(UsageError) -> String? {
        guard let text = value(name) else { return nil }
        guard choices.contains(text) else {
            throw UsageError.invalidValue(
                option: name, value: text,
                expected: "one of " + choices.joined(separator: ", ") + Suggestions.didYouMean(text, among: choices))
        }
        return text
    }
}

/// A command line that cannot be run as written. Exit 64 (EX_USAGE).
enum UsageError: ModelRouteError, Equatable {
    case unknownOption(String, command: String, suggestion: String?)
    case missingValue(option: String)
    case unexpectedValue(option: String)
    case repeated(option: String)
    case invalidValue(option: String, value: String, expected: String)
    case unexpectedArgument(String, command: String)
    case conflicting(String, String)
    case other(String)

    var exitCode: ExitCode { .usage }

    var message: String {
        switch self {
        case .unknownOption(let option, let command, let suggestion):
            let hint = suggestion.map { ". Did you mean '\($0)'?" } ?? "."
            return "unknown option '\(option)'\(hint)\nRun 'modelroute\(command.isEmpty ? "" : " " + command) --help' for the options."
        case .missingValue(let option):
            return "option '--\(option)' needs a value, as in '--\(option) VALUE' or '--\(option)=VALUE'."
        case .unexpectedValue(let option):
            return "option '--\(option)' is a flag and takes no value."
        case .repeated(let option):
            return "option '--\(option)' was given more than once."
        case .invalidValue(let option, let value, let expected):
            return "invalid value '\(value)' for '--\(option)': expected \(expected)."
        case .unexpectedArgument(let argument, let command):
            return "unexpected argument '\(argument)'.\nRun 'modelroute\(command.isEmpty ? "" : " " + command) --help' for usage."
        case .conflicting(let first, let second):
            return "'\(first)' and '\(second)' cannot be used together."
        case .other(let text):
            return text
        }
    }
}

/// Parses arguments the way swift-argument-parser does: `--name value`,
/// `--name=value`, `-h`, and `--` ending options. Options may come before or after
/// positional arguments.
enum ArgumentParser {
    static func parse(_ arguments: [String], for spec: CommandSpec, allowsPositionals: Bool = true) throws(UsageError) -> ParsedArguments {
        var result = ParsedArguments()
        let options = spec.allOptions
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || argument == "-" || !argument.hasPrefix("-") || isNegativeNumber(argument) {
                guard allowsPositionals else { throw .unexpectedArgument(argument, command: spec.name) }
                result.positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            let option: OptionSpec
            var inlineValue: String?
            if argument.hasPrefix("--") {
                let body = argument.dropFirst(2)
                let name: Substring
                if let equals = body.firstIndex(of: "=") {
                    name = body[..<equals]
                    inlineValue = String(body[body.index(after: equals)...])
                } else {
                    name = body
                }
                guard let found = options.first(where: { $0.name == name }) else {
                    let suggestion = Suggestions.closest(to: String(name), among: options.map(\.name)).map { "--" + $0 }
                    throw .unknownOption("--" + name, command: spec.name, suggestion: suggestion)
                }
                option = found
            } else {
                let letter = argument.dropFirst()
                guard letter.count == 1, let found = options.first(where: { $0.short == letter.first }) else {
                    let suggestion = Suggestions.closest(to: String(letter), among: options.map(\.name)).map { "--" + $0 }
                    throw .unknownOption(argument, command: spec.name, suggestion: suggestion)
                }
                option = found
            }
            if option.isFlag {
                if inlineValue != nil { throw .unexpectedValue(option: option.name) }
                result.flags.insert(option.name)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else { throw .missingValue(option: option.name) }
                value = arguments[index]
                index += 1
            }
            if !option.repeatable, result.values[option.name] != nil { throw .repeated(option: option.name) }
            result.values[option.name, default: []].append(value)
        }
        return result
    }

    private static func isNegativeNumber(_ argument: String) -> Bool {
        argument.count > 1 && argument.dropFirst().allSatisfy { $0.isNumber || $0 == "." }
    }
}

/// Renders `--help` as USAGE, ARGUMENTS, OPTIONS with aligned columns.
enum HelpFormatter {
    /// The help of `spec`, its lines wrapped to `width` columns.
    static func render(_ spec: CommandSpec, width: Int = 80) -> String {
        let width = max(40, width)
        var text = "OVERVIEW: " + Text.wrap(spec.abstract, width: width, first: "", indent: 2, firstWidth: width - 10) + "\n\n"
        text += "USAGE:"
        for line in spec.usage {
            // Broken between options, never inside a bracketed group.
            text += "\n" + Text.wrap(words: bracketedWords(line), width: width, first: "  modelroute ", indent: 6)
        }
        text += "\n"
        if !spec.arguments.isEmpty {
            text += "\nARGUMENTS:\n"
            let nameWidth = spec.arguments.map(\.name.count).max() ?? 0
            for argument in spec.arguments {
                let lead = "  " + pad(argument.name, nameWidth) + "  "
                text += Text.wrap(argument.help, width: width, first: lead, indent: lead.count) + "\n"
            }
        }
        text += "\nOPTIONS:\n"
        let labels = spec.allOptions.map { option -> String in
            var label = option.short.map { "-\($0), " } ?? "    "
            label += "--\(option.name)"
            if let valueName = option.valueName { label += " \(valueName)" }
            return label
        }
        // The help column starts after the labels, but never leaves it less than 30 columns.
        let labelWidth = min(labels.map(\.count).max() ?? 0, 30, max(8, width - 34))
        for (option, label) in zip(spec.allOptions, labels) {
            var help = option.help
            if let defaultDescription = option.defaultDescription { help += " (default: \(defaultDescription))" }
            if option.repeatable { help += " (repeatable)" }
            let indent = 4 + labelWidth
            if label.count > labelWidth {
                text += "  \(label)\n" + Text.wrap(help, width: width, first: String(repeating: " ", count: indent), indent: indent) + "\n"
            } else {
                text += Text.wrap(help, width: width, first: "  " + pad(label, labelWidth) + "  ", indent: indent) + "\n"
            }
        }
        if !spec.discussion.isEmpty {
            text += "\n" + reflow(spec.discussion, width: width) + "\n"
        }
        return text
    }

    /// The words of a usage line: split at spaces outside brackets.
    static func bracketedWords(_ line: String) -> [String] {
        var words: [String] = []
        var word = ""
        var depth = 0
        for character in line {
            if character == "[" { depth += 1 }
            if character == "]" { depth = max(0, depth - 1) }
            if character == " " && depth == 0 {
                if !word.isEmpty { words.append(word) }
                word = ""
            } else {
                word.append(character)
            }
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    /// Discussion text re-wrapped: lines of a paragraph are joined, while a blank line, an
    /// indented line or a "- " item starts a new one (items hang under their text).
    static func reflow(_ text: String, width: Int) -> String {
        var blocks: [(lead: String, body: String, hang: Int)] = []
        var output: [String] = []
        func flush() {
            for block in blocks { output.append(Text.wrap(block.body, width: width, first: block.lead, indent: block.lead.count + block.hang)) }
            blocks.removeAll()
        }
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let body = line.drop { $0 == " " }
            if body.isEmpty {
                flush()
                output.append("")
                continue
            }
            let lead = String(repeating: " ", count: line.count - body.count)
            let item = body.hasPrefix("- ") || body.hasPrefix("* ")
            if !lead.isEmpty, !item, blocks.last.map({ lead.count != $0.lead.count + $0.hang || $0.hang == 0 }) ?? true {
                // An indented line (an example command) stays as written.
                flush()
                output.append(String(line))
                continue
            }
            if let last = blocks.last, lead.isEmpty, last.lead.isEmpty || last.hang > 0, !item {
                blocks[blocks.count - 1].body += " " + body
            } else if let last = blocks.last, !item, lead.count == last.lead.count + last.hang, last.hang > 0 {
                blocks[blocks.count - 1].body += " " + body
            } else {
                blocks.append((lead, String(body), item ? 2 : 0))
            }
        }
        flush()
        return output.joined(separator: "\n")
    }


    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

/// The man page (`modelroute help --man`, roff for `man -l`), from the same specs as `--help`.
enum ManPage {
    static func render() -> String {
        func escape(_ text: String) -> String {
            var lines: [String] = []
            for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
                var escaped = String(line).replacing("\\", with: "\\e").replacing("-", with: "\\-")
                if escaped.hasPrefix(".") || escaped.hasPrefix("'") { escaped = "\\&" + escaped }
                lines.append(escaped)
            }
            return lines.joined(separator: "\n")
        }
        func options(_ spec: CommandSpec) -> String {
            var text = ""
            for option in spec.allOptions {
                var label = "\\fB\\-\\-\(escape(option.name))\\fR"
                if let short = option.short { label = "\\fB\\-\(short)\\fR, " + label }
                if let value = option.valueName { label += " \\fI\(value)\\fR" }
                var help = option.help
                if let defaultDescription = option.defaultDescription { help += " (default: \(defaultDescription))" }
                text += ".TP\n\(label)\n\(escape(help))\n"
            }
            return text
        }
        var text = ".TH MODELROUTE 1 \"\" \"modelroute \(ModelRouteCommand.version)\" \"User Commands\"\n"
        text += ".SH NAME\nmodelroute \\- \(escape(RouteCommand.spec.abstract))\n"
        text += ".SH SYNOPSIS\n" + RouteCommand.spec.usage.map { ".B modelroute\n\(escape($0))\n.br\n" }.joined()
        text += ".SH DESCRIPTION\n" + escape(RouteCommand.spec.discussion).replacing("\n\n", with: "\n.PP\n") + "\n"
        text += ".SH OPTIONS\n" + options(RouteCommand.spec)
        text += ".SH COMMANDS\n"
        for command in ModelRouteCommand.subcommands {
            let spec = command.spec
            text += ".SS \(spec.name)\n\(escape(spec.abstract))\n.PP\n" + spec.usage.map { ".B modelroute\n\(escape($0))\n.br\n" }.joined()
            if !spec.discussion.isEmpty { text += ".PP\n" + escape(spec.discussion).replacing("\n\n", with: "\n.PP\n") + "\n" }
            text += options(spec)
        }
        text += ".SH EXIT STATUS\n0 answered; 1 the log could not be written; 64 bad command line; 65 bad data; 66 no input; "
        text += "69 the provider failed; 74 output could not be written; 75 try again later; 78 bad configuration; 130 interrupted.\n"
        text += ".SH ENVIRONMENT\nMODELROUTE_ROUTES, MODELROUTE_LOG, MODELROUTE_TIER, MODELROUTE_OFFLINE, MODELROUTE_HTTP_CLIENT, XDG_CONFIG_HOME, XDG_STATE_HOME, XDG_CACHE_HOME, TZ, NO_COLOR, and the API key and Redis password variables the routing table names.\n"
        return text
    }
}
