/// One stream of load the scenario runs throughout. Rates are requests per second (open loop).
/// `connect` says how its clients hold connections (default: each keeps one, like a pool that never recycles).
public enum Workload: Codable, Sendable, Equatable, CustomStringConvertible {
    /// Unique-id inserts through the write endpoint, each acknowledged id recorded in the write ledger.
    case ledgerWrites(rate: Int, connect: ConnectionPolicy = .persistent)
    /// Reads through the replica endpoint.
    case replicaReads(rate: Int, connect: ConnectionPolicy = .persistent)
    /// The demo orders application (docs/migrations.md) through the write endpoint: a fixed mix of inserts, reads
    /// by id, status updates and a customer's newest orders, in `version`'s SQL. Clients may switch version mid-run
    /// (`OperationSpec.switchWorkload`). Not the lost-writes workload: its writes are not in the ledger.
    case orders(rate: Int, version: AppVersion = .v1, connect: ConnectionPolicy = .persistent)

    /// The name the load generator uses for this workload's timeline windows.
    public var name: String {
        switch self {
        case .ledgerWrites: "ledger-writes"
        case .replicaReads: "replica-reads"
        case .orders: "orders"
        }
    }

    public var rate: Int {
        switch self {
        case .ledgerWrites(let r, _), .replicaReads(let r, _), .orders(let r, _, _): r
        }
    }

    /// How the workload's clients hold their connections.
    public var connect: ConnectionPolicy {
        switch self {
        case .ledgerWrites(_, let c), .replicaReads(_, let c), .orders(_, _, let c): c
        }
    }

    public var isWrite: Bool { if case .ledgerWrites = self { true } else { false } }

    public func withRate(_ rate: Int) -> Workload {
        switch self {
        case .ledgerWrites(_, let c): .ledgerWrites(rate: rate, connect: c)
        case .replicaReads(_, let c): .replicaReads(rate: rate, connect: c)
        case .orders(_, let v, let c): .orders(rate: rate, version: v, connect: c)
        }
    }

    /// The application version an orders workload starts with; nil for the other workloads.
    public var appVersion: AppVersion? { if case .orders(_, let v, _) = self { v } else { nil } }

    public var description: String {
        "\(name)\(appVersion.map { " \($0)" } ?? "") at \(rate)/s" + (connect == .persistent ? "" : ", connecting \(connect)")
    }
}

/// A version of the demo orders application, by the schema revisions it needs (docs/migrations.md):
/// - `v1`: table `orders`, column `note`, no `priority` (written for 0001...0006; fails once 0009 renames `note`);
/// - `v2`: the view `orders_v2`, its `comment` and `priority` (needs 0007 or later);
/// - `v3`: table `orders`, columns `comment` and `priority` (needs 0009 or later).
public enum AppVersion: String, Codable, Sendable, CaseIterable, Comparable {
    /// The `application_name` of every orders session, whatever its version: the load generator sets it, an
    /// environment finds the application by it in `pg_stat_activity` and `pg_locks`.
    public static let sessionName = "faultline-app"

    case v1, v2, v3

    /// Parses `v1`, `v2` or `v3` (any case, surrounding blanks ignored). Throws a one-line `InputError` otherwise.
    public static func parse(_ text: String) throws(InputError) -> AppVersion {
        guard let v = AppVersion(rawValue: text.trimmingWhitespace().lowercased()) else {
            throw InputError("application version '\(text)' is unknown; use " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return v
    }

    public static func < (a: AppVersion, b: AppVersion) -> Bool { a.rawValue < b.rawValue }

    /// A rolling deploy's step: the first `share` of the clients (rounded to the nearest whole client, at least one
    /// when the share is above 0; nil: all) now run `version`, the others keep theirs. `current` is each client's
    /// version, in client order. A share outside (0, 1] is an `InputError`.
    public static func rollout(_ current: [AppVersion], to version: AppVersion, share: Double?) throws(InputError) -> [AppVersion] {
        let n: Int
        if let share {
            guard share.isFinite, share > 0, share <= 1 else {
                throw InputError("workload switch share \(share) is out of range; use a share above 0 and at most 1")
            }
            n = min(current.count, max(1, Int((share * Double(current.count)).rounded())))
        } else {
            n = current.count
        }
        return current.enumerated().map { $0.offset < n ? version : $0.element }
    }

    /// One line on who runs what, the switched-to version first: "2 of 4 orders clients on v2, 2 on v1".
    public static func summary(_ versions: [AppVersion], switchedTo version: AppVersion) -> String {
        let counts = Dictionary(versions.map { ($0, 1) }, uniquingKeysWith: +)
        let others = counts.filter { $0.key != version }.sorted { $0.key > $1.key }.map { "\($0.value) on \($0.key)" }
        return (["\(counts[version] ?? 0) of \(versions.count) orders clients on \(version)"] + others).joined(separator: ", ")
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

/// Where a scenario's write workloads connect (`WritesThrough(.pooler)`, `--set writes-via=pooler`). The read workload
/// always reads through the environment's read-only endpoint.
public enum WriteRoute: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// The read-write endpoint (HAProxy's read-write port): the default.
    case direct
    /// The environment's connection pooler (PgBouncer, in front of the read-write endpoint).
    case pooler

    public init?(text: String) { self.init(rawValue: text.trimmingWhitespace().lowercased()) }
    public var description: String { rawValue }
}
