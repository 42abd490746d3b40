import FaultlineConcurrency
import FaultlinePG
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the environment looks like now (Patroni's members, replication, memory), and waiting for health.
extension LocalEnvironment {
    // MARK: status

    /// Members and roles from Patroni's REST API (every node asked; the view most of them share), plus the
    /// leader's view of replication.
    public func status(withReplication: Bool = true, withMemory: Bool = false) async -> ClusterStatus {
        let (members, problems) = await PatroniREST.members(config)
        var replication: [ReplicationRow] = []
        if withReplication, let leader = members.first(where: \.isLeader) {
            let env = self
            replication = await Blocking.run { (try? env.replicationRows(on: leader.name)) ?? [] }
        }
        var s = ClusterStatus(environment: "local", members: members, replication: replication, endpoints: endpoints,
                              memoryKiB: withMemory ? await residentMemoryKiB() : nil, problems: problems)
        if withReplication, let leader = members.first(where: \.isLeader) { s.archiving = try? archiverStatus(leader.name) }
        return s
    }

    /// The leader's `pg_stat_replication`, through a superuser connection straight to the node.
    public func replicationRows(on node: String) throws -> [ReplicationRow] {
        let c = try PGConnection(config.direct(node, user: "postgres", dbname: "postgres"), connectTimeout: .seconds(2))
        defer { c.close() }
        let r = try c.exec("""
            select application_name, coalesce(client_addr::text, ''), state, sync_state,
                   pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint,
                   extract(epoch from replay_lag)::float8
            from pg_stat_replication order by application_name
            """, timeout: .seconds(2))
        return r.rows.map { row in
            ReplicationRow(applicationName: row[0] ?? "", clientAddr: row[1] ?? "", state: row[2] ?? "",
                           syncState: row[3] ?? "", replayLagBytes: row[4].flatMap { Int($0) },
                           replayLagSeconds: row[5].flatMap { Double($0) })
        }
    }

    /// Polls until the cluster is healthy; throws with the last problems on timeout, or at once when
    /// a daemon of `watching` has exited.
    @discardableResult
    public func waitHealthy(timeout: Duration, watching: [DaemonSpec] = []) async throws -> ClusterStatus {
        var last: ClusterStatus?
        var nudged = ContinuousClock.now.advanced(by: .seconds(-10))
        do {
            return try await poll(timeout: timeout, what: "a healthy cluster") {
                try self.ensureRunning(watching)
                let s = await self.status(withReplication: false)
                last = s
                if !s.healthy, let leader = s.leader?.name, ContinuousClock.now - nudged >= .seconds(1) {
                    nudged = ContinuousClock.now
                    await self.nudgeWAL(on: leader)
                }
                return s.healthy ? s : nil
            }
        } catch let e as EnvironmentError {
            if case .daemonExited = e { throw e }
            throw EnvironmentError.unhealthy((last?.problems ?? ["no status"]).joined(separator: "; ") + " after \(timeout)")
        } catch {
            throw EnvironmentError.unhealthy((last?.problems ?? ["no status"]).joined(separator: "; ") + " after \(timeout)")
        }
    }

    /// One WAL record on `leader` (a non-transactional logical message; errors ignored). A member rewound after a
    /// failover stays "starting" (not consistent) until the primary's WAL passes the minimum recovery point pg_rewind
    /// set, which can lie a page header past the primary's last record: on an idle primary it waited forever (seen
    /// after `faultline heal` with no load; one record made it stream within seconds).
    func nudgeWAL(on leader: String) async {
        let dsn = config.direct(leader, user: "postgres", dbname: "postgres")
        await Blocking.run {
            guard let c = try? PGConnection(dsn, connectTimeout: .seconds(1)) else { return }
            defer { c.close() }
            _ = try? c.exec("SELECT pg_logical_emit_message(false, 'faultline-heal', 'nudge')", timeout: .seconds(1))
        }
    }

    /// Waits until a real commit succeeds through HAProxy's read-write port and through PgBouncer (both pool modes).
    func waitEndpoints(timeout: Duration) async throws {
        for (name, dsn) in [("HAProxy rw", config.readWrite), ("PgBouncer", config.pooler), ("PgBouncer session mode", config.poolerSession)] {
            try await poll(timeout: timeout, what: "\(name) to accept writes") { () -> Void? in
                guard let c = try? PGConnection(dsn, connectTimeout: .seconds(2)) else { return nil }
                defer { c.close() }
                // A real commit: a row written (not just an xid assigned: a commit that wrote no WAL of its own does
                // not wait for synchronous replication), so under strict sync COMMIT returns only once a sync
                // standby confirmed it. A replica refuses it.
                let sql = "create table if not exists faultline_heal_check (id int primary key, at timestamptz); "
                    + "insert into faultline_heal_check values (1, now()) on conflict (id) do update set at = excluded.at"
                return (try? c.exec(sql, timeout: .seconds(3))) != nil ? () : nil
            }
        }
    }

    /// Memory (KiB) of every process in the environment's namespaces, as proportional set size (shared
    /// pages such as PostgreSQL's shared buffers are split among the processes that map them), plus
    /// the tmpfs pages in use.
    public func residentMemoryKiB() async -> Int {
        var total = 0
        for ns in config.allNetns {
            for pid in (try? await pidsIn(ns)) ?? [] {
                guard let s = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8),
                      let line = s.split(separator: "\n").first(where: { $0.hasPrefix("Pss:") }) else { continue }
                total += Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "0") ?? 0
            }
        }
        for n in config.nodeNames {
            var st = statvfs()
            if statvfs(config.dataMount(n), &st) == 0 { total += Int(st.f_blocks - st.f_bfree) * Int(st.f_frsize) / 1024 }
        }
        return total
    }

    /// Every process whose network namespace is `ns`.
    public func pidsIn(_ ns: String) async throws -> [Int32] {
        let r = try await runner.run(["/usr/sbin/ip", "netns", "pids", ns], check: false)
        return r.stdout.split(separator: "\n").compactMap { Int32($0) }
    }

    /// The name of the current leader, from Patroni.
    public func leaderName() async -> String? { await status(withReplication: false).leader?.name }
}
