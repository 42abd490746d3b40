import Faultline
import FaultlinePG
import Foundation
import Synchronization

/// The slow-query workload of the demo orders application (docs/query-optimization.md), at revision 0012 or later
/// (`orders.comment`, `orders.priority`): three realistic reads that no index of the schema serves as written, run
/// beside the application's writes, for `faultline queries report`.
///
/// - `time-window`: the orders placed in one hour (a support screen): `created_at` has no index of its own.
/// - `comment-search`: an order by its memo, case-insensitive: `lower(comment)` cannot use an index on `comment` as
///   written (there is none anyway); an expression index on `lower(comment)` can.
/// - `recent-page`: the newest orders, paged with OFFSET: the primary key serves the order, but every skipped row is
///   read. Its rewrite is keyset pagination (`WHERE id < $last`).
/// - `insert`, `update-status`: the application's writes (the cost of new indexes to them).
public struct SlowQueryWorkload: Sendable {
    public struct Query: Sendable {
        public var name: String
        public var sql: String
        public var write: Bool
        /// Share of the reader (or writer) requests, percent.
        public var weight: Int
        /// The rewrite, when the query has one (keyset pagination): its name and SQL.
        public var rewriteName: String?
        public var rewrittenSQL: String?
    }

    /// What the parameters are drawn from: the id ranges and the time now.
    public struct Context: Sendable, Equatable {
        public var maxOrderID: Int64
        public var customers: Int64
        public var now: Date
        public init(maxOrderID: Int64, customers: Int64, now: Date) {
            self.maxOrderID = maxOrderID
            self.customers = customers
            self.now = now
        }
    }

    public var name: String
    public var queries: [Query]

    /// The workloads `faultline queries report --workload` knows.
    public static let all: [SlowQueryWorkload] = [orders]
    public static var names: [String] { all.map(\.name) }
    public static func named(_ name: String) -> SlowQueryWorkload? { all.first { $0.name == name } }

    /// Rows per page of `recent-page`; deepest page it asks for (OFFSET up to pages × 20, within the table).
    static let pageSize = 20
    static let pages: Int64 = 5000

    public static let orders = SlowQueryWorkload(name: "orders-slow", queries: [
        Query(name: "time-window",
              sql: "SELECT id, customer_id, status, amount_cents, created_at FROM orders WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at",
              write: false, weight: 35),
        Query(name: "comment-search",
              sql: "SELECT id, customer_id, status, amount_cents, created_at FROM orders WHERE lower(comment) = lower($1)",
              write: false, weight: 15),
        Query(name: "recent-page",
              sql: "SELECT id, customer_id, status, amount_cents, created_at FROM orders ORDER BY id DESC LIMIT 20 OFFSET $1",
              write: false, weight: 50, rewriteName: QueryProposal.keyset,
              rewrittenSQL: "SELECT id, customer_id, status, amount_cents, created_at FROM orders WHERE id < $1 ORDER BY id DESC LIMIT 20"),
        Query(name: "insert", sql: OrdersSQL.statement(.insert, version: .v3), write: true, weight: 70),
        Query(name: "update-status", sql: OrdersSQL.statement(.updateStatus, version: .v3), write: true, weight: 30),
    ])

    public func query(_ name: String) -> Query? { queries.first { $0.name == name } }

    /// The workload query whose SQL (or rewritten SQL) a pg_stat_statements text is, whitespace aside.
    public func query(matching statement: String) -> Query? {
        let s = Self.shape(statement)
        return queries.first { Self.shape($0.sql) == s || $0.rewrittenSQL.map(Self.shape) == s }
    }

    /// A statement with its parameters and numeric constants as `?` (pg_stat_statements shows `LIMIT 20` as `LIMIT $2`).
    static func shape(_ sql: String) -> String {
        QueryStats.normalised(sql).replacingOccurrences(of: #"\$\d+|\b\d+\b"#, with: "?", options: .regularExpression)
    }

    static func timestamp(_ d: Date) -> String { d.formatted(.iso8601) }

    /// Parameters of `query` for a draw `r` (two uniform random numbers), `rewritten`: for its rewrite's SQL.
    public func parameters(_ query: Query, _ r: (UInt64, UInt64), context c: Context, rewritten: Bool = false) -> [String?] {
        switch query.name {
        case "time-window":
            let hoursBack = 24 + Int64(r.0 % (364 * 24))
            let hour = (c.now.timeIntervalSince1970 / 3600).rounded(.down) * 3600
            let start = Date(timeIntervalSince1970: hour - Double(hoursBack) * 3600)
            return [Self.timestamp(start), Self.timestamp(start.addingTimeInterval(3600))]
        case "comment-search":
            return ["Memo \(r.0 % 1_000_000)"]
        case "recent-page":
            let deepest = max(1, min(Self.pages, c.maxOrderID / Int64(Self.pageSize) / 2))
            let offset = Int64(r.0 % UInt64(deepest)) * Int64(Self.pageSize)
            return rewritten ? [String(c.maxOrderID + 1 - offset)] : [String(offset)]
        case "insert":
            let customer = 1 + Int64(r.0 % UInt64(max(1, c.customers)))
            return [String(customer), String(r.1 % 100_001), r.1 % 10 < 3 ? "memo \(r.1 % 1_000_000)" : nil, String(r.0 % 10)]
        case "update-status":
            let order = 1 + Int64(r.0 % UInt64(max(1, c.maxOrderID)))
            return [String(order), OrdersSQL.statuses[Int(r.1 % UInt64(OrdersSQL.statuses.count))]]
        default:
            return []
        }
    }

    /// The representative parameters EXPLAIN runs a query with: the middle of each range (an hour 182 days back, a memo
    /// the writers may have written, the middle page).
    public func representative(_ query: Query, context c: Context, rewritten: Bool = false) -> [String?] {
        switch query.name {
        case "time-window": parameters(query, (182 * 24 - 24, 0), context: c)
        case "comment-search": parameters(query, (424_242, 0), context: c)
        case "recent-page":
            parameters(query, (UInt64(max(1, min(Self.pages, c.maxOrderID / Int64(Self.pageSize) / 2))) / 2, 0), context: c, rewritten: rewritten)
        default: parameters(query, (1, 1), context: c)
        }
    }

    /// Picks a query of the readers (`write` false) or writers by weight.
    func pick(write: Bool, _ r: UInt64) -> Query {
        let pool = queries.filter { $0.write == write }
        var x = Int(r % UInt64(max(1, pool.map(\.weight).reduce(0, +))))
        for q in pool {
            if x < q.weight { return q }
            x -= q.weight
        }
        return pool[pool.count - 1]
    }

    /// Latencies (ms) and errors of each query name in one run.
    public struct Measured: Sendable {
        public var samples: [String: [Double]] = [:]
        public var errors: [String: Int] = [:]
        public var firstError: String?
        /// Requests each client sent (answered or not), by client index: the after run replays as many.
        public var requests: [Int: Int] = [:]
        /// Whether a client stopped at the time bound before its request count.
        public var timedOut = false
        public init() {}
        mutating func merge(_ o: Measured) {
            for (k, v) in o.samples { samples[k, default: []] += v }
            for (k, v) in o.errors { errors[k, default: 0] += v }
            for (k, v) in o.requests { requests[k, default: 0] += v }
            firstError = firstError ?? o.firstError
            timedOut = timedOut || o.timedOut
        }
    }

    /// Runs `readers` reading and `writers` writing clients, each its own thread and connection, closed loop, for
    /// `seconds` (bounded: every statement has a 30 s timeout), the queries named in `rewrites` in their rewritten
    /// SQL. Parameters from a seeded generator, so the before and after runs draw the same sequence; with
    /// `requests` (a before run's), each client sends exactly as many requests as it did then (the same requests),
    /// still within `seconds`.
    public func run(conninfo: String, readers: Int, writers: Int, seconds: Double, context: Context,
                    rewrites: Set<String>, requests: [Int: Int]? = nil, seed: UInt64 = 16) async -> Measured {
        let total = Mutex(Measured())
        let deadline = monotonicNs() + Int64(seconds * 1e9)
        let bodies: [@Sendable () -> Void] = (0..<(readers + writers)).map { i in
            { [self] in
                var m = Measured()
                defer { total.withLock { $0.merge(m) } }
                let write = i >= readers
                var rng = SplitMix64(seed: seed &+ UInt64(i) &* 7919)
                let conn: PGConnection
                do { conn = try PGConnection(OrdersSQL.conninfo(conninfo), connectTimeout: .seconds(5)) } catch {
                    m.errors["connect", default: 0] += 1
                    m.firstError = "connect: \(error)"
                    return
                }
                defer { conn.close() }
                let limit = requests.map { $0[i] ?? 0 } ?? Int.max
                var sent = 0
                defer { m.requests[i] = sent }
                while sent < limit {
                    guard monotonicNs() < deadline else {
                        m.timedOut = requests != nil
                        break
                    }
                    sent += 1
                    let q = pick(write: write, rng.next())
                    let rewritten = rewrites.contains(q.name) && q.rewrittenSQL != nil
                    let params = parameters(q, (rng.next(), rng.next()), context: context, rewritten: rewritten)
                    let start = monotonicNs()
                    do {
                        _ = try conn.exec(rewritten ? q.rewrittenSQL! : q.sql, params, timeout: .seconds(30))
                        m.samples[q.name, default: []].append(Double(monotonicNs() - start) / 1e6)
                    } catch {
                        m.errors[q.name, default: 0] += 1
                        m.firstError = m.firstError ?? "\(q.name): \(error)"
                        if !conn.isOpen { return }
                    }
                }
            }
        }
        await runJoined(bodies)
        return total.withLock { $0 }
    }
}
