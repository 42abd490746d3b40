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

    /// What keeps this topology from having `shape`; empty when it is healthy:
    /// that many members, none down or unknown, exactly one primary, exactly `sync` synchronous standbys.
    public func problems(against shape: ClusterShape) -> [String] {
        var out: [String] = []
        if members.count != shape.members { out.append("\(members.count) members, want \(shape.members)") }
        let down = members.filter { $0.role == .down || $0.role == .unknown }.map(\.name).sorted()
        if !down.isEmpty { out.append("not running: \(down.joined(separator: ", "))") }
        if primaryCount != 1 { out.append("\(primaryCount) primaries, want 1") }
        let sync = members.filter { $0.role == .syncStandby }.count
        if sync != shape.sync { out.append("\(sync) sync standbys, want \(shape.sync)") }
        return out
    }

    public func isHealthy(_ shape: ClusterShape) -> Bool { problems(against: shape).isEmpty }
}
