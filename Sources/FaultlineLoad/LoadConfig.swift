import Faultline
import FaultlinePG

/// The kinds of work a worker can do.
public enum WorkloadKind: String, Sendable, Codable, CaseIterable {
    /// BEGIN / INSERT a unique id into `faultline_ledger` / COMMIT; acknowledged ids go to the ledger.
    case ledger
    /// Primary-key reads of `faultline_ledger`, meant for a read-only endpoint.
    case reads
    /// pgbench's built-in tpcb-like transaction against the `pgbench_*` tables (`pgbench -i`).
    case tpcb
    /// The SQL of a file, sent as one simple-protocol request.
    case custom
    /// The demo orders application (`OrdersSQL`): inserts, reads by id, status updates and a customer's newest
    /// orders, in the SQL of each client's application version; sessions named `faultline-app`.
    case orders
    /// Session state across transactions (`SessionState.swift`): each client sets a session variable once per
    /// connection and reads it back in every later transaction; another client's value or none is an error. It
    /// needs one server session per client (direct, or PgBouncer in session mode); transaction pooling breaks it.
    case session

    /// The name used in timelines and summaries.
    public var defaultName: String {
        switch self {
        case .ledger: "ledger-writes"
        case .reads: "replica-reads"
        case .tpcb: "tpcb"
        case .custom: "custom"
        case .orders: "orders"
        case .session: "session-state"
        }
    }
}

/// How intended start times are spaced in open loop.
public enum Arrival: String, Sendable, Codable, CaseIterable {
    /// Evenly spaced (wrk2 style).
    case uniform
    /// Exponential gaps, a Poisson process (pgbench `-R` style). Seeded, so reproducible.
    case poisson
}

/// Closed loop: each client sends its next request when the last one finished (max throughput).
/// Open loop: requests start at fixed intended times; latency counts from the intended start.
public enum LoadMode: Sendable, Equatable, Codable {
    case closed
    /// `rate` is requests per second for the whole workload, spread over its clients.
    case open(rate: Double, arrival: Arrival)
}

/// One workload: what to run, where, with how many clients.
public struct WorkloadConfig: Sendable, Equatable {
    public var kind: WorkloadKind
    /// libpq connection string (keywords or URI). Printed only through `ConnInfo.masked`.
    public var conninfo: String
    public var clients: Int
    public var mode: LoadMode
    /// The SQL for `.custom`.
    public var sql: String?
    /// Name in timelines and summaries; defaults to `kind.defaultName`.
    public var name: String
    /// Which clients connect per transaction (pgbench `-C`) and which keep their connection.
    public var connect: ConnectionPolicy
    /// `.orders`: the application version every client starts with (`LoadGenerator.switchWorkload` changes it).
    public var appVersion: AppVersion
    /// How its statements go to the server (pgbench `-M`): simple (default), extended or prepared.
    public var queryProtocol: QueryProtocol

    public init(kind: WorkloadKind, conninfo: String, clients: Int = 4, mode: LoadMode = .closed,
                sql: String? = nil, name: String? = nil, connect: ConnectionPolicy = .persistent, appVersion: AppVersion = .v1,
                queryProtocol: QueryProtocol = .simple) {
        self.appVersion = appVersion
        self.queryProtocol = queryProtocol
        self.kind = kind
        self.conninfo = conninfo
        self.clients = clients
        self.mode = mode
        self.sql = sql
        self.name = name ?? kind.defaultName
        self.connect = connect
    }
}

/// Hard limits: every loop and every wait in the generator is bounded by these.
public enum LoadLimits {
    public static let clients = 1...256
    /// Event loops (threads) of a run (`LoadConfig.jobs`).
    public static let jobs = 1...256
    public static let rate = 0.1...100_000.0
    public static let duration = Duration.milliseconds(100)...Duration.seconds(4 * 3600)
    public static let timeout = Duration.milliseconds(100)...Duration.seconds(120)
    public static let windowLength = Duration.milliseconds(10)...Duration.seconds(60)
    public static let maxLedgerEntries = 1...50_000_000
    public static let customSQLBytes = 1...1_000_000
}

/// A configuration problem, worded as what is wrong and how to fix it.
public struct LoadConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Bounded exponential backoff for reconnects.
public struct BackoffPolicy: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public init(initial: Duration = .milliseconds(50), maximum: Duration = .seconds(1)) {
        self.initial = initial
        self.maximum = maximum
    }
}

/// Everything a `LoadGenerator` needs.
public struct LoadConfig: Sendable {
    public var workloads: [WorkloadConfig]
    /// Bounds each connection attempt.
    public var connectTimeout: Duration = .seconds(3)
    /// Client-side deadline per statement; on expiry the connection is closed and the request is a timeout
    /// (or indeterminate, if it was the COMMIT).
    public var statementTimeout: Duration = .seconds(5)
    public var windowLength: Duration = .milliseconds(100)
    public var backoff = BackoffPolicy()
    /// Upper bound of any run, even one stopped by hand.
    public var maxDuration: Duration = .seconds(3600)
    /// Ledger workers stop writing when this many writes are acknowledged (keeps memory bounded).
    public var maxLedgerEntries = 5_000_000
    /// Tags the ledger rows of this run. Letters, digits, '-' and '_' only.
    public var runID: String
    /// Seeds workers' random numbers (TPC-B ids, Poisson gaps, backoff jitter).
    public var seed: UInt64
    /// While running, serve Prometheus metrics on `http://HOST:PORT/metrics` (IPv4); nil: no metrics (see Metrics.swift).
    public var metricsListen: String?
    /// Event loops (threads) that serve the clients of all workloads, as `pgbench -j`: client i runs on loop i % jobs,
    /// and each loop waits for all its clients in one `ppoll`. nil: `LoadConfig.defaultJobs` (one per CPU core, at
    /// most one per client). Equal to the client count: a thread per client.
    public var jobs: Int?

    /// One event loop per CPU core, at most one per client.
    public static func defaultJobs(clients: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
        max(1, min(clients, cores))
    }

    /// The loops this configuration runs on: `jobs` (at most one per client) or the default.
    public var effectiveJobs: Int {
        let clients = workloads.reduce(0) { $0 + $1.clients }
        return max(1, min(clients, jobs ?? Self.defaultJobs(clients: clients)))
    }

    public init(workloads: [WorkloadConfig], runID: String? = nil, seed: UInt64? = nil) {
        self.workloads = workloads
        var g = SystemRandomNumberGenerator()
        self.seed = seed ?? g.next()
        self.runID = runID ?? LoadConfig.makeRunID(&g)
    }

    static func makeRunID(_ g: inout some RandomNumberGenerator) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "r" + String((0..<8).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &g)] })
    }

    /// Checks every bound. Throws the first problem found.
    public func validate() throws(LoadConfigError) {
        guard !workloads.isEmpty else { throw LoadConfigError("no workload given; pass --workload ledger (or reads, tpcb, custom, orders, session)") }
        var names = Set<String>(), kinds = Set<WorkloadKind>()
        for w in workloads {
            guard names.insert(w.name).inserted else { throw LoadConfigError("workload name '\(w.name)' used twice; give each workload once") }
            guard kinds.insert(w.kind).inserted else { throw LoadConfigError("workload kind '\(w.kind.rawValue)' given twice; give each kind once") }
            guard !w.conninfo.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw LoadConfigError("workload '\(w.name)' has an empty connection string; pass a libpq conninfo such as 'host=10.77.0.1 port=5000 dbname=faultline'")
            }
            guard LoadLimits.clients.contains(w.clients) else {
                throw LoadConfigError("clients \(w.clients) for '\(w.name)' is out of range; use \(LoadLimits.clients.lowerBound)...\(LoadLimits.clients.upperBound)")
            }
            guard w.connect.perTransactionShare.isFinite, (0...1).contains(w.connect.perTransactionShare) else {
                throw LoadConfigError("connection share \(w.connect.perTransactionShare) for '\(w.name)' is out of range; use persistent, per-transaction or per-transaction:SHARE with 0 < SHARE <= 1")
            }
            if case .open(let rate, _) = w.mode {
                guard rate.isFinite, LoadLimits.rate.contains(rate) else {
                    throw LoadConfigError("rate \(rate)/s for '\(w.name)' is out of range; use \(LoadLimits.rate.lowerBound)...\(Int(LoadLimits.rate.upperBound)) requests per second")
                }
            }
            if w.kind == .custom {
                guard let sql = w.sql, !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw LoadConfigError("the custom workload needs SQL; pass --sql-file FILE with at least one statement")
                }
                guard LoadLimits.customSQLBytes.contains(sql.utf8.count) else {
                    throw LoadConfigError("the custom SQL is \(sql.utf8.count) bytes; keep it under \(LoadLimits.customSQLBytes.upperBound)")
                }
                if w.queryProtocol != .simple, SQLText.split(sql).isEmpty {
                    throw LoadConfigError("the custom SQL has no statement to send in the \(w.queryProtocol) protocol; put at least one statement in --sql-file")
                }
            }
        }
        for (label, t) in [("connect timeout", connectTimeout), ("statement timeout", statementTimeout)] {
            guard LoadLimits.timeout.contains(t) else {
                throw LoadConfigError("\(label) \(t) is out of range; use 0.1...120 seconds")
            }
        }
        guard LoadLimits.windowLength.contains(windowLength) else {
            throw LoadConfigError("window length \(windowLength) is out of range; use 10 ms...60 s")
        }
        guard LoadLimits.duration.contains(maxDuration) else {
            throw LoadConfigError("maximum duration \(maxDuration) is out of range; use 0.1 s...4 h")
        }
        guard backoff.initial > .zero, backoff.initial <= backoff.maximum, backoff.maximum <= .seconds(30) else {
            throw LoadConfigError("reconnect backoff must satisfy 0 < initial <= maximum <= 30 s")
        }
        guard LoadLimits.maxLedgerEntries.contains(maxLedgerEntries) else {
            throw LoadConfigError("ledger cap \(maxLedgerEntries) is out of range; use 1...\(LoadLimits.maxLedgerEntries.upperBound)")
        }
        if let j = jobs, !LoadLimits.jobs.contains(j) {
            throw LoadConfigError("jobs \(j) is out of range; use \(LoadLimits.jobs.lowerBound)...\(LoadLimits.jobs.upperBound) event loops (threads)")
        }
        if let m = metricsListen, MetricsServer.parse(m) == nil {
            throw LoadConfigError("metrics address '\(m)' must be IPv4 HOST:PORT, e.g. 10.77.0.254:9464")
        }
        guard !runID.isEmpty, runID.count <= 64,
              runID.unicodeScalars.allSatisfy({ CharacterSet.runIDAllowed.contains($0) }) else {
            throw LoadConfigError("run id '\(runID)' is invalid; use 1-64 letters, digits, '-' or '_'")
        }
    }
}

import Foundation

extension CharacterSet {
    static let runIDAllowed = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
}

/// Parses durations such as `30`, `30s`, `1.5s`, `500ms`, `2m`, `1h` (bare numbers are seconds).
public func parseDuration(_ text: String) -> Duration? {
    let t = text.trimmingCharacters(in: .whitespaces).lowercased()
    let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
    var number = t, scale = 1.0
    for (suffix, s) in units where t.hasSuffix(suffix) {
        number = String(t.dropLast(suffix.count)); scale = s
        break
    }
    guard let v = Double(number), v.isFinite, v >= 0, v * scale < 1e9 else { return nil }
    return .nanoseconds(Int64((v * scale * 1e9).rounded()))
}
