/// A fault as a scenario states it: what to do, aimed at a role. Plain data, resolved when it fires.
public enum FaultSpec: Codable, Sendable, Equatable, CustomStringConvertible {
    /// SIGKILL the whole node: Patroni and PostgreSQL.
    case killNode(RoleSelector)
    /// SIGKILL only PostgreSQL (the postmaster); Patroni stays up.
    case killPostgres(RoleSelector)
    /// A planned switchover away from the current primary, to `candidate` (nil: let Patroni choose).
    case switchover(to: RoleSelector?)

    public var description: String {
        switch self {
        case .killNode(let s): "kill node (patroni + postgres) on \(s)"
        case .killPostgres(let s): "kill postgres on \(s)"
        case .switchover(let c): "planned switchover from the primary" + (c.map { " to \($0)" } ?? "")
        }
    }

    /// Resolves the selector against `topology`, giving the concrete action and how to undo it.
    public func resolve(in topology: Topology) throws(RoleSelector.ResolutionError) -> ResolvedFault {
        switch self {
        case .killNode(let selector):
            let m = try selector.resolve(in: topology)
            return ResolvedFault(action: .killNode(member: m.name), reversal: .startNode(member: m.name))
        case .killPostgres(let selector):
            let m = try selector.resolve(in: topology)
            return ResolvedFault(action: .killPostgres(member: m.name), reversal: .startPostgres(member: m.name))
        case .switchover(let candidate):
            let from = try RoleSelector.primary.resolve(in: topology)
            var to: String?
            if let candidate {
                let m = try candidate.resolve(in: topology)
                guard m.role.isReplica else { throw .notAReplica(candidate, topology.summary) }
                to = m.name
            }
            return ResolvedFault(action: .switchover(from: from.name, to: to), reversal: .nothingToUndo)
        }
    }
}

/// A fault aimed at concrete members; what the environment executes.
public enum FaultAction: Codable, Sendable, Equatable, CustomStringConvertible {
    case killNode(member: String)
    case killPostgres(member: String)
    case switchover(from: String, to: String?)

    public var description: String {
        switch self {
        case .killNode(let m): "SIGKILL patroni and postgres on \(m)"
        case .killPostgres(let m): "SIGKILL postgres on \(m)"
        case .switchover(let f, let t): "switchover \(f) -> \(t ?? "(patroni's choice)")"
        }
    }

    /// The members this action touches.
    public var members: [String] {
        switch self {
        case .killNode(let m), .killPostgres(let m): [m]
        case .switchover(let f, let t): [f] + (t.map { [$0] } ?? [])
        }
    }
}

/// How to undo one fault. Persisted in the fault ledger before the fault takes effect.
public enum Reversal: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Start Patroni (and so PostgreSQL) on the member again.
    case startNode(member: String)
    /// Start PostgreSQL on the member again (or let Patroni do it).
    case startPostgres(member: String)
    /// Nothing to undo (a switchover leaves a healthy cluster with a new leader).
    case nothingToUndo

    public var description: String {
        switch self {
        case .startNode(let m): "start patroni on \(m)"
        case .startPostgres(let m): "start postgres on \(m)"
        case .nothingToUndo: "nothing to undo"
        }
    }
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
