/// The fault primitives, one entry a kind: how the local environment injects it and how its reversal
/// undoes it. `faultline list --faults` prints this with the scenarios that use each kind.
public struct FaultKindInfo: Sendable, Equatable {
    public var kind: String
    public var example: FaultSpec
    public var injects: String
    public var heals: String

    public static let all: [FaultKindInfo] = [
        .init(kind: "kill-node", example: .killNode(.primary), injects: "SIGKILL Patroni and every PostgreSQL process of the node", heals: "start Patroni"),
        .init(kind: "kill-postgres", example: .killPostgres(.primary), injects: "SIGKILL the postmaster", heals: "start Patroni if down (it restarts PostgreSQL)"),
        .init(kind: "switchover", example: .switchover(to: .syncStandby), injects: "POST /switchover to Patroni", heals: "nothing to undo"),
        .init(kind: "isolate", example: .isolate(.primary), injects: "iptables DROP on eth0 in the node's namespace (chain FAULTLINE); the harness's port-5432 probe exempt", heals: "delete exactly those rules; remove the chain when empty"),
        .init(kind: "partition", example: .partitionFromReplicas(.primary), injects: "iptables DROP to/from the peers' addresses, on the services' ports only", heals: "delete exactly those rules"),
        .init(kind: "partition-dcs", example: .partitionFromDCS(.primary), injects: "iptables DROP of etcd ports 2379/2380 on eth0 and loopback", heals: "delete exactly those rules"),
        .init(kind: "packet-loss", example: .packetLoss(.primary, percent: 5), injects: "iptables -m statistic --mode random DROP on eth0", heals: "delete exactly those rules"),
        .init(kind: "bandwidth", example: .bandwidth(.syncStandby, kbit: 256), injects: "tc tbf root qdisc on the node's eth0 and its bridge port", heals: "delete the root qdisc if still tbf"),
        .init(kind: "latency", example: .latency(.primary, ms: 100), injects: "tc netem root qdisc; no sch_netem: skipped", heals: "delete the root qdisc if still netem"),
        .init(kind: "pause", example: .pause(.primary, .postgres), injects: "SIGSTOP (PostgreSQL: postmaster and every backend; or Patroni, or etcd)", heals: "SIGCONT the same processes"),
        .init(kind: "fill-disk", example: .fillDisk(.primary, percent: 100), injects: "ballast file faultline-ballast-<pct> on the data tmpfs up to the percentage (100: ENOSPC)", heals: "delete the ballast files"),
        .init(kind: "pause-replay", example: .pauseReplay(.asyncReplica), injects: "select pg_wal_replay_pause() on the replica", heals: "select pg_wal_replay_resume() if still in recovery"),
        .init(kind: "dcs-quorum-loss", example: .dcsQuorumLoss(stop: 2), injects: "stop etcd on that many members, replicas first", heals: "start etcd where it is down"),
        .init(kind: "long-query", example: .longQuery(.primary), injects: "pg_sleep(3600) reading the ledger table, plus LOCK ... ACCESS EXCLUSIVE queued behind it", heals: "pg_terminate_backend by application_name"),
        .init(kind: "idle-in-transaction", example: .idleInTransaction(.primary), injects: "BEGIN; LOCK ledger table IN SHARE MODE; then idle", heals: "close it; pg_terminate_backend by application_name"),
        .init(kind: "exhaust-connections", example: .exhaustConnections(.postgres(.primary)), injects: "open connections until PostgreSQL refuses, then take every slot that frees up (or until PgBouncer's pool waits)", heals: "close them; pg_terminate_backend by application_name"),
        .init(kind: "break-archiving", example: .breakArchiving(.primary), injects: "iptables DROP of the S3 port 8333 on eth0 in the node's namespace, then pg_switch_wal()", heals: "delete exactly those rules (the archiver retries the segments left in pg_wal)"),
        .init(kind: "rogue-promote", example: .roguePromote(.asyncReplica), injects: "PATCH /config {\"pause\": true} (maintenance mode), then select pg_promote() on the replica", heals: "CHECKPOINT the rogue, PATCH /config {\"pause\": false}: Patroni demotes and pg_rewinds it; POST /reinitialize if it does not stream"),
    ]
}
