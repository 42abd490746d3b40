/// A fault as a scenario states it: what to do, aimed at a role. Plain data, resolved when it fires.
public enum FaultSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    /// SIGKILL the whole node: Patroni and PostgreSQL.
    case killNode(RoleSelector)
    /// SIGKILL only PostgreSQL (the postmaster); Patroni stays up.
    case killPostgres(RoleSelector)
    /// A planned switchover away from the current primary, to `candidate` (nil: let Patroni choose).
    case switchover(to: RoleSelector?)

    // MARK: network

    /// Cut the node off from every other address: clients, the other members, their etcd. Loopback stays,
    /// and so does the harness's own PostgreSQL probe (how a split brain is detected).
    case isolate(RoleSelector)
    /// Drop traffic between the node and `peers`, on `services` only (empty: every port).
    case partition(RoleSelector, from: PeerGroup, services: [NetService])
    /// Cut the node off from the DCS only: etcd traffic in and out, the node's own etcd member included.
    case partitionFromDCS(RoleSelector)
    /// Drop `percent` % of the packets the node sends or receives on its link (each direction).
    case packetLoss(RoleSelector, percent: Int)
    /// Limit the node's outgoing link to `kbit` kbit/s (token bucket).
    case bandwidth(RoleSelector, kbit: Int)
    /// Delay every packet the node sends by `ms` (netem). Skipped where the kernel has no netem.
    case latency(RoleSelector, ms: Int)

    // MARK: processes and resources

    /// SIGSTOP a process of the node (PostgreSQL: the postmaster and every backend); SIGCONT undoes it.
    case pause(RoleSelector, ProcessKind)
    /// Fill the node's data volume to `percent` % of its size with a ballast file (100: until ENOSPC).
    case fillDisk(RoleSelector, percent: Int)
    /// Pause WAL replay on a replica (`pg_wal_replay_pause()`): its replay lag grows.
    case pauseReplay(RoleSelector)
    /// Stop etcd on `members` of the DCS (chosen away from the primary first), so it loses quorum.
    case dcsQuorumLoss(stop: Int)
    /// A long-running query on the node holding its lock on the ledger table, with an ACCESS EXCLUSIVE
    /// lock request (a migration) queued behind it: every later writer queues too.
    case longQuery(RoleSelector)
    /// A session idle in a transaction that holds a SHARE lock on the ledger table: inserts wait.
    case idleInTransaction(RoleSelector)
    /// Hold every connection a target admits (PostgreSQL's `max_connections` or PgBouncer's pool).
    case exhaustConnections(ConnectionTarget)
    /// Break WAL archiving on the node: drop its traffic to the object store's port, then switch to a new
    /// WAL segment so the archiver has one to push at once. PostgreSQL keeps the segments in pg_wal.
    case breakArchiving(RoleSelector)

    // MARK: operator error

    /// Pause cluster management (Patroni maintenance mode), then promote the replica by hand
    /// (`pg_promote()`): two members run as primary, only one holds the leader lock.
    case roguePromote(RoleSelector)
    /// Turn synchronous replication off and let any replica take over whatever its lag (Patroni's dynamic
    /// configuration: `synchronous_mode` false, `maximum_lag_on_failover` 1 GiB): a primary then acknowledges commits
    /// no replica has, and a failover loses them. The known-bad configuration of the lost-writes control.
    case asyncReplication

    // MARK: the pooler

    /// Pause the connection pooler (PgBouncer's `PAUSE`): it lets every server connection go and holds each client's next
    /// query until it is resumed (`RESUME`, the reversal, recorded before the pause). Clients wait instead of failing,
    /// for a planned switchover (`switchover-paused`). PgBouncer fails a query that waits longer than its
    /// `query_wait_timeout`.
    case pausePooler

    /// Partition the node from the other members' PostgreSQL and Patroni API (etcd stays reachable).
    public static func partitionFromReplicas(_ s: RoleSelector) -> FaultSpec {
        .partition(s, from: .otherMembers, services: [.postgres, .patroni])
    }

    /// Partition the node from the client side (HAProxy, PgBouncer): every port.
    public static func partitionFromClients(_ s: RoleSelector) -> FaultSpec {
        .partition(s, from: .clients, services: [])
    }

    public var description: String {
        switch self {
        case .killNode(let s): "kill node (patroni + postgres) on \(s)"
        case .killPostgres(let s): "kill postgres on \(s)"
        case .switchover(let c): "planned switchover from the primary" + (c.map { " to \($0)" } ?? "")
        case .isolate(let s): "isolate \(s) from every peer (clients, members, etcd)"
        case .partition(let s, let p, let sv): "partition \(s) from \(p)" + (sv.isEmpty ? "" : " on \(sv.map(\.rawValue).joined(separator: ", "))")
        case .partitionFromDCS(let s): "partition \(s) from the DCS (etcd)"
        case .packetLoss(let s, let p): "drop \(p) % of \(s)'s packets"
        case .bandwidth(let s, let k): "limit \(s)'s link to \(k) kbit/s"
        case .latency(let s, let ms): "delay \(s)'s packets by \(ms) ms (netem)"
        case .pause(let s, let p): "SIGSTOP \(p.rawValue) on \(s)"
        case .fillDisk(let s, let p): "fill \(s)'s data volume to \(p) %"
        case .pauseReplay(let s): "pause WAL replay on \(s)"
        case .dcsQuorumLoss(let n): "stop \(n) etcd member(s): DCS quorum lost"
        case .longQuery(let s): "long query on \(s) with a DDL lock queued behind it"
        case .idleInTransaction(let s): "idle-in-transaction session holding a lock on \(s)"
        case .exhaustConnections(let t): "hold every connection of \(t)"
        case .breakArchiving(let s): "break WAL archiving on \(s) (object store unreachable)"
        case .roguePromote(let s): "pause Patroni (maintenance mode) and promote \(s) by hand"
        case .pausePooler: "pause the pooler (clients wait)"
        case .asyncReplication: "turn synchronous replication off; any replica may take over at any lag"
        }
    }

    /// The fault's kind; its raw value is the kind's name in JSON ("isolate", "fill-disk", ...).
    public var kind: FaultKind {
        switch self {
        case .killNode: .killNode
        case .killPostgres: .killPostgres
        case .switchover: .switchover
        case .isolate: .isolate
        case .partition: .partition
        case .partitionFromDCS: .partitionFromDCS
        case .packetLoss: .packetLoss
        case .bandwidth: .bandwidth
        case .latency: .latency
        case .pause: .pause
        case .fillDisk: .fillDisk
        case .pauseReplay: .pauseReplay
        case .dcsQuorumLoss: .dcsQuorumLoss
        case .longQuery: .longQuery
        case .idleInTransaction: .idleInTransaction
        case .exhaustConnections: .exhaustConnections
        case .breakArchiving: .breakArchiving
        case .roguePromote: .roguePromote
        case .pausePooler: .pausePooler
        case .asyncReplication: .asyncReplication
        }
    }

    /// Resolves the selector against `topology`, giving the concrete action and how to undo it.
    public func resolve(in topology: Topology) throws(RoleSelector.ResolutionError) -> ResolvedFault {
        func member(_ s: RoleSelector) throws(RoleSelector.ResolutionError) -> String { try s.resolve(in: topology).name }
        switch self {
        case .killNode(let selector):
            let m = try member(selector)
            return ResolvedFault(action: .killNode(member: m), reversal: .startNode(member: m))
        case .killPostgres(let selector):
            let m = try member(selector)
            return ResolvedFault(action: .killPostgres(member: m), reversal: .startPostgres(member: m))
        case .switchover(let candidate):
            let from = try RoleSelector.primary.resolve(in: topology)
            var to: String?
            if let candidate {
                let m = try candidate.resolve(in: topology)
                guard m.role.isReplica else { throw .notAReplica(candidate, topology.summary) }
                to = m.name
            }
            return ResolvedFault(action: .switchover(from: from.name, to: to), reversal: .nothingToUndo)
        case .isolate(let s):
            return .traffic(try member(s), PacketFilter(peers: [.anyHost]))
        case .partition(let s, let group, let services):
            let m = try member(s)
            let peers: [PacketPeer]
            switch group {
            case .otherMembers: peers = topology.members.map(\.name).filter { $0 != m }.sorted().map { .member($0) }
            case .members(let sels):
                var names: [String] = []
                for sel in sels { names.append(try member(sel)) }
                peers = Array(Set(names)).filter { $0 != m }.sorted().map { .member($0) }
            case .clients: peers = [.clients]
            case .everyone: peers = [.anyHost]
            }
            guard !peers.isEmpty else { throw .noMatch(s, topology.summary) }
            return .traffic(m, PacketFilter(peers: peers, services: services))
        case .partitionFromDCS(let s):
            return .traffic(try member(s), PacketFilter(peers: [.anyHost, .loopback], services: [.etcd]))
        case .packetLoss(let s, let p):
            return .traffic(try member(s), PacketFilter(peers: [.anyHost], percent: max(0, min(100, p))))
        case .bandwidth(let s, let k):
            let m = try member(s)
            return ResolvedFault(action: .shapeLink(member: m, shape: .rate(kbit: k)), reversal: .unshapeLink(member: m, shape: .rate(kbit: k)))
        case .latency(let s, let ms):
            let m = try member(s)
            return ResolvedFault(action: .shapeLink(member: m, shape: .delay(ms: ms)), reversal: .unshapeLink(member: m, shape: .delay(ms: ms)))
        case .pause(let s, let p):
            let m = try member(s)
            return ResolvedFault(action: .stopProcess(member: m, process: p), reversal: .continueProcess(member: m, process: p))
        case .fillDisk(let s, let p):
            let m = try member(s)
            return ResolvedFault(action: .fillDisk(member: m, percent: max(1, min(100, p))), reversal: .removeBallast(member: m))
        case .pauseReplay(let s):
            let m = try s.resolve(in: topology)
            guard m.role.isReplica else { throw .notAReplica(s, topology.summary) }
            return ResolvedFault(action: .pauseReplay(member: m.name), reversal: .resumeReplay(member: m.name))
        case .dcsQuorumLoss(let n):
            // Replicas first (by name), the primary last: the primary's own etcd member keeps running when it can.
            let order = topology.members.sorted { ($0.role == .primary ? 1 : 0, $0.name) < ($1.role == .primary ? 1 : 0, $1.name) }
            let stopped = order.prefix(max(1, n)).map(\.name).sorted()
            return ResolvedFault(action: .stopDCS(members: stopped), reversal: .startDCS(members: stopped))
        case .longQuery(let s):
            let m = try member(s)
            return ResolvedFault(action: .holdSessions(member: m, hold: .longQuery), reversal: .endSessions(member: m, hold: .longQuery))
        case .idleInTransaction(let s):
            let m = try member(s)
            return ResolvedFault(action: .holdSessions(member: m, hold: .idleInTransaction), reversal: .endSessions(member: m, hold: .idleInTransaction))
        case .exhaustConnections(let t):
            let m: String? = switch t {
            case .postgres(let s): try member(s)
            case .pooler: nil
            }
            let hold: SessionHold = m == nil ? .poolerConnections : .connections
            return ResolvedFault(action: .holdSessions(member: m ?? "pooler", hold: hold), reversal: .endSessions(member: m ?? "pooler", hold: hold))
        case .breakArchiving(let s):
            let m = try member(s)
            let f = PacketFilter(peers: [.anyHost], services: [.objectStore])
            return ResolvedFault(action: .breakArchiving(member: m, filter: f), reversal: .restorePackets(member: m, filter: f))
        case .roguePromote(let s):
            let m = try s.resolve(in: topology)
            guard m.role.isReplica else { throw .notAReplica(s, topology.summary) }
            return ResolvedFault(action: .roguePromote(member: m.name), reversal: .rejoinRogue(member: m.name))
        case .pausePooler:
            return ResolvedFault(action: .pausePooler, reversal: .resumePooler)
        case .asyncReplication:
            return ResolvedFault(action: .asyncReplication, reversal: .syncReplication)
        }
    }
}

/// Which peers a partition cuts a node off from.
public enum PeerGroup: Sendable, Equatable, CustomStringConvertible {
    /// Every other member (their PostgreSQL, Patroni and etcd, as `services` says).
    case otherMembers
    /// Specific members, by role; resolved at injection.
    case members([RoleSelector])
    /// The client side: HAProxy and PgBouncer.
    case clients
    /// Every address on the node's link.
    case everyone

    /// `other-members`, `members:primary,node:n2`, `clients`, `everyone`.
    public var description: String {
        switch self {
        case .otherMembers: "other-members"
        case .members(let s): "members:" + s.map(\.description).joined(separator: ",")
        case .clients: "clients"
        case .everyone: "everyone"
        }
    }

    public init?(text: String) {
        switch text {
        case "other-members": self = .otherMembers
        case "clients": self = .clients
        case "everyone": self = .everyone
        default:
            guard text.hasPrefix("members:") else { return nil }
            let parts = text.dropFirst(8).split(separator: ",").map { RoleSelector(text: String($0)) }
            guard !parts.isEmpty, parts.allSatisfy({ $0 != nil }) else { return nil }
            self = .members(parts.compactMap { $0 })
        }
    }
}

extension PeerGroup: TextCodable {
    public static let textKind = "peer group"
}

/// A network service of a member, by role (the environment maps it to ports).
public enum NetService: String, Codable, Sendable, Equatable, CaseIterable {
    /// PostgreSQL: client and replication connections.
    case postgres
    /// Patroni's REST API (HAProxy's health checks, member-to-member calls).
    case patroni
    /// etcd: its client and peer ports.
    case etcd
    /// The S3 object store WAL is archived to.
    case objectStore = "object-store"
}

/// A process of a member that a fault can pause.
public enum ProcessKind: String, Codable, Sendable, Equatable, CaseIterable {
    /// The postmaster and every PostgreSQL backend.
    case postgres
    case patroni
    case etcd
}

/// What connections an exhaustion fault holds.
public enum ConnectionTarget: Sendable, Equatable, CustomStringConvertible {
    /// PostgreSQL on a member, directly (up to `max_connections`).
    case postgres(RoleSelector)
    /// The connection pooler (PgBouncer): its pool, held by open transactions.
    case pooler

    public var description: String {
        switch self {
        case .postgres(let s): "postgres on \(s)"
        case .pooler: "the pooler"
        }
    }
}

/// The far end of a packet-filter rule.
public enum PacketPeer: Sendable, Hashable, CustomStringConvertible {
    /// Another member's address.
    case member(String)
    /// The client side (HAProxy, PgBouncer).
    case clients
    /// Any address on the node's link, except the harness's PostgreSQL probe.
    case anyHost
    /// The node's loopback (its own etcd, for a DCS partition).
    case loopback

    public var description: String {
        switch self {
        case .member(let m): "member:\(m)"
        case .clients: "clients"
        case .anyHost: "any-host"
        case .loopback: "loopback"
        }
    }

    public init?(text: String) {
        switch text {
        case "clients": self = .clients
        case "any-host": self = .anyHost
        case "loopback": self = .loopback
        default:
            guard text.hasPrefix("member:"), text.count > 7 else { return nil }
            self = .member(String(text.dropFirst(7)))
        }
    }
}

extension PacketPeer: TextCodable {
    public static let textKind = "packet peer"
}

/// Packets a traffic fault drops on one member: to and from `peers`, on `services` (empty: every port),
/// each with probability `percent` % (nil: every packet).
public struct PacketFilter: Codable, Sendable, Hashable, CustomStringConvertible {
    public var peers: [PacketPeer]
    public var services: [NetService]
    public var percent: Int?

    public init(peers: [PacketPeer], services: [NetService] = [], percent: Int? = nil) {
        self.peers = peers
        self.services = services
        self.percent = percent
    }

    public var description: String {
        var s = (percent.map { "\($0) % of " } ?? "") + "packets to/from " + peers.map(\.description).joined(separator: ", ")
        if !services.isEmpty { s += " on " + services.map(\.rawValue).joined(separator: ", ") }
        return s
    }
}

/// A change to a member's outgoing link.
public enum LinkShape: Sendable, Hashable, CustomStringConvertible {
    /// Token bucket filter: at most `kbit` kbit/s.
    case rate(kbit: Int)
    /// netem: every packet delayed by `ms`.
    case delay(ms: Int)

    public var description: String {
        switch self {
        case .rate(let k): "rate \(k) kbit/s"
        case .delay(let ms): "delay \(ms) ms"
        }
    }
}

/// Sessions a fault opens and holds on a member (or on the pooler).
public enum SessionHold: String, Codable, Sendable, Hashable {
    /// A long query, plus an ACCESS EXCLUSIVE lock request queued behind it.
    case longQuery = "long-query"
    /// A transaction left idle holding a SHARE lock on the ledger table.
    case idleInTransaction = "idle-in-transaction"
    /// As many connections as PostgreSQL admits.
    case connections
    /// PgBouncer's whole pool, held by open transactions.
    case poolerConnections = "pooler-connections"
}

/// A fault aimed at concrete members; what the environment executes.
public enum FaultAction: Codable, Sendable, Equatable, CustomStringConvertible {
    case killNode(member: String)
    case killPostgres(member: String)
    case switchover(from: String, to: String?)
    /// Drop packets on the member (iptables rules in a chain of their own).
    case dropPackets(member: String, filter: PacketFilter)
    /// Shape the member's outgoing link (tc qdisc).
    case shapeLink(member: String, shape: LinkShape)
    /// SIGSTOP a process of the member.
    case stopProcess(member: String, process: ProcessKind)
    /// Fill the member's data volume to `percent` % with ballast.
    case fillDisk(member: String, percent: Int)
    case pauseReplay(member: String)
    /// Stop etcd on these members.
    case stopDCS(members: [String])
    /// Open and hold sessions on the member ("pooler" for the pooler).
    case holdSessions(member: String, hold: SessionHold)
    /// Drop packets on the member (as `dropPackets`), then `pg_switch_wal()` there.
    case breakArchiving(member: String, filter: PacketFilter)
    /// Turn Patroni's maintenance mode on, then `pg_promote()` on the member (a replica).
    case roguePromote(member: String)
    /// PAUSE the pooler (member "pooler").
    case pausePooler
    /// Patroni's dynamic configuration: `synchronous_mode` false, `maximum_lag_on_failover` 1 GiB (the whole cluster).
    case asyncReplication

    public var description: String {
        switch self {
        case .killNode(let m): "SIGKILL patroni and postgres on \(m)"
        case .killPostgres(let m): "SIGKILL postgres on \(m)"
        case .switchover(let f, let t): "switchover \(f) -> \(t ?? "(patroni's choice)")"
        case .dropPackets(let m, let f): "drop \(f) on \(m)"
        case .shapeLink(let m, let s): "shape \(m)'s link: \(s)"
        case .stopProcess(let m, let p): "SIGSTOP \(p.rawValue) on \(m)"
        case .fillDisk(let m, let p): "fill \(m)'s data volume to \(p) %"
        case .pauseReplay(let m): "pg_wal_replay_pause() on \(m)"
        case .stopDCS(let ms): "stop etcd on \(ms.joined(separator: ", "))"
        case .holdSessions(let m, let h): "hold \(h.rawValue) sessions on \(m)"
        case .breakArchiving(let m, let f): "drop \(f) on \(m), then pg_switch_wal()"
        case .roguePromote(let m): "maintenance mode on, then pg_promote() on \(m)"
        case .pausePooler: "PAUSE the pooler"
        case .asyncReplication: "PATCH /config: synchronous_mode false, maximum_lag_on_failover 1 GiB"
        }
    }

    /// The members this action touches.
    public var members: [String] {
        switch self {
        case .killNode(let m), .killPostgres(let m): [m]
        case .switchover(let f, let t): [f] + (t.map { [$0] } ?? [])
        case .dropPackets(let m, _), .shapeLink(let m, _), .stopProcess(let m, _), .fillDisk(let m, _),
             .pauseReplay(let m), .holdSessions(let m, _), .breakArchiving(let m, _), .roguePromote(let m): [m]
        case .stopDCS(let ms): ms
        case .pausePooler: ["pooler"]
        case .asyncReplication: []
        }
    }
}

/// How to undo one fault. Persisted in the fault ledger before the fault takes effect. Every reversal
/// undoes exactly what its action did, and is idempotent (it may run for a fault that never took effect).
public enum Reversal: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Start Patroni (and so PostgreSQL) on the member again.
    case startNode(member: String)
    /// Start PostgreSQL on the member again (or let Patroni do it).
    case startPostgres(member: String)
    /// Nothing to undo (a switchover leaves a healthy cluster with a new leader).
    case nothingToUndo
    /// Delete exactly the packet-filter rules `dropPackets` added.
    case restorePackets(member: String, filter: PacketFilter)
    /// Remove the qdisc `shapeLink` added (only if it is still that kind).
    case unshapeLink(member: String, shape: LinkShape)
    /// SIGCONT the process.
    case continueProcess(member: String, process: ProcessKind)
    /// Delete the ballast files on the member's data volume.
    case removeBallast(member: String)
    case resumeReplay(member: String)
    /// Start etcd on these members again.
    case startDCS(members: [String])
    /// Terminate the held sessions (and close the harness's ends).
    case endSessions(member: String, hold: SessionHold)
    /// Maintenance mode off and the member back as a streaming replica: CHECKPOINT it if it runs as a
    /// primary (so pg_rewind sees its new timeline), let Patroni demote and rewind it, reinitialize it
    /// if it does not stream. Idempotent: a member already streaming is left alone.
    case rejoinRogue(member: String)
    /// RESUME the pooler; idempotent (a pooler that is not paused is left alone).
    case resumePooler
    /// Synchronous replication back on, with the environment's own `maximum_lag_on_failover`; idempotent.
    case syncReplication

    public var description: String {
        switch self {
        case .startNode(let m): "start patroni on \(m)"
        case .startPostgres(let m): "start postgres on \(m)"
        case .nothingToUndo: "nothing to undo"
        case .restorePackets(let m, let f): "delete the rules dropping \(f) on \(m)"
        case .unshapeLink(let m, let s): "remove \(s) from \(m)'s link"
        case .continueProcess(let m, let p): "SIGCONT \(p.rawValue) on \(m)"
        case .removeBallast(let m): "remove the ballast from \(m)'s data volume"
        case .resumeReplay(let m): "pg_wal_replay_resume() on \(m)"
        case .startDCS(let ms): "start etcd on \(ms.joined(separator: ", "))"
        case .endSessions(let m, let h): "end the \(h.rawValue) sessions on \(m)"
        case .rejoinRogue(let m): "maintenance mode off; \(m) back as a replica (checkpoint, demote, pg_rewind; reinitialize if needed)"
        case .resumePooler: "RESUME the pooler"
        case .syncReplication: "PATCH /config: synchronous_mode true, maximum_lag_on_failover back to the environment's"
        }
    }
}

extension ResolvedFault {
    static func traffic(_ member: String, _ filter: PacketFilter) -> ResolvedFault {
        ResolvedFault(action: .dropPackets(member: member, filter: filter), reversal: .restorePackets(member: member, filter: filter))
    }
}

/// Thrown by an environment when it cannot inject a fault at all on this machine (no netem in the
/// kernel, ...). The runner turns it into *skipped* verdicts with `reason`, never into passed ones.
public struct FaultUnsupported: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// A fault spec resolved against a topology.
public struct ResolvedFault: Sendable, Equatable {
    public var action: FaultAction
    public var reversal: Reversal

    public init(action: FaultAction, reversal: Reversal) {
        self.action = action
        self.reversal = reversal
    }
}

/// One entry of the persisted fault ledger: a fault that may be in effect and how to undo it.
public struct FaultLedgerEntry: Codable, Sendable, Equatable {
    /// Unique per fault: "<run-id>/<step>".
    public var id: String
    public var runId: String
    public var scenario: String
    public var action: FaultAction
    public var reversal: Reversal

    public init(id: String, runId: String, scenario: String, action: FaultAction, reversal: Reversal) {
        self.id = id
        self.runId = runId
        self.scenario = scenario
        self.action = action
        self.reversal = reversal
    }
}
