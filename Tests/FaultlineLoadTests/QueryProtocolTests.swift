import Faultline
import Foundation
import Testing
@testable import FaultlineLoad

/// `--protocol simple|extended|prepared` (pgbench -M): parsing, the load config, and the pure SQL text helpers.
@Suite struct QueryProtocolTests {
    @Test(arguments: [("simple", QueryProtocol.simple), ("extended", .extended), ("prepared", .prepared),
                      (" Prepared ", .prepared), ("EXTENDED", .extended)])
    func parses(_ text: String, _ expected: QueryProtocol) throws {
        #expect(try QueryProtocol.parse(text) == expected)
    }

    @Test(arguments: ["", "prepare", "binary", "simple,extended", "-M prepared"])
    func unknownProtocolIsOneLineInputError(_ text: String) {
        do {
            _ = try QueryProtocol.parse(text)
            Issue.record("'\(text)' parsed")
        } catch {
            #expect(error.message.contains("use simple, extended or prepared"))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test func defaultIsSimpleAndItRoundTripsAsText() throws {
        #expect(WorkloadConfig(kind: .tpcb, conninfo: "host=x").queryProtocol == .simple)
        for p in QueryProtocol.allCases {
            let data = try JSONEncoder().encode([p])
            #expect(String(decoding: data, as: UTF8.self) == "[\"\(p.rawValue)\"]")
            #expect(try JSONDecoder().decode([QueryProtocol].self, from: data) == [p])
        }
    }

    @Test func scenarioDriverCarriesTheProtocolIntoEveryWorkload() {
        let driver = LoadGeneratorDriver(endpoints: .init(writes: "host=w", reads: "host=r"), queryProtocol: .prepared,
                                         logger: .init(label: "test"))
        let config = driver.config(for: [.ledgerWrites(rate: 10), .replicaReads(rate: 10), .orders(rate: 5)])
        #expect(config.workloads.count == 3)
        #expect(config.workloads.allSatisfy { $0.queryProtocol == .prepared })
        let plain = LoadGeneratorDriver(endpoints: .init(writes: "host=w", reads: "host=r"), logger: .init(label: "test"))
        #expect(plain.config(for: [.ledgerWrites(rate: 10)]).workloads.allSatisfy { $0.queryProtocol == .simple })
    }

    @Test func customScriptWithoutStatementsIsRefusedOutsideSimple() throws {
        var w = WorkloadConfig(kind: .custom, conninfo: "host=x", sql: "-- only a comment\n", queryProtocol: .extended)
        #expect(throws: LoadConfigError.self) { try LoadConfig(workloads: [w]).validate() }
        w.queryProtocol = .simple
        try LoadConfig(workloads: [w]).validate()
        w.queryProtocol = .prepared
        w.sql = "SELECT 1;"
        try LoadConfig(workloads: [w]).validate()
    }

    // MARK: - Literals and placeholders (simple protocol)

    @Test func literals() {
        #expect(SQLText.literal(nil) == "NULL")
        #expect(SQLText.literal("w3-1042") == "'w3-1042'")
        #expect(SQLText.literal("it's") == "'it''s'")
        #expect(SQLText.literal(#"a\b"#) == #"E'a\\b'"#)
        #expect(SQLText.literal(#"'\"#) == #"E'''\\'"#)
        #expect(SQLText.literal("") == "''")
        #expect(SQLText.literal("é€") == "'é€'")
    }

    @Test func inlineWritesEveryPlaceholderAsALiteral() {
        #expect(SQLText.inline(LedgerSchema.read, ["r1", "w0-1"])
                == "SELECT seq FROM faultline_ledger WHERE run_id = 'r1' AND id = 'w0-1'")
        // $10 is the tenth parameter, not $1 followed by 0.
        let ten = (1...10).map { "v\($0)" }
        #expect(SQLText.inline("SELECT $10, $1", ten) == "SELECT 'v10', 'v1'")
        // Placeholders inside quoted strings, quoted identifiers and comments stay; a NULL parameter is NULL.
        #expect(SQLText.inline(#"SELECT '$1', "$1", $1 -- $1"#, [nil]) == #"SELECT '$1', "$1", NULL -- $1"#)
        #expect(SQLText.inline("SELECT 'it''s $1', $1", ["x"]) == "SELECT 'it''s $1', 'x'")
        // A placeholder without a parameter is left for the server to report.
        #expect(SQLText.inline("SELECT $2", ["a"]) == "SELECT $2")
        // A parameter cannot break out of its literal.
        #expect(SQLText.inline("SELECT $1", ["'); DROP TABLE x; --"]) == "SELECT '''); DROP TABLE x; --'")
    }

    @Test func ordersStatementsInlineForEveryVersion() {
        var rng = SplitMix64(seed: 7)
        let client = OrdersClient(maxOrderID: 100, maxCustomerID: 10)
        for version in AppVersion.allCases {
            for _ in 0..<50 {
                let p = client.plan(version: version, rng: &rng)
                let text = SQLText.inline(p.sql, p.params)
                #expect(!text.contains("$"), "\(text)")
            }
        }
    }

    // MARK: - Splitting a custom script (extended and prepared protocols)

    @Test func splitsAScriptIntoStatements() {
        let script = """
            -- a comment; with a semicolon
            BEGIN;
            UPDATE t SET note = 'a;b' WHERE "odd;name" = 1;  /* block; comment */
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            DO $body$ BEGIN PERFORM 1; END $body$;
            SELECT $1::int;
            COMMIT
            ;;
            """
        #expect(SQLText.split(script) == [
            "-- a comment; with a semicolon\nBEGIN",
            #"UPDATE t SET note = 'a;b' WHERE "odd;name" = 1"#,
            "/* block; comment */\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
            "DO $body$ BEGIN PERFORM 1; END $body$",
            "SELECT $1::int",
            "COMMIT",
        ])
        #expect(SQLText.split("-- nothing\n/* at all */ ;\n  ") == [])
        #expect(SQLText.split("SELECT 1") == ["SELECT 1"])
    }

    @Test func customStatementsAreNamedInOrder() {
        let s = RequestRunner.customStatements("SELECT 1; SELECT 2;")
        #expect(s == [Statement(name: "fl_custom_0", sql: "SELECT 1"), Statement(name: "fl_custom_1", sql: "SELECT 2")])
    }

    // MARK: - TPC-B with parameters

    /// The parameterized transaction written out as text is pgbench's simple-protocol one, statement for statement.
    @Test func tpcbParametersMatchTheSimpleText() {
        let (aid, bid, tid, delta) = (7, 1, 3, -42)
        let simple = RequestRunner.tpcbStatements(aid: aid, bid: bid, tid: tid, delta: delta)
        #expect(simple.count == RequestRunner.tpcbParameterized.count)
        for (i, s) in RequestRunner.tpcbParameterized.enumerated() {
            let params = RequestRunner.tpcbParams(i, aid: aid, bid: bid, tid: tid, delta: delta)
            // Literals are quoted ('7'), pgbench's text is not (7): compare without the quotes.
            let inlined = SQLText.inline(s.sql, params).replacingOccurrences(of: "'", with: "")
            let expected = simple[i].replacingOccurrences(of: ";", with: "")
            #expect(inlined == expected)
        }
        #expect(Set(RequestRunner.tpcbParameterized.map(\.name)).count == RequestRunner.tpcbParameterized.count)
    }
}
