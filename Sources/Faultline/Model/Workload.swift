/// One stream of load the scenario runs throughout. Rates are requests per second (open loop).
/// `connect` says how its clients hold connections (default: each keeps one, like a pool that never recycles).
public enum Workload: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Unique-id inserts through the write endpoint, each acknowledged id recorded in the write ledger.
    case ledgerWrites(rate: Int, connect: ConnectionPolicy = .persistent)
    /// Reads through the replica endpoint.
    case replicaReads(rate: Int, connect: ConnectionPolicy = .persistent)

    /// The name the load generator uses for this workload's timeline windows.
    public var name: String {
        switch self {
        case .ledgerWrites: "ledger-writes"
        case .replicaReads: "replica-reads"
        }
    }

    public var rate: Int {
        switch self {
        case .ledgerWrites(let r, _), .replicaReads(let r, _): r
        }
    }

    /// How the workload's clients hold their connections.
    public var connect: ConnectionPolicy {
        switch self {
        case .ledgerWrites(_, let c), .replicaReads(_, let c): c
        }
    }

    public var isWrite: Bool { if case .ledgerWrites = self { true } else { false } }

    public func withRate(_ rate: Int) -> Workload {
        switch self {
        case .ledgerWrites(_, let c): .ledgerWrites(rate: rate, connect: c)
        case .replicaReads(_, let c): .replicaReads(rate: rate, connect: c)
        }
    }

    public var description: String {
        "\(name) at \(rate)/s" + (connect == .persistent ? "" : ", connecting \(connect)")
    }
}

/// How a workload's clients hold their connections.
///
/// `perTransactionShare` of the clients open a new connection for every transaction and close it afterwards,
/// like `pgbench -C` or an application that connects per request (or whose pool recycles connections);
/// a failed connect fails that transaction only, without backoff. The other clients keep one connection
/// and open a new one only after an error, with backoff. Text form: `persistent`, `per-transaction`
/// (every client) or `per-transaction:25%` (a share: `0.25` works too).
public struct ConnectionPolicy: Sendable, Equatable, Hashable, TextCodable {
    /// 0...1: 0 is `persistent`, 1 is `per-transaction` for every client.
    public var perTransactionShare: Double

    public init(perTransactionShare: Double) { self.perTransactionShare = perTransactionShare }

    /// Every client keeps its connection (reconnecting only after an error).
    public static let persistent = ConnectionPolicy(perTransactionShare: 0)
    /// Every client connects per transaction (`pgbench -C`).
    public static let perTransaction = ConnectionPolicy(perTransactionShare: 1)
    /// This share (0...1) of the clients connects per transaction.
    public static func perTransaction(share: Double) -> ConnectionPolicy { ConnectionPolicy(perTransactionShare: share) }

    /// How many of `clients` connect per transaction: the share of them rounded to the nearest whole
    /// client, at least one when the share is above 0, at most all of them.
    public func perTransactionClients(of clients: Int) -> Int {
        guard perTransactionShare > 0, clients > 0 else { return 0 }
        return min(clients, max(1, Int((perTransactionShare * Double(clients)).rounded())))
    }

    /// Whether client `index` (0-based) of `clients` connects per transaction: the first ones do.
    public func connectsPerTransaction(client index: Int, of clients: Int) -> Bool {
        index < perTransactionClients(of: clients)
    }

    public var description: String {
        if perTransactionShare <= 0 { return "persistent" }
        if perTransactionShare >= 1 { return "per-transaction" }
        let pct = perTransactionShare * 100
        return "per-transaction:" + (pct == pct.rounded() ? "\(Int(pct))%" : "\(pct)%")
    }

    public static var textKind: String { "connection policy" }

    public init?(text: String) {
        guard let p = try? Self.parse(text) else { return nil }
        self = p
    }

    /// Parses `persistent`, `per-transaction`, `per-transaction:25%` or `per-transaction:0.25`
    /// (a share above 0 and at most 1). Throws a one-line `InputError` otherwise.
    public static func parse(_ text: String) throws(InputError) -> ConnectionPolicy {
        let t = text.trimmingWhitespace().lowercased()
        let hint = "use persistent, per-transaction (every client connects per transaction, like pgbench -C) or per-transaction:SHARE such as per-transaction:25%"
        if t == "persistent" { return .persistent }
        if t == "per-transaction" { return .perTransaction }
        guard t.hasPrefix("per-transaction:") else { throw InputError("connection policy '\(text)' is unknown; \(hint)") }
        let raw = String(t.dropFirst("per-transaction:".count))
        let isPercent = raw.hasSuffix("%")
        guard let n = Double(isPercent ? String(raw.dropLast()) : raw), n.isFinite else {
            throw InputError("connection policy '\(text)': the share '\(raw)' is not a number; \(hint)")
        }
        let share = isPercent ? n / 100 : n
        guard share > 0, share <= 1 else {
            throw InputError("connection policy '\(text)': the share must be above 0 and at most 1 (100 %); \(hint)")
        }
        return ConnectionPolicy(perTransactionShare: share)
    }
}
