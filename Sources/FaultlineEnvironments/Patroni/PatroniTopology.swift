import Faultline

extension ClusterStatus {
    /// Maps Patroni's members onto the runner's roles: a running leader is the primary, a streaming
    /// sync standby or replica a standby, a stopped or absent member down, anything else unknown.
    /// Patroni 3.0.x reports a streaming replica as "running" (see `isStreaming`). Pure.
    public static func topology(from members: [MemberStatus]) -> Topology {
        Topology(members: members.map { m in
            let role: MemberRole
            let state = isStreaming(m, among: members) ? "streaming" : m.state
            switch (m.role, state) {
            case ("down", _): role = .down
            case ("leader", "running"), ("primary", "running"): role = .primary
            case ("sync_standby", "streaming"): role = .syncStandby
            case ("replica", "streaming"), ("quorum_standby", "streaming"): role = .asyncReplica
            case (_, "stopped"), (_, "crashed"), (_, "unreachable"), (_, "absent"): role = .down
            default: role = .unknown
            }
            return Member(name: m.name, role: role, timeline: m.timeline, lagBytes: m.lagBytes.map(Int64.init), host: m.host)
        })
    }
}
