import Faultline
import Histogram

/// Latencies are recorded in microseconds, clamped to [1 µs, 1 h].
let maxTrackableMicros: UInt64 = 3_600_000_000

/// A whole-run latency histogram (3 significant digits), one per worker, merged at the end.
public typealias RunHistogram = Histogram<UInt64>
/// A per-window latency histogram (2 significant digits: 1 % precision, small enough to keep many).
public typealias WindowHistogram = Histogram<UInt32>

public func makeRunHistogram() -> RunHistogram {
    RunHistogram(lowestDiscernibleValue: 1, highestTrackableValue: maxTrackableMicros, numberOfSignificantValueDigits: .three)
}

public func makeWindowHistogram() -> WindowHistogram {
    WindowHistogram(lowestDiscernibleValue: 1, highestTrackableValue: maxTrackableMicros, numberOfSignificantValueDigits: .two)
}

@inline(__always) func clampMicros(_ us: Int64) -> UInt64 {
    UInt64(min(max(us, 1), Int64(maxTrackableMicros)))
}

extension Histogram {
    /// p50/p95/p99/p99.9/max summary; nil when empty. `exactMax` (if known) caps the percentiles,
    /// since HdrHistogram reports the top of a value's bucket.
    func summary(exactMax: UInt64? = nil) -> LatencySummary? {
        guard totalCount > 0 else { return nil }
        let top = exactMax ?? maxRecorded
        func p(_ q: Double) -> Int { Int(Swift.min(valueAtPercentile(q), top)) }
        return LatencySummary(count: Int(totalCount), p50Us: p(50), p95Us: p(95), p99Us: p(99), p999Us: p(99.9), maxUs: Int(top))
    }
}

/// Fixed-window arithmetic on offsets from the common start. Pure.
public struct WindowMath: Sendable, Equatable {
    public let lengthNs: Int64
    public init(length: Duration) {
        lengthNs = max(1, length.nanoseconds)
    }
    /// The window holding `offsetNs` (offsets before the start fall in window 0).
    public func index(ofNs offsetNs: Int64) -> Int { offsetNs <= 0 ? 0 : Int(offsetNs / lengthNs) }
    /// Window start in whole ms.
    public func startMs(_ index: Int) -> Int { Int(Int64(index) * lengthNs / 1_000_000) }
    public var lengthMs: Int { Int(lengthNs / 1_000_000) }
    /// How many windows cover `[0, durationNs)`: the last, partial one included.
    public func count(coveringNs durationNs: Int64) -> Int {
        durationNs <= 0 ? 0 : Int((durationNs + lengthNs - 1) / lengthNs)
    }
}

extension Outcome {
    /// Dense index for counting arrays.
    @inline(__always) var slot: Int {
        switch self {
        case .ok: 0
        case .connectionRefused: 1
        case .connectionLost: 2
        case .readOnly: 3
        case .adminShutdown: 4
        case .timeout: 5
        case .otherSQLState: 6
        case .indeterminate: 7
        case .tooManyConnections: 8
        case .clientBackoff: 9
        }
    }
    static let slotCount = 10
}

/// Counts and ok-latencies of one window (or of a whole run) for one workload.
struct WindowAccumulator: Sendable {
    var counts = [Int](repeating: 0, count: Outcome.slotCount)
    var histogram = makeWindowHistogram()
    var maxUs: UInt64 = 0

    var ok: Int { counts[0] }
    var errorCount: Int { counts.dropFirst().reduce(0, +) }
    var isEmpty: Bool { counts.allSatisfy { $0 == 0 } }

    /// Records one request. Latency counts only for `.ok`.
    mutating func record(_ outcome: Outcome, latencyUs: UInt64?) {
        counts[outcome.slot] += 1
        if outcome == .ok, let l = latencyUs {
            histogram.record(l)
            if l > maxUs { maxUs = l }
        }
    }

    mutating func merge(_ other: WindowAccumulator) {
        for i in 0..<Outcome.slotCount { counts[i] += other.counts[i] }
        if other.histogram.totalCount > 0 { histogram.add(other.histogram) }
        maxUs = max(maxUs, other.maxUs)
    }

    mutating func reset() {
        for i in 0..<Outcome.slotCount { counts[i] = 0 }
        if histogram.totalCount > 0 { histogram.reset() }
        maxUs = 0
    }

    var errors: [Outcome: Int] {
        var e: [Outcome: Int] = [:]
        for o in Outcome.allCases where o != .ok && counts[o.slot] > 0 { e[o] = counts[o.slot] }
        return e
    }

    func window(index: Int, math: WindowMath, workload: String) -> TimelineWindow {
        var w = TimelineWindow(startMs: math.startMs(index), lengthMs: math.lengthMs, workload: workload,
                               ok: ok, errors: errors)
        if ok > 0, histogram.totalCount > 0 {
            func p(_ q: Double) -> Int { Int(min(histogram.valueAtPercentile(q), maxUs)) }
            w.p50Us = p(50); w.p95Us = p(95); w.p99Us = p(99); w.maxUs = Int(maxUs)
        }
        return w
    }
}

/// Turns per-worker window flushes into finished `TimelineWindow`s. Not thread-safe; pure (no clock).
///
/// Workers flush a window when they move past it; the caller finalizes windows below the lowest
/// window any worker may still add to. Empty windows are emitted too, so gaps are visible.
struct TimelineBuilder {
    let names: [String]
    let math: WindowMath
    /// Whether to add an "all" window per index (when there is more than one workload).
    let includeAll: Bool
    private var pending: [[Int: WindowAccumulator]]
    private(set) var finalized: [TimelineWindow] = []
    /// First window not yet finalized.
    private(set) var nextIndex = 0
    /// Highest window any flush touched.
    private(set) var maxSeenIndex = -1
    /// Whole-run counts and (2-digit) latencies per workload, for live snapshots.
    private(set) var cumulative: [WindowAccumulator]
    /// (ok, errors) of the most recent finalized windows, all workloads summed; newest last.
    private(set) var recent: [(ok: Int, errors: Int)] = []
    /// The same windows' ok latencies, all workloads merged (one window histogram each), for `recentP99Us`.
    private(set) var recentLatency: [WindowAccumulator] = []
    let recentCapacity: Int
    /// Flushes that arrived for an already finalized window (merged into the next open one). Should stay 0.
    private(set) var lateFlushes = 0

    init(names: [String], math: WindowMath, recentCapacity: Int = 10) {
        self.names = names
        self.math = math
        self.includeAll = names.count > 1
        self.pending = Array(repeating: [:], count: names.count)
        self.cumulative = Array(repeating: WindowAccumulator(), count: names.count)
        self.recentCapacity = recentCapacity
    }

    /// Adds one worker's accumulator for `window` of workload number `workload`.
    mutating func add(workload: Int, window: Int, _ acc: WindowAccumulator) {
        guard !acc.isEmpty else { return }
        var index = window
        if index < nextIndex { lateFlushes += 1; index = nextIndex }
        cumulative[workload].merge(acc)
        // The first flush of a window is kept as it is (no empty histogram made and merged into).
        if pending[workload][index] == nil { pending[workload][index] = acc } else { pending[workload][index]!.merge(acc) }
        maxSeenIndex = max(maxSeenIndex, index)
    }

    /// Finalizes every window below `limit` (capped just past the highest window seen).
    mutating func finalize(below limit: Int) {
        let end = min(limit, maxSeenIndex + 1)
        guard end > nextIndex else { return }
        for index in nextIndex..<end { finalizeOne(index) }
        nextIndex = end
    }

    /// Finalizes everything: at least `windowCount` windows, and every window that holds data.
    mutating func finish(windowCount: Int) {
        let end = max(windowCount, maxSeenIndex + 1)
        if end > nextIndex { for index in nextIndex..<end { finalizeOne(index) } }
        nextIndex = max(nextIndex, end)
    }

    private mutating func finalizeOne(_ index: Int) {
        var all = WindowAccumulator()
        var okSum = 0, errSum = 0
        for w in names.indices {
            let acc = pending[w].removeValue(forKey: index) ?? WindowAccumulator()
            finalized.append(acc.window(index: index, math: math, workload: names[w]))
            okSum += acc.ok; errSum += acc.errorCount
            all.merge(acc)
        }
        if includeAll { finalized.append(all.window(index: index, math: math, workload: "all")) }
        recent.append((okSum, errSum))
        if recent.count > recentCapacity { recent.removeFirst(recent.count - recentCapacity) }
        recentLatency.append(all)
        if recentLatency.count > recentCapacity { recentLatency.removeFirst(recentLatency.count - recentCapacity) }
    }

    /// The p99 of the ok requests of the recent windows (up to `recentCapacity`: 1 s of 100 ms windows), their
    /// histograms merged, µs; nil when none completed in them.
    var recentP99Us: Int? { Self.p99Us(merging: recentLatency) }

    /// The p99 of the ok requests of `windows` together (their histograms merged, capped at their max), µs; nil
    /// when none has one.
    static func p99Us(merging windows: [WindowAccumulator]) -> Int? {
        var all = WindowAccumulator()
        for w in windows { all.merge(w) }
        guard all.histogram.totalCount > 0 else { return nil }
        return Int(min(all.histogram.valueAtPercentile(99), all.maxUs))
    }
}
