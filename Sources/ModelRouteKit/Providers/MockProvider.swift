/// The `mock` provider: no network, no key, the same answer for the same input.
///
/// The answer is `[mock MODEL_ID] ` followed by the prompt's first 64 words
/// (runs of non-white-space) joined by single spaces, with ` …` appended when the
/// prompt has more. Streamed, it arrives one word at a time. Usage is estimated with
/// `TokenEstimator`: input from the system prompt and the prompt, output from the
/// answer, and the record says `usage_estimated: true`.
///
/// A model's `"mock"` setting changes the answer, so that answer checks can be seen at
/// work offline: `empty` answers nothing, `refusal` answers "I'm sorry, but I can't help
/// with that.", `short` answers "Yes.", and `truncated` echoes as usual but reports that
/// the answer stopped at the token limit.
public enum MockProvider {
    /// Words of the prompt echoed back.
    public static let echoedWords = 64
    /// The `refusal` answer.
    public static let refusal = "I'm sorry, but I can't help with that."
    /// The `short` answer.
    public static let short = "Yes."

    /// The pieces the answer streams in; joined, they are the whole answer.
    public static func pieces(for request: ChatRequest, model: String, behaviour: MockBehaviour = .echo) -> [String] {
        switch behaviour {
        case .empty: return []
        case .refusal: return [refusal]
        case .short: return [short]
        case .echo, .truncated: break
        }
        var pieces = ["[mock \(model)]"]
        var count = 0
        for word in request.prompt.split(whereSeparator: { $0.isWhitespace }) {
            if count == echoedWords {
                pieces.append(" …")
                break
            }
            pieces.append(" " + word)
            count += 1
        }
        return pieces
    }

    /// The whole answer.
    public static func answer(for request: ChatRequest, model: String) -> String {
        pieces(for: request, model: model).joined()
    }

    /// Estimated usage for a request and its answer.
    public static func usage(for request: ChatRequest, answer: String) -> TokenUsage {
        TokenUsage(inputTokens: request.estimatedInputTokens, outputTokens: TokenEstimator.estimate(answer), cachedInputTokens: nil)
    }
}
