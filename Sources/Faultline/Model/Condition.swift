/// Something the runner waits for by polling the topology.
public enum Condition: Codable, Sendable, Equatable, CustomStringConvertible {
    /// A member other than the primary at injection time is now the single primary.
    case newPrimary
    /// Since injection, the primary was seen gone (no single primary, or the old one not running as primary),
    /// and now there is a single primary again (the same member or another).
    case primaryRecovered
    /// The topology has the shape: that many members, all running, one primary, `sync` sync standbys.
    case clusterHealthy(members: Int, sync: Int)

    public var description: String {
        switch self {
        case .newPrimary: "new primary"
        case .primaryRecovered: "primary recovered"
        case .clusterHealthy(let m, let s): "cluster healthy (\(m) members, 1 primary, \(s) sync)"
        }
    }

    /// A short stable identifier: "new-primary", "primary-recovered", "cluster-healthy".
    public var slug: String {
        switch self {
        case .newPrimary: "new-primary"
        case .primaryRecovered: "primary-recovered"
        case .clusterHealthy: "cluster-healthy"
        }
    }
}
