/// The demo application a schema-migration scenario runs against (docs/migrations.md): its database is brought to
/// `revision`, with at least `orders` rows in its large table, before the load starts, so that every run of the
/// scenario begins from the same schema whatever an earlier run left.
public struct ApplicationSpec: Codable, Sendable, Hashable, CustomStringConvertible {
    /// The Alembic revision to start from ("0001"; a naive twin's revision selects the naive history).
    public var revision: String
    /// Rows the orders table must hold at least (seeded on demand, once per environment).
    public var orders: Int

    public init(revision: String, orders: Int = 1_000_000) {
        self.revision = revision
        self.orders = orders
    }

    public var description: String { "the orders application at revision \(revision) with ≥ \(orders) orders" }

    /// What is wrong with it as written; empty when it can be prepared.
    public var problems: [String] {
        var out: [String] = []
        if revision.isEmpty || revision.contains(where: \.isWhitespace) {
            out.append("Application(at:) needs a revision without spaces, such as \"0001\"")
        }
        if orders < 1 { out.append("Application(orders:) must be at least 1") }
        return out
    }
}

/// Prepares the demo application before the load starts: `Application(at: "0001", orders: 1_000_000)`.
public struct Application: ScenarioComponent {
    public var spec: ApplicationSpec
    public init(at revision: String, orders: Int = 1_000_000) { spec = ApplicationSpec(revision: revision, orders: orders) }
    public var elements: [ScenarioElement] { [.application(spec)] }
}
