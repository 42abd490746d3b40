import Faultline
import FaultlinePG
import Foundation
import Logging
import Synchronization

/// State shared by the workers of one run and read by snapshots.
final class RunShared: Sendable {
    let config: LoadConfig
    let names: [String]
    let math: WindowMath
    let stop = StopFlag()
    let gate: StartGate
    /// Offsets (windows, ledger times) count from here: the moment `run` was called.
    let originNs: Int64
    /// How long the load runs once every worker is connected, ns.
    let limitNs: Int64
    let logger: Logger
    let timeline: Mutex<TimelineState>
    let ackedTotal = Atomic<Int>(0)
    /// Every acknowledged ledger id so far, in ack order, for a read-back while the load still runs
    /// (`LoadGenerator.acknowledgedSoFar`); the workers' own ledgers keep the times.
    let ackedIDs = Mutex<[String]>([])
    let indeterminateTotal = Atomic<Int>(0)
    let ledgerCapped = Atomic<Bool>(false)
    /// Prometheus metrics of the run, when served.
    let metrics: LoadMetrics?
    /// The orders workload's clients' application versions (nil: no orders workload).
    let orderVersions: AppVersionBoard?

    struct TimelineState {
        var builder: TimelineBuilder
        /// Per worker: the window it is filling now; it will never add to an earlier one.
        var watermarks: [Int]
    }

    init(config: LoadConfig, workers: Int, originNs: Int64, limitNs: Int64, logger: Logger, metrics: LoadMetrics? = nil,
         orderVersions: AppVersionBoard? = nil) {
        self.config = config
        self.orderVersions = orderVersions
        self.metrics = metrics
        self.names = config.workloads.map(\.name)
        self.math = WindowMath(length: config.windowLength)
        self.gate = StartGate(parties: workers)
        self.originNs = originNs
        self.limitNs = limitNs
        self.logger = logger
        self.timeline = Mutex(TimelineState(builder: TimelineBuilder(names: names, math: math),
                                            watermarks: Array(repeating: 0, count: workers)))
    }

    /// A worker hands over a finished window and says which window it fills next (`Int.max` when done).
    func flush(workload: Int, worker: Int, window: Int, _ acc: WindowAccumulator, next: Int) {
        timeline.withLock { s in
            s.builder.add(workload: workload, window: window, acc)
            s.watermarks[worker] = next
            s.builder.finalize(below: s.watermarks.min() ?? next)
        }
    }
}

/// Releases all workers together once each has made its first connection attempt, so that the
/// connection set-up time is not counted as latency. Returns the common start (monotonic ns).
/// Waiting suspends the worker's task, not its thread: other clients of the same event loop still arrive.
final class StartGate: Sendable {
    private struct State {
        var arrived = 0
        var start: Int64?
        var waiting: [UnsafeContinuation<Int64, Never>] = []
    }
    private let state = Mutex(State())
    private let parties: Int

    init(parties: Int) { self.parties = parties }

    /// The common start, or nil while some worker is still connecting.
    var startNs: Int64? { state.withLock { $0.start } }

    func arrive() async -> Int64 {
        await withUnsafeContinuation { (c: UnsafeContinuation<Int64, Never>) in
            let release: (Int64, [UnsafeContinuation<Int64, Never>])? = state.withLock { s in
                s.arrived += 1
                s.waiting.append(c)
                guard s.arrived == parties else { return nil }
                let start = monotonicNs()
                s.start = start
                defer { s.waiting = [] }
                return (start, s.waiting)
            }
            if let (start, all) = release { for w in all { w.resume(returning: start) } }
        }
    }
}

/// One client: its own connection, its own histograms; a task on one of the run's event loops (`PollLoop`, shared
/// with other clients when `LoadConfig.jobs` is below the client count). Not thread-safe; after `run(on:)` returns,
/// the generator reads its results.
///
/// A persistent client keeps its connection and reopens it after an error, with backoff (in open loop a request
/// due during the backoff fails at once as `.clientBackoff`). A per-transaction client (`ConnectionPolicy`,
/// pgbench `-C`) opens a connection for every request and closes it afterwards; its latency includes the connect,
/// and a failed connect fails that request only (closed loop then waits the backoff, so as not to spin).
final class Worker: @unchecked Sendable {
    let shared: RunShared
    let workload: Int
    let globalIndex: Int
    let indexInWorkload: Int
    let cfg: WorkloadConfig
    let label: String
    /// Where it connects: the workload's conninfo (orders: with the application's `application_name`).
    let conninfo: String
    /// Opens a new connection for every request (pgbench `-C`).
    let perTransaction: Bool
    private var runner: RequestRunner
    private var conn: PGConnection?
    /// The event loop this client runs on: every wait of its libpq calls and sleeps goes through it.
    private var loop: PollLoop!
    private var backoff: Backoff
    private var nextConnectNs: Int64 = .min
    private var jitter: SplitMix64
    private var t0: Int64 = 0
    /// When the load started (all workers connected), ns after the origin.
    private(set) var startNs: Int64 = 0
    /// The planned end, ns after the origin.
    private(set) var endNs: Int64 = 0
    private var connectFailures = 0
    private var lastError: Outcome?

    // Results.
    private var current = WindowAccumulator()
    private var currentIndex = 0
    private(set) var latency = makeRunHistogram()
    /// How long each successful connect took (the first one before the start included), µs.
    private(set) var connectLatency = makeRunHistogram()
    private(set) var counts = [Int](repeating: 0, count: Outcome.slotCount)
    private(set) var acked: [AckedWrite] = []
    private(set) var indeterminate: [IndeterminateWrite] = []
    private(set) var otherSQLStates: [String: Int] = [:]
    /// Orders: counts of the requests each application version sent.
    private(set) var versionTotals: [AppVersion: WorkloadTotals] = [:]
    private(set) var unsent = 0
    private(set) var lastNs: Int64 = 0

    init(shared: RunShared, workload: Int, indexInWorkload: Int, globalIndex: Int, scale: Int) {
        self.shared = shared
        self.workload = workload
        self.globalIndex = globalIndex
        self.indexInWorkload = indexInWorkload
        self.cfg = shared.config.workloads[workload]
        self.label = "\(cfg.name)#\(indexInWorkload)"
        self.conninfo = cfg.kind == .orders ? OrdersSQL.conninfo(cfg.conninfo) : cfg.conninfo
        self.perTransaction = cfg.connect.connectsPerTransaction(client: indexInWorkload, of: cfg.clients)
        let seed = shared.config.seed &+ UInt64(globalIndex) &* 0x9E37_79B9_7F4A_7C15
        self.runner = RequestRunner(kind: cfg.kind, timeout: shared.config.statementTimeout, runID: shared.config.runID,
                                    worker: indexInWorkload, scale: scale, sql: cfg.sql ?? "", seed: seed,
                                    perTransaction: perTransaction, queryProtocol: cfg.queryProtocol)
        self.backoff = Backoff(policy: shared.config.backoff)
        self.jitter = SplitMix64(seed: seed ^ 0xD1B5_4A32_D192_ED03)
    }

    @inline(__always) private func nowNs() -> Int64 { monotonicNs() - t0 }

    func run(on loop: PollLoop) async {
        self.loop = loop
        // First connection before the common start; a failure here is retried (and counted) in the loop.
        // A per-transaction client holds none between requests.
        if !perTransaction { conn = try? await timedConnect() }
        t0 = shared.originNs
        startNs = max(0, await shared.gate.arrive() - t0)
        endNs = startNs + shared.limitNs
        switch cfg.mode {
        case .closed: await runClosed()
        case .open(let rate, let arrival):
            await runOpen(OpenLoopSchedule(rate: rate, workers: cfg.clients, worker: indexInWorkload, arrival: arrival,
                                           seed: shared.config.seed &+ UInt64(workload)))
        }
        lastNs = nowNs()
        conn?.close()
        conn = nil
        shared.flush(workload: workload, worker: globalIndex, window: currentIndex, current, next: .max)
        current.reset()
    }

    private var mustStop: Bool {
        shared.stop.isSet || (cfg.kind == .ledger && shared.ledgerCapped.load(ordering: .relaxed))
    }

    /// Per transaction (like pgbench -C): connect, run one request measured from `intendedNs`, close. False when
    /// the connect failed (that failure is recorded by `connectForRequest`).
    private func runOnFreshConnection(intendedNs: Int64) async -> Bool {
        guard await connectForRequest() else { return false }
        let result = await runRequest()
        handle(result, startNs: intendedNs, doneNs: nowNs())
        closeAfterRequest()
        return true
    }

    private func runClosed() async {
        while !mustStop {
            let start = nowNs()
            if start >= endNs { break }
            if perTransaction {
                if !(await runOnFreshConnection(intendedNs: start)) {
                    _ = await loop.sleep(untilNs: t0 + min(nextConnectNs, endNs), stop: shared.stop)
                }
                continue
            }
            if !(await ensureConnection(at: start)) {
                // In backoff: wait (bounded by the end) rather than spin.
                _ = await loop.sleep(untilNs: t0 + min(nextConnectNs, endNs), stop: shared.stop)
                continue
            }
            let result = await runRequest()
            handle(result, startNs: start, doneNs: nowNs())
        }
    }

    private func runOpen(_ scheduleIn: OpenLoopSchedule) async {
        var schedule = scheduleIn
        var next = startNs + schedule.next()
        while !mustStop, next < endNs {
            if nowNs() < next {
                if !(await loop.sleep(untilNs: t0 + next, stop: shared.stop)) { break }
                continue
            }
            let now = nowNs()
            if now >= endNs { break }
            if perTransaction {
                _ = await runOnFreshConnection(intendedNs: next)
                next = startNs + schedule.next()
                continue
            }
            if conn == nil, now < nextConnectNs {
                // Reconnect backoff: this request fails at once, as it would in a client's pool; it is not sent.
                record(.clientBackoff, latencyNs: nil, atNs: now)
                next = startNs + schedule.next()
                continue
            }
            if await ensureConnection(at: now) {
                let result = await runRequest()
                handle(result, startNs: next, doneNs: nowNs())
            }
            next = startNs + schedule.next()
        }
        // Requests that were due (intended start passed, before the end) but never sent.
        let cutoff = min(nowNs(), endNs)
        var guardCount = 0
        while next < cutoff, guardCount < 100_000_000 {
            unsent += 1; guardCount += 1
            next = startNs + schedule.next()
        }
    }

    /// One request on the open connection; an orders client first reads its current application version.
    private func runRequest() async -> RequestResult {
        if let board = shared.orderVersions, cfg.kind == .orders { runner.version = board.version(of: indexInWorkload) }
        return await runner.run(on: conn!, via: loop)
    }

    /// Makes sure there is an open connection. On a failed attempt records `.connectionRefused` and arms the backoff.
    /// Returns false without an attempt while the backoff runs.
    private func ensureConnection(at now: Int64) async -> Bool {
        if let c = conn, c.isOpen { return true }
        conn = nil
        if now < nextConnectNs { return false }
        return await connect(logging: "load worker reconnected")
    }

    /// One connection attempt: on success resets the failure count and the backoff; on failure records the
    /// classified outcome and arms the backoff.
    private func connect(logging message: Logger.Message) async -> Bool {
        do {
            conn = try await timedConnect()
            runner.connected()
            if connectFailures > 0 {
                shared.logger.info(message, metadata: ["worker": "\(label)", "failed_attempts": "\(connectFailures)"])
            }
            connectFailures = 0
            backoff.succeed()
            nextConnectNs = .min
            return true
        } catch {
            connectFailed(error)
            return false
        }
    }

    /// Opens a connection and records how long that took.
    private func timedConnect() async throws(PGError) -> PGConnection {
        let t = monotonicNs()
        let c = try await PGConnection.connect(conninfo, connectTimeout: shared.config.connectTimeout, via: loop)
        connectLatency.record(clampMicros((monotonicNs() - t) / 1000))
        return c
    }

    /// Per-transaction clients: opens this request's connection, without waiting for any backoff (the next
    /// request tries again). On failure records the classified outcome and returns false.
    private func connectForRequest() async -> Bool {
        conn = nil
        return await connect(logging: "load worker connects again")
    }

    /// Per-transaction clients close their connection after every request, like `pgbench -C`.
    private func closeAfterRequest() {
        conn?.close()
        conn = nil
    }

    /// Counts a failed connect (classified: full server or refused), arms the backoff and logs the first of a streak.
    private func connectFailed(_ error: PGError) {
        connectFailures += 1
        let wait = backoff.fail(jitter: jitter.unit())
        nextConnectNs = nowNs() + wait.nanoseconds
        if connectFailures == 1 {
            shared.logger.info("load worker cannot connect", metadata: [
                "worker": "\(label)", "error": "\(error)", "per_transaction": "\(perTransaction)"])
        } else {
            shared.logger.debug("load worker connect failed", metadata: [
                "worker": "\(label)", "attempt": "\(connectFailures)", "error": "\(error)"])
        }
        record(ErrorClassifier.outcome(for: error, phase: .connect), latencyNs: nil, atNs: nowNs())
    }

    private func handle(_ r: RequestResult, startNs: Int64, doneNs: Int64) {
        let startMs = Double(startNs) / 1e6, doneMs = Double(doneNs) / 1e6
        switch r.outcome {
        case .ok:
            record(.ok, latencyNs: doneNs - startNs, atNs: doneNs)
            if let id = r.ledgerID {
                acked.append(AckedWrite(id: id, startMs: round3(startMs), ackMs: round3(doneMs), server: r.server ?? "unknown"))
                shared.ackedIDs.withLock { $0.append(id) }
                let total = shared.ackedTotal.add(1, ordering: .relaxed).newValue
                if total >= shared.config.maxLedgerEntries, !shared.ledgerCapped.exchange(true, ordering: .relaxed) {
                    shared.logger.warning("ledger cap reached; ledger workers stop writing", metadata: ["cap": "\(total)"])
                }
            }
        case .indeterminate:
            record(.indeterminate, latencyNs: nil, atNs: doneNs)
            if let id = r.ledgerID {
                indeterminate.append(IndeterminateWrite(id: id, startMs: round3(startMs), giveUpMs: round3(doneMs),
                                                        reason: r.error.map { "\($0)" } ?? "no answer to COMMIT"))
                shared.indeterminateTotal.add(1, ordering: .relaxed)
            }
        default:
            record(r.outcome, latencyNs: nil, atNs: doneNs)
            if r.outcome == .otherSQLState { otherSQLStates[r.error?.sqlState ?? "none", default: 0] += 1 }
        }
        if let v = r.version {
            if r.outcome == .ok { versionTotals[v, default: WorkloadTotals()].ok += 1 } else {
                versionTotals[v, default: WorkloadTotals()].errors[r.outcome, default: 0] += 1
                if r.outcome == .otherSQLState { versionTotals[v, default: WorkloadTotals()].otherSQLStates[r.error?.sqlState ?? "none", default: 0] += 1 }
            }
        }
        if r.outcome != .ok, lastError != r.outcome {
            shared.logger.info("load request failed", metadata: [
                "worker": "\(label)", "outcome": "\(r.outcome.rawValue)", "error": "\(r.error.map { "\($0)" } ?? "")"])
        }
        lastError = r.outcome == .ok ? nil : r.outcome
        if ErrorClassifier.shouldReconnect(after: r.outcome) {
            conn?.close()
            conn = nil
        }
    }

    private func record(_ outcome: Outcome, latencyNs: Int64?, atNs: Int64) {
        let index = shared.math.index(ofNs: atNs)
        if index > currentIndex {
            // Hand the window over and start a fresh one: the timeline keeps the handed-over histogram as it is when
            // it is the window's first, and resetting this one would copy it first (copy on write) and then clear it.
            let finished = current
            current = WindowAccumulator()
            shared.flush(workload: workload, worker: globalIndex, window: currentIndex, finished, next: index)
            currentIndex = index
        }
        counts[outcome.slot] += 1
        shared.metrics?.observe(workload: workload, outcome: outcome, latencyNs: latencyNs)
        if outcome == .ok, let ns = latencyNs {
            let us = clampMicros(ns / 1000)
            current.record(.ok, latencyUs: us)
            latency.record(us)
        } else {
            current.record(outcome, latencyUs: nil)
        }
    }
}

@inline(__always) func round3(_ v: Double) -> Double { (v * 1000).rounded() / 1000 }
