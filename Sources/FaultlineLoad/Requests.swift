import Faultline
import FaultlinePG

/// SQL of the ledger workload. The table is created by `LedgerSchema.ensure`.
public enum LedgerSchema {
    public static let table = "faultline_ledger"

    public static let create = """
        CREATE TABLE IF NOT EXISTS faultline_ledger (
            run_id     text        NOT NULL,
            id         text        NOT NULL,
            worker     integer     NOT NULL,
            seq        bigint      NOT NULL,
            written_at timestamptz NOT NULL DEFAULT clock_timestamp(),
            PRIMARY KEY (run_id, id)
        )
        """

    /// One ledger write; RETURNING says which server took it and on which timeline
    /// (the first 8 hex digits of the current WAL file name are the insert timeline).
    static let insert = """
        INSERT INTO faultline_ledger (run_id, id, worker, seq) VALUES ($1, $2, $3, $4) \
        RETURNING inet_server_addr()::text, pg_walfile_name(pg_current_wal_lsn())
        """

    /// The replica-read statement: a primary-key lookup.
    static let read = "SELECT seq FROM faultline_ledger WHERE run_id = $1 AND id = $2"

    /// "10.77.0.11/tl2" from `inet_server_addr()` and a WAL file name; "local" for a Unix socket.
    public static func serverLabel(address: String?, walFile: String?) -> String {
        var addr = address ?? "local"
        if let slash = addr.firstIndex(of: "/") { addr = String(addr[..<slash]) }  // drop an inet mask
        guard let w = walFile, w.count >= 8, let tl = UInt32(w.prefix(8), radix: 16) else { return addr }
        return "\(addr)/tl\(tl)"
    }

    /// A ledger id: "w<worker>-<seq>".
    public static func id(worker: Int, seq: Int64) -> String { "w\(worker)-\(seq)" }
}

/// What one request ended as.
struct RequestResult {
    var outcome: Outcome
    var error: PGError?
    /// Ledger id of the write, if this was a ledger request that reached the server.
    var ledgerID: String?
    /// Server label for acknowledged ledger writes.
    var server: String?
    /// The application version whose SQL ran, for orders requests.
    var version: AppVersion?
}

/// Runs one request of a workload on a connection, in the workload's `QueryProtocol`. One per worker; not thread-safe.
struct RequestRunner {
    let kind: WorkloadKind
    let timeout: Duration
    /// Sends the statements in the workload's protocol (simple, extended, prepared).
    let sender: StatementSender
    /// `.custom` in the extended or prepared protocol: the script's statements, sent one at a time.
    let customStatements: [Statement]
    let runID: String
    let worker: Int
    /// pgbench scale (rows in pgbench_branches), for `.tpcb`.
    let scale: Int
    let sql: String
    private(set) var seq: Int64 = 0
    var rng: SplitMix64
    private let workerText: String
    /// `.orders`: the application version of the next request (the worker sets it before each).
    var version: AppVersion = .v1
    /// `.orders`: the id ranges, and whether to learn them on the connection before the next request.
    private(set) var orders = OrdersClient()
    private var learnRange = true
    /// Connects per transaction: then the id ranges are learnt on the first connection only (and again after a
    /// failed attempt), not before every request.
    let perTransaction: Bool
    /// `.session`: this connection's session variable, once set.
    var session = SessionClient()

    init(kind: WorkloadKind, timeout: Duration, runID: String, worker: Int, scale: Int, sql: String, seed: UInt64,
         perTransaction: Bool = false, queryProtocol: QueryProtocol = .simple) {
        self.perTransaction = perTransaction
        self.kind = kind
        self.timeout = timeout
        self.sender = StatementSender(queryProtocol: queryProtocol, timeout: timeout)
        self.customStatements = kind == .custom && queryProtocol != .simple ? Self.customStatements(sql) : []
        self.runID = runID
        self.worker = worker
        self.scale = max(1, scale)
        self.sql = sql
        // Orders: the seed hashed first, since workers' seeds differ by SplitMix64's own increment (worker k's plain
        // stream would be worker 0's shifted by k draws, and their inserts and picks would repeat one another's).
        var hashed = SplitMix64(seed: seed)
        self.rng = SplitMix64(seed: kind == .orders ? hashed.next() : seed)
        self.workerText = String(worker)
    }

    /// Every wait goes through `waiter` (the client's event loop).
    mutating func run(on conn: PGConnection, via waiter: any PGWaiter) async -> RequestResult {
        switch kind {
        case .ledger: await ledger(conn, waiter)
        case .reads: await read(conn, waiter)
        case .tpcb: await tpcb(conn, waiter)
        case .custom: await custom(conn, waiter)
        case .orders: await order(conn, waiter)
        case .session: await sessionState(conn, waiter)
        }
    }

    /// The worker opened a new connection: an orders client learns the id ranges on it before its next request.
    mutating func connected() {
        if !perTransaction { learnRange = true }
        session.connected()
    }

    func fail(_ e: PGError, _ phase: RequestPhase, id: String? = nil) -> RequestResult {
        RequestResult(outcome: ErrorClassifier.outcome(for: e, phase: phase), error: e, ledgerID: id)
    }

    /// Ends an open transaction after a failed statement; closes the connection if even that fails.
    private func rollback(_ conn: PGConnection, _ waiter: any PGWaiter) async {
        guard conn.isOpen else { return }
        do { try await conn.exec("ROLLBACK", timeout: timeout, via: waiter) } catch { conn.close() }
    }

    // Explicit BEGIN / INSERT / COMMIT: only a failure of the COMMIT itself can be indeterminate.
    private mutating func ledger(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        seq += 1
        let id = LedgerSchema.id(worker: worker, seq: seq)
        do { try await sender.run(conn, Self.ledgerBegin, rows: false, via: waiter) } catch { return fail(error, .statement, id: id) }
        let server: String
        do {
            let r = try await sender.run(conn, Self.ledgerInsert, [runID, id, workerText, String(seq)], via: waiter)
            let row = r.rows.first
            server = LedgerSchema.serverLabel(address: row?.first ?? nil, walFile: row.flatMap { $0.count > 1 ? $0[1] : nil })
        } catch {
            await rollback(conn, waiter)
            return fail(error, .statement, id: id)
        }
        do {
            let c = try await sender.run(conn, Self.ledgerCommit, rows: false, via: waiter)
            // A COMMIT of an aborted transaction answers ROLLBACK: definitely not written.
            guard c.commandTag == "COMMIT" else {
                return RequestResult(outcome: .otherSQLState,
                                     error: PGError(kind: .server, message: "COMMIT answered \(c.commandTag)"), ledgerID: id)
            }
        } catch {
            return fail(error, .commit, id: id)
        }
        return RequestResult(outcome: .ok, ledgerID: id, server: server)
    }

    private mutating func read(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        let id = LedgerSchema.id(worker: Int(rng.next() % 8), seq: Int64(1 + rng.next() % 100_000))
        do { try await sender.run(conn, Self.readByID, [runID, id], rows: false, via: waiter) } catch { return fail(error, .statement) }
        return RequestResult(outcome: .ok)
    }

    /// The statements of pgbench's built-in "tpcb-like" script, sent one by one in the simple protocol
    /// (pgbench's default `-M simple`), with pgbench's random ranges.
    static func tpcbStatements(aid: Int, bid: Int, tid: Int, delta: Int) -> [String] {
        [
            "BEGIN;",
            "UPDATE pgbench_accounts SET abalance = abalance + \(delta) WHERE aid = \(aid);",
            "SELECT abalance FROM pgbench_accounts WHERE aid = \(aid);",
            "UPDATE pgbench_tellers SET tbalance = tbalance + \(delta) WHERE tid = \(tid);",
            "UPDATE pgbench_branches SET bbalance = bbalance + \(delta) WHERE bid = \(bid);",
            "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (\(tid), \(bid), \(aid), \(delta), CURRENT_TIMESTAMP);",
            "END;",
        ]
    }

    /// The same transaction with `$n` parameters, for the extended and prepared protocols (pgbench -M extended and
    /// -M prepared send it so); `tpcbParams` gives each statement's values.
    static let tpcbParameterized: [Statement] = [
        Statement(name: "fl_tpcb_0", sql: "BEGIN"),
        Statement(name: "fl_tpcb_1", sql: "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2"),
        Statement(name: "fl_tpcb_2", sql: "SELECT abalance FROM pgbench_accounts WHERE aid = $1"),
        Statement(name: "fl_tpcb_3", sql: "UPDATE pgbench_tellers SET tbalance = tbalance + $1 WHERE tid = $2"),
        Statement(name: "fl_tpcb_4", sql: "UPDATE pgbench_branches SET bbalance = bbalance + $1 WHERE bid = $2"),
        Statement(name: "fl_tpcb_5", sql: "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ($1, $2, $3, $4, CURRENT_TIMESTAMP)"),
        Statement(name: "fl_tpcb_6", sql: "END"),
    ]

    /// The values of statement `index` of `tpcbParameterized`.
    static func tpcbParams(_ index: Int, aid: Int, bid: Int, tid: Int, delta: Int) -> [String?] {
        switch index {
        case 1: [String(delta), String(aid)]
        case 2: [String(aid)]
        case 3: [String(delta), String(tid)]
        case 4: [String(delta), String(bid)]
        case 5: [String(tid), String(bid), String(aid), String(delta)]
        default: []
        }
    }

    private mutating func tpcb(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        let aid = 1 + Int(rng.next() % UInt64(100_000 * scale))
        let bid = 1 + Int(rng.next() % UInt64(scale))
        let tid = 1 + Int(rng.next() % UInt64(10 * scale))
        let delta = Int(rng.next() % 10_001) - 5000
        let simple = sender.queryProtocol == .simple ? Self.tpcbStatements(aid: aid, bid: bid, tid: tid, delta: delta) : []
        let count = Self.tpcbParameterized.count
        for i in 0..<count {
            let isCommit = i == count - 1
            do {
                let r = simple.isEmpty
                    ? try await sender.run(conn, Self.tpcbParameterized[i], Self.tpcbParams(i, aid: aid, bid: bid, tid: tid, delta: delta),
                                           rows: false, via: waiter)
                    : try await conn.execSimple(simple[i], timeout: timeout, rows: false, via: waiter)
                if isCommit, r.commandTag != "COMMIT" {
                    return RequestResult(outcome: .otherSQLState, error: PGError(kind: .server, message: "END answered \(r.commandTag)"))
                }
            } catch {
                if !isCommit, i > 0 { await rollback(conn, waiter) }
                return fail(error, isCommit ? .commit : .statement)
            }
        }
        return RequestResult(outcome: .ok)
    }

    /// One orders request in `version`'s SQL, a single statement in autocommit; first, on a new connection, the
    /// id ranges (a failure there is this request's).
    private mutating func order(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        let version = self.version
        if learnRange || orders.maxOrderID == nil {
            do {
                let r = try await sender.run(conn, Self.ordersRange, via: waiter)
                let row = r.rows.first
                orders.maxOrderID = (row?.first ?? nil).flatMap { Int64($0) } ?? 0
                orders.maxCustomerID = (row.flatMap { $0.count > 1 ? $0[1] : nil }).flatMap { Int64($0) } ?? 0
                learnRange = false
            } catch {
                var f = fail(error, .statement)
                f.version = version
                return f
            }
        }
        let p = orders.plan(version: version, rng: &rng)
        do {
            let r = try await sender.run(conn, Statement(name: "fl_orders_\(version.rawValue)_\(p.request.rawValue)", sql: p.sql), p.params,
                                         rows: p.request == .insert, via: waiter)
            if p.request == .insert, let id = (r.rows.first?.first ?? nil).flatMap({ Int64($0) }) { orders.inserted(id) }
        } catch {
            var f = fail(error, .statement)
            f.version = version
            return f
        }
        return RequestResult(outcome: .ok, version: version)
    }

    /// The custom script: in the simple protocol the whole file as one query (an implicit transaction unless it has
    /// its own BEGIN/COMMIT); in the extended and prepared protocols its statements one at a time (each in autocommit
    /// unless the script opens a transaction), as pgbench sends a script's commands.
    private func custom(_ conn: PGConnection, _ waiter: any PGWaiter) async -> RequestResult {
        do {
            if customStatements.isEmpty {
                try await conn.execSimple(sql, timeout: timeout, rows: false, via: waiter)
            } else {
                for s in customStatements { try await sender.run(conn, s, rows: false, via: waiter) }
            }
        } catch {
            // The script may have opened a transaction; a stray ROLLBACK only raises a (swallowed) warning.
            await rollback(conn, waiter)
            return fail(error, .statement)
        }
        return RequestResult(outcome: .ok)
    }

    static func customStatements(_ sql: String) -> [Statement] {
        SQLText.split(sql).enumerated().map { Statement(name: "fl_custom_\($0.offset)", sql: $0.element) }
    }

    static let ledgerBegin = Statement(name: "fl_ledger_begin", sql: "BEGIN")
    static let ledgerInsert = Statement(name: "fl_ledger_insert", sql: LedgerSchema.insert)
    static let ledgerCommit = Statement(name: "fl_ledger_commit", sql: "COMMIT")
    static let readByID = Statement(name: "fl_reads", sql: LedgerSchema.read)
    static let ordersRange = Statement(name: "fl_orders_range", sql: OrdersSQL.idRange)
}
