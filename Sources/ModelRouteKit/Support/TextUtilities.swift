#if canImport(Glibc)
import Glibc
#endif

// The few text helpers the program needs beyond the standard library. The program
// links only FoundationEssentials, which leaves out printf-style formatting and
// character-set trimming: full Foundation would add about 4 ms to every start.

/// printf-style formatting of numbers (`%.2f`, `%5.1f`, `%d`), as `String(format:)` did;
/// numbers only: a Swift string is not a C string, so `%s` and `%@` are not supported.
public func formatted(_ format: String, _ arguments: CVarArg...) -> String {
    var capacity = 64
    while true {
        var buffer = [CChar](repeating: 0, count: capacity)
        let needed = Int(withVaList(arguments) { vsnprintf(&buffer, capacity, format, $0) })
        guard needed >= capacity else { return String(decoding: buffer.prefix(max(needed, 0)).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        capacity = needed + 1
    }
}

extension StringProtocol {
    /// The text without leading and trailing white space (Unicode `White_Space`, line breaks included).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(String.UnicodeScalarView(scalars[first...last]))
    }
}
