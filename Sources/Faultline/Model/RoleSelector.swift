/// Which member a fault is aimed at. Resolved against the topology at the moment the fault fires.
public enum RoleSelector: Sendable, Hashable, CustomStringConvertible {
    /// The current leader.
    case primary
    /// A synchronous standby (the first by name when there are several).
    case syncStandby
    /// An asynchronous replica (the first by name when there are several).
    case asyncReplica
    /// Any running replica, synchronous or not (the first by name).
    case anyReplica
    /// A member by name, whatever its role.
    case node(String)

    public var description: String {
        switch self {
        case .primary: "primary"
        case .syncStandby: "sync-standby"
        case .asyncReplica: "async-replica"
        case .anyReplica: "any-replica"
        case .node(let name): "node:\(name)"
        }
    }

    /// Parses the `description` form back.
    public init?(text: String) {
        switch text {
        case "primary": self = .primary
        case "sync-standby": self = .syncStandby
        case "async-replica": self = .asyncReplica
        case "any-replica": self = .anyReplica
        default:
            guard text.hasPrefix("node:"), text.count > 5 else { return nil }
            self = .node(String(text.dropFirst(5)))
        }
    }

    /// The member this selector names in `topology`, or an error saying why none fits.
    public func resolve(in topology: Topology) throws(ResolutionError) -> Member {
        let byName = topology.members.sorted { $0.name < $1.name }
        switch self {
        case .primary:
            let primaries = byName.filter { $0.role == .primary }
            guard primaries.count == 1 else {
                throw primaries.isEmpty ? .noMatch(self, topology.summary) : .ambiguous(self, topology.summary)
            }
            return primaries[0]
        case .syncStandby:
            guard let m = byName.first(where: { $0.role == .syncStandby }) else { throw .noMatch(self, topology.summary) }
            return m
        case .asyncReplica:
            guard let m = byName.first(where: { $0.role == .asyncReplica }) else { throw .noMatch(self, topology.summary) }
            return m
        case .anyReplica:
            guard let m = byName.first(where: { $0.role.isReplica }) else { throw .noMatch(self, topology.summary) }
            return m
        case .node(let name):
            guard let m = byName.first(where: { $0.name == name }) else { throw .noMatch(self, topology.summary) }
            return m
        }
    }

    public enum ResolutionError: Error, Equatable, CustomStringConvertible {
        case noMatch(RoleSelector, String)
        case ambiguous(RoleSelector, String)
        case notAReplica(RoleSelector, String)

        public var description: String {
            switch self {
            case .noMatch(let s, let t): "no member matches \(s) (topology: \(t))"
            case .ambiguous(let s, let t): "more than one member matches \(s) (topology: \(t))"
            case .notAReplica(let s, let t): "\(s) is not a running replica (topology: \(t))"
            }
        }
    }
}

extension RoleSelector: TextCodable {
    public static let textKind = "role selector"
}
