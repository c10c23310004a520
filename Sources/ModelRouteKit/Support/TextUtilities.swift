#if canImport(Glibc)
import Glibc
#endif

// The few text helpers the program needs beyond the standard library. The program
// links only FoundationEssentials, which leaves out printf-style formatting and
// character-set trimming: full Foundation would add about 4 ms to every start.

/// printf-style formatting of numbers (`%.2f`, `%5.1f`, `%d`), as `String(format:)` did;
/// numbers only: a Swift string is not a C string, so `%s` and `%@` are not supported.
public func formatted(_ format: String, _ arguments: CVarArg...) -> String {
    withVaList(arguments) { list in
        var buffer = [CChar](repeating: 0, count: 64)
        let needed = Int(vsnprintf(&buffer, buffer.count, format, list))
        guard needed >= buffer.count else { return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self) }
        buffer = [CChar](repeating: 0, count: needed + 1)
        return withVaList(arguments) { again in
            _ = vsnprintf(&buffer, buffer.count, format, again)
            return String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
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
