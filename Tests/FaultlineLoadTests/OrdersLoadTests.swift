import Faultline
import Foundation
import Logging
import Testing
@testable import FaultlineLoad

/// The orders workload's SQL per application version, its request mix, and switching versions (no database).
@Suite struct OrdersLoadTests {
    static func statements(_ v: AppVersion) -> [String] { OrdersSQL.Request.allCases.map { OrdersSQL.statement($0, version: v) } }

    /// Whether `sql` names `word` as an identifier (not as part of a longer one).
    static func names(_ sql: String, _ word: String) -> Bool {
        sql.lowercased().range(of: "(^|[^a-z0-9_])\(word)($|[^a-z0-9_])", options: .regularExpression) != nil
    }

    @Test func v1UsesTheTableAndNoteAndNothingLater() {
        for s in Self.statements(.v1) + [OrdersSQL.idRange] {
            #expect(!s.lowercased().contains("comment") && !s.lowercased().contains("priority") && !s.contains("orders_v2"), "\(s)")
            #expect(Self.names(s, "orders"))
        }
        for r in [OrdersSQL.Request.insert, .readByID, .customerOrders] {
            #expect(Self.names(OrdersSQL.statement(r, version: .v1), "note"), "\(r) reads or writes note")
        }
    }

    @Test func v2GoesThroughTheViewWithCommentAndPriority() {
        for s in Self.statements(.v2) {
            #expect(s.contains("orders_v2") && !Self.names(s, "orders"), "every request through the view: \(s)")
            #expect(!Self.names(s, "note"), "v2 survives the rename: \(s)")
        }
        let insert = OrdersSQL.statement(.insert, version: .v2)
        #expect(insert.hasPrefix("INSERT INTO orders_v2") && Self.names(insert, "comment") && Self.names(insert, "priority"))
        for r in [OrdersSQL.Request.readByID, .customerOrders] {
            let s = OrdersSQL.statement(r, version: .v2)
            #expect(s.contains("comment, priority") && s.contains("FROM orders_v2"), "\(s)")
        }
    }

    @Test func v3UsesTheTableWithCommentAndNeverNoteOrTheView() {
        for s in Self.statements(.v3) + [OrdersSQL.idRange] {
            #expect(!s.lowercased().contains("note") && !s.contains("orders_v2"), "\(s)")
            #expect(Self.names(s, "orders"))
        }
        let insert = OrdersSQL.statement(.insert, version: .v3)
        #expect(insert.hasPrefix("INSERT INTO orders ") && Self.names(insert, "comment") && Self.names(insert, "priority"))
        #expect(OrdersSQL.statement(.readByID, version: .v3).contains("comment, priority"))
    }

    @Test func everyStatementIsOneStatementWithoutATransaction() {
        for v in AppVersion.allCases {
            for s in Self.statements(v) {
                #expect(!s.contains(";") && !s.uppercased().contains("BEGIN") && !s.uppercased().contains("COMMIT"), "\(s)")
            }
        }
    }

    @Test func theMixIs30404020OnASeededGenerator() {
        var rng = SplitMix64(seed: 42)
        let n = 200_000
        var counts: [OrdersSQL.Request: Int] = [:]
        for _ in 0..<n { counts[OrdersSQL.Request.pick(rng.next()), default: 0] += 1 }
        let expected: [OrdersSQL.Request: Double] = [.insert: 0.3, .readByID: 0.4, .updateStatus: 0.2, .customerOrders: 0.1]
        for (r, p) in expected {
            let share = Double(counts[r] ?? 0) / Double(n)
            #expect(abs(share - p) < 0.005, "\(r): \(share)")
        }
        #expect(OrdersSQL.Request.allCases.map(\.percent).reduce(0, +) == 100)
        let inserts = (0..<100).map { OrdersSQL.Request.pick(UInt64($0)) }.filter { $0 == .insert }
        #expect(inserts.count == 30)
    }

    @Test func plannedRequestsPickIdsInTheKnownRangeWithMatchingParameters() {
        for v in AppVersion.allCases {
            var client = OrdersClient(maxOrderID: 500, maxCustomerID: 40)
            var rng = SplitMix64(seed: 7)
            var kinds = Set<OrdersSQL.Request>()
            for _ in 0..<2000 {
                let p = client.plan(version: v, rng: &rng)
                kinds.insert(p.request)
                #expect(p.sql == OrdersSQL.statement(p.request, version: v))
                let placeholders = (1...9).filter { p.sql.contains("$\($0)") }.count
                #expect(placeholders == p.params.count, "\(v) \(p.request): \(p.sql) with \(p.params)")
                switch p.request {
                case .readByID, .updateStatus: #expect((1...500).contains(Int(p.params[0]!)!))
                case .insert, .customerOrders: #expect((1...40).contains(Int(p.params[0]!)!))
                }
                if p.request == .updateStatus { #expect(OrdersSQL.statuses.contains(p.params[1]!)) }
            }
            #expect(kinds == Set(OrdersSQL.Request.allCases))
            client.inserted(900)
            #expect(client.maxOrderID == 900)
            client.inserted(600)
            #expect(client.maxOrderID == 900, "an insert only extends the range")
        }
        // An empty table still yields a valid id.
        var rng = SplitMix64(seed: 1)
        let p = OrdersClient(maxOrderID: 0, maxCustomerID: 0).plan(version: .v1, rng: &rng)
        #expect(Int(p.params[0]!)! == 1)
    }

    @Test func workersOfOneRunDrawDifferentStreams() {
        // Workers' seeds differ by SplitMix64's increment; the orders runner hashes them, so streams do not repeat shifted.
        let a = RequestRunner(kind: .orders, timeout: .seconds(1), runID: "r", worker: 0, scale: 1, sql: "", seed: 100)
        let b = RequestRunner(kind: .orders, timeout: .seconds(1), runID: "r", worker: 1, scale: 1, sql: "", seed: 100 &+ 0x9E37_79B9_7F4A_7C15)
        var ra = a.rng, rb = b.rng
        let sa = (0..<50).map { _ in ra.next() }, sb = Set((0..<50).map { _ in rb.next() })
        #expect(sb.isDisjoint(with: sa))
    }

    @Test func connectionsCarryTheApplicationName() {
        #expect(OrdersSQL.conninfo("host=10.77.0.1 port=5000 dbname=faultline application_name=faultline")
                == "host=10.77.0.1 port=5000 dbname=faultline application_name=faultline application_name=faultline-app")
        #expect(OrdersSQL.conninfo("postgresql://app@10.77.0.1:6432/orders") == "postgresql://app@10.77.0.1:6432/orders?application_name=faultline-app")
        #expect(OrdersSQL.conninfo("postgres://h/db?sslmode=disable") == "postgres://h/db?sslmode=disable&application_name=faultline-app")
    }

    // MARK: - Switching

    static func generator(clients: Int = 4, version: AppVersion = .v1, kinds: [WorkloadKind] = [.orders]) throws -> LoadGenerator {
        try LoadGenerator(config: LoadConfig(workloads: kinds.map {
            WorkloadConfig(kind: $0, conninfo: "host=nowhere", clients: clients, mode: .open(rate: 10, arrival: .uniform), appVersion: version)
        }), logger: Logger(label: "test"))
    }

    @Test func theGeneratorSwitchesItsOrdersClientsShareByShare() throws {
        let g = try Self.generator(clients: 4, version: .v1)
        #expect(g.orderClientVersions == [.v1, .v1, .v1, .v1])
        #expect(try g.switchWorkload(version: "v2", share: 0.5) == "2 of 4 orders clients on v2, 2 on v1")
        #expect(try g.switchWorkload(version: "v3", share: 0.25) == "1 of 4 orders clients on v3, 1 on v2, 2 on v1")
        #expect(g.orderClientVersions == [.v3, .v2, .v1, .v1])
        #expect(try g.switchWorkload(version: "V3", share: nil) == "4 of 4 orders clients on v3")
        let started = try Self.generator(clients: 3, version: .v2)
        #expect(started.orderClientVersions == [.v2, .v2, .v2], "clients start with the workload's version")
    }

    @Test func aSwitchFailsInOneLineForAnUnknownVersionABadShareOrNoOrdersWorkload() throws {
        let g = try Self.generator()
        for (v, share) in [("v9", nil), ("v2", 0.0), ("v2", 2.0)] as [(String, Double?)] {
            #expect(throws: WorkloadSwitchError.self) { try g.switchWorkload(version: v, share: share) }
            do { _ = try g.switchWorkload(version: v, share: share) } catch {
                #expect(!error.description.contains("\n") && error.description.hasPrefix("cannot switch the workload: "))
            }
        }
        #expect(g.orderClientVersions == [.v1, .v1, .v1, .v1], "a failed switch changes nothing")
        let ledger = try Self.generator(kinds: [.ledger])
        #expect(throws: WorkloadSwitchError.self) { try ledger.switchWorkload(version: "v2", share: nil) }
    }

    @Test func theDriverRunsOrdersOnTheWriteEndpointAndSwitchesOnlyWhileRunning() async throws {
        let driver = LoadGeneratorDriver(endpoints: .init(writes: "host=rw port=5000", reads: "host=ro port=5001"), logger: Logger(label: "test"))
        let c = driver.config(for: [.orders(rate: 50, version: .v2, connect: .perTransaction(share: 0.5)), .ledgerWrites(rate: 10)])
        let orders = try #require(c.workloads.first)
        #expect(orders.kind == .orders && orders.name == "orders" && orders.appVersion == .v2 && orders.conninfo == "host=rw port=5000")
        #expect(orders.mode == .open(rate: 50, arrival: .uniform) && orders.connect == .perTransaction(share: 0.5))
        #expect(driver.probe(for: c)?.conninfo == "host=rw port=5000", "the probe stays beside the ledger")
        await #expect(throws: WorkloadSwitchError.self) { try await driver.switchWorkload(version: "v2", share: nil) }
    }
}
