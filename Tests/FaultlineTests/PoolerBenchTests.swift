import Foundation
import Testing
@testable import Faultline
@testable import FaultlineReports

/// `faultline bench pooler`'s pure parts: the plan and its order, the medians, the ratios, the renderers.
@Suite struct PoolerBenchTests {
    static let known = ["ledger", "session", "tpcb"]

    static func plan(_ s: PoolerBenchSettings = PoolerBenchSettings()) throws -> PoolerBenchPlan {
        try PoolerBenchPlan(s, knownWorkloads: known)
    }

    @Test func theDefaultPlanIsEveryRouteConnectAndClientCount() throws {
        let p = try Self.plan()
        #expect(p.cells.count == 3 * 2 * 2)
        #expect(Set(p.cells).count == p.cells.count)
        // Canonical order: clients, then connection policy, then route; the routes of one comparison side by side.
        #expect(p.cells.prefix(3).map(\.route) == [.direct, .transaction, .session])
        #expect(p.cells.prefix(6).allSatisfy { $0.clients == 8 })
        #expect(p.cells[3].connect == .perTransaction)
        #expect(p.cells.last == PoolerCell(workload: "ledger", route: .session, connect: .perTransaction, clients: 150))
        #expect(p.totalLoadMs == 12 * 3 * 3000, "no warm-up by default")
        #expect(try Self.plan(PoolerBenchSettings(warmupMs: 1000)).totalLoadMs == 12 * 3 * 4000)
    }

    @Test func roundsAlternateTheirOrder() throws {
        let p = try Self.plan(PoolerBenchSettings(workloads: ["ledger", "session"], clients: [150, 4], rounds: 3))
        #expect(p.order(round: 0) == p.cells)
        #expect(p.order(round: 1) == Array(p.cells.reversed()))
        #expect(p.order(round: 2) == p.cells)
        #expect(p.schedule.count == p.cells.count * 3)
        #expect(p.schedule.map(\.round) == Array(repeating: 0, count: p.cells.count) + Array(repeating: 1, count: p.cells.count)
                + Array(repeating: 2, count: p.cells.count))
        // Clients are sorted low to high; workloads keep the order given.
        #expect(p.cells.first?.clients == 4 && p.cells.first?.workload == "ledger")
        #expect(p.cells.last?.workload == "session")
        // Every cell takes each position mirrored across two rounds: the first runs last in the next round.
        #expect(p.order(round: 1).last == p.order(round: 0).first)
    }

    @Test(arguments: [
        (PoolerBenchSettings(workloads: ["nosuch"]), "unknown workload 'nosuch'"),
        (PoolerBenchSettings(workloads: []), "no workload given"),
        (PoolerBenchSettings(workloads: ["ledger", "ledger"]), "given twice"),
        (PoolerBenchSettings(clients: []), "give 1 to 4 client counts"),
        (PoolerBenchSettings(clients: [1, 2, 3, 4, 5]), "give 1 to 4 client counts"),
        (PoolerBenchSettings(clients: [0, 8]), "client count 0 is out of range"),
        (PoolerBenchSettings(clients: [8, 300]), "client count 300 is out of range"),
        (PoolerBenchSettings(clients: [-3]), "client count -3 is out of range"),
        (PoolerBenchSettings(clients: [8, 8]), "given twice"),
        (PoolerBenchSettings(rounds: 0), "--rounds 0 is out of range"),
        (PoolerBenchSettings(rounds: 21), "--rounds 21 is out of range"),
        (PoolerBenchSettings(cellMs: 100), "out of range; use 0.5s...5m"),
        (PoolerBenchSettings(cellMs: 600_000), "out of range; use 0.5s...5m"),
        (PoolerBenchSettings(warmupMs: -1), "warm-up of -1 ms is out of range"),
        (PoolerBenchSettings(warmupMs: 61_000), "warm-up of 61000 ms is out of range"),
        (PoolerBenchSettings(workloads: ["ledger", "session", "tpcb"], clients: [1, 2, 3, 4], rounds: 20, cellMs: 300_000), "more than 4 h"),
    ])
    func badInputIsOneLineNamingTheFix(settings: PoolerBenchSettings, expected: String) {
        #expect {
            _ = try Self.plan(settings)
        } throws: { error in
            guard let e = error as? InputError else { return false }
            return e.message.contains(expected) && !e.message.contains("\n")
        }
    }

    @Test func theMedianIsTheMiddleOrTheMeanOfTheTwoMiddles() {
        #expect(PoolerStats.median([]) == nil)
        #expect(PoolerStats.median([5]) == 5)
        #expect(PoolerStats.median([9, 1, 5]) == 5)
        #expect(PoolerStats.median([4, 1, 3, 2]) == 2.5)
        #expect(PoolerStats.median([.nan, 2, 4]) == 3)
    }

    static func run(_ round: Int, tps: Double, p50: Int, p99: Int, tooMany: Int = 0, other: Int = 0, servers: Int? = nil) -> PoolerCellRun {
        var errors: [Outcome: Int] = [:]
        if tooMany > 0 { errors[.tooManyConnections] = tooMany; errors[.clientBackoff] = 7 }
        if other > 0 { errors[.otherSQLState] = other }
        return PoolerCellRun(round: round, position: 0, seconds: 2, ok: Int(tps * 2), errors: errors, otherSQLStates: other > 0 ? ["none": other] : [:],
                             latency: LatencySummary(count: Int(tps * 2), p50Us: p50, p95Us: p99 / 2, p99Us: p99, p999Us: p99, maxUs: p99),
                             connect: LatencySummary(count: 8, p50Us: 1500, p95Us: 2000, p99Us: 3000, p999Us: 3000, maxUs: 3000),
                             serverConnectionsPeak: servers, serverConnectionsMean: servers.map(Double.init))
    }

    static func cell(_ route: PoolerRoute, _ connect: PoolerConnect = .persistent, clients: Int = 150) -> PoolerCell {
        PoolerCell(workload: "ledger", route: route, connect: connect, clients: clients)
    }

    @Test func mediansOverRoundsAndRatiosAgainstDirect() throws {
        let p = try Self.plan(PoolerBenchSettings(clients: [150], rounds: 3, connects: [.persistent]))
        let runs: [PoolerCell: [PoolerCellRun]] = [
            Self.cell(.direct): [Self.run(0, tps: 900, p50: 4000, p99: 40000, tooMany: 300, servers: 97),
                                 Self.run(1, tps: 1000, p50: 5000, p99: 50000, tooMany: 100, servers: 97),
                                 Self.run(2, tps: 1100, p50: 6000, p99: 60000, tooMany: 200, servers: 96)],
            Self.cell(.transaction): [Self.run(0, tps: 1500, p50: 2000, p99: 10000, servers: 25),
                                      Self.run(1, tps: 1200, p50: 3000, p99: 20000, servers: 25),
                                      Self.run(2, tps: 3000, p50: 1000, p99: 30000, servers: 24)],
            // The session cell missed a round: its median is over the two it has.
            Self.cell(.session): [Self.run(0, tps: 100, p50: 1000, p99: 2000, other: 4, servers: 25),
                                  Self.run(1, tps: 300, p50: 3000, p99: 2000, other: 8, servers: 25)],
        ]
        let s = PoolerBenchResult.summarize(p, runs: runs)
        #expect(s.map(\.cell.route) == [.direct, .transaction, .session])
        let direct = try #require(s.first)
        #expect(direct.median.tps == 1000)
        #expect(direct.median.p50Ms == 5)
        #expect(direct.median.p99Ms == 50)
        #expect(direct.median.tooManyConnections == 200)
        #expect(direct.median.otherErrors == 0, "the backoff's unsent requests follow a refused connect: not errors of their own")
        #expect(direct.median.serverConnectionsPeak == 97)
        #expect(direct.median.connectP50Ms == 1.5)
        #expect(direct.ratio == nil)
        let tx = try #require(s.first { $0.cell.route == .transaction })
        #expect(tx.median.tps == 1500)
        #expect(tx.ratio?.tps == 1.5)
        #expect(tx.ratio?.p50 == 2.0 / 5.0)
        #expect(tx.ratio?.p99 == 20.0 / 50.0)
        let session = try #require(s.first { $0.cell.route == .session })
        #expect(session.median.tps == 200, "the mean of the two middles (100, 300)")
        #expect(session.median.otherErrors == 6)
        #expect(session.ratio?.tps == 0.2)
        #expect(session.runs.map(\.round) == [0, 1])
    }

    @Test func noRatioWithoutADirectFigure() throws {
        let p = try Self.plan(PoolerBenchSettings(clients: [150], rounds: 1, connects: [.persistent]))
        let zero = PoolerCellRun(round: 0, position: 0, seconds: 2, ok: 0, errors: [.tooManyConnections: 50])
        var s = PoolerBenchResult.summarize(p, runs: [Self.cell(.transaction): [Self.run(0, tps: 10, p50: 1, p99: 1)]])
        #expect(s.count == 1 && s[0].ratio == nil, "no direct cell measured")
        s = PoolerBenchResult.summarize(p, runs: [Self.cell(.direct): [zero], Self.cell(.transaction): [Self.run(0, tps: 10, p50: 1, p99: 1)]])
        let tx = try #require(s.first { $0.cell.route == .transaction })
        #expect(tx.ratio?.tps == nil && tx.ratio?.p50 == nil, "direct served nothing: no ratio, not infinity")
        #expect(s[0].median.p50Ms == nil)
    }

    static func result() throws -> PoolerBenchResult {
        let p = try plan(PoolerBenchSettings(clients: [8, 150], rounds: 2, connects: [.persistent]))
        var runs: [PoolerCell: [PoolerCellRun]] = [:]
        for c in p.cells {
            let base: Double = c.route == .direct ? 1000 : (c.route == .transaction ? 1300 : 1100)
            runs[c] = [run(0, tps: base, p50: 3000, p99: 9000, tooMany: c.route == .direct && c.clients == 150 ? 400 : 0,
                           other: c.route == .session && c.clients == 150 ? 12 : 0, servers: c.route == .direct ? min(c.clients, 97) : 25),
                       run(1, tps: base + 100, p50: 3000, p99: 9000, servers: 20)]
        }
        return PoolerBenchResult(settings: p.settings, command: "faultline bench pooler --rounds 2 --clients 8,150",
                                 startedAt: "2026-12-07T02:00:00.000Z", commit: "abc1234", maxConnections: 100,
                                 notes: ["PgBouncer: default_pool_size = 20 <x>"], cells: PoolerBenchResult.summarize(p, runs: runs))
    }

    @Test func markdownLeadsWithTheRatiosAndListsEveryCell() throws {
        let md = PoolerBenchReport.markdown(try Self.result())
        #expect(md.contains("`faultline bench pooler --rounds 2 --clients 8,150`"))
        #expect(md.contains("commit abc1234"))
        #expect(md.contains("max_connections: 100"))
        let headline = try #require(md.range(of: "## Headline"))
        let every = try #require(md.range(of: "## Every cell"))
        #expect(headline.lowerBound < every.lowerBound)
        // 1300+1400 / 1000+1100 medians: 1350 / 1050.
        #expect(md.contains("| ledger | 150 | persistent | \(String(format: "%.2f×", 1350.0 / 1050.0)) | 1.00× | 1.00× | \(String(format: "%.2f×", 1150.0 / 1050.0)) |"))
        #expect(md.contains("| ledger | 150 | persistent | direct | 1050.0 | 1 |"))
        #expect(md.contains("too_many_connections 400"))
        #expect(md.contains("other_sqlstate none 12"))
        #expect(md.components(separatedBy: "| ledger |").count - 1 == 2 + 6)
    }

    @Test func aCellThatCouldNotStartIsNamedNotCounted() throws {
        var r = try Self.result()
        r.cells[1].runs[0] = PoolerCellRun(round: 0, position: 4, seconds: 0, ok: 0, failure: "workload 'ledger' cannot start: server login has been failing")
        let md = PoolerBenchReport.markdown(r)
        #expect(md.contains("## Cells that could not start"))
        #expect(md.contains("- ledger, 8 clients, persistent, PgBouncer transaction, round 1: workload 'ledger' cannot start"))
        #expect(try PoolerBenchReport.decode(PoolerBenchReport.json(r)) == r)
        let ran = Self.run(0, tps: 1000, p50: 3000, p99: 9000)
        #expect(PoolerCellMedians([ran, PoolerCellRun(round: 1, position: 0, seconds: 0, ok: 0, failure: "x")]).tps == 1000,
                "a run that could not start is left out of the medians, not counted as 0 TPS")
    }

    @Test func jsonRoundTripsEveryRound() throws {
        let r = try Self.result()
        let text = try PoolerBenchReport.json(r)
        #expect(try PoolerBenchReport.decode(text) == r)
        #expect(text.contains("\"too_many_connections\" : 400"))
        #expect(text.contains("\"route\" : \"pgbouncer-transaction\""))
    }

    @Test func svgHasABarPerCellAndTheOneTimesLine() throws {
        let svg = PoolerBenchReport.svg(try Self.result())
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(svg.hasSuffix("</svg>\n"))
        #expect(svg.components(separatedBy: "<rect x=\"230\"").count - 1 == 6, "one bar per cell")
        #expect(svg.contains("stroke-dasharray"))
        #expect(svg.contains("too many conns"))
        #expect(svg.contains("6 errors"), "the median of 12 and 0 other errors a round")
        #expect(svg.contains("median over 2 rounds"))
        #expect(!svg.contains("<x>"), "text is escaped")
        #expect(!svg.contains("<script"))
        let files = try PoolerBenchReport.files(try Self.result()).map(\.name)
        #expect(files == ["pooler.md", "pooler.json", "pooler.svg"])
    }
}
