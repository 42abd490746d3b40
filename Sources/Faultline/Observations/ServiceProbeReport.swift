/// What the service probe saw: one tiny real write through the write endpoint every `intervalMs`, with no
/// reconnect backoff (after an error it reconnects on the next tick, with short deadlines). Its first
/// acknowledged write after an outage is when the service was restored, whatever the workload's clients were
/// still waiting out (docs/rto.md). Times are ms since the load generator's origin, like the ledger's.
public struct ServiceProbeReport: Codable, Sendable, Equatable {
    /// Time between intended attempts, ms.
    public var intervalMs: Int
    /// The client deadline of a connect, ms.
    public var connectTimeoutMs: Int
    /// The client deadline of the write, ms (client side only: a server `statement_timeout` would cancel the wait
    /// for the synchronous standby and acknowledge a commit kept on one node).
    public var statementTimeoutMs: Int
    /// True when every attempt opened a new connection (the write workload connects per transaction); nil: it kept
    /// its connection between successful attempts.
    public var connectPerAttempt: Bool?
    /// Every attempt, in order.
    public var attempts: [ServiceProbeAttempt]
    /// Anything the reader must know (the probe stopped at its attempt cap, ...).
    public var notes: [String]

    public init(intervalMs: Int, connectTimeoutMs: Int, statementTimeoutMs: Int, attempts: [ServiceProbeAttempt] = [],
                notes: [String] = []) {
        self.intervalMs = intervalMs
        self.connectTimeoutMs = connectTimeoutMs
        self.statementTimeoutMs = statementTimeoutMs
        self.attempts = attempts
        self.notes = notes
    }

    /// The largest delay of an attempt's start past its intended time, ms (a slow attempt delays the next one).
    public var maxLateMs: Double { attempts.map { $0.startMs - $0.intendedMs }.max() ?? 0 }
}

/// One attempt of the service probe. Encoded compactly, as `[intendedMs, startMs, endMs, "outcome"]`: a run of
/// 30 minutes at 20 ms holds 90,000 of them.
public struct ServiceProbeAttempt: Codable, Sendable, Equatable {
    /// When the attempt was due, ms since the load's origin.
    public var intendedMs: Double
    /// When it started (a connect first, if the last attempt failed).
    public var startMs: Double
    /// When the write was acknowledged, or the attempt failed.
    public var endMs: Double
    /// `.ok`: the COMMIT was acknowledged; any other: the error class (`.connectionRefused`, `.readOnly`, ...).
    public var outcome: Outcome

    public init(intendedMs: Double, startMs: Double, endMs: Double, outcome: Outcome) {
        self.intendedMs = intendedMs
        self.startMs = startMs
        self.endMs = endMs
        self.outcome = outcome
    }

    public var ok: Bool { outcome == .ok }

    public init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        intendedMs = try c.decode(Double.self)
        startMs = try c.decode(Double.self)
        endMs = try c.decode(Double.self)
        outcome = try c.decode(Outcome.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.unkeyedContainer()
        try c.encode(intendedMs)
        try c.encode(startMs)
        try c.encode(endMs)
        try c.encode(outcome)
    }
}

extension ServiceProbeReport {
    /// The probe's view of an outage after `injectedAtMs` (ms since load start): when its first error after the
    /// injection ended, and its first acknowledged write after that error which starts a sustained run: no probe
    /// error ends within `sustainMs` of that ack, and the probe's data reaches that far (an ack at or after the
    /// end of the run, or the next error after it). With no error after the injection, restored is the injection
    /// itself (0) when an acknowledged write came after it. Offsets returned are ms since the injection.
    public func recovery(after injectedAtMs: Int, sustainMs: Int) -> (outageStartMs: Int?, restoredMs: Int?) {
        let t0 = Double(injectedAtMs)
        let after = attempts.filter { $0.endMs >= t0 }
        func since(_ ms: Double) -> Int { max(0, Int(ms.rounded(.up)) - injectedAtMs) }
        guard let firstBad = after.firstIndex(where: { !$0.ok }) else {
            return (nil, after.contains(where: \.ok) ? 0 : nil)
        }
        let outage = since(after[firstBad].endMs)
        var i = firstBad + 1
        while i < after.count {
            guard after[i].ok else { i += 1; continue }
            let ack = after[i].endMs, runEnd = ack + Double(sustainMs)
            if let j = after[(i + 1)...].firstIndex(where: { !$0.ok }) {
                if after[j].endMs >= runEnd { return (outage, since(ack)) }
                i = j + 1
                continue
            }
            // No error after this ack: sustained when the probe's data reaches the end of the run.
            return (outage, (after.last?.endMs ?? ack) >= runEnd ? since(ack) : nil)
        }
        return (outage, nil)
    }

    /// The first acknowledged probe write at or after `ms` (ms since load start), as its ack instant.
    public func firstAck(atOrAfter ms: Int) -> Double? {
        attempts.first { $0.ok && $0.endMs >= Double(ms) }?.endMs
    }

    /// How many attempts failed after `ms` (ms since load start).
    public func errors(after ms: Int) -> Int {
        attempts.reduce(0) { $0 + (!$1.ok && $1.endMs >= Double(ms) ? 1 : 0) }
    }
}
