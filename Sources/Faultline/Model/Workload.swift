/// One stream of load the scenario runs throughout. Rates are requests per second (open loop).
public enum Workload: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Unique-id inserts through the write endpoint, each acknowledged id recorded in the write ledger.
    case ledgerWrites(rate: Int)
    /// Reads through the replica endpoint.
    case replicaReads(rate: Int)

    /// The name the load generator uses for this workload's timeline windows.
    public var name: String {
        switch self {
        case .ledgerWrites: "ledger-writes"
        case .replicaReads: "replica-reads"
        }
    }

    public var rate: Int {
        switch self {
        case .ledgerWrites(let r), .replicaReads(let r): r
        }
    }

    public var isWrite: Bool { if case .ledgerWrites = self { true } else { false } }

    public func withRate(_ rate: Int) -> Workload {
        switch self {
        case .ledgerWrites: .ledgerWrites(rate: rate)
        case .replicaReads: .replicaReads(rate: rate)
        }
    }

    public var description: String { "\(name) at \(rate)/s" }
}
