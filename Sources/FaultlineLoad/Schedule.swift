import Foundation

/// A small, fast, seedable random generator (SplitMix64). The system generator costs a syscall per call.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Intended start times of one worker in open loop, as offsets from the common start.
///
/// The workload rate is split evenly over its workers. Uniform arrivals: worker `i` of `n` at rate `r`
/// starts request `k` at `(i + k·n) / r` seconds, so the workers interleave into one even stream.
/// Poisson arrivals: exponential gaps with mean `n / r` per worker, which merge into a Poisson stream of rate `r`.
/// Pure: no clock, no I/O.
public struct OpenLoopSchedule: Sendable {
    public let rate: Double
    public let workers: Int
    public let worker: Int
    public let arrival: Arrival
    private var k: Int64 = 0
    private var lastNs: Double = 0
    private var rng: SplitMix64

    public init(rate: Double, workers: Int, worker: Int, arrival: Arrival = .uniform, seed: UInt64 = 0) {
        precondition(rate > 0 && workers > 0 && (0..<workers).contains(worker))
        self.rate = rate
        self.workers = workers
        self.worker = worker
        self.arrival = arrival
        self.rng = SplitMix64(seed: seed &+ UInt64(worker) &* 0x2545_F491_4F6C_DD1D)
    }

    /// How many intended starts have been handed out.
    public var issued: Int64 { k }

    /// The next intended start, as nanoseconds after the common start.
    public mutating func next() -> Int64 {
        defer { k += 1 }
        switch arrival {
        case .uniform:
            return Int64(((Double(worker) + Double(k) * Double(workers)) * 1e9 / rate).rounded())
        case .poisson:
            let perWorker = rate / Double(workers)
            // 1 - u is in (0, 1], so log never sees 0.
            lastNs += -log(1 - rng.unit()) / perWorker * 1e9
            return Int64(lastNs.rounded())
        }
    }
}

/// Reconnect backoff state: doubles from `initial` up to `maximum`, with ±20 % jitter. Pure.
public struct Backoff: Sendable {
    public let policy: BackoffPolicy
    /// Consecutive failed attempts.
    public private(set) var failures = 0

    public init(policy: BackoffPolicy) { self.policy = policy }

    /// Records a failed attempt; returns how long to wait before the next one. `jitter` is in [0, 1).
    public mutating func fail(jitter: Double) -> Duration {
        failures += 1
        let base = policy.initial.seconds * pow(2, Double(min(failures - 1, 30)))
        let capped = min(base, policy.maximum.seconds)
        return .nanoseconds(Int64(capped * (0.8 + 0.4 * jitter) * 1e9))
    }

    /// Records a successful attempt.
    public mutating func succeed() { failures = 0 }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (saturating).
    var nanoseconds: Int64 {
        let (s, a) = components
        let (m, o) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if o { return s < 0 ? .min : .max }
        return m &+ a / 1_000_000_000
    }
}
