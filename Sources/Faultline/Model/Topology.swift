/// The role a member plays right now, as the environment reports it.
public enum MemberRole: String, Codable, Sendable, CaseIterable {
    case primary
    case syncStandby = "sync_standby"
    case asyncReplica = "async_replica"
    /// Running but its role cannot be told (starting, in recovery without replication, ...).
    case unknown
    /// Not running, or not answering.
    case down

    public var isReplica: Bool { self == .syncStandby || self == .asyncReplica }
}

/// One cluster member.
public struct Member: Codable, Sendable, Equatable {
    public var name: String
    public var role: MemberRole
    /// PostgreSQL timeline, when known.
    public var timeline: Int?
    /// Replication lag in bytes behind the primary, when known (nil on the primary).
    public var lagBytes: Int64?
    /// Address the member is reached at (informational; faults name members, not hosts).
    public var host: String

    public init(name: String, role: MemberRole, timeline: Int? = nil, lagBytes: Int64? = nil, host: String = "") {
        self.name = name
        self.role = role
        self.timeline = timeline
        self.lagBytes = lagBytes
        self.host = host
    }
}

/// The shape a healthy cluster must have.
public struct ClusterShape: Codable, Sendable, Equatable {
    public var members: Int
    public var sync: Int

    public init(members: Int, sync: Int) {
        self.members = members
        self.sync = sync
    }
}

/// Who is who in the cluster at one instant.
public struct Topology: Codable, Sendable, Equatable {
    public var members: [Member]

    public init(members: [Member]) { self.members = members }

    /// The single primary, or nil when there is none or more than one.
    public var primary: Member? {
        let p = members.filter { $0.role == .primary }
        return p.count == 1 ? p[0] : nil
    }

    public var primaryCount: Int { members.filter { $0.role == .primary }.count }

    /// `n1=primary/tl2 n2=sync_standby n3=down`, sorted by name.
    public var summary: String {
        if members.isEmpty { return "(no members)" }
        return members.sorted { $0.name < $1.name }.map { m in
            "\(m.name)=\(m.role.rawValue)" + (m.timeline.map { "/tl\($0)" } ?? "")
        }.joined(separator: " ")
    }

    /// What keeps this topology from having `shape`; empty when it is healthy. The one health rule of
    /// the harness (the runner's and every environment's): exactly `shape.members` members, none down or
    /// unknown (so every replica streams), exactly one primary, at least `shape.sync` synchronous
    /// standbys (the rest asynchronous), and every replica on the primary's timeline (where both are known).
    public func health(against shape: ClusterShape) -> [HealthProblem] {
        var out: [HealthProblem] = []
        if members.count != shape.members { out.append(.memberCount(members.count, want: shape.members)) }
        let down = members.filter { $0.role == .down || $0.role == .unknown }.map(\.name).sorted()
        if !down.isEmpty { out.append(.notRunning(down)) }
        let primaries = members.filter { $0.role == .primary }.map(\.name).sorted()
        if primaries.count != 1 { out.append(.primaries(primaries)) }
        let sync = members.filter { $0.role == .syncStandby }.count
        if sync < shape.sync { out.append(.tooFewSync(sync, want: shape.sync)) }
        if let tl = primary?.timeline {
            for r in members.sorted(by: { $0.name < $1.name }) where r.role.isReplica {
                if let t = r.timeline, t != tl { out.append(.timeline(member: r.name, timeline: t, primaryTimeline: tl)) }
            }
        }
        return out
    }

    /// `health(against:)` as sentences.
    public func problems(against shape: ClusterShape) -> [String] { health(against: shape).map(\.description) }

    public func isHealthy(_ shape: ClusterShape) -> Bool { problems(against: shape).isEmpty }
}

/// One way a topology falls short of the shape a healthy cluster has (`Topology.health(against:)`).
public enum HealthProblem: Sendable, Equatable, CustomStringConvertible {
    /// Not the expected number of members.
    case memberCount(Int, want: Int)
    /// Members down, or running in no role that can be told (not streaming, starting, ...); sorted.
    case notRunning([String])
    /// Not exactly one primary: the primaries there are, sorted.
    case primaries([String])
    /// Fewer synchronous standbys than the shape wants.
    case tooFewSync(Int, want: Int)
    /// A replica on another timeline than the primary's.
    case timeline(member: String, timeline: Int, primaryTimeline: Int)

    public var description: String {
        switch self {
        case .memberCount(let n, let w): "\(n) members, want \(w)"
        case .notRunning(let names): "not running: \(names.joined(separator: ", "))"
        case .primaries(let p): "\(p.count) primaries, want 1"
        case .tooFewSync(let n, let w): "\(n) sync standbys, want \(w)"
        case .timeline(let m, let t, let p): "\(m) on timeline \(t), primary on \(p)"
        }
    }
}
