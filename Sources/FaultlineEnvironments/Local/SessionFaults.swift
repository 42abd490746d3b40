import Faultline
import FaultlinePG
import Foundation

/// SQL-level faults of the local environment: paused WAL replay, sessions that hold locks (a long query
/// with a DDL lock queued behind it, an idle-in-transaction session), and held connections. Held sessions
/// carry `application_name=faultline-fault-<kind>`, so a reversal ends them by that name with a fresh
/// superuser connection, also from another process after a crash.
extension LocalEnvironment {
    static let ledgerTable = "faultline_ledger"

    static func applicationName(_ hold: SessionHold) -> String { "faultline-fault-\(hold.rawValue)" }

    func superuser(_ node: String) throws -> PGConnection {
        try PGConnection(config.direct(node, user: "postgres", dbname: "faultline"), connectTimeout: .seconds(2))
    }

    public func pauseReplay(_ node: String) throws {
        let c = try superuser(node)
        defer { c.close() }
        runner.commandLog?.append("psql \(node): select pg_wal_replay_pause()")
        try c.exec("select pg_wal_replay_pause()", timeout: .seconds(5))
    }

    /// Resumes replay if the node is in recovery and paused. Idempotent.
    public func resumeReplay(_ node: String) throws {
        let c = try superuser(node)
        defer { c.close() }
        guard try c.exec("select pg_is_in_recovery()", timeout: .seconds(5)).scalar == "t" else { return }
        runner.commandLog?.append("psql \(node): select pg_wal_replay_resume()")
        try c.exec("select pg_wal_replay_resume()", timeout: .seconds(5))
    }

    /// Opens the sessions of `hold` on `node` ("pooler": through PgBouncer) and keeps them in `registry`.
    /// Returns a one-line account of what is held.
    @discardableResult
    public func holdSessions(_ node: String, _ hold: SessionHold, registry: HeldSessions) async throws -> String {
        let app = Self.applicationName(hold)
        let key = "\(node)/\(hold.rawValue)"
        let table = Self.ledgerTable
        func open(_ dsn: String) throws -> PGConnection { try PGConnection(dsn + " application_name=\(app)", connectTimeout: .seconds(2)) }
        switch hold {
        case .idleInTransaction:
            let c = try open(config.direct(node))
            runner.commandLog?.append("psql \(node): begin; lock table \(table) in share mode;  -- then idle")
            try c.exec("begin; lock table \(table) in share mode", timeout: .seconds(10))
            registry.add(key, [c])
            return "1 session idle in transaction holding SHARE on \(table)"
        case .longQuery:
            let reader = try open(config.direct(node)), ddl = try open(config.direct(node))
            registry.add(key, [reader, ddl])
            runner.commandLog?.append("psql \(node): select pg_sleep(3600) from \(table) limit 1  -- long query")
            HeldSessions.background { _ = try? reader.exec("select pg_sleep(3600) from (select 1 from \(table) limit 1) t", timeout: .seconds(3600)) }
            try await Task.sleep(for: .milliseconds(300))
            runner.commandLog?.append("psql \(node): lock table \(table) in access exclusive mode  -- queued behind it")
            HeldSessions.background { _ = try? ddl.exec("set lock_timeout = 0; lock table \(table) in access exclusive mode", timeout: .seconds(3600)) }
            try await Task.sleep(for: .milliseconds(300))
            return "a 1 h query on \(table), and an ACCESS EXCLUSIVE lock request queued behind it"
        case .connections:
            var held: [PGConnection] = []
            var stop = ""
            runner.commandLog?.append("open connections to \(node) as faultline until refused (at most 500), then take every slot that frees up")
            // Only a full server ends the fill: a connect that failed otherwise (a timeout on a busy machine) left
            // slots free, which clients would take for a while, so it is tried again (5 such failures end it).
            var otherFailures = 0
            while held.count < 500 {
                do { held.append(try open(config.direct(node))) } catch let e as PGError where e.isConnectionLimit {
                    stop = describe(e)
                    break
                } catch {
                    stop = describe(error)
                    otherFailures += 1
                    if otherFailures == 5 { break }
                }
            }
            registry.add(key, held)
            // Clients that connect per transaction free their slots between transactions: keep taking every slot
            // that frees up, so the server stays full for the whole fault, until `endSessions` closes the key.
            let dsn = config.direct(node) + " application_name=\(app)"
            let initial = held.count
            HeldSessions.background {
                registry.topUp(key, limit: 500, every: .milliseconds(100), maxTime: .seconds(3600)) {
                    try? PGConnection(dsn, connectTimeout: .seconds(2))
                }
            }
            let retried = otherFailures == 0 ? "" : " (\(otherFailures) connect(s) failed otherwise and were retried)"
            return "\(initial) connections held on \(node), then every slot that frees up; the next one: \(stop)\(retried)"
        case .poolerConnections:
            var held: [PGConnection] = []
            var stop = ""
            runner.commandLog?.append("open PgBouncer connections, each in an open transaction, until one waits (at most 200)")
            while held.count < 200 {
                do {
                    let c = try open(config.pooler)
                    try c.exec("begin; select 1", timeout: .seconds(2))
                    held.append(c)
                } catch { stop = describe(error); break }
            }
            registry.add(key, held)
            return "\(held.count) PgBouncer server connections held in open transactions; the next one: \(stop)"
        }
    }

    /// Ends the sessions of `hold` on `node`: closes the harness's ends, then terminates any left by name.
    public func endSessions(_ node: String, _ hold: SessionHold, registry: HeldSessions) throws {
        // A long query's connections are busy in a blocking call on their threads: terminating their backends
        // ends those calls; the others are idle and closed here.
        registry.closeAll("\(node)/\(hold.rawValue)", close: hold != .longQuery)
        let nodes = node == "pooler" ? config.nodeNames : [node]
        for n in nodes {
            guard let c = try? superuser(n) else { continue }
            defer { c.close() }
            runner.commandLog?.append("psql \(n): pg_terminate_backend(pid) where application_name = '\(Self.applicationName(hold))'")
            _ = try? c.exec("select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1",
                            [Self.applicationName(hold)], timeout: .seconds(5))
        }
    }
}

/// The connections held faults keep open in this process, by "<node>/<hold>".
public final class HeldSessions: @unchecked Sendable {
    private let lock = NSLock()
    private var held: [String: [PGConnection]] = [:]

    public init() {}

    func add(_ key: String, _ conns: [PGConnection]) {
        lock.lock(); defer { lock.unlock() }
        held[key, default: []] += conns
    }

    /// Adds one connection while `key` is still held; false (the caller closes it) once `closeAll` ended it.
    func addIfHeld(_ key: String, _ conn: PGConnection) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard held[key] != nil else { return false }
        held[key]!.append(conn)
        return true
    }

    func count(_ key: String) -> Int? {
        lock.lock(); defer { lock.unlock() }
        return held[key]?.count
    }

    func closeAll(_ key: String, close: Bool) {
        lock.lock()
        let conns = held.removeValue(forKey: key) ?? []
        lock.unlock()
        if close { for c in conns { c.close() } }
    }

    /// While `key` is held (bounded by `limit` connections and `maxTime`), tries `open` every `every` and keeps
    /// what it gets. Blocking: run it with `background`. A connection opened as the key is closed is closed at once.
    func topUp(_ key: String, limit: Int, every: Duration, maxTime: Duration, open: () -> PGConnection?) {
        let deadline = ContinuousClock.now + maxTime
        while ContinuousClock.now < deadline, let n = count(key), n < limit {
            if let c = open() {
                if !addIfHeld(key, c) { c.close(); return }
                continue  // a slot was free: take the next one at once, not one a tick
            }
            Thread.sleep(forTimeInterval: Double(every.components.attoseconds) / 1e18 + Double(every.components.seconds))
        }
    }

    /// Runs a blocking body on a thread of its own (not the concurrency pool: it may block for the whole fault).
    static func background(_ body: @escaping @Sendable () -> Void) {
        Thread.detachNewThread { body() }
    }
}
