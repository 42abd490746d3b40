import Faultline
import FaultlinePG
import Testing
@testable import FaultlineLoad

@Suite struct ClassificationTests {
    typealias K = PGError.Kind

    @Test(arguments: [
        (K.server, "25006", Outcome.readOnly),
        (.server, "57P01", .adminShutdown),
        (.server, "57P02", .adminShutdown),
        (.server, "57P03", .adminShutdown),
        (.connectionLost, "57P01", .adminShutdown),
        (.server, "57014", .timeout),
        (.server, "08006", .connectionLost),
        (.server, "08P01", .connectionLost),
        (.server, "23505", .otherSQLState),
        (.server, "40001", .otherSQLState),
        (.server, "42P01", .otherSQLState),
        (.connectionLost, nil, .connectionLost),
        (.timeout, nil, .timeout),
        (.connectFailed, nil, .connectionRefused),
        (.server, nil, .otherSQLState),
    ] as [(K, String?, Outcome)])
    func statementPhase(_ kind: K, _ state: String?, _ expected: Outcome) {
        #expect(ErrorClassifier.outcome(kind: kind, sqlState: state, phase: .statement) == expected)
    }

    /// At COMMIT, anything that does not prove a rollback is indeterminate.
    @Test(arguments: [
        (K.connectionLost, nil, Outcome.indeterminate),
        (.connectionLost, "57P01", .indeterminate),
        (.timeout, nil, .indeterminate),
        (.server, "57P01", .indeterminate),
        (.server, "57014", .indeterminate),
        (.server, "08006", .indeterminate),
        (.server, "XX000", .indeterminate),
        (.server, "53100", .indeterminate),
        (.server, "58030", .indeterminate),
        (.server, nil, .indeterminate),
        // The server answered with an ordinary error: the transaction rolled back.
        (.server, "40001", .otherSQLState),
        (.server, "23505", .otherSQLState),
        (.server, "25006", .readOnly),
    ] as [(K, String?, Outcome)])
    func commitPhase(_ kind: K, _ state: String?, _ expected: Outcome) {
        #expect(ErrorClassifier.outcome(kind: kind, sqlState: state, phase: .commit) == expected)
    }

    @Test(arguments: [K.connectFailed, .timeout, .connectionLost, .server])
    func connectPhaseIsAlwaysRefused(_ kind: K) {
        #expect(ErrorClassifier.outcome(kind: kind, sqlState: "57P03", phase: .connect) == .connectionRefused)
    }

    @Test func fromPGError() {
        let e = PGError(kind: .server, sqlState: "25006", message: "cannot execute INSERT in a read-only transaction")
        #expect(ErrorClassifier.outcome(for: e, phase: .statement) == .readOnly)
    }

    @Test func reconnectPolicy() {
        #expect(!ErrorClassifier.shouldReconnect(after: .ok))
        #expect(!ErrorClassifier.shouldReconnect(after: .otherSQLState))
        for o in Outcome.allCases where o != .ok && o != .otherSQLState {
            #expect(ErrorClassifier.shouldReconnect(after: o), "\(o)")
        }
    }
}

@Suite struct LedgerFormatTests {
    @Test func serverLabel() {
        #expect(LedgerSchema.serverLabel(address: "10.77.0.11/32", walFile: "000000020000000000000003") == "10.77.0.11/tl2")
        #expect(LedgerSchema.serverLabel(address: "10.77.0.12", walFile: "0000000A0000000000000003") == "10.77.0.12/tl10")
        #expect(LedgerSchema.serverLabel(address: nil, walFile: "000000010000000000000001") == "local/tl1")
        #expect(LedgerSchema.serverLabel(address: "127.0.0.1", walFile: nil) == "127.0.0.1")
    }

    @Test func ids() {
        #expect(LedgerSchema.id(worker: 3, seq: 1042) == "w3-1042")
    }

    @Test func textArrayLiteralQuotesEverything() {
        #expect(pgTextArray(["w0-1", "a\"b", "c\\d"]) == #"{"w0-1","a\"b","c\\d"}"#)
        #expect(pgTextArray([String]()) == "{}")
    }

    @Test func tpcbStatementsMatchPgbench() {
        let s = RequestRunner.tpcbStatements(aid: 7, bid: 1, tid: 3, delta: -42)
        #expect(s.first == "BEGIN;")
        #expect(s.last == "END;")
        #expect(s.count == 7)
        #expect(s[1] == "UPDATE pgbench_accounts SET abalance = abalance + -42 WHERE aid = 7;")
        #expect(s[5] == "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (3, 1, 7, -42, CURRENT_TIMESTAMP);")
    }
}

@Suite struct ConnInfoMaskTests {
    @Test(arguments: [
        ("host=a password=secret dbname=x", "host=a password=*** dbname=x"),
        ("host=a password = 'it''s a secret' dbname=x", "host=a password = *** dbname=x"),
        (#"password='a\'b c' host=a"#, "password=*** host=a"),
        ("PASSWORD=s3cr3t", "PASSWORD=***"),
        ("host=a passfile=/var/lib/pgpass", "host=a passfile=/var/lib/pgpass"),
        ("postgresql://fl:secret@10.77.0.1:5000/faultline", "postgresql://fl:***@10.77.0.1:5000/faultline"),
        ("postgres://fl@h/db?password=secret&sslmode=disable", "postgres://fl@h/db?password=***&sslmode=disable"),
        ("postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write", "postgresql://h1:5432,h2:5432/db?target_session_attrs=read-write"),
    ])
    func masks(_ input: String, _ expected: String) {
        #expect(ConnInfo.masked(input) == expected)
        #expect(!ConnInfo.masked(input).contains("secret"))
    }
}
