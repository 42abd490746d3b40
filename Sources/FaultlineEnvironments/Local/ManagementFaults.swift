import Faultline
import Foundation

/// Operator-error faults of the local environment: Patroni's maintenance mode (`pause`) and a replica
/// promoted by hand while it is on, which makes two members run as primary (a hand-made split brain).
extension LocalEnvironment {
    /// Sends `PATCH /config` with `body` to the first member whose REST API accepts it.
    func patchClusterConfig(_ body: String) throws {
        var tried: [String] = []
        for n in config.nodeNames {
            let url = config.restURL(n) + "/config"
            runner.commandLog?.append("PATCH \(url) \(body)")
            guard let r = try? HTTP.request("PATCH", url, body: body, timeout: .seconds(3)) else {
                tried.append("\(n): no answer"); continue
            }
            if r.status == 200 { return }
            tried.append("\(n): HTTP \(r.status)")
        }
        throw EnvironmentError.unhealthy("PATCH /config \(body) refused by every member (\(tried.joined(separator: ", ")))")
    }

    /// Whether the cluster is in maintenance mode, from the first member that answers `GET /config`; nil if none does.
    public func maintenanceMode() -> Bool? {
        clusterConfig().map(Self.paused)  // ReplicationConfigFaults.swift
    }

    /// Whether `node`'s own Patroni reports maintenance mode (`GET /patroni` has `"pause": true`).
    func patroniPaused(_ node: String) -> Bool {
        guard let r = try? HTTP.get(config.restURL(node) + "/patroni", timeout: .seconds(1)), r.status == 200,
              let obj = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { return false }
        return (obj["pause"] as? Bool) ?? false
    }

    /// Maintenance mode on, then, once `node`'s Patroni has seen it (else Patroni would demote the node
    /// at once), `select pg_promote()` on `node`: it runs as a primary without the leader lock.
    ///
    /// The node's `archive_command` is set to `/bin/true` first (ALTER SYSTEM, reload): a rogue primary
    /// archives its new timeline's history file into the shared archive, and from then on every replica
    /// built or rebuilt with `recovery_target_timeline = latest` refuses to start ("requested timeline 3 is
    /// not a child of this server's history"), so one run of this fault would break the environment for
    /// good. The rogue's WAL is thrown away instead. (Cutting its network path to the store instead made
    /// the promotion itself wait on `restore_command` past `pg_promote`'s 30 s.) `rejoinRogue` resets it.
    public func roguePromote(_ node: String) async throws {
        try patchClusterConfig(#"{"pause": true}"#)
        let deadline = ContinuousClock.now + .seconds(15)
        while !patroniPaused(node) {
            guard ContinuousClock.now < deadline else {
                throw EnvironmentError.unhealthy("\(node)'s Patroni did not report maintenance mode within 15 s; not promoting")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        let c = try superuser(node)
        defer { c.close() }
        runner.commandLog?.append("psql \(node): alter system set archive_command = '/bin/true'; select pg_reload_conf()  # keep the rogue's timeline out of the archive")
        _ = try c.exec("alter system set archive_command = '/bin/true'", timeout: .seconds(5))
        _ = try c.exec("select pg_reload_conf()", timeout: .seconds(5))
        let applyBy = ContinuousClock.now + .seconds(5)
        while try c.exec("show archive_command", timeout: .seconds(5)).scalar != "/bin/true" {
            guard ContinuousClock.now < applyBy else {
                throw EnvironmentError.unhealthy("\(node) did not take archive_command /bin/true within 5 s; not promoting")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        runner.commandLog?.append("psql \(node): select pg_promote()  # by hand, Patroni paused")
        let r = try c.exec("select pg_promote(true, 30)", timeout: .seconds(35))
        guard r.scalar == "t" else { throw EnvironmentError.unhealthy("pg_promote() on \(node) returned \(r.scalar ?? "nothing")") }
    }

    /// Undoes `roguePromote`'s `archive_command` override on `node` (harmless when there is none).
    func resetRogueArchiveCommand(_ node: String) throws {
        let c = try superuser(node)
        defer { c.close() }
        runner.commandLog?.append("psql \(node): alter system reset archive_command; select pg_reload_conf()")
        _ = try c.exec("alter system reset archive_command", timeout: .seconds(5))
        _ = try c.exec("select pg_reload_conf()", timeout: .seconds(5))
    }

    /// Whether `node` streams from the leader on the leader's timeline, per Patroni and per PostgreSQL on the node.
    func streamsFromLeader(_ node: String) async -> Bool {
        let members = await status(withReplication: false).members
        guard let leader = members.first(where: \.isLeader), let m = members.first(where: { $0.name == node }) else { return false }
        guard ClusterStatus.isStreaming(m, among: members) && m.timeline != nil && m.timeline == leader.timeline else { return false }
        // Patroni's view can lag the node (its member key from before the resume): ask PostgreSQL itself.
        guard let c = try? superuser(node) else { return false }
        defer { c.close() }
        let q = "select pg_is_in_recovery() and exists (select 1 from pg_stat_wal_receiver where status = 'streaming')"
        return (try? c.exec(q, timeout: .seconds(3)).scalar) == "t"
    }

    /// Undoes `roguePromote`; idempotent, for any state the fault left (also after a crash of faultline).
    /// 1. If `node` runs as a primary, CHECKPOINT it: right after a promotion its control file still names
    ///    the old timeline, and Patroni's pg_rewind then reports "same timeline" and leaves a replica that
    ///    can never stream ("highest timeline N of the primary is behind recovery timeline N+1").
    /// 2. Maintenance mode off: Patroni demotes the node (no leader lock) and pg_rewinds it.
    /// 3. If it does not stream from the leader within 45 s, `POST /reinitialize` (a fresh base backup).
    /// 4. Reset `roguePromote`'s `archive_command` override (pg_rewind or the rebuild usually took it already).
    /// Returns a one-line account of what it took.
    @discardableResult
    public func rejoinRogue(_ node: String) async throws -> String {
        var steps: [String] = []
        if let c = try? superuser(node) {
            if (try? c.exec("select pg_is_in_recovery()", timeout: .seconds(5)).scalar) == "f" {
                runner.commandLog?.append("psql \(node): checkpoint  # before handing the rogue primary back to Patroni")
                if (try? c.exec("checkpoint", timeout: .seconds(30))) != nil { steps.append("checkpoint") }
            }
            c.close()
        }
        try patchClusterConfig(#"{"pause": false}"#)
        steps.append("maintenance mode off")
        let start = ContinuousClock.now
        func waitStreaming(_ limit: Duration) async throws -> Bool {
            let deadline = ContinuousClock.now + limit
            while ContinuousClock.now < deadline {
                if await streamsFromLeader(node) { return true }
                try await Task.sleep(for: .milliseconds(500))
            }
            return false
        }
        if try await waitStreaming(.seconds(45)) {
            steps.append("\(node) streaming after \(DurationText.human(ms: (ContinuousClock.now - start).milliseconds))")
            try resetRogueArchiveCommand(node)
            steps.append("archive_command reset")
            return steps.joined(separator: "; ")
        }
        let url = config.restURL(node) + "/reinitialize"
        runner.commandLog?.append("POST \(url) {\"force\": true}  # \(node) did not stream after the rejoin")
        let r = try? HTTP.request("POST", url, body: #"{"force": true}"#, timeout: .seconds(10))
        steps.append("not streaming after 45 s: reinitialize (HTTP \(r.map { String($0.status) } ?? "no answer"))")
        guard try await waitStreaming(.seconds(90)) else {
            throw EnvironmentError.unhealthy("\(node) is not streaming from the leader after the rejoin (\(steps.joined(separator: "; ")))")
        }
        steps.append("\(node) streaming after \(DurationText.human(ms: (ContinuousClock.now - start).milliseconds))")
        try resetRogueArchiveCommand(node)
        steps.append("archive_command reset")
        return steps.joined(separator: "; ")
    }
}
