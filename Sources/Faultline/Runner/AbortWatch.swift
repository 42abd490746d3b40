/// One reading of what the abort conditions look at; nil fields were not read (or cannot be, here).
public struct SafetySample: Sendable, Equatable {
    /// The load's error ratio over its last second; nil when nothing completed in it.
    public var errorRate: Double?
    /// The p99 of acknowledged requests over the last second, microseconds.
    public var p99Us: Int?
    /// Acknowledged writes missing on the current primary, when read.
    public var lostWrites: Int?
    /// Each member's free share of its data volume.
    public var diskFree: [String: Double]?
    /// Each replica's lag behind the primary, bytes.
    public var lagBytes: [String: Int64]?

    public init(errorRate: Double? = nil, p99Us: Int? = nil, lostWrites: Int? = nil, diskFree: [String: Double]? = nil,
                lagBytes: [String: Int64]? = nil) {
        self.errorRate = errorRate
        self.p99Us = p99Us
        self.lostWrites = lostWrites
        self.diskFree = diskFree
        self.lagBytes = lagBytes
    }
}

/// Which abort condition held, when, and what was seen.
public struct AbortTrigger: Sendable, Equatable {
    public var condition: AbortCondition
    /// ms on the watch's own clock (the runner's: since the run started).
    public var atMs: Int
    /// What was seen: "93 % of requests failed (held 60 s)".
    public var evidence: String

    public var reason: String { "\(condition): \(evidence)" }
}

/// The abort conditions, evaluated on successive samples: a condition with a duration must hold on every sample
/// for that long (from the first sample that showed it), the others abort on the first sample that shows them.
/// Pure: the runner's watcher feeds it samples with their times.
public struct AbortWatch: Sendable, Equatable {
    public let conditions: [AbortCondition]
    /// Since when (ms) each sustained condition has held without a break.
    private var heldSince: [AbortCondition: Int] = [:]

    public init(_ conditions: [AbortCondition]) { self.conditions = conditions }

    /// Whether any condition needs the lost-writes read (it costs a query over every acknowledged id).
    public var readsLostWrites: Bool { conditions.contains { $0.metric == "lost-writes" } }
    public var readsDiskFree: Bool { conditions.contains { $0.metric == "disk-free" } }
    public var readsLag: Bool { conditions.contains { $0.metric == "replication-lag" } }

    /// The first condition that now aborts the run, or nil.
    public mutating func observe(_ s: SafetySample, atMs now: Int) -> AbortTrigger? {
        for c in conditions {
            guard let seen = Self.violation(c, s) else {
                heldSince[c] = nil
                continue
            }
            let since = heldSince[c] ?? now
            heldSince[c] = since
            let held = now - since
            if held >= c.sustained.milliseconds {
                let tail = c.sustained > .zero ? " (held \(DurationText.human(ms: held)))" : ""
                return AbortTrigger(condition: c, atMs: now, evidence: seen + tail)
            }
        }
        return nil
    }

    /// What in `s` breaks `c`, or nil when it holds or was not read. A sustained condition that was not read in a
    /// sample (nothing completed) is not broken by it: an outage with no answers at all is a 100 % error rate only
    /// when requests failed, which the load counts.
    static func violation(_ c: AbortCondition, _ s: SafetySample) -> String? {
        switch c {
        case .errorRate(let bound, _):
            guard let r = s.errorRate, r > bound else { return nil }
            return "\(percent(r)) of requests failed"
        case .p99(let bound, _):
            guard let us = s.p99Us, us > bound.milliseconds * 1_000 else { return nil }
            return "p99 \(DurationText.human(ms: us / 1_000))"
        case .lostWrites(let bound):
            guard let n = s.lostWrites, n > bound else { return nil }
            return "\(n) acknowledged write\(n == 1 ? "" : "s") missing on the current primary"
        case .diskFree(let bound):
            guard let (m, f) = s.diskFree?.filter({ $0.value < bound }).min(by: { $0.value < $1.value }) else { return nil }
            return "\(m)'s data volume \(percent(f)) free"
        case .replicationLag(let bound):
            guard let (m, b) = s.lagBytes?.filter({ $0.value > bound }).max(by: { $0.value < $1.value }) else { return nil }
            return "\(m) \(b >> 20) MiB behind"
        }
    }
}
