/// The fault primitives, one entry a kind, in environment-neutral terms: what the fault does to the
/// cluster, with an example spec. How an environment injects and heals each kind is its own catalogue
/// (the local one: `LocalFaultCatalogue`); `faultline list --faults` prints both.
public struct FaultKindInfo: Sendable, Equatable {
    public var kind: FaultKind
    public var example: FaultSpec
    /// One line: what the fault does, in terms of the cluster (no tool names).
    public var summary: String

    /// Every kind, in `FaultKind.allCases` order.
    public static let all: [FaultKindInfo] = FaultKind.allCases.map(info)

    /// The entry for `kind` (exhaustive: a new kind does not compile without one).
    public static func info(_ kind: FaultKind) -> FaultKindInfo {
        switch kind {
        case .killNode: .init(kind, .killNode(.primary), "crash the whole node: its Patroni and PostgreSQL")
        case .killPostgres: .init(kind, .killPostgres(.primary), "crash PostgreSQL on the node; Patroni stays up")
        case .switchover: .init(kind, .switchover(to: .syncStandby), "planned switchover away from the primary")
        case .isolate: .init(kind, .isolate(.primary), "cut the node off from every peer: clients, members, DCS")
        case .partition: .init(kind, .partitionFromReplicas(.primary), "cut the node off from some peers, on some services")
        case .partitionFromDCS: .init(kind, .partitionFromDCS(.primary), "cut the node off from the DCS only")
        case .packetLoss: .init(kind, .packetLoss(.primary, percent: 5), "lose a share of the node's packets")
        case .bandwidth: .init(kind, .bandwidth(.syncStandby, kbit: 256), "limit the node's outgoing bandwidth")
        case .latency: .init(kind, .latency(.primary, ms: 100), "delay every packet the node sends")
        case .pause: .init(kind, .pause(.primary, .postgres), "freeze a process of the node (PostgreSQL, Patroni or etcd)")
        case .fillDisk: .init(kind, .fillDisk(.primary, percent: 100), "fill the node's data volume")
        case .pauseReplay: .init(kind, .pauseReplay(.asyncReplica), "pause WAL replay on a replica")
        case .dcsQuorumLoss: .init(kind, .dcsQuorumLoss(stop: 2), "stop DCS members until it loses quorum")
        case .longQuery: .init(kind, .longQuery(.primary), "a long query with a DDL lock queued behind it")
        case .idleInTransaction: .init(kind, .idleInTransaction(.primary), "a session idle in a transaction holding a lock writers need")
        case .exhaustConnections: .init(kind, .exhaustConnections(.postgres(.primary)), "hold every connection PostgreSQL or the pooler admits")
        case .breakArchiving: .init(kind, .breakArchiving(.primary), "make the WAL archive unreachable from the node")
        case .roguePromote: .init(kind, .roguePromote(.asyncReplica), "operator error: pause cluster management and promote a replica by hand")
        case .pausePooler: .init(kind, .pausePooler, "pause the connection pooler: clients' queries wait until it resumes")
        case .asyncReplication: .init(kind, .asyncReplication, "known-bad configuration: synchronous replication off, failover allowed at any lag")
        }
    }

    public init(_ kind: FaultKind, _ example: FaultSpec, _ summary: String) {
        self.kind = kind
        self.example = example
        self.summary = summary
    }
}
