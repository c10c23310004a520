#if canImport(Glibc)
import Glibc
#endif
import Foundation
import ModelRouteKit

/// Runs a program the way a shell would and measures it: wall time and peak memory
/// (from wait4's rusage), for benchmarks that compare whole processes.
public enum MeasuredProcess {
    /// What one run cost.
    public struct Measurement: Sendable {
        public var seconds: Double
        /// Peak resident set size in KiB.
        public var maxResidentKiB: Int
        public var status: Int32
    }

    /// Spawns `path` with `arguments`, standard input from `stdinPath` (or /dev/null) and
    /// standard output to `stdoutPath` (or /dev/null), and waits for it.
    public static func run(
        _ path: String, _ arguments: [String], stdinPath: String? = nil, stdoutPath: String? = nil, stderrPath: String? = nil,
        environment: [String: String]? = nil
    ) throws -> Measurement {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath ?? "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if let stderrPath { posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environmentPairs = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { environmentPairs.forEach { free($0) } }
        var pid: pid_t = 0
        let start = MonotonicClock.now()
        let result = posix_spawn(&pid, path, &actions, nil, argv, environmentPairs)
        guard result == 0 else { throw BenchmarkFailure("cannot start \(path): \(String(cString: strerror(result)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw BenchmarkFailure("wait4 failed: \(String(cString: strerror(errno)))") }
        }
        let seconds = MonotonicClock.now() - start
        let exitStatus: Int32 = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return Measurement(seconds: seconds, maxResidentKiB: Int(usage.ru_maxrss), status: exitStatus)
    }

    /// Several runs of one command: the median wall time and the largest peak memory.
    public struct Repeated: Sendable {
        public var seconds: Double
        public var peakKiB: Int
        public var peakMB: Double { Double(peakKiB) / 1024 }
    }

    /// Runs a command `runs` times (standard output to `stdoutPath` or /dev/null); a
    /// non-zero exit is an error.
    public static func repeated(runs: Int, _ path: String, _ arguments: [String], stdoutPath: String? = nil) throws -> Repeated {
        try interleaved(runs: runs, [(path, arguments)], stdoutPath: stdoutPath)[0]
    }

    /// Runs several commands `runs` times each, taking turns (one run of each per round),
    /// so that a busy spell on a shared machine slows all of them alike rather than
    /// whichever happened to be running; a non-zero exit is an error.
    public static func interleaved(runs: Int, _ commands: [(path: String, arguments: [String])], stdoutPath: String? = nil) throws -> [Repeated] {
        var times = Array(repeating: [Double](), count: commands.count)
        var peaks = Array(repeating: 0, count: commands.count)
        for _ in 0..<runs {
            for (index, command) in commands.enumerated() {
                let result = try run(command.path, command.arguments, stdoutPath: stdoutPath)
                guard result.status == 0 else {
                    throw BenchmarkFailure("\(command.path) \(command.arguments.joined(separator: " ")) exited \(result.status)")
                }
                times[index].append(result.seconds)
                peaks[index] = max(peaks[index], result.maxResidentKiB)
            }
        }
        return commands.indices.map { Repeated(seconds: median(times[$0]), peakKiB: peaks[$0]) }
    }

    /// The median of some numbers (the mean of the middle two for an even count).
    public static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }

    /// The directory holding the running benchmark binary, where its sibling products are
    /// (absolute, so it stays right after a change of working directory).
    public static var productsDirectory: String {
        if let directory = RunningProgram.directory { return directory }
        return URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent().path
    }
}

/// A benchmark that could not run, with the reason.
public struct BenchmarkFailure: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
