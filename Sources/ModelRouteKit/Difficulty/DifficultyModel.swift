import ModelRouteModelData
#if canImport(Glibc)
import Glibc
#endif

/// The learned difficulty score: a logistic model over `DifficultyFeatures`, giving each
/// prompt a number from 0 (a cheap model's task) to 1 (needs a strong model).
///
/// It was trained with easy prompts as 0, medium ones as 0.5 and hard ones as 1, so
/// a score reads as "how hard, on that scale": about 0.5 is medium, and the share of
/// hard prompts rises with the score (`modelroute train` prints the calibration).
///
/// ## The model file (version 1)
/// A short text header, one `key value` per line, then the weights:
/// ```
/// modelroute difficulty model
/// format 1
/// features 1
/// buckets 262144
/// bias -0.1234567
/// scale 0.0000912
/// examples 13250
/// sha256 <hex digest of the weight bytes>
/// weights int16le
/// <buckets × 2 bytes: each weight as a little-endian signed 16-bit integer>
/// ```
/// A weight is its integer times `scale`. `features` is the `DifficultyFeatures.version`
/// it was trained with; `buckets` a power of two from 2^10 to 2^22. Lines starting with
/// `#` are comments. The score of a prompt is
/// `1 / (1 + e^-(bias + Σtext / √n + Σcount))`, each sum adding the weights of the
/// buckets its features hash to.
public final class DifficultyModel: @unchecked Sendable {
    /// Header keys every file must have.
    static let magic = "modelroute difficulty model"
    public static let formatVersion = 1

    /// log2 of the number of buckets.
    public let bits: Int
    public let bias: Double
    public let scale: Double
    /// Prompts it was trained on (informational).
    public let examples: Int
    /// Where it came from, for messages: a path or "built-in".
    public let source: String
    /// The weights: `1 << bits` little-endian Int16 values, owned by this object or
    /// (for the built-in model) static data.
    let weights: UnsafeRawPointer
    private let owned: UnsafeMutableRawPointer?

    var bucketCount: Int { 1 << bits }

    private init(bits: Int, bias: Double, scale: Double, examples: Int, source: String, weights: UnsafeRawPointer, owned: UnsafeMutableRawPointer?) {
        self.bits = bits
        self.bias = bias
        self.scale = scale
        self.examples = examples
        self.source = source
        self.weights = weights
        self.owned = owned
    }

    deinit {
        owned?.deallocate()
    }

    /// A model from trained weights, quantized to 16 bits.
    convenience init(bits: Int, bias: Double, weights floats: [Double], examples: Int, source: String) {
        let largest = floats.reduce(0) { max($0, abs($1)) }
        let scale = largest > 0 ? largest / 32767 : 1
        let storage = UnsafeMutableRawPointer.allocate(byteCount: floats.count * 2, alignment: 16)
        for (index, value) in floats.enumerated() {
            let quantized = Int16(clamping: Int((value / scale).rounded()))
            storage.storeBytes(of: quantized.littleEndian, toByteOffset: index * 2, as: Int16.self)
        }
        self.init(bits: bits, bias: bias, scale: scale, examples: examples, source: source, weights: storage, owned: storage)
    }

    /// The model compiled into modelroute.
    public static let builtIn: DifficultyModel = {
        var length = 0
        let data = modelroute_builtin_difficulty_model(&length)
        guard let data, let model = try? parse(UnsafeRawBufferPointer(start: data, count: length), source: "built-in", verifyChecksum: false, copy: false) else {
            // Only a broken build gets here; a test loads the built-in model and checks its digest.
            fatalError("the built-in difficulty model is damaged; rebuild modelroute")
        }
        return model
    }()

    /// The built-in model's file bytes, for checking its digest.
    static var builtInFileBytes: [UInt8] {
        var length = 0
        guard let data = modelroute_builtin_difficulty_model(&length) else { return [] }
        return Array(UnsafeRawBufferPointer(start: data, count: length))
    }

    /// Reads a model file. Errors name the path and exit 78.
    public static func load(path: String) throws(DifficultyModelError) -> DifficultyModel {
        let bytes: [UInt8]
        do {
            bytes = try FileReader.readAll(path: path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
        let result: Result<DifficultyModel, DifficultyModelError> = bytes.withUnsafeBytes { raw in
            do throws(DifficultyModelError) { return .success(try parse(raw, source: path, verifyChecksum: true, copy: true)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses a model file held in memory; with `copy` false the weights stay where they are.
    static func parse(_ raw: UnsafeRawBufferPointer, source: String, verifyChecksum: Bool, copy: Bool) throws(DifficultyModelError) -> DifficultyModel {
        guard let base = raw.baseAddress else { throw .notAModel(path: source) }
        var fields: [String: String] = [:]
        var position = 0
        var lineNumber = 0
        var sawWeights = false
        while position < raw.count, lineNumber < 64 {
            var end = position
            while end < raw.count, raw[end] != 0x0A { end += 1 }
            guard end < raw.count else { break }
            let line = String(decoding: UnsafeRawBufferPointer(rebasing: raw[position..<end]), as: UTF8.self)
            position = end + 1
            lineNumber += 1
            if lineNumber == 1 {
                guard line == magic else { throw .notAModel(path: source) }
                continue
            }
            if line.hasPrefix("#") { continue }
            if line == "weights int16le" {
                sawWeights = true
                break
            }
            guard let space = line.firstIndex(of: " ") else { throw .corrupt(path: source, reason: "header line \(lineNumber) is not \"key value\"") }
            fields[String(line[..<space])] = String(line[line.index(after: space)...])
        }
        guard lineNumber >= 1 else { throw .notAModel(path: source) }
        guard let formatText = fields["format"], let format = Int(formatText) else { throw .corrupt(path: source, reason: "no \"format\" line") }
        guard format == formatVersion else { throw .unsupportedFormat(path: source, found: format) }
        guard let featuresText = fields["features"], let features = Int(featuresText) else { throw .corrupt(path: source, reason: "no \"features\" line") }
        guard features == DifficultyFeatures.version else { throw .featureVersion(path: source, found: features) }
        guard sawWeights else { throw .corrupt(path: source, reason: "no \"weights int16le\" line") }
        guard let bucketsText = fields["buckets"], let buckets = Int(bucketsText), buckets >= 1 << 10, buckets <= 1 << 22, buckets & (buckets - 1) == 0 else {
            throw .corrupt(path: source, reason: "\"buckets\" must be a power of two from 1024 to 4194304")
        }
        guard let biasText = fields["bias"], let bias = Double(biasText), bias.isFinite, abs(bias) <= 100 else {
            throw .corrupt(path: source, reason: "\"bias\" must be a number from -100 to 100")
        }
        guard let scaleText = fields["scale"], let scale = Double(scaleText), scale.isFinite, scale > 0, scale <= 1 else {
            throw .corrupt(path: source, reason: "\"scale\" must be a number above 0 and at most 1")
        }
        let examples = fields["examples"].flatMap { Int($0) }.map { max(0, $0) } ?? 0
        let byteCount = buckets * 2
        guard raw.count - position == byteCount else {
            throw .corrupt(path: source, reason: "expected \(byteCount) bytes of weights, found \(raw.count - position) (the file is truncated or has extra bytes)")
        }
        let weightBytes = UnsafeRawBufferPointer(rebasing: raw[position...])
        if verifyChecksum {
            guard let expected = fields["sha256"] else { throw .corrupt(path: source, reason: "no \"sha256\" line") }
            var hasher = SHA256()
            hasher.update(weightBytes.bindMemory(to: UInt8.self))
            guard hasher.finalizeHex() == expected else { throw .corrupt(path: source, reason: "the weights do not match their sha256 (the file is damaged)") }
        }
        let bits = Int.bitWidth - 1 - buckets.leadingZeroBitCount
        if copy {
            let storage = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 16)
            storage.copyMemory(from: base + position, byteCount: byteCount)
            return DifficultyModel(bits: bits, bias: bias, scale: scale, examples: examples, source: source, weights: storage, owned: storage)
        }
        return DifficultyModel(bits: bits, bias: bias, scale: scale, examples: examples, source: source, weights: base + position, owned: nil)
    }

    /// The model file's bytes.
    public func fileBytes() -> [UInt8] {
        let weightBytes = UnsafeRawBufferPointer(start: weights, count: bucketCount * 2)
        var hasher = SHA256()
        hasher.update(weightBytes.bindMemory(to: UInt8.self))
        var header = DifficultyModel.magic + "\n"
        header += "# A difficulty model for modelroute; see `modelroute train --help`.\n"
        header += "format \(DifficultyModel.formatVersion)\n"
        header += "features \(DifficultyFeatures.version)\n"
        header += "buckets \(bucketCount)\n"
        header += "bias \(formatted("%.17g", bias))\n"
        header += "scale \(formatted("%.17g", scale))\n"
        header += "examples \(examples)\n"
        header += "sha256 \(hasher.finalizeHex())\n"
        header += "weights int16le\n"
        return Array(header.utf8) + Array(weightBytes)
    }

    /// The score of valid UTF-8 `text`, from 0 to 1.
    public func score(_ text: UnsafeBufferPointer<UInt8>) -> Double {
        var sink = ScoringSink(model: self)
        DifficultyFeatures.extract(text, into: &sink)
        return sink.score(bias: bias, scale: scale)
    }

    /// The score of a string.
    public func score(_ text: String) -> Double {
        var text = text
        return text.withUTF8 { score($0) }
    }

    /// One feature's part in a score, for `--explain`.
    public struct Contribution: Sendable, Equatable {
        /// What the feature is: a word, a word pair, "opens with …", a count bin.
        public var feature: String
        /// What it added to the log-odds (negative: towards easy).
        public var weight: Double
    }

    /// The score and the features that moved it most, largest first.
    public func explain(_ text: String, top: Int = 6) -> (score: Double, contributions: [Contribution]) {
        var text = text
        let sink = text.withUTF8 { utf8 in
            var sink = NamingSink(model: self, text: utf8)
            DifficultyFeatures.extract(utf8, into: &sink)
            return sink
        }
        let textScale = 1 / Double(max(1, sink.textCount)).squareRoot()
        var totals: [String: Double] = [:]
        var order: [String] = []
        for (name, weight, isText) in sink.parts {
            if totals[name] == nil { order.append(name) }
            totals[name, default: 0] += isText ? weight * textScale : weight
        }
        let ranked = order.map { Contribution(feature: $0, weight: totals[$0] ?? 0) }
            .filter { $0.weight != 0 }
            .sorted { abs($0.weight) > abs($1.weight) }
        return (sink.score(bias: bias), Array(ranked.prefix(top)))
    }
}

/// Adds up weights, as integers (exact, in any order), scaled once at the end.
private struct ScoringSink: DifficultyFeatureSink {
    let weights: UnsafeRawPointer
    let shift: UInt64
    var textSum = 0
    var textCount = 0
    var countSum = 0

    init(model: DifficultyModel) {
        weights = model.weights
        shift = UInt64(64 - model.bits)
    }

    @inline(__always)
    func weight(_ hash: UInt64) -> Int {
        Int(Int16(littleEndian: weights.loadUnaligned(fromByteOffset: Int(truncatingIfNeeded: hash >> shift) &* 2, as: Int16.self)))
    }

    @inline(__always)
    mutating func text(_ hash: UInt64, _ kind: TextFeatureKind, _ token: TokenSpan) {
        textSum &+= weight(hash)
        textCount &+= 1
    }

    @inline(__always)
    mutating func count(_ hash: UInt64, _ family: CountFamily, _ bin: Int) {
        countSum &+= weight(hash)
    }

    func score(bias: Double, scale: Double) -> Double {
        let z = bias + scale * (Double(textSum) / Double(max(1, textCount)).squareRoot() + Double(countSum))
        return DifficultyMath.sigmoid(z)
    }
}

/// Adds up weights and names each feature.
private struct NamingSink: DifficultyFeatureSink {
    let model: DifficultyModel
    let text: UnsafeBufferPointer<UInt8>
    var scoring: ScoringSink
    var parts: [(String, Double, Bool)] = []
    /// The current token and the one before it.
    var current = TokenSpan(start: 0, length: 0, kind: .word)
    var previous = TokenSpan(start: 0, length: 0, kind: .word)
    var textCount: Int { scoring.textCount }

    init(model: DifficultyModel, text: UnsafeBufferPointer<UInt8>) {
        self.model = model
        self.text = text
        scoring = ScoringSink(model: model)
    }

    func name(_ span: TokenSpan) -> String {
        switch span.kind {
        case .number: return "#\(span.length)\(span.length == 4 ? "+" : "")"
        case .lineBreak: return "⏎"
        case .word, .symbol:
            guard span.start >= 0, span.start + span.length <= text.count else { return "?" }
            return String(decoding: UnsafeBufferPointer(rebasing: text[span.start..<span.start + span.length]), as: UTF8.self).lowercased()
        }
    }

    mutating func text(_ hash: UInt64, _ kind: TextFeatureKind, _ token: TokenSpan) {
        scoring.text(hash, kind, token)
        let label: String
        switch kind {
        case .word:
            previous = current
            current = token
            label = name(token)
        case .pair: label = name(previous) + " " + name(token)
        case .opening: label = "opens with " + name(token)
        case .openingPair: label = "opens with " + name(previous) + " " + name(token)
        }
        parts.append((label, Double(scoring.weight(hash)) * model.scale, true))
    }

    mutating func count(_ hash: UInt64, _ family: CountFamily, _ bin: Int) {
        scoring.count(hash, family, bin)
        parts.append(("\(family.name) \(bin)", Double(scoring.weight(hash)) * model.scale, false))
    }

    func score(bias: Double) -> Double { scoring.score(bias: bias, scale: model.scale) }
}

/// The logistic function, written once for the scorer and the trainer.
enum DifficultyMath {
    @inline(__always)
    static func sigmoid(_ z: Double) -> Double {
        let clamped = min(max(z, -40), 40)
        return 1 / (1 + exp(-clamped))
    }
}

/// A difficulty model file that cannot be used. Exit 78 (EX_CONFIG), like the table naming it.
public enum DifficultyModelError: ModelRouteError, Equatable {
    case unreadable(path: String, reason: String)
    case notAModel(path: String)
    case unsupportedFormat(path: String, found: Int)
    case featureVersion(path: String, found: Int)
    case corrupt(path: String, reason: String)

    public var exitCode: ExitCode { .configuration }

    public var message: String {
        switch self {
        case .unreadable(let path, let reason):
            return "cannot read difficulty model \(path): \(reason)"
        case .notAModel(let path):
            return "\(path) is not a modelroute difficulty model (its first line must be \"\(DifficultyModel.magic)\"); make one with `modelroute train`"
        case .unsupportedFormat(let path, let found):
            return "\(path): difficulty model format \(found) is not supported (this modelroute reads format \(DifficultyModel.formatVersion)); retrain it with this modelroute's `train`"
        case .featureVersion(let path, let found):
            return "\(path): the model was trained on features version \(found), this modelroute computes version \(DifficultyFeatures.version); retrain it with `modelroute train`"
        case .corrupt(let path, let reason):
            return "\(path): damaged difficulty model: \(reason)"
        }
    }
}
