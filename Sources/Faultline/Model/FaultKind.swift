/// The kinds of fault a scenario can inject, one per `FaultSpec` case. The raw value is the kind's
/// name in JSON (report.json, fault-ledger.json) and in `faultline list --faults`.
public enum FaultKind: String, Codable, CaseIterable, Sendable {
    case killNode = "kill-node"
    case killPostgres = "kill-postgres"
    case switchover
    case isolate
    case partition
    case partitionFromDCS = "partition-dcs"
    case packetLoss = "packet-loss"
    case bandwidth
    case latency
    case pause
    case fillDisk = "fill-disk"
    case pauseReplay = "pause-replay"
    case dcsQuorumLoss = "dcs-quorum-loss"
    case longQuery = "long-query"
    case idleInTransaction = "idle-in-transaction"
    case exhaustConnections = "exhaust-connections"
    case breakArchiving = "break-archiving"
    case roguePromote = "rogue-promote"
    case pausePooler = "pause-pooler"
    case asyncReplication = "async-replication"
}
