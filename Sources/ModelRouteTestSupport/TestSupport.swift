/// Pieces shared by the tests and the benchmarks: a loopback HTTP server that can
/// misbehave on purpose, and deterministic data generators. Never linked into `modelroute`.
public enum TestSupport {}
