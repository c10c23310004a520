import Testing
@testable import ModelRouteKit

@Suite struct SHA256Tests {
    @Test func matchesTheStandardTestVectors() {
        #expect(SHA256.hexDigest(of: "") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hexDigest(of: "abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(
            SHA256.hexDigest(of: "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(
            SHA256.hexDigest(of: String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func hashesTheUTF8OfNonASCIIPrompts() {
        // python3 -c 'import hashlib;print(hashlib.sha256("héllo 世界".encode()).hexdigest())'
        #expect(SHA256.hexDigest(of: "héllo 世界") == SHA256.hexDigest(of: Array("héllo 世界".utf8)))
        #expect(SHA256.hexDigest(of: "héllo 世界") == "41fdd4962650507e535fde55a87df81f9d8a7e12e5663ac3012caaa20432f621")
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let bytes = Array((0..<1000).map { UInt8(truncatingIfNeeded: $0 * 7) })
        for split in [0, 1, 55, 56, 63, 64, 65, 127, 128, 999] {
            var hasher = SHA256()
            bytes.withUnsafeBufferPointer { buffer in
                hasher.update(UnsafeBufferPointer(rebasing: buffer[0..<split]))
                hasher.update(UnsafeBufferPointer(rebasing: buffer[split...]))
            }
            #expect(hasher.finalizeHex() == SHA256.hexDigest(of: bytes), "split at \(split)")
        }
    }
}
