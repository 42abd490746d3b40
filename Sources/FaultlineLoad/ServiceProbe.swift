import Faultline
import FaultlinePG
import Foundation
import Logging

/// Settings of the service probe: a write every `interval` through the write endpoint, with no backoff.
public struct ServiceProbeConfig: Sendable, Equatable {
    /// Time between intended attempts (10 ms...1 s).
    public var interval: Duration
    /// Bounds a connect, so a dead endpoint never stalls the probe long.
    public var connectTimeout: Duration
    /// Client-side deadline of the write (never a server `statement_timeout`: cancelling the wait for the
    /// synchronous standby acknowledges a commit kept on one node).
    public var statementTimeout: Duration
    /// The probe stops, with a note, after this many attempts (keeps memory bounded: ~32 bytes each).
    public var maxAttempts: Int
    /// Open a new connection for every attempt (like a per-transaction client, pgbench `-C`), so that a fault
    /// refusing only new connections is seen; the driver sets it when the write workload connects per transaction.
    public var connectPerAttempt: Bool

    public static let intervals = Duration.milliseconds(10)...Duration.seconds(1)

    public init(interval: Duration = .milliseconds(20), connectTimeout: Duration = .milliseconds(500),
                statementTimeout: Duration = .milliseconds(500), maxAttempts: Int = 200_000, connectPerAttempt: Bool = false) {
        self.interval = min(max(interval, Self.intervals.lowerBound), Self.intervals.upperBound)
        self.connectTimeout = connectTimeout
        self.statementTimeout = statementTimeout
        self.maxAttempts = max(1, maxAttempts)
        self.connectPerAttempt = connectPerAttempt
    }
}

/// When the probe tries next, and whether it drops its connection first. Pure.
public enum ServiceProbeSchedule {
    public struct Step: Sendable, Equatable {
        /// The next attempt's intended start, monotonic ns.
        public var intendedNs: Int64
        /// Drop the connection: the next attempt connects afresh.
        public var reconnect: Bool
    }

    /// The next tick is one interval after the last intended start, whatever the outcome: there is no backoff,
    /// an error only drops the connection (the next tick reconnects). An attempt that ran past the next tick is
    /// followed at once, at its end, without a burst of the ticks it missed.
    public static func next(intendedNs: Int64, endedNs: Int64, outcome: Outcome, intervalNs: Int64) -> Step {
        let tick = intendedNs + intervalNs
        return Step(intendedNs: max(tick, endedNs), reconnect: outcome != .ok && ErrorClassifier.shouldReconnect(after: outcome))
    }
}

/// The service probe: one thread, one connection, a tiny real write (a row of its own in `faultline_ledger`,
/// run id `<run>-probe`: a COMMIT that needs the primary, and under strict synchronous replication the
/// synchronous standby) every `interval`, through the same endpoint as the ledger writes. It never backs off.
/// Every attempt is recorded; `RecoveryAnalysis` reads the service-restored instant from them.
struct ServiceProbe: Sendable {
    let conninfo: String
    let runID: String
    let config: ServiceProbeConfig
    let logger: Logger

    /// Marks the probe's sessions, so that a later attempt can end the ones it abandoned (`cleanup`).
    static let applicationName = "faultline-service-probe"

    static let insert = "INSERT INTO faultline_ledger (run_id, id, worker, seq) VALUES ($1, $2, -1, $3)"

    /// Ends this probe's earlier sessions: one abandoned at its deadline may still wait on the server for the
    /// synchronous standby, and a blocked-writes fault would otherwise pile up one session per attempt until
    /// `max_connections` is reached. A read: it needs no standby.
    static let cleanup = """
        SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
        WHERE application_name = '\(applicationName)' AND usename = current_user AND pid <> pg_backend_pid()
        """

    init(conninfo: String, runID: String, config: ServiceProbeConfig, logger: Logger) {
        self.conninfo = Self.tagged(conninfo)
        self.runID = runID
        self.config = config
        self.logger = logger
    }

    /// `conninfo` with the probe's `application_name` (keyword strings: a later keyword wins; URIs: a parameter).
    static func tagged(_ conninfo: String) -> String {
        let c = conninfo.trimmingCharacters(in: .whitespaces)
        if c.hasPrefix("postgres://") || c.hasPrefix("postgresql://") {
            return c + (c.contains("?") ? "&" : "?") + "application_name=\(applicationName)"
        }
        return c + (c.isEmpty ? "" : " ") + "application_name=\(applicationName)"
    }

    /// Probes from now until `stop`, `limitNs` after `originNs` or `maxAttempts`. Blocking: run it on its own thread.
    /// Times are ms since `originNs` (the load generator's origin).
    func run(originNs: Int64, limitNs: Int64, stop: StopFlag) -> ServiceProbeReport {
        var report = ServiceProbeReport(intervalMs: config.interval.milliseconds, connectTimeoutMs: config.connectTimeout.milliseconds,
                                        statementTimeoutMs: config.statementTimeout.milliseconds)
        if config.connectPerAttempt { report.connectPerAttempt = true }
        var attempts: [ServiceProbeAttempt] = []
        attempts.reserveCapacity(min(config.maxAttempts, 16_384))
        var conn: PGConnection?
        var abandoned = false
        var seq = 0
        var failures = 0
        let intervalNs = config.interval.nanoseconds
        var intended = monotonicNs()
        func ms(_ ns: Int64) -> Double { (Double(ns - originNs) / 1e5).rounded() / 10 }
        while sleep(untilNs: intended, stop: stop) {
            let start = monotonicNs()
            if start - originNs >= limitNs { break }
            if attempts.count >= config.maxAttempts {
                report.notes.append("service probe stopped after \(config.maxAttempts) attempts (its cap)")
                break
            }
            seq += 1
            let (outcome, error) = attempt(&conn, seq: seq, abandoned: &abandoned)
            let end = monotonicNs()
            attempts.append(ServiceProbeAttempt(intendedMs: ms(intended), startMs: ms(start), endMs: ms(end), outcome: outcome))
            if outcome == .ok {
                if failures > 0 {
                    logger.info("service probe write acknowledged again", metadata: ["failed_attempts": "\(failures)"])
                }
                failures = 0
            } else {
                failures += 1
                if failures == 1 {
                    logger.info("service probe write failed", metadata: [
                        "outcome": "\(outcome.rawValue)", "error": "\(error.map { "\($0)" } ?? "")"])
                }
            }
            let step = ServiceProbeSchedule.next(intendedNs: intended, endedNs: end, outcome: outcome, intervalNs: intervalNs)
            if step.reconnect || config.connectPerAttempt { conn?.close(); conn = nil }
            intended = step.intendedNs
        }
        conn?.close()
        report.attempts = attempts
        return report
    }

    /// One attempt: connect if needed, end abandoned sessions if any, write. Returns the outcome and the error.
    private func attempt(_ conn: inout PGConnection?, seq: Int, abandoned: inout Bool) -> (Outcome, PGError?) {
        let c: PGConnection
        if let open = conn, open.isOpen {
            c = open
        } else {
            conn = nil
            do { c = try PGConnection(conninfo, connectTimeout: config.connectTimeout) } catch {
                return (ErrorClassifier.outcome(for: error, phase: .connect), error)
            }
            conn = c
        }
        if abandoned {
            do {
                try c.exec(Self.cleanup, timeout: config.statementTimeout)
                abandoned = false
            } catch {
                return (ErrorClassifier.outcome(for: error, phase: .statement), error)
            }
        }
        do {
            // One statement in autocommit: its answer is the COMMIT's.
            try c.exec(Self.insert, ["\(runID)-probe", "p-\(seq)", String(seq)], timeout: config.statementTimeout)
            return (.ok, nil)
        } catch {
            let outcome = ErrorClassifier.outcome(for: error, phase: .commit)
            if outcome == .indeterminate || outcome == .timeout { abandoned = true }
            return (outcome, error)
        }
    }
}
