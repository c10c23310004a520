import Foundation
import Testing
import ModelRouteTestSupport
import ModelRouteKit
@testable import modelroute

@Suite struct CommandLineTests {
    @Test func unknownOptionSuggestsTheClosestAndExits64() async {
        let result = await runCLI(["classify", "--forma", "csv"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("unknown option '--forma'. Did you mean '--format'?"))
        #expect(result.stdout.isEmpty)
    }

    @Test func optionsTakeValuesWithSpaceOrEquals() throws {
        let spaced = try ArgumentParser.parse(["--format", "csv", "a.jsonl"], for: ClassifyCommand.spec)
        let joined = try ArgumentParser.parse(["--format=csv", "a.jsonl"], for: ClassifyCommand.spec)
        #expect(spaced.value("format") == "csv")
        #expect(joined.value("format") == "csv")
        #expect(joined.positionals == ["a.jsonl"])
        let ended = try ArgumentParser.parse(["--", "--format"], for: ClassifyCommand.spec)
        #expect(ended.positionals == ["--format"])
    }

    @Test func badValuesAndMissingValuesAreUsageErrors() async {
        #expect(await runCLI(["classify", "--format", "xml"]).stderr.contains("expected one of table, jsonl, csv"))
        #expect(await runCLI(["classify", "--format"]).status == 64)
        #expect(await runCLI(["classify", "--lines=yes"]).stderr.contains("is a flag and takes no value"))
    }

    @Test func everyCommandHasHelp() async {
        for command in [[], ["classify"], ["check"], ["report"]] {
            let result = await runCLI(command + ["--help"])
            #expect(result.status == 0)
            #expect(result.stdout.contains("USAGE:"))
            #expect(result.stdout.contains("OPTIONS:"))
        }
        #expect(await runCLI(["help", "classify"]).stdout.contains("modelroute classify"))
    }

    @Test func versionPrintsTheVersion() async {
        let result = await runCLI(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "modelroute \(ModelRouteCommand.version)\n")
    }

    @Test func checkPrintsTheCompiledTableWithoutSecretValues() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let result = await runCLI(["check", "--routes", routes], environment: ["OPENAI_API_KEY": "sk-secret-value-123"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("key: $OPENAI_API_KEY (set)"))
        #expect(result.stdout.contains("key: $ANTHROPIC_API_KEY (not set)"))
        #expect(result.stdout.contains("Rules (tried in order"))
        #expect(result.stdout.contains("otherwise → mid"))
        #expect(!result.stdout.contains("sk-secret-value-123"))
    }

    @Test func anInvalidTableExits78WithItsLocation() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let routes = try directory.write("routes.json", tableJSON(rules: #"{"route": "fast", "min_word": 3}"#))
        let result = await runCLI(["check", "--routes", routes])
        #expect(result.status == 78)
        #expect(result.stderr.contains("routes.json:"))
        #expect(result.stderr.contains("rules[0].min_word"))
        #expect(result.stderr.contains("did you mean \"min_words\"?"))
    }

    @Test func dryRunPrintsTheDecisionAndTheCostWithoutANetworkCall() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let result = await runCLI(["--dry-run", "--routes", routes, "Convert", "this", "list", "to", "JSON:", "apples,", "pears"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("route: fast"))
        #expect(result.stdout.contains("rule: easy"))
        #expect(result.stdout.contains("difficulty: 0."))
        #expect(result.stdout.contains("estimated input cost:"))
        let explained = await runCLI(["--dry-run", "--explain", "--routes", routes], stdin: "Convert this list to JSON: apples, pears")
        #expect(explained.stdout.contains("- free-tier"))
        #expect(explained.stdout.contains("- hard -> power: difficulty 0."))
        #expect(explained.stdout.contains("+ easy -> fast: difficulty 0."))
        #expect(explained.stdout.contains("moved most by: "))
    }

    /// A mistyped command is not sent as a paid prompt; ordinary one-word prompts still are prompts.
    @Test func aFirstArgumentCloseToACommandIsRefusedNotSent() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        for (typed, meant) in [("reprot", "report"), ("clasify", "classify"), ("chekc", "check"), ("trian", "train"), ("evl", "eval")] {
            let result = await runCLI([typed, "--routes", routes, "--offline", "--log", "/nonexistent/usage.jsonl"])
            #expect(result.status == 64, "\(typed)")
            #expect(result.stderr == "modelroute: '\(typed)' is not a command: did you mean '\(meant)'? (use -- to send it as a prompt)\n")
            #expect(result.stdout.isEmpty)
        }
        let withFile = await runCLI(["clasify", "f.jsonl"])
        #expect(withFile.status == 64 && withFile.stderr.contains("did you mean 'classify'?"))
        for prompt in ["hello", "hi", "thanks", "summarize", "classification", "explain"] {
            let result = await runCLI(["--dry-run", "--routes", routes, prompt])
            #expect(result.status == 0 && result.stdout.hasPrefix("route: "), "\(prompt)")
            let first = await runCLI([prompt, "--dry-run", "--routes", routes])
            #expect(first.status == 0 && first.stdout.hasPrefix("route: "), "\(prompt) as the first argument")
        }
        let forced = await runCLI(["--", "reprot"], environment: ["MODELROUTE_ROUTES": routes])
        #expect(forced.status != 64, "after --, a word is a prompt")
    }

    /// `git diff | modelroute "Write a commit message"`: the words, a blank line, then standard input.
    @Test func wordsAndPipedInputAreOnePrompt() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let dry = await runCLI(["--dry-run", "--explain", "--routes", routes, "Write", "a", "commit", "message"], stdin: "+ added a line\n")
        #expect(dry.status == 0)
        // 22 characters of words, 2 line breaks, 14 of standard input (its last line break dropped).
        #expect(dry.stdout.contains("38 chars"))
        #expect(dry.stdout.contains("prompt parts: the words (22 chars), a blank line, standard input (14 chars, ~4 tokens)"))
        let call = await runCLI(["--offline", "--log", "/dev/null", "Say"], stdin: "hello there\n\n")
        #expect(call.stdout == "[mock gpt-4.1-mini] Say hello there\n")
        let wordsOnly = await runCLI(["--dry-run", "--explain", "--routes", routes, "just", "words"], stdin: "")
        #expect(!wordsOnly.stdout.contains("prompt parts"))
        let stdinOnly = await runCLI(["--dry-run", "--routes", routes], stdin: "only piped\n")
        #expect(stdinOnly.stdout.contains("10 chars"))
        let notUTF8 = await runCLIBytes(["--dry-run", "--routes", routes, "words"], stdin: [0x61, 0xFF])
        #expect(notUTF8 == 65)
    }

    /// In the built executable, words with standard input on /dev/null (a cron job, a
    /// service) are the whole prompt: nothing waits on a terminal or a device.
    @Test func wordsWithStandardInputOnDevNullAreTheWholePrompt() throws {
        let binary = try #require(builtProduct("modelroute"))
        let (process, output, _) = pipedProcess(binary, ["--dry-run", "--explain", "hello", "world"], environment: ["HOME": "/nonexistent", "PATH": "/usr/bin:/bin"])
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("prompt: 2 words, 11 chars") && !text.contains("prompt parts"))
    }

    @Test func initWritesTheBuiltInTableOnceAndCheckSaysWhereTheTableComesFrom() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        let environment = ["XDG_CONFIG_HOME": directory.path + "/config", "HOME": directory.path]
        let path = directory.path + "/config/modelroute/routes.json"
        let first = await runCLI(["init"], environment: environment, directory: directory.path)
        #expect(first.status == 0 && first.stdout.contains(path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == EmbeddedRoutes.json)
        let permissions = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        try "{}".write(toFile: path, atomically: true, encoding: .utf8)
        let again = await runCLI(["init"], environment: environment, directory: directory.path)
        #expect(again.status == 64 && again.stderr.contains("already exists; add --force"))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{}", "not overwritten")
        #expect(await runCLI(["init", "--force"], environment: environment, directory: directory.path).status == 0)
        let check = await runCLI(["check"], environment: environment, directory: directory.path)
        #expect(check.stdout.hasPrefix("Table in use: \(path) (your config file)"))
        let local = try directory.write("project/modelroute.json", tableJSON(rules: ""))
        let inProject = await runCLI(["check"], environment: environment, directory: directory.path + "/project")
        #expect(inProject.stdout.hasPrefix("Table in use: \(local) (./modelroute.json in the current directory)"))
        let builtIn = await runCLI(["check"], environment: [:], directory: "/")
        #expect(builtIn.stdout.hasPrefix("Table in use: the built-in default"))
    }

    @Test func helpListsEveryCommandAndRefusesAnUnknownOne() async {
        let help = await runCLI(["--help"])
        #expect(help.status == 0 && help.stdout.contains("COMMANDS:"))
        for name in ModelRouteCommand.subcommands.map({ $0.spec.name }) { #expect(help.stdout.contains("\n  \(name) "), "\(name)") }
        let bogus = await runCLI(["help", "reprot"])
        #expect(bogus.status == 64 && bogus.stderr.contains("there is no command 'reprot'; did you mean \"report\"?"))
        #expect(await runCLI(["help", "log"]).stdout.contains("modelroute log"))
        #expect(await runCLI(["-V"]).stdout == "modelroute \(ModelRouteCommand.version)\n")
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let short = await runCLI(["-m", "gpt-4.1", "-r", "mid", "-s", "be brief", "--dry-run", "--routes", routes, "hi"])
        #expect(short.status == 0 && short.stdout.hasPrefix("route: mid\nmodel: gpt-4.1\n"))
    }

    @Test func anEmptyPromptExits66InADryRunAsInACall() async {
        #expect(await runCLI(["--dry-run", ""]).status == 66)
        let blank = await runCLI(["--dry-run"], stdin: " \n\t\n")
        #expect(blank.status == 66 && blank.stderr.contains("the prompt is empty"))
        #expect(await runCLI(["--offline", "--log", "/nonexistent/x.jsonl", "  "]).status == 66)
    }

    @Test func dryRunReadsTheTierFromTheFlagOrTheEnvironment() async throws {
        let routes = repositoryRoot.appendingPathComponent("routes.json").path
        let prompt = "Design a system for payments"
        #expect(await runCLI(["--dry-run", "--routes", routes, "--tier", "free", prompt]).stdout.contains("rule: free-tier"))
        #expect(await runCLI(["--dry-run", "--routes", routes, prompt], environment: ["MODELROUTE_TIER": "free"]).stdout.contains("rule: free-tier"))
        #expect(await runCLI(["--dry-run", "--routes", routes, prompt]).stdout.contains("rule: deep-work"))
    }

    @Test func invalidUTF8OnStandardInputExits65() async throws {
        let stdout = OutputSink.memory()
        let stderr = OutputSink.memory()
        let context = CommandContext(
            stdout: stdout, stderr: stderr, stdin: .memory([0x61, 0xFF, 0x62]), environment: [:],
            currentDirectory: "/", now: { Date() }, timeZone: TimeZone(identifier: "UTC") ?? .current)
        let status = await ModelRouteCommand.run(arguments: ["--dry-run"], context: context)
        #expect(status == 65)
        #expect(stderr.captured.contains("not valid UTF-8 (first bad byte at offset 1)"))
    }

    @Test func theExampleScriptRunsAgainstTheBuiltCommand() throws {
        let binary = try #require(builtProduct("modelroute"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [repositoryRoot.appendingPathComponent("Examples/dry-run-pipeline.sh").path]
        process.environment = ["MODELROUTE": binary, "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"]
        process.currentDirectoryURL = FileManager.default.temporaryDirectory
        process.standardInput = FileHandle.nullDevice
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("saves"))
    }
}

/// The path of a product built next to the test runner (`.build/debug/NAME`), if present.
func builtProduct(_ name: String) -> String? {
    let candidate = MeasuredProcess.productsDirectory + "/" + name
    return FileManager.default.isExecutableFile(atPath: candidate) ? candidate : nil
}

/// Runs the command in-process with raw bytes on standard input; returns the exit status.
func runCLIBytes(_ arguments: [String], stdin: [UInt8]) async -> Int32 {
    let context = CommandContext(
        stdout: .memory(), stderr: .memory(), stdin: .memory(stdin), environment: [:], currentDirectory: "/",
        now: { Date() }, timeZone: TimeZone(identifier: "UTC") ?? .current)
    return await ModelRouteCommand.run(arguments: arguments, context: context)
}

/// Completion scripts and the man page come from the same specs as `--help`.
@Suite struct CompletionTests {
    func shell(_ name: String) -> String? {
        ["/usr/bin/\(name)", "/bin/\(name)"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    @Test func everyShellsScriptParsesAndNamesEveryCommandAndOption() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.cleanUp() }
        for name in ["bash", "zsh", "fish"] {
            let result = await runCLI(["completions", name], environment: [:], directory: "/")
            #expect(result.status == 0, "\(name)")
            for command in ModelRouteCommand.subcommands { #expect(result.stdout.contains(command.spec.name), "\(name): \(command.spec.name)") }
            for option in ["--format", "--include-offline", "--classifier", "--against", "--misroutes"] { #expect(result.stdout.contains(option.dropFirst(2)), "\(name): \(option)") }
            #expect(result.stdout.contains("fast") && result.stdout.contains("claude-sonnet-4-5"), "route and model names of the table")
            let script = try directory.write("completion.\(name)", result.stdout)
            // Syntax-checked by the shell itself where it is installed (.ci/run installs them).
            guard let path = shell(name) else { continue }
            let check = Process()
            check.executableURL = URL(fileURLWithPath: path)
            check.arguments = name == "fish" ? ["--no-execute", script] : ["-n", script]
            check.standardInput = FileHandle.nullDevice
            try check.run()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0, "\(name) -n failed")
        }
        #expect(await runCLI(["completions", "tcsh"]).status == 64)
    }

    @Test func theManPageIsRoffWithEveryCommand() async {
        let page = await runCLI(["help", "--man"])
        #expect(page.status == 0 && page.stdout.hasPrefix(".TH MODELROUTE 1"))
        for command in ModelRouteCommand.subcommands { #expect(page.stdout.contains(".SS \(command.spec.name)\n")) }
        #expect(page.stdout.contains("\\fB\\-\\-dry\\-run\\fR"))
    }
}
