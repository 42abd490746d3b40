/// What a condition needs to know besides the current topology.
public struct ConditionContext: Sendable, Equatable {
    /// The single primary when the first fault was injected.
    public var primaryAtInjection: String?
    /// Whether, since injection, the topology was seen without that primary as single primary.
    public var primaryLostSinceInjection: Bool

    public init(primaryAtInjection: String?, primaryLostSinceInjection: Bool) {
        self.primaryAtInjection = primaryAtInjection
        self.primaryLostSinceInjection = primaryLostSinceInjection
    }
}

extension Condition {
    /// Whether the condition holds for this topology.
    public func holds(in topology: Topology, _ context: ConditionContext) -> Bool {
        switch self {
        case .newPrimary:
            guard let p = topology.primary, p.role == .primary else { return false }
            return p.name != context.primaryAtInjection
        case .primaryRecovered:
            return context.primaryLostSinceInjection && topology.primary != nil
        case .clusterHealthy(let m, let s):
            return topology.isHealthy(ClusterShape(members: m, sync: s))
        case .alertFiring, .alertResolved:
            return false  // read from alerts: `holds(alerts:)`
        case .newPrimaryRouted:
            return false  // read from the environment's routing: `holds(routed:in:_:)`
        }
    }

    /// Whether the condition is read from the read-write endpoint's routing (`Environment.routedPrimary`).
    public var readsRouting: Bool { self == .newPrimaryRouted }

    /// Whether a routing condition holds: the read-write endpoint reaches `routed`, a primary that is not the primary at
    /// injection, and the topology agrees it is the single primary (false for the other conditions).
    public func holds(routed: String?, in topology: Topology, _ context: ConditionContext) -> Bool {
        guard self == .newPrimaryRouted, let routed, routed != context.primaryAtInjection else { return false }
        return topology.primary?.name == routed
    }
}
