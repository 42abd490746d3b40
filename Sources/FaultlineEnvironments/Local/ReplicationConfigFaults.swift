import Faultline
import FaultlineConcurrency
import FaultlinePG
import Foundation

/// The known-bad configuration of the lost-writes control (`async-replication`): synchronous replication off and
/// failover allowed at any lag, through Patroni's dynamic configuration (`PATCH /config`, applied by every member
/// within a loop). The local code, which the compose environment runs too (the same REST API on the same addresses).
extension LocalEnvironment {
    /// The environment's own `maximum_lag_on_failover` (environments/local/patroni.yml.tmpl), which the reversal restores.
    static let maximumLagOnFailover = 1_048_576
    /// The control's: 1 GiB, so a replica missing every write since it was cut off may still take over.
    static let anyLagOnFailover = 1 << 30

    /// `synchronous_mode` false and `maximum_lag_on_failover` 1 GiB; then waits (up to 10 s) until the leader has let its
    /// synchronous standby go (`synchronous_standby_names` empty on the primary), so commits no longer wait for one.
    public func asyncReplication() async throws {
        try await Blocking.run { [self] in
            try patchClusterConfig(#"{"synchronous_mode": false, "maximum_lag_on_failover": \#(Self.anyLagOnFailover)}"#)
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if await synchronousStandbyNames() == "" { return }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw EnvironmentError.unhealthy("synchronous_mode is off, but the primary still names a synchronous standby after 10 s")
    }

    /// Undoes `asyncReplication` (idempotent): `synchronous_mode` true and the environment's lag bound. Says what it did.
    public func syncReplication() async throws -> String {
        let read: (sync: Bool, lag: Int)? = await Blocking.run { [self] in
            clusterConfig().map { (($0["synchronous_mode"] as? Bool) ?? false, ($0["maximum_lag_on_failover"] as? Int) ?? Self.maximumLagOnFailover) }
        }
        guard let (sync, lag) = read else { throw EnvironmentError.unhealthy("no member answered GET /config") }
        if sync && lag == Self.maximumLagOnFailover { return "synchronous mode already on" }
        try await Blocking.run { [self] in
            try patchClusterConfig(#"{"synchronous_mode": true, "maximum_lag_on_failover": \#(Self.maximumLagOnFailover)}"#)
        }
        return "synchronous_mode true, maximum_lag_on_failover \(Self.maximumLagOnFailover) (was \(sync), \(lag))"
    }

    /// The heal's part in Patroni's dynamic configuration, for local and compose alike: maintenance mode off (left on, it
    /// stops every failover) and synchronous replication back on (the lost-writes control's configuration), when a
    /// fault or an operator left them otherwise.
    /// One `GET /config` for both (un-pausing changes nothing else in it).
    func healClusterConfig() async throws {
        let state = await Blocking.run { [self] in clusterConfig().map { (paused: Self.paused($0), syncOff: Self.synchronousOff($0)) } }
        if state?.paused == true {
            logger.info("heal: Patroni maintenance mode is on; turning it off")
            try await Blocking.run { [self] in try patchClusterConfig(#"{"pause": false}"#) }
        }
        if state?.syncOff == true {
            logger.info("heal: synchronous replication is off; turning it back on")
            _ = try await syncReplication()
        }
    }

    /// Whether the cluster runs without synchronous replication (from `GET /config`); nil if no member answers.
    public func synchronousModeOff() -> Bool? { clusterConfig().map(Self.synchronousOff) }

    /// Maintenance mode in a dynamic configuration (`pause`, absent: off).
    static func paused(_ config: [String: Any]) -> Bool { (config["pause"] as? Bool) ?? false }

    /// Synchronous replication off in a dynamic configuration (`synchronous_mode` absent or not true).
    static func synchronousOff(_ config: [String: Any]) -> Bool { (config["synchronous_mode"] as? Bool) != true }

    /// The dynamic configuration, from the first member that answers `GET /config`.
    func clusterConfig() -> [String: Any]? {
        for n in config.nodeNames {
            guard let r = try? HTTP.get(config.restURL(n) + "/config", timeout: .seconds(1)), r.status == 200,
                  let obj = try? JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [String: Any] else { continue }
            return obj
        }
        return nil
    }

    /// The leader's `synchronous_standby_names` ("" when it waits for no standby); nil when it cannot be read.
    func synchronousStandbyNames() async -> String? {
        guard let leader = await leaderName() else { return nil }
        let dsn = config.direct(leader, user: "postgres", dbname: "postgres")
        return await Blocking.run {
            guard let c = try? PGConnection(dsn, connectTimeout: .seconds(2)) else { return nil }
            defer { c.close() }
            return (try? c.exec("show synchronous_standby_names", timeout: .seconds(2)).scalar) ?? nil
        }
    }
}
