import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension LocalEnvironment {
    // MARK: heal

    /// Returns a damaged environment to healthy without losing data: resumes paused processes and a paused PgBouncer, removes
    /// fault rules, qdiscs and ballast, restarts what is down, turns Patroni's maintenance mode off, then waits until the cluster is healthy, every node's PostgreSQL
    /// runs, and a real commit (confirmed by a sync standby under strict sync) goes through HAProxy and PgBouncer.
    @discardableResult
    public func heal(timeout: Duration = .seconds(90)) async throws -> ClusterStatus {
        guard FileManager.default.fileExists(atPath: "\(config.stateDir)/config.json") else { throw EnvironmentError.notUp("local") }
        for ns in config.allNetns {
            for pid in try await pidsIn(ns) { kill(pid, SIGCONT) }
            try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-F"], check: false)
            try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-X"], check: false)
            for chain in ["INPUT", "OUTPUT", "FORWARD"] {
                try await runner.run(["/usr/sbin/ip", "netns", "exec", ns, "/usr/sbin/iptables", "-P", chain, "ACCEPT"], check: false)
            }
        }
        for n in config.nodeNames {
            try await runner.run(["/usr/sbin/tc", "-n", config.nodeNetns(n), "qdisc", "del", "dev", "eth0", "root"], check: false)
            try await runner.run(["/usr/sbin/tc", "-n", config.clientNetns, "qdisc", "del", "dev", "v-\(n)", "root"], check: false)
            for f in (try? FileManager.default.contentsOfDirectory(atPath: config.dataMount(n))) ?? [] where f.hasPrefix("faultline-ballast") {
                try? FileManager.default.removeItem(atPath: "\(config.dataMount(n))/\(f)")
            }
        }
        // A drill that died between its destroy and its restore: restore from the archive, to its end, first
        // (starting Patroni on empty data directories would make a new, empty cluster).
        if let data = FileManager.default.contents(atPath: destroyedMarkerPath),
           let marker = try? JSONDecoder().decode(DestroyedMarker.self, from: data), let repo = marker.repos.first {
            logger.notice("heal: the cluster was destroyed by a drill at \(marker.at); restoring it from repo\(repo) to the end of the archive")
            for spec in allSpecs where !spec.name.hasSuffix("-patroni") && !daemons.isRunning(spec.name) { try await daemons.start(spec) }
            _ = try await drRestore(targetTime: nil, repo: "\(repo)", force: true)
        }
        for n in config.nodeNames { try await reapOrphans(n) }
        // A pooler left paused (a `pause-pooler` whose harness died before its reversal): RESUME, or every client
        // of PgBouncer waits for ever. Unreachable (PgBouncer down) is fine: it is restarted below, not paused.
        if (try? await resumePooler()) == true { logger.notice("heal: PgBouncer was paused; resumed it") }
        for spec in allSpecs where !daemons.isRunning(spec.name) {
            logger.info("restarting \(spec.name)")
            try await daemons.start(spec)
        }
        // Maintenance mode off, synchronous replication on (ReplicationConfigFaults.swift).
        try await healClusterConfig()
        // Healthy as the DCS sees it, then as each node's own Patroni sees it (the DCS shows a member
        // killed moments ago as running until its key expires), then as clients see it: writes go
        // through HAProxy and PgBouncer again.
        let deadline = ContinuousClock.now + timeout
        func left() -> Duration { max(ContinuousClock.now.duration(to: deadline), .seconds(5)) }
        try await waitHealthy(timeout: left())
        do {
            try await poll(timeout: left(), what: "PostgreSQL running on every node") { nodesNotServing().isEmpty ? () : nil }
        } catch {
            throw EnvironmentError.unhealthy("PostgreSQL not running on \(nodesNotServing().joined(separator: ", ")) after the heal")
        }
        try await waitEndpoints(timeout: min(left(), .seconds(30)))
        return try await waitHealthy(timeout: left())
    }
}
