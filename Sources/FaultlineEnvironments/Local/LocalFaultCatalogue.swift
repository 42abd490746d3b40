import Faultline

/// How the local environment injects each fault kind and how its reversal undoes it, in the terms of
/// its tools (signals, iptables, tc, SQL, Patroni's REST API). `faultline list --faults` prints it.
public enum LocalFaultCatalogue {
    public struct Entry: Sendable, Equatable {
        public var injects: String
        public var heals: String
    }

    /// The entry for `kind` (exhaustive: a new kind does not compile without one).
    public static func entry(_ kind: FaultKind) -> Entry {
        switch kind {
        case .killNode: .init(injects: "SIGKILL Patroni and every PostgreSQL process of the node", heals: "start Patroni")
        case .killPostgres: .init(injects: "SIGKILL the postmaster", heals: "start Patroni if down (it restarts PostgreSQL)")
        case .switchover: .init(injects: "POST /switchover to Patroni", heals: "nothing to undo")
        case .isolate: .init(injects: "iptables DROP on eth0 in the node's namespace (chain FAULTLINE); the harness's port-5432 probe exempt", heals: "delete exactly those rules; remove the chain when empty")
        case .partition: .init(injects: "iptables DROP to/from the peers' addresses, on the services' ports only", heals: "delete exactly those rules")
        case .partitionFromDCS: .init(injects: "iptables DROP of etcd ports 2379/2380 on eth0 and loopback", heals: "delete exactly those rules")
        case .packetLoss: .init(injects: "iptables -m statistic --mode random DROP on eth0", heals: "delete exactly those rules")
        case .bandwidth: .init(injects: "tc tbf root qdisc on the node's eth0 and its bridge port", heals: "delete the root qdisc if still tbf")
        case .latency: .init(injects: "tc netem root qdisc; no sch_netem: skipped", heals: "delete the root qdisc if still netem")
        case .pause: .init(injects: "SIGSTOP (PostgreSQL: postmaster and every backend; or Patroni, or etcd)", heals: "SIGCONT the same processes")
        case .fillDisk: .init(injects: "ballast file faultline-ballast-<pct> on the data tmpfs up to the percentage (100: ENOSPC)", heals: "delete the ballast files")
        case .pauseReplay: .init(injects: "select pg_wal_replay_pause() on the replica", heals: "select pg_wal_replay_resume() if still in recovery")
        case .dcsQuorumLoss: .init(injects: "stop etcd on that many members, replicas first", heals: "start etcd where it is down")
        case .longQuery: .init(injects: "pg_sleep(3600) reading the ledger table, plus LOCK ... ACCESS EXCLUSIVE queued behind it", heals: "pg_terminate_backend by application_name")
        case .idleInTransaction: .init(injects: "BEGIN; LOCK ledger table IN SHARE MODE; then idle", heals: "close it; pg_terminate_backend by application_name")
        case .exhaustConnections: .init(injects: "open connections until PostgreSQL refuses, then take every slot that frees up (or until PgBouncer's pool waits)", heals: "close them; pg_terminate_backend by application_name")
        case .breakArchiving: .init(injects: "iptables DROP of the S3 port 8333 on eth0 in the node's namespace, then pg_switch_wal()", heals: "delete exactly those rules (the archiver retries the segments left in pg_wal)")
        case .asyncReplication: .init(injects: "PATCH /config {\"synchronous_mode\": false, \"maximum_lag_on_failover\": 1073741824}, then wait until the primary's synchronous_standby_names is empty", heals: "PATCH /config {\"synchronous_mode\": true, \"maximum_lag_on_failover\": 1048576} (the full heal does too when synchronous mode is off)")
        case .pausePooler: .init(injects: "PAUSE on PgBouncer's admin console (it releases every server connection; clients' queries wait)", heals: "RESUME on the admin console (the full heal does too)")
        case .roguePromote: .init(injects: "PATCH /config {\"pause\": true} (maintenance mode), then select pg_promote() on the replica", heals: "CHECKPOINT the rogue, PATCH /config {\"pause\": false}: Patroni demotes and pg_rewinds it; POST /reinitialize if it does not stream")
        }
    }
}
