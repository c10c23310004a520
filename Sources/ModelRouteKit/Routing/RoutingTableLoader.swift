/// Finds, reads and validates routes.json. (Interface fixed; implementation in progress.)
public enum RoutingTableLoader {
    /// Loads the table from the first place found: `explicitPath` (`--routes`),
    /// `$MODELROUTE_ROUTES`, `./routes.json`, `$XDG_CONFIG_HOME/modelroute/routes.json`
    /// (default `~/.config/modelroute/routes.json`), else the embedded default.
    public static func locateAndLoad(explicitPath: String?, environment: [String: String], currentDirectory: String) throws(ConfigError) -> RoutingTable {
        throw ConfigError.invalid(path: "", message: "not implemented", source: "", location: nil)
    }

    /// Parses and validates routes.json text; `source` names it in errors.
    public static func load(json: [UInt8], source: String) throws(ConfigError) -> RoutingTable {
        throw ConfigError.invalid(path: "", message: "not implemented", source: source, location: nil)
    }
}

/// A routing table that cannot be used. Exit 78 (EX_CONFIG).
public enum ConfigError: ModelRouteError, Equatable {
    /// The file named by `--routes` or `$MODELROUTE_ROUTES` cannot be read.
    case unreadable(file: String, reason: String)
    /// The JSON itself is malformed.
    case syntax(source: String, location: SourceLocation, message: String)
    /// A key or value is wrong; `path` is like `rules[2].min_words`.
    case invalid(path: String, message: String, source: String, location: SourceLocation?)

    public var exitCode: ExitCode { .configuration }

    public var message: String {
        switch self {
        case .unreadable(let file, let reason):
            return "cannot read routing table \(file): \(reason)"
        case .syntax(let source, let location, let message):
            return "\(source):\(location.line):\(location.column): JSON syntax error: \(message)"
        case .invalid(let path, let message, let source, let location):
            let place = location.map { "\(source):\($0.line):\($0.column)" } ?? source
            return "\(place): \(path.isEmpty ? "" : path + ": ")\(message)"
        }
    }
}
