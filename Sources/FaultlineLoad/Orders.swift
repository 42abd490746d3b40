import Faultline
import FaultlinePG
import Synchronization

/// SQL of the demo orders application (`WorkloadKind.orders`, schema in docs/migrations.md), per application
/// version. Every request is one statement in autocommit.
public enum OrdersSQL {
    /// The `application_name` of the orders workload's sessions (`AppVersion.sessionName`).
    public static let applicationName = AppVersion.sessionName

    /// One request of the mix.
    public enum Request: String, Sendable, CaseIterable {
        case insert, readByID, updateStatus, customerOrders

        /// Percent of the requests of each kind: inserts 30, reads by id 40, status updates 20, a customer's newest 10.
        public var percent: Int {
            switch self {
            case .insert: 30
            case .readByID: 40
            case .updateStatus: 20
            case .customerOrders: 10
            }
        }

        /// The request for a random number (uniform over 0..<100 after `% 100`), by the percentages above.
        public static func pick(_ random: UInt64) -> Request {
            var r = Int(random % 100)
            for k in allCases {
                if r < k.percent { return k }
                r -= k.percent
            }
            return .customerOrders
        }
    }

    /// Highest order and customer ids, learnt once per connection (every version has the `orders` table).
    public static let idRange = "SELECT (SELECT coalesce(max(id), 0) FROM orders), (SELECT coalesce(max(id), 0) FROM customers)"

    /// The statement of `request` in `version`'s SQL. Parameters: insert ($1 customer, $2 amount, $3 note or
    /// comment, $4 priority: v2 and v3), read by id ($1 id), status update ($1 id, $2 status), newest ($1 customer).
    public static func statement(_ request: Request, version: AppVersion) -> String {
        switch (version, request) {
        case (.v1, .insert):
            "INSERT INTO orders (customer_id, status, amount_cents, note) VALUES ($1, 'new', $2, $3) RETURNING id"
        case (.v1, .readByID):
            "SELECT id, customer_id, status, amount_cents, note, created_at FROM orders WHERE id = $1"
        case (.v1, .updateStatus):
            "UPDATE orders SET status = $2 WHERE id = $1"
        case (.v1, .customerOrders):
            "SELECT id, status, amount_cents, note, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10"
        case (.v2, .insert):
            "INSERT INTO orders_v2 (customer_id, status, amount_cents, comment, priority) VALUES ($1, 'new', $2, $3, $4) RETURNING id"
        case (.v2, .readByID):
            "SELECT id, customer_id, status, amount_cents, comment, priority, created_at FROM orders_v2 WHERE id = $1"
        case (.v2, .updateStatus):
            "UPDATE orders_v2 SET status = $2 WHERE id = $1"
        case (.v2, .customerOrders):
            "SELECT id, status, amount_cents, comment, priority, created_at FROM orders_v2 WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10"
        case (.v3, .insert):
            "INSERT INTO orders (customer_id, status, amount_cents, comment, priority) VALUES ($1, 'new', $2, $3, $4) RETURNING id"
        case (.v3, .readByID):
            "SELECT id, customer_id, status, amount_cents, comment, priority, created_at FROM orders WHERE id = $1"
        case (.v3, .updateStatus):
            "UPDATE orders SET status = $2 WHERE id = $1"
        case (.v3, .customerOrders):
            "SELECT id, status, amount_cents, comment, priority, created_at FROM orders WHERE customer_id = $1 ORDER BY created_at DESC LIMIT 10"
        }
    }

    /// The statuses an update sets (those of migrations/seed.sql).
    static let statuses = ["new", "paid", "shipped", "delivered", "cancelled"]

    /// `conninfo` with `application_name=faultline-app` appended (a later keyword or URI parameter overrides an
    /// earlier one in libpq, so an `application_name` already there is replaced).
    public static func conninfo(_ conninfo: String) -> String {
        let t = conninfo.trimmingCharacters(in: .whitespaces)
        guard t.hasPrefix("postgresql://") || t.hasPrefix("postgres://") else {
            return t.isEmpty ? "application_name=\(applicationName)" : "\(t) application_name=\(applicationName)"
        }
        return t + (t.contains("?") ? "&" : "?") + "application_name=\(applicationName)"
    }
}

/// Thrown by `LoadGenerator.switchWorkload` (and the driver's): the switch was not made. One line, no secrets.
public struct WorkloadSwitchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Each orders client's current application version, read by its worker before every request and changed by
/// `LoadGenerator.switchWorkload` from another thread.
final class AppVersionBoard: Sendable {
    private let versions: Mutex<[AppVersion]>

    init(clients: Int, version: AppVersion) { versions = Mutex(Array(repeating: version, count: clients)) }

    func version(of client: Int) -> AppVersion { versions.withLock { $0[client] } }

    var all: [AppVersion] { versions.withLock { $0 } }

    /// Applies `AppVersion.rollout` and returns its summary line.
    func switchTo(_ version: AppVersion, share: Double?) throws(InputError) -> String {
        let result: Result<[AppVersion], InputError> = versions.withLock { v in
            do throws(InputError) {
                v = try AppVersion.rollout(v, to: version, share: share)
                return .success(v)
            } catch {
                return .failure(error)
            }
        }
        return AppVersion.summary(try result.get(), switchedTo: version)
    }
}

/// The orders workload's request state of one worker: the id ranges it picks from and the SQL of a request.
/// Not thread-safe (one per worker).
struct OrdersClient {
    /// Highest order and customer ids known; nil until learnt on a connection.
    var maxOrderID: Int64?
    var maxCustomerID: Int64 = 0

    /// A request of the mix with its parameters, drawn from `rng`.
    struct Planned: Equatable {
        var request: OrdersSQL.Request
        var sql: String
        var params: [String?]
    }

    /// Draws the next request for `version` (needs `maxOrderID` learnt). Ids are uniform in 1...max.
    func plan(version: AppVersion, rng: inout SplitMix64) -> Planned {
        let request = OrdersSQL.Request.pick(rng.next())
        let order = 1 + Int64(rng.next() % UInt64(max(1, maxOrderID ?? 1)))
        let customer = 1 + Int64(rng.next() % UInt64(max(1, maxCustomerID)))
        let params: [String?]
        switch request {
        case .insert:
            let text: String? = rng.next() % 10 < 3 ? "memo \(rng.next() % 1_000_000)" : nil
            let amount = String(rng.next() % 100_001)
            params = version == .v1 ? [String(customer), amount, text] : [String(customer), amount, text, String(rng.next() % 10)]
        case .readByID: params = [String(order)]
        case .updateStatus: params = [String(order), OrdersSQL.statuses[Int(rng.next() % UInt64(OrdersSQL.statuses.count))]]
        case .customerOrders: params = [String(customer)]
        }
        return Planned(request: request, sql: OrdersSQL.statement(request, version: version), params: params)
    }

    /// An insert's new id extends the range reads and updates pick from.
    mutating func inserted(_ id: Int64) { maxOrderID = max(maxOrderID ?? 0, id) }
}

extension WorkloadTotals {
    /// Adds another set of counts to these.
    mutating func add(_ other: WorkloadTotals) {
        ok += other.ok
        errors.merge(other.errors, uniquingKeysWith: +)
        unsent += other.unsent
        otherSQLStates.merge(other.otherSQLStates, uniquingKeysWith: +)
    }
}
