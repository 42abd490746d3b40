/// What one request saw. Shared by the load generator (which produces it) and the assertions (which judge it).
public enum Outcome: String, Codable, Sendable, CaseIterable, Comparable {
    /// Acknowledged: for a write, COMMIT returned OK.
    case ok
    /// No connection could be made (refused, unreachable, connect timeout).
    case connectionRefused = "connection_refused"
    /// The server answered the connect but had no free connection slot (SQLSTATE 53300: "too many clients",
    /// "remaining connection slots are reserved", PgBouncer's max_client_conn): reachable but full.
    case tooManyConnections = "too_many_connections"
    /// Not sent: the client was still waiting out its reconnect backoff after a failed connect, so the
    /// request failed at once, as it would in a pool that fails fast. A consequence of the earlier failed
    /// attempt (counted itself), not a new answer from the server; error budgets count these apart.
    case clientBackoff = "client_backoff"
    /// The connection broke before the request was sent or answered (not during COMMIT).
    case connectionLost = "connection_lost"
    /// SQLSTATE 25006: the server is read-only (a replica, or a demoted primary).
    case readOnly = "read_only"
    /// SQLSTATE 57P01 and kin: the server is shutting the session down.
    case adminShutdown = "admin_shutdown"
    /// No answer within the client deadline (not during COMMIT).
    case timeout
    /// Any other server error.
    case otherSQLState = "other_sqlstate"
    /// COMMIT was sent and no answer came: the write may or may not have been kept.
    case indeterminate

    public var isError: Bool { self != .ok }

    /// Whether the request reached the point of asking the server (or the network): every outcome but
    /// `.clientBackoff`, which the client failed without trying.
    public var wasAttempted: Bool { self != .clientBackoff }

    public static func < (a: Outcome, b: Outcome) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// One fixed window of the load timeline. Offsets are milliseconds since the load started.
public struct TimelineWindow: Codable, Sendable, Equatable {
    /// Window start, ms since the load started.
    public var startMs: Int
    /// Window length in ms (100 by default).
    public var lengthMs: Int
    /// The workload this window belongs to ("ledger-writes", "replica-reads", ...), or "all".
    public var workload: String
    public var ok: Int
    /// Error counts by outcome; `.ok` never appears here.
    public var errors: [Outcome: Int]
    /// Latency of acknowledged requests in this window, microseconds; nil when `ok` is 0.
    public var p50Us: Int?
    public var p95Us: Int?
    public var p99Us: Int?
    public var maxUs: Int?

    public init(startMs: Int, lengthMs: Int = 100, workload: String, ok: Int = 0, errors: [Outcome: Int] = [:],
                p50Us: Int? = nil, p95Us: Int? = nil, p99Us: Int? = nil, maxUs: Int? = nil) {
        self.startMs = startMs
        self.lengthMs = lengthMs
        self.workload = workload
        self.ok = ok
        self.errors = errors
        self.p50Us = p50Us
        self.p95Us = p95Us
        self.p99Us = p99Us
        self.maxUs = maxUs
    }

    public var errorCount: Int { errors.values.reduce(0, +) }
    public var total: Int { ok + errorCount }
}

/// One write whose COMMIT returned OK. The ledger holds only these (plus indeterminate ones, apart).
public struct AckedWrite: Codable, Sendable, Equatable, Hashable {
    /// Unique write id, "<worker>-<seq>" (for example "w3-1042").
    public var id: String
    /// Intended start of the request, ms since the load started.
    public var startMs: Double
    /// When COMMIT returned OK, ms since the load started.
    public var ackMs: Double
    /// Which server answered: `inet_server_addr()` plus the timeline, e.g. "10.77.0.11/tl2".
    public var server: String

    public init(id: String, startMs: Double, ackMs: Double, server: String) {
        self.id = id
        self.startMs = startMs
        self.ackMs = ackMs
        self.server = server
    }
}

/// A write whose COMMIT was sent but got no answer. Never called lost or safe.
public struct IndeterminateWrite: Codable, Sendable, Equatable, Hashable {
    public var id: String
    public var startMs: Double
    /// When the client gave up, ms since the load started.
    public var giveUpMs: Double
    public var reason: String

    public init(id: String, startMs: Double, giveUpMs: Double, reason: String) {
        self.id = id
        self.startMs = startMs
        self.giveUpMs = giveUpMs
        self.reason = reason
    }
}

/// Everything the load generator saw in one run.
public struct LoadObservations: Codable, Sendable, Equatable {
    /// Windows per workload, in time order.
    public var windows: [TimelineWindow]
    public var acked: [AckedWrite]
    public var indeterminate: [IndeterminateWrite]
    /// Whole-run latency percentiles per workload, microseconds.
    public var latency: [String: LatencySummary]

    /// The run id the ledger rows carry (`faultline_ledger.run_id`); nil when no ledger workload ran.
    public var runID: String?
    /// When the last worker stopped, ms since the load generator was started (the offsets' origin).
    public var durationMs: Double?
    /// When the workers started sending (all had made their first connection attempt), ms since the origin.
    public var loadStartMs: Double?
    /// Whole-run counts per workload.
    public var totals: [String: WorkloadTotals]
    /// Anything the reader must know to interpret the run (for example "ledger capped at N writes").
    public var notes: [String]
    /// The service probe's attempts (a write every few ms with no backoff, beside a write workload); nil when
    /// no probe ran (no write workload, a fake load, or a report written before the probe existed).
    public var probe: ServiceProbeReport?
    /// The wall clock at the offsets' origin, ISO 8601 UTC with milliseconds ("2026-11-25T10:00:00.123Z"), so that
    /// an instant on the load's time axis can be compared with an outside clock; nil in older reports.
    public var originWallClock: String?
    /// Orders workloads: counts per application version ("v1", ...) of the requests each version sent, so a report
    /// can say which version failed (connect failures and backoff, which no version's SQL caused, are left out);
    /// nil when no orders workload ran (and in older reports).
    public var versions: [String: WorkloadTotals]?
    /// How long the successful connects took per workload, microseconds (persistent clients connect once, plus
    /// reconnects; per-transaction clients once a request); nil in older reports and fakes.
    public var connectLatency: [String: LatencySummary]?

    public init(windows: [TimelineWindow] = [], acked: [AckedWrite] = [], indeterminate: [IndeterminateWrite] = [],
                latency: [String: LatencySummary] = [:], runID: String? = nil, durationMs: Double? = nil,
                totals: [String: WorkloadTotals] = [:], notes: [String] = [], loadStartMs: Double? = nil) {
        self.windows = windows
        self.acked = acked
        self.indeterminate = indeterminate
        self.latency = latency
        self.runID = runID
        self.durationMs = durationMs
        self.loadStartMs = loadStartMs
        self.totals = totals
        self.notes = notes
    }

    private enum CodingKeys: String, CodingKey {
        case windows, acked, indeterminate, latency, runID, durationMs, loadStartMs, totals, notes, probe, originWallClock, versions, connectLatency
    }

    /// Decodes older documents too: the fields added after the first version are optional on input.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        windows = try c.decode([TimelineWindow].self, forKey: .windows)
        acked = try c.decode([AckedWrite].self, forKey: .acked)
        indeterminate = try c.decode([IndeterminateWrite].self, forKey: .indeterminate)
        latency = try c.decode([String: LatencySummary].self, forKey: .latency)
        runID = try c.decodeIfPresent(String.self, forKey: .runID)
        durationMs = try c.decodeIfPresent(Double.self, forKey: .durationMs)
        loadStartMs = try c.decodeIfPresent(Double.self, forKey: .loadStartMs)
        totals = try c.decodeIfPresent([String: WorkloadTotals].self, forKey: .totals) ?? [:]
        notes = try c.decodeIfPresent([String].self, forKey: .notes) ?? []
        probe = try c.decodeIfPresent(ServiceProbeReport.self, forKey: .probe)
        originWallClock = try c.decodeIfPresent(String.self, forKey: .originWallClock)
        versions = try c.decodeIfPresent([String: WorkloadTotals].self, forKey: .versions)
        connectLatency = try c.decodeIfPresent([String: LatencySummary].self, forKey: .connectLatency)
    }
}

/// Whole-run counts of one workload.
public struct WorkloadTotals: Codable, Sendable, Equatable {
    public var ok: Int
    /// Error counts by outcome; `.ok` never appears here.
    public var errors: [Outcome: Int]
    /// Open loop only: requests whose intended start passed before the end but that were never sent
    /// because the worker was still behind schedule. Not errors, not latencies: a sign of overload.
    public var unsent: Int
    /// SQLSTATE -> count for the errors classified `.otherSQLState`.
    public var otherSQLStates: [String: Int]

    public init(ok: Int = 0, errors: [Outcome: Int] = [:], unsent: Int = 0, otherSQLStates: [String: Int] = [:]) {
        self.ok = ok
        self.errors = errors
        self.unsent = unsent
        self.otherSQLStates = otherSQLStates
    }

    public var errorCount: Int { errors.values.reduce(0, +) }
}

extension LoadObservations {
    /// How long the workers were sending, seconds (`durationMs - loadStartMs`); nil if unknown.
    public var loadSeconds: Double? {
        guard let d = durationMs else { return nil }
        return max(0, d - (loadStartMs ?? 0)) / 1000
    }
}

/// Outcome keys encode as JSON object keys (`{"read_only": 3}`) rather than a flat array.
extension Outcome: CodingKeyRepresentable {}

/// Latency percentiles in microseconds, with the count they were computed from.
public struct LatencySummary: Codable, Sendable, Equatable {
    public var count: Int
    public var p50Us: Int
    public var p95Us: Int
    public var p99Us: Int
    public var p999Us: Int
    public var maxUs: Int

    public init(count: Int, p50Us: Int, p95Us: Int, p99Us: Int, p999Us: Int, maxUs: Int) {
        self.count = count
        self.p50Us = p50Us
        self.p95Us = p95Us
        self.p99Us = p99Us
        self.p999Us = p999Us
        self.maxUs = maxUs
    }
}

extension LoadObservations {
    /// `originWallClock` in ms since the Unix epoch; nil when absent or not of the form "2026-11-25T10:00:00.123Z".
    public var originEpochMs: Double? { originWallClock.flatMap(EpochTime.milliseconds(iso:)) }
}

/// ISO 8601 UTC times ("2026-11-25T10:00:00.123Z", "2026-11-25 10:00:00.123456+00") to ms since the Unix epoch
/// and back, without Foundation's formatters (pure: the core reads no clock). Only UTC ("Z", "+00", "+00:00").
public enum EpochTime {
    public static func milliseconds(iso text: String) -> Double? {
        let s = Array(text.utf8)
        func num(_ r: Range<Int>) -> Int? {
            guard r.upperBound <= s.count else { return nil }
            var v = 0
            for c in s[r] { guard c >= 48, c <= 57 else { return nil }; v = v * 10 + Int(c - 48) }
            return v
        }
        guard s.count >= 19, let y = num(0..<4), let mo = num(5..<7), let d = num(8..<10), let h = num(11..<13),
              let mi = num(14..<16), let se = num(17..<19), s[4] == 45, s[7] == 45, s[10] == 84 || s[10] == 32,
              (1...12).contains(mo), (1...31).contains(d), h < 24, mi < 60, se < 61 else { return nil }
        var i = 19
        var frac = 0.0
        if i < s.count, s[i] == 46 {
            i += 1
            var scale = 0.1
            while i < s.count, s[i] >= 48, s[i] <= 57 { frac += Double(s[i] - 48) * scale; scale /= 10; i += 1 }
        }
        let zone = String(decoding: s[i...], as: UTF8.self)
        guard ["Z", "+00", "+00:00", "+0000", ""].contains(zone) else { return nil }
        let days = daysFromCivil(y, mo, d)
        let seconds = Double(days * 86_400 + h * 3600 + mi * 60 + se) + frac
        return seconds * 1000
    }

    /// "2026-11-25T10:00:00.123456Z" (microseconds) for `ms` since the Unix epoch.
    public static func iso(milliseconds ms: Double) -> String {
        let micros = Int64((ms * 1000).rounded())
        let secs = Int(micros >= 0 ? micros / 1_000_000 : (micros - 999_999) / 1_000_000)
        let us = Int(micros - Int64(secs) * 1_000_000)
        let days = secs >= 0 ? secs / 86_400 : (secs - 86_399) / 86_400
        let rem = secs - days * 86_400
        let (y, m, d) = civilFromDays(days)
        func p(_ v: Int, _ w: Int) -> String { let t = String(v); return String(repeating: "0", count: max(0, w - t.count)) + t }
        return "\(p(y, 4))-\(p(m, 2))-\(p(d, 2))T\(p(rem / 3600, 2)):\(p(rem % 3600 / 60, 2)):\(p(rem % 60, 2)).\(p(us, 6))Z"
    }

    /// Howard Hinnant's days_from_civil.
    static func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
