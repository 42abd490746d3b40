/// `faultline bench pooler`, its pure parts: the plan (cells, rounds, the alternating order), one cell's measurement,
/// the medians over rounds and the ratio of each cell to the direct cell beside it. The command measures; this
/// decides what to measure in which order and what the figures mean. No I/O.

/// Where a cell's clients connect.
public enum PoolerRoute: String, Codable, Sendable, CaseIterable, Comparable {
    /// Straight to PostgreSQL through HAProxy's read-write port: one server connection per client connection.
    case direct
    /// PgBouncer in transaction mode: a server connection per transaction.
    case transaction = "pgbouncer-transaction"
    /// PgBouncer in session mode: a server connection per client session.
    case session = "pgbouncer-session"

    public var label: String {
        switch self {
        case .direct: "direct"
        case .transaction: "PgBouncer transaction"
        case .session: "PgBouncer session"
        }
    }

    public static func < (a: PoolerRoute, b: PoolerRoute) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// How a cell's clients use connections.
public enum PoolerConnect: String, Codable, Sendable, CaseIterable, Comparable {
    /// One connection a client for the whole cell.
    case persistent
    /// A new connection for every transaction (pgbench -C).
    case perTransaction = "per-transaction"

    public static func < (a: PoolerConnect, b: PoolerConnect) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }
}

/// One cell of the bench: a workload through a route, with a connection policy, at a client count.
public struct PoolerCell: Codable, Sendable, Hashable, CustomStringConvertible {
    public var workload: String
    public var route: PoolerRoute
    public var connect: PoolerConnect
    public var clients: Int

    public init(workload: String, route: PoolerRoute, connect: PoolerConnect, clients: Int) {
        (self.workload, self.route, self.connect, self.clients) = (workload, route, connect, clients)
    }

    /// The direct cell its ratios are taken against.
    public var baseline: PoolerCell { PoolerCell(workload: workload, route: .direct, connect: connect, clients: clients) }

    /// "ledger, 8 clients, persistent, direct".
    public var description: String { "\(workload), \(clients) clients, \(connect.rawValue), \(route.label)" }
}

/// What the person asked for.
public struct PoolerBenchSettings: Codable, Sendable, Equatable {
    public var workloads: [String]
    public var clients: [Int]
    public var rounds: Int
    /// Each cell's load, ms.
    public var cellMs: Int
    /// Before each cell, the same load unmeasured for this long, ms (0: none): PgBouncer's pool is filled again after
    /// the drain, so a pooled cell measures a warm pool, not its first server logins.
    public var warmupMs: Int
    public var routes: [PoolerRoute]
    public var connects: [PoolerConnect]

    public init(workloads: [String] = ["ledger"], clients: [Int] = [8, 150], rounds: Int = 3, cellMs: Int = 3000, warmupMs: Int = 0,
                routes: [PoolerRoute] = PoolerRoute.allCases, connects: [PoolerConnect] = PoolerConnect.allCases) {
        (self.workloads, self.clients, self.rounds, self.cellMs, self.warmupMs) = (workloads, clients, rounds, cellMs, warmupMs)
        (self.routes, self.connects) = (routes, connects)
    }
}

/// Bounds of a bench, so every run ends.
public enum PoolerBenchLimits {
    public static let clients = 1...256
    public static let clientCounts = 1...4
    public static let rounds = 1...20
    public static let cellMs = 500...300_000
    public static let warmupMs = 0...60_000
    /// The load of the whole bench (cells × rounds × duration), without set-up.
    public static let totalMs = 4 * 3600 * 1000
}

/// The checked plan: every cell, and the order of each round.
public struct PoolerBenchPlan: Sendable, Equatable {
    public let settings: PoolerBenchSettings
    /// Every cell once, in the canonical order: workload, clients, connection policy, route.
    public let cells: [PoolerCell]

    /// Checks `settings` (workload names against `knownWorkloads`); a one-line `InputError` says what to change.
    public init(_ settings: PoolerBenchSettings, knownWorkloads: [String]) throws(InputError) {
        let known = knownWorkloads.joined(separator: ", ")
        guard !settings.workloads.isEmpty else { throw InputError("no workload given; pass --workload with one of \(known)") }
        for w in settings.workloads where !knownWorkloads.contains(w) {
            throw InputError("unknown workload '\(w)' for the pooler bench; use \(known)")
        }
        guard Set(settings.workloads).count == settings.workloads.count else { throw InputError("a workload is given twice; give each once") }
        guard PoolerBenchLimits.clientCounts.contains(settings.clients.count) else {
            throw InputError("give 1 to 4 client counts, e.g. --clients 8,150 (a low one and one above max_connections)")
        }
        for n in settings.clients where !PoolerBenchLimits.clients.contains(n) {
            throw InputError("client count \(n) is out of range; use 1...256, e.g. --clients 8,150")
        }
        guard Set(settings.clients).count == settings.clients.count else { throw InputError("a client count is given twice; give each once, e.g. --clients 8,150") }
        guard PoolerBenchLimits.rounds.contains(settings.rounds) else { throw InputError("--rounds \(settings.rounds) is out of range; use 1...20") }
        guard PoolerBenchLimits.cellMs.contains(settings.cellMs) else {
            throw InputError("a cell's duration of \(settings.cellMs) ms is out of range; use 0.5s...5m, e.g. --duration 3s")
        }
        guard PoolerBenchLimits.warmupMs.contains(settings.warmupMs) else {
            throw InputError("a warm-up of \(settings.warmupMs) ms is out of range; use 0s...1m, e.g. --warmup 1s (0: none)")
        }
        guard !settings.routes.isEmpty, !settings.connects.isEmpty else { throw InputError("no route or no connection policy to measure") }
        self.settings = settings
        var cells: [PoolerCell] = []
        for w in settings.workloads {
            for n in settings.clients.sorted() {
                for c in PoolerConnect.allCases where settings.connects.contains(c) {
                    for r in PoolerRoute.allCases where settings.routes.contains(r) {
                        cells.append(PoolerCell(workload: w, route: r, connect: c, clients: n))
                    }
                }
            }
        }
        self.cells = cells
        guard totalLoadMs <= PoolerBenchLimits.totalMs else {
            throw InputError("\(cells.count) cells × \(settings.rounds) rounds × \(settings.cellMs) ms is more than 4 h of load; use fewer rounds or a shorter --duration")
        }
    }

    /// The order of round `round` (0-based): the canonical order in even rounds, reversed in odd ones, so that each
    /// cell runs early and late alike and the cells compared with one another stay next to each other.
    public func order(round: Int) -> [PoolerCell] { round % 2 == 0 ? cells : cells.reversed() }

    /// Every (round, cell) in the order they run.
    public var schedule: [(round: Int, cell: PoolerCell)] {
        (0..<settings.rounds).flatMap { r in order(round: r).map { (r, $0) } }
    }

    /// The load alone, warm-ups included, without the set-up between cells.
    public var totalLoadMs: Int { cells.count * settings.rounds * (settings.cellMs + settings.warmupMs) }
}

/// What one cell measured in one round.
public struct PoolerCellRun: Codable, Sendable, Equatable {
    public var round: Int
    /// Its place in the round's order (0-based).
    public var position: Int
    /// How long the clients were sending, s.
    public var seconds: Double
    public var ok: Int
    /// Failed requests and connects by outcome (`too_many_connections` among them).
    public var errors: [Outcome: Int]
    /// The messages' SQLSTATEs of the `other_sqlstate` errors ("none": the client's own check failed).
    public var otherSQLStates: [String: Int]
    /// Latency of the acknowledged requests, µs (a per-transaction client's includes its connect).
    public var latency: LatencySummary?
    /// How long the successful connects took, µs.
    public var connect: LatencySummary?
    /// Client backends on the primary that came through HAProxy while the cell ran (sampled every 100 ms).
    public var serverConnectionsPeak: Int?
    public var serverConnectionsMean: Double?
    /// Why the cell's load could not start (its preflight connection failed every attempt); nil when it ran.
    public var failure: String?

    public init(round: Int, position: Int, seconds: Double, ok: Int, errors: [Outcome: Int] = [:], otherSQLStates: [String: Int] = [:],
                latency: LatencySummary? = nil, connect: LatencySummary? = nil, serverConnectionsPeak: Int? = nil,
                serverConnectionsMean: Double? = nil, failure: String? = nil) {
        self.failure = failure
        (self.round, self.position, self.seconds, self.ok, self.errors) = (round, position, seconds, ok, errors)
        (self.otherSQLStates, self.latency, self.connect) = (otherSQLStates, latency, connect)
        (self.serverConnectionsPeak, self.serverConnectionsMean) = (serverConnectionsPeak, serverConnectionsMean)
    }

    public var tps: Double { seconds > 0 ? Double(ok) / seconds : 0 }
    public var tooManyConnections: Int { errors[.tooManyConnections] ?? 0 }
    /// Every error but too-many-connections (and but the backoff's unsent requests, which follow a failed connect).
    public var otherErrors: Int { errors.filter { $0.key != .tooManyConnections && $0.key != .clientBackoff }.values.reduce(0, +) }
}

/// A cell's medians over its rounds.
public struct PoolerCellMedians: Codable, Sendable, Equatable {
    public var tps: Double
    public var p50Ms: Double?
    public var p95Ms: Double?
    public var p99Ms: Double?
    public var connectP50Ms: Double?
    public var connectP99Ms: Double?
    /// Per round.
    public var tooManyConnections: Double
    public var otherErrors: Double
    public var serverConnectionsPeak: Double?

    /// Over the runs that started (a run that could not start has no figures to take a median of).
    public init(_ all: [PoolerCellRun]) {
        let runs = all.filter { $0.failure == nil }
        let m = PoolerStats.median
        func ms(_ key: (LatencySummary) -> Int, _ of: (PoolerCellRun) -> LatencySummary?) -> Double? {
            m(runs.compactMap { of($0).map { Double(key($0)) / 1000 } })
        }
        tps = m(runs.map(\.tps)) ?? 0
        p50Ms = ms(\.p50Us, \.latency)
        p95Ms = ms(\.p95Us, \.latency)
        p99Ms = ms(\.p99Us, \.latency)
        connectP50Ms = ms(\.p50Us, \.connect)
        connectP99Ms = ms(\.p99Us, \.connect)
        tooManyConnections = m(runs.map { Double($0.tooManyConnections) }) ?? 0
        otherErrors = m(runs.map { Double($0.otherErrors) }) ?? 0
        serverConnectionsPeak = m(runs.compactMap { $0.serverConnectionsPeak.map(Double.init) })
    }
}

/// A cell against the direct cell beside it (same workload, connection policy and clients): the headline.
public struct PoolerRatios: Codable, Sendable, Equatable {
    /// TPS over direct TPS: above 1, the pool serves more.
    public var tps: Double?
    /// p50 and p99 latency over direct's: below 1, the pool answers faster.
    public var p50: Double?
    public var p99: Double?

    public init(cell: PoolerCellMedians, direct: PoolerCellMedians) {
        func ratio(_ a: Double?, _ b: Double?) -> Double? {
            guard let a, let b, b > 0, a.isFinite else { return nil }
            return a / b
        }
        tps = ratio(cell.tps, direct.tps)
        p50 = ratio(cell.p50Ms, direct.p50Ms)
        p99 = ratio(cell.p99Ms, direct.p99Ms)
    }
}

/// One cell's rounds, medians and ratios.
public struct PoolerCellSummary: Codable, Sendable, Equatable {
    public var cell: PoolerCell
    public var runs: [PoolerCellRun]
    public var median: PoolerCellMedians
    /// Against the direct cell; nil for the direct cell itself and when none was measured.
    public var ratio: PoolerRatios?
}

/// The whole bench, as rendered (Markdown, JSON, SVG).
public struct PoolerBenchResult: Codable, Sendable, Equatable {
    public var settings: PoolerBenchSettings
    /// The command that reproduces it (without secrets).
    public var command: String
    /// When it started, ISO 8601 UTC.
    public var startedAt: String
    public var commit: String?
    /// The primary's `max_connections`, read at the start.
    public var maxConnections: Int?
    /// PgBouncer's pool sizes and anything else the reader needs.
    public var notes: [String]
    public var cells: [PoolerCellSummary]

    public init(settings: PoolerBenchSettings, command: String, startedAt: String, commit: String? = nil, maxConnections: Int? = nil,
                notes: [String] = [], cells: [PoolerCellSummary]) {
        (self.settings, self.command, self.startedAt, self.commit, self.maxConnections) = (settings, command, startedAt, commit, maxConnections)
        (self.notes, self.cells) = (notes, cells)
    }

    /// Medians and ratios of the measured `runs`, in the plan's canonical order; a cell without runs is left out.
    public static func summarize(_ plan: PoolerBenchPlan, runs: [PoolerCell: [PoolerCellRun]]) -> [PoolerCellSummary] {
        let medians = runs.mapValues { PoolerCellMedians($0) }
        return plan.cells.compactMap { cell in
            guard let r = runs[cell], !r.isEmpty, let m = medians[cell] else { return nil }
            var ratio: PoolerRatios?
            if cell.route != .direct, let d = medians[cell.baseline] { ratio = PoolerRatios(cell: m, direct: d) }
            return PoolerCellSummary(cell: cell, runs: r.sorted { $0.round < $1.round }, median: m, ratio: ratio)
        }
    }

    public func summary(_ cell: PoolerCell) -> PoolerCellSummary? { cells.first { $0.cell == cell } }
}

public enum PoolerStats {
    /// The median (the mean of the two middle values for an even count); nil when empty.
    public static func median(_ values: [Double]) -> Double? {
        let v = values.filter(\.isFinite).sorted()
        guard !v.isEmpty else { return nil }
        return v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
    }
}
