/// Something the runner waits for by polling the topology.
public enum Condition: Codable, Sendable, Equatable, CustomStringConvertible {
    /// A member other than the primary at injection time is now the single primary.
    case newPrimary
    /// Since injection, the primary was seen gone (no single primary, or the old one not running as primary),
    /// and now there is a single primary again (the same member or another).
    case primaryRecovered
    /// The topology has the shape: that many members, all running, one primary, at least `sync` sync
    /// standbys, replicas on its timeline (`Topology.health(against:)`).
    case clusterHealthy(members: Int, sync: Int)
    /// A member other than the primary at injection time is the single primary, and the read-write endpoint
    /// (HAProxy's port) reaches it: a client that connects now writes to the new primary (`Environment.routedPrimary`).
    case newPrimaryRouted
    /// The environment's alerting lists this alert (by `alertname`) as firing: Alertmanager's API, else
    /// Prometheus'. Suppressed (inhibited) counts as firing; pending does not. See `AlertName`.
    case alertFiring(String)
    /// No alert of this name is firing (after a heal: the alert resolved).
    case alertResolved(String)

    public var description: String {
        switch self {
        case .newPrimary: "new primary"
        case .newPrimaryRouted: "new primary routed (the read-write endpoint reaches it)"
        case .primaryRecovered: "primary recovered"
        case .clusterHealthy(let m, let s): "cluster healthy (\(m) members, 1 primary, \(s) sync)"
        case .alertFiring(let a): "alert \(a) firing"
        case .alertResolved(let a): "alert \(a) resolved"
        }
    }

    /// A short stable identifier: "new-primary", "primary-recovered", "cluster-healthy", "alert-firing", "alert-resolved".
    public var slug: String {
        switch self {
        case .newPrimary: "new-primary"
        case .newPrimaryRouted: "new-primary-routed"
        case .primaryRecovered: "primary-recovered"
        case .clusterHealthy: "cluster-healthy"
        case .alertFiring: "alert-firing"
        case .alertResolved: "alert-resolved"
        }
    }
}
