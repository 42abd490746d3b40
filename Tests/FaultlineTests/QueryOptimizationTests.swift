import Faultline
import FaultlineReports
import Foundation
import Testing

/// The pure parts of `faultline queries report` (docs/query-optimization.md): ranking, EXPLAIN JSON, proposals,
/// HypoPG's verdict, latency summaries and the report's Markdown.
@Suite struct QueryOptimizationTests {
    static func stat(_ id: String, _ q: String, calls: Int, total: Double, rows: Int = 1) -> StatementStat {
        StatementStat(queryID: id, query: q, calls: calls, totalMs: total, meanMs: total / Double(calls), rows: rows)
    }

    static let stats = [
        stat("1", "SELECT id FROM orders WHERE created_at >= $1 AND created_at < $2", calls: 40, total: 4000),
        stat("2", "SELECT o.id FROM orders o JOIN customers c ON c.id = o.customer_id WHERE lower(c.email) = lower($1)", calls: 900, total: 1800),
        stat("3", "SELECT id FROM orders ORDER BY id DESC LIMIT 20 OFFSET $1", calls: 300, total: 2400),
        stat("4", "INSERT INTO orders (customer_id) VALUES ($1)", calls: 2000, total: 1000),
        stat("5", "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) SELECT 1", calls: 3, total: 9000),
        stat("6", "SELECT queryid, query FROM pg_stat_statements", calls: 1, total: 50_000),
        stat("7", "SELECT pg_stat_statements_reset()", calls: 1, total: 1),
    ]

    @Test func ranksByTotalAndByMeanWithoutTheHarnessStatements() {
        #expect(QueryStats.top(Self.stats, by: .total).map(\.queryID) == ["1", "3", "2"])
        #expect(QueryStats.top(Self.stats, by: .mean).map(\.queryID) == ["1", "3", "2"])
        #expect(QueryStats.top(Self.stats, by: .mean, count: 4).map(\.queryID) == ["1", "3", "2", "4"])
        // Ties on time: more calls first.
        let tie = [Self.stat("a", "SELECT 1", calls: 1, total: 10), Self.stat("b", "SELECT 2", calls: 5, total: 10)]
        #expect(QueryStats.top(tie, by: .total).map(\.queryID) == ["b", "a"])
        #expect(QueryStats.isHarness("  explain select 1") && QueryStats.isHarness("SELECT * FROM hypopg_create_index($1)"))
        #expect(!QueryStats.isHarness("UPDATE orders SET status = $2 WHERE id = $1"))
    }

    @Test func readsAPgStatStatementsRow() {
        #expect(StatementStat(row: ["42", "SELECT 1", "3", "1.5", "0.5", "3"]) == StatementStat(queryID: "42", query: "SELECT 1", calls: 3, totalMs: 1.5, meanMs: 0.5, rows: 3))
        #expect(StatementStat(row: ["42", "SELECT 1", "x", "1.5", "0.5", "3"]) == nil)
        #expect(StatementStat(row: ["42"]) == nil)
    }

    @Test func pgStatStatementsLoadedOrNot() {
        #expect(QueryStats.loaded(sharedPreloadLibraries: "pg_stat_statements"))
        #expect(QueryStats.loaded(sharedPreloadLibraries: "auto_explain, \"pg_stat_statements\""))
        #expect(!QueryStats.loaded(sharedPreloadLibraries: ""))
        #expect(!QueryStats.loaded(sharedPreloadLibraries: "pg_stat_statements_extra"))
        let line = QueryStats.notLoaded("auto_explain")
        #expect(!line.contains("\n") && line.contains("shared_preload_libraries") && line.contains("CREATE EXTENSION pg_stat_statements"))
    }

    /// PostgreSQL 15's EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) of the time-window query: a parallel sequential scan.
    static let windowPlan = """
        [
          {
            "Plan": {
              "Node Type": "Gather Merge", "Parallel Aware": false, "Async Capable": false,
              "Startup Cost": 21433.19, "Total Cost": 21444.27, "Plan Rows": 95, "Plan Width": 33,
              "Actual Startup Time": 48.112, "Actual Total Time": 51.004, "Actual Rows": 118, "Actual Loops": 1,
              "Workers Planned": 2, "Workers Launched": 2,
              "Shared Hit Blocks": 9312, "Shared Read Blocks": 120,
              "Plans": [
                {
                  "Node Type": "Sort", "Parent Relationship": "Outer", "Startup Cost": 20433.17, "Total Cost": 20433.27,
                  "Plan Rows": 40, "Actual Total Time": 45.2, "Actual Rows": 39, "Actual Loops": 3,
                  "Sort Key": ["created_at"],
                  "Plans": [
                    {
                      "Node Type": "Seq Scan", "Parent Relationship": "Outer", "Parallel Aware": true,
                      "Relation Name": "orders", "Alias": "orders",
                      "Startup Cost": 0.00, "Total Cost": 20432.00, "Plan Rows": 40, "Actual Startup Time": 12.0,
                      "Actual Total Time": 45.0, "Actual Rows": 39, "Actual Loops": 3,
                      "Filter": "((created_at >= '2026-06-08 01:00:00+00'::timestamp with time zone) AND (created_at < '2026-06-08 02:00:00+00'::timestamp with time zone))",
                      "Rows Removed by Filter": 333294,
                      "Shared Hit Blocks": 9312, "Shared Read Blocks": 120
                    }
                  ]
                }
              ]
            },
            "Planning": {"Shared Hit Blocks": 4},
            "Planning Time": 0.151,
            "Triggers": [],
            "Execution Time": 51.120
          }
        ]
        """

    static let emailPlan = """
        [{"Plan": {"Node Type": "Nested Loop", "Join Type": "Inner", "Startup Cost": 0.42, "Total Cost": 311.6, "Plan Rows": 100,
          "Actual Total Time": 2.1, "Actual Rows": 97, "Actual Loops": 1,
          "Plans": [
            {"Node Type": "Seq Scan", "Relation Name": "customers", "Alias": "c", "Startup Cost": 0, "Total Cost": 229.0, "Plan Rows": 50,
             "Actual Total Time": 1.9, "Actual Rows": 1, "Actual Loops": 1, "Filter": "(lower(email) = 'c5000@example.test'::text)",
             "Rows Removed by Filter": 9999},
            {"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "o", "Index Name": "orders_customer_created_idx",
             "Scan Direction": "Forward", "Startup Cost": 0.42, "Total Cost": 1.6, "Plan Rows": 2, "Actual Total Time": 0.1, "Actual Rows": 97,
             "Actual Loops": 1, "Index Cond": "(customer_id = c.id)"}]},
          "Planning Time": 0.2, "Execution Time": 2.2}]
        """

    static let pagePlan = """
        [{"Plan": {"Node Type": "Limit", "Startup Cost": 1722.3, "Total Cost": 1722.99, "Plan Rows": 20, "Actual Total Time": 14.0,
          "Actual Rows": 20, "Actual Loops": 1,
          "Plans": [{"Node Type": "Index Scan", "Relation Name": "orders", "Alias": "orders", "Index Name": "orders_pkey",
            "Scan Direction": "Backward", "Startup Cost": 0.42, "Total Cost": 34444.4, "Plan Rows": 1000000, "Actual Total Time": 13.0,
            "Actual Rows": 50020, "Actual Loops": 1}]},
          "Planning Time": 0.1, "Execution Time": 14.1}]
        """

    @Test func parsesExplainJSON() throws {
        let p = try PlanSummary.parse(json: Self.windowPlan)
        #expect(p.totalCost == 21444.27 && p.executionMs == 51.120 && p.planningMs == 0.151)
        #expect(p.sharedHit == 9312 && p.sharedRead == 120)
        #expect(p.nodeLabels == ["Gather Merge", "Sort", "Seq Scan on orders"])
        #expect(p.sequentialScans.count == 1 && p.sequentialScans[0].rowsRemovedByFilter == 333294)
        let lines = p.lines
        #expect(lines[0] == "Gather Merge (cost=21433.19..21444.27 rows=95) (actual 51.004 ms rows=118 loops=1)")
        #expect(lines.contains("    -> Seq Scan on orders (cost=0.00..20432.00 rows=40) (actual 45.000 ms rows=39 loops=3)"))
        #expect(lines.contains { $0.contains("Rows Removed by Filter: 333294") } && lines.last == "Execution Time: 51.120 ms")
        let page = try PlanSummary.parse(json: Self.pagePlan)
        #expect(page.nodeLabels == ["Limit", "Index Scan Backward using orders_pkey on orders"])
        #expect(try PlanSummary.parse(json: Self.emailPlan).nodeLabels[1] == "Seq Scan on customers c")
        #expect(throws: PlanSummary.ParseError.self) { try PlanSummary.parse(json: "Seq Scan on orders") }
        #expect(throws: PlanSummary.ParseError.self) { try PlanSummary.parse(json: "[{\"NoPlan\": 1}]") }
    }

    @Test func filterKeys() {
        #expect(QueryAdvisor.filterKeys("((created_at >= '2026-06-08'::timestamp with time zone) AND (created_at < '2026-06-09'::timestamp with time zone))") == ["created_at"])
        #expect(QueryAdvisor.filterKeys("(lower(c.email) = lower('C1@Example.test'::text))") == ["lower(email)"])
        #expect(QueryAdvisor.filterKeys("(lower(email) = 'c1@example.test'::text)") == ["lower(email)"])
        #expect(QueryAdvisor.filterKeys("((amount_cents > 10) AND (status = 'paid'::text))") == ["status", "amount_cents"])
        #expect(QueryAdvisor.filterKeys("((status = 'paid'::text) OR (status = 'new'::text))").isEmpty)
        #expect(QueryAdvisor.filterKeys("(status <> 'paid'::text)").isEmpty)
        #expect(QueryAdvisor.filterKeys("(comment ~~ '%abc'::text)").isEmpty)
    }

    @Test func proposesAnIndexForASelectiveSeqScanAndKeysetForOffset() throws {
        let window = QueryAdvisor.proposals(query: "SELECT … WHERE created_at >= $1 AND created_at < $2", plan: try PlanSummary.parse(json: Self.windowPlan))
        #expect(window.count == 1 && window[0].kind == .index)
        #expect(window[0].index == IndexCandidate(table: "orders", keys: ["created_at"]))
        #expect(window[0].index?.name == "orders_created_at_idx" && window[0].index?.createStatement == "CREATE INDEX ON orders (created_at)")
        #expect(window[0].reason.contains("999,882") && window[0].reason.contains("117"))

        let email = QueryAdvisor.proposals(query: "SELECT … lower(c.email) = lower($1)", plan: try PlanSummary.parse(json: Self.emailPlan))
        #expect(email.map(\.index) == [IndexCandidate(table: "customers", keys: ["lower(email)"])])
        #expect(email[0].index?.name == "customers_lower_email_idx")

        let sql = "SELECT id FROM orders ORDER BY id DESC LIMIT 20 OFFSET $1"
        let page = QueryAdvisor.proposals(query: sql, plan: try PlanSummary.parse(json: Self.pagePlan))
        #expect(page.count == 1 && page[0].kind == .rewrite && page[0].rewrite == QueryProposal.keyset)
        #expect(page[0].reason.contains("50,020") && page[0].reason.contains("orders_pkey"))
        // The same plan without OFFSET in the text: a Limit over a big scan is not a paging problem.
        #expect(QueryAdvisor.proposals(query: "SELECT id FROM orders ORDER BY id DESC LIMIT 20", plan: try PlanSummary.parse(json: Self.pagePlan)).isEmpty)
    }

    @Test func proposesAnIndexForAnIndexScanOnANonLeadingColumn() {
        // PostgreSQL 15 on a freshly seeded table: the time window through (customer_id, created_at), the whole index.
        let whole = PlanSummary(root: PlanNode(nodeType: "Sort", children: [
            PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_customer_created_idx", scanDirection: "Forward",
                     indexCondition: "((created_at >= '2026-06-08 02:00:00+00'::timestamp with time zone) AND (created_at < '2026-06-08 03:00:00+00'::timestamp with time zone))",
                     actualRows: 105, actualLoops: 1, sharedHit: 2970, sharedRead: 971)]))
        let p = QueryAdvisor.proposals(query: "SELECT 1", plan: whole)
        #expect(p.map(\.index) == [IndexCandidate(table: "orders", keys: ["created_at"])])
        #expect(p.first?.reason.contains("3,941 buffers to return 105 rows") == true)
        // The same on 200,000 orders: 796 buffers for 27 rows (an integration run on 2026-12-07 proposed nothing).
        let smaller = PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_customer_created_idx",
                                                 indexCondition: "((created_at >= '2026-06-08 02:00:00+00'::timestamp with time zone) AND (created_at < '2026-06-08 03:00:00+00'::timestamp with time zone))",
                                                 actualRows: 27, actualLoops: 1, sharedHit: 796, sharedRead: 0))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: smaller).map(\.index) == [IndexCandidate(table: "orders", keys: ["created_at"])])
        // A selective index scan, or a join's inner side keyed by the outer row, gives none.
        let selective = PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_pkey", indexCondition: "(id = 42)",
                                                   actualRows: 1, actualLoops: 1, sharedHit: 4, sharedRead: 0))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: selective).isEmpty)
        let inner = PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_customer_created_idx",
                                               indexCondition: "(customer_id = c.id)", actualRows: 1, actualLoops: 1, sharedHit: 5000))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: inner).isEmpty)
    }

    @Test func noProposalForAScanThatKeepsMostRowsOrASmallTable() {
        let keepsMost = PlanSummary(root: PlanNode(nodeType: "Seq Scan", relation: "orders", filter: "(status = 'paid'::text)",
                                                   actualRows: 200_000, actualLoops: 1, rowsRemovedByFilter: 800_000))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: keepsMost).isEmpty)
        let small = PlanSummary(root: PlanNode(nodeType: "Seq Scan", relation: "tiny", filter: "(id = 3)", actualRows: 1, actualLoops: 1,
                                               rowsRemovedByFilter: 50))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: small).isEmpty)
        let indexed = PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_pkey", indexCondition: "(id = 1)"))
        #expect(QueryAdvisor.proposals(query: "SELECT 1", plan: indexed).isEmpty)
    }

    @Test func hypoPGVerdict() {
        let idx = IndexCandidate(table: "orders", keys: ["created_at"])
        #expect(HypoCheck(index: idx, costWithout: 21444, costWith: 350, used: true).worthBuilding)
        #expect(!HypoCheck(index: idx, costWithout: 21444, costWith: 350, used: false).worthBuilding)
        #expect(HypoCheck(index: idx, costWithout: 300, costWith: 270, used: true).worthBuilding)
        #expect(!HypoCheck(index: idx, costWithout: 300, costWith: 280, used: true).worthBuilding)
        let hypo = PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "<13554>btree_orders_created_at"))
        #expect(HypoCheck.usesHypothetical(hypo))
        #expect(!HypoCheck.usesHypothetical(PlanSummary(root: PlanNode(nodeType: "Index Scan", indexName: "orders_pkey"))))
    }

    @Test func indexMigrationMatching() {
        let ms = [IndexMigration(revision: "0013", index: IndexCandidate(table: "orders", keys: ["created_at"])),
                  IndexMigration(revision: "0014", index: IndexCandidate(table: "customers", keys: ["lower(email)"]))]
        #expect(IndexMigration.matching(IndexCandidate(table: "customers", keys: ["LOWER( email )"]), in: ms)?.revision == "0014")
        #expect(IndexMigration.matching(IndexCandidate(table: "orders", keys: ["status"]), in: ms) == nil)
        #expect(IndexMigration.matching(IndexCandidate(table: "customers", keys: ["created_at"]), in: ms) == nil)
    }

    @Test func latencySummary() {
        let s = QueryLatency(samples: (1...100).map(Double.init).reversed(), errors: 2)
        #expect(s.count == 100 && s.p50Ms == 50 && s.p99Ms == 99 && s.meanMs == 50.5 && s.totalMs == 5050 && s.errors == 2)
        #expect(QueryLatency(samples: []) == QueryLatency(count: 0, p50Ms: 0, p99Ms: 0, meanMs: 0, totalMs: 0))
        #expect(QueryLatency(samples: [7]).p99Ms == 7)
        let c = LatencyComparison(name: "x", write: false, before: QueryLatency(samples: [10, 10]), after: QueryLatency(samples: [1, 1]))
        #expect(c.meanRatio == 0.1)
        #expect(LatencyComparison(name: "x", write: false, before: QueryLatency(samples: []), after: QueryLatency(samples: [1])).meanRatio == nil)
    }

    static func report() throws -> QueryReport {
        let plan = try PlanSummary.parse(json: Self.windowPlan)
        let idx = IndexCandidate(table: "orders", keys: ["created_at"])
        let finding = QueryFinding(statement: Self.stats[0], name: "time-window", parameters: ["2026-06-08T01:00:00Z", "2026-06-08T02:00:00Z"],
                                   planBefore: plan, proposals: QueryAdvisor.proposals(query: Self.stats[0].query, plan: plan),
                                   hypo: [HypoCheck(index: idx, costWithout: 21444.27, costWith: 352.1, used: true)],
                                   sqlAfter: Self.stats[0].query, parametersAfter: ["a", "b"],
                                   planAfter: PlanSummary(root: PlanNode(nodeType: "Index Scan", relation: "orders", indexName: "orders_created_at_idx",
                                                                         totalCost: 352.1, actualTotalMs: 0.4), executionMs: 0.5))
        let other = QueryFinding(statement: Self.stats[3], note: "not a statement of the workload")
        return QueryReport(command: "faultline queries report --seconds 5", date: "2026-12-07T02:00:00Z", commit: "abc1234",
                           run: .init(workload: "orders-slow", orders: 1_000_000, customers: 10_000, readers: 4, writers: 1, seconds: 5),
                           rankedByTotal: QueryStats.top(Self.stats, by: .total), rankedByMean: QueryStats.top(Self.stats, by: .mean),
                           rankedByTotalAfter: [Self.stats[3]], findings: [finding, other],
                           migrations: [.init(revision: "0013", index: idx, seconds: 4.2)],
                           latency: [LatencyComparison(name: "time-window", write: false, before: QueryLatency(samples: [50, 60]), after: QueryLatency(samples: [0.5, 0.7])),
                                     LatencyComparison(name: "insert", write: true, before: QueryLatency(samples: [2, 3]), after: QueryLatency(samples: [2.5, 3.5]))])
    }

    @Test func markdownShowsPlansProposalsAndTheComparison() throws {
        var withWrites = try Self.report()
        withWrites.writesAlone = [LatencyComparison(name: "insert", write: true, before: QueryLatency(samples: [1, 2]), after: QueryLatency(samples: [1.5, 2.5]))]
        let mdWrites = QueryReportMarkdown.render(withWrites)
        #expect(mdWrites.contains("### The writes alone (the indexes' cost to writes)"))
        #expect(mdWrites.contains("| insert | 2 | 2 | 1.0 | 1.5 | 2.0 | 2.5 | 1.33× | 0/0 |"))
        #expect(!QueryReportMarkdown.render(try Self.report()).contains("The writes alone"))
        let md = QueryReportMarkdown.render(try Self.report())
        #expect(md.contains("- Command: `faultline queries report --seconds 5`") && md.contains("commit abc1234"))
        #expect(md.contains("| time-window | read | 2 | 2 | 50.0 | 0.500 | 60.0 | 0.700 | 0.01× (92× faster) | 110 | 1.2 | 0/0 |"))
        #expect(md.contains("| insert | write | 2 | 2 | 2.0 | 2.5 | 3.0 | 3.5 | 1.20× |"))
        #expect(md.contains("Read statements' total time: 110 ms before, 1.2 ms after (0.01×)."))
        #expect(md.contains("| 1 | `SELECT id FROM orders WHERE created_at >= $1 AND created_at < $2` | 40 | 4000 | 100 | 1 |"))
        #expect(md.contains("- Index `orders_created_at_idx` ON orders (created_at): Seq Scan on orders removed"))
        #expect(md.contains("HypoPG: planner cost 21444.27 without, 352.10 with the hypothetical index (used); built."))
        #expect(md.contains("Plan before (EXPLAIN (ANALYZE, BUFFERS)):") && md.contains("Plan after:"))
        #expect(md.contains("Index Scan using orders_created_at_idx on orders"))
        #expect(md.contains("| 0013 | `CREATE INDEX CONCURRENTLY orders_created_at_idx ON orders (created_at)` | yes | 4.2 |"))
        #expect(md.contains("Note: not a statement of the workload"))
        let back = try JSONDecoder().decode(QueryReport.self, from: try QueryReportMarkdown.json(try Self.report()))
        #expect(back == (try Self.report()))
    }
}
