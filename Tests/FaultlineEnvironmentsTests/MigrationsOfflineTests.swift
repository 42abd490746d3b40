import Foundation
import Testing

/// The schema migrations (migrations/, scripts/migrate) without a database: Alembic renders the SQL offline
/// (`upgrade ... --sql`) and the tests read it; the helper module's pure parts run in python3.
@Suite struct MigrationsOfflineTests {
    static let home = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let alembic = home + "/.venv/bin/alembic"
    static let ini = home + "/migrations/alembic.ini"
    static let hasAlembic = FileManager.default.isExecutableFile(atPath: alembic)
    static let hasSquawk = FileManager.default.isExecutableFile(atPath: home + "/.venv/bin/squawk")

    struct Run { var status: Int32; var out: String; var err: String }

    /// Runs a program with the environment minus FAULTLINE_* (plus `env`), stdout and stderr apart.
    static func run(_ exe: String, _ args: [String], env: [String: String] = [:]) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        var e = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FAULTLINE_") }
        e.merge(env) { $1 }
        p.environment = e
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fl-migrate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let outURL = dir.appendingPathComponent("out"), errURL = dir.appendingPathComponent("err")
        FileManager.default.createFile(atPath: outURL.path, contents: nil)
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: outURL)
        p.standardError = try FileHandle(forWritingTo: errURL)
        try p.run()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: try String(contentsOf: outURL, encoding: .utf8),
                   err: try String(contentsOf: errURL, encoding: .utf8))
    }

    /// Offline SQL of `alembic upgrade <range> --sql` in the safe history, or the naive one.
    static func sql(_ range: String, naive: Bool = false, env: [String: String] = [:]) throws -> String {
        let r = try run(alembic, ["-c", ini, "-n", naive ? "naive" : "alembic", "upgrade", range, "--sql"], env: env)
        #expect(r.status == 0, "alembic upgrade \(range) --sql: \(r.err)")
        return r.out
    }

    /// The statements (`;`-terminated lines) that run outside any BEGIN ... COMMIT in offline SQL.
    static func outsideTransactions(_ sql: String) -> [String] {
        var inside = false, outside: [String] = []
        for line in sql.split(separator: "\n").map(String.init) {
            if line == "BEGIN;" { inside = true } else if line == "COMMIT;" { inside = false } else if !inside && line.hasSuffix(";") { outside.append(line) }
        }
        return outside
    }

    /// The BEGIN ... COMMIT blocks of offline SQL, in order.
    static func transactions(_ sql: String) -> [String] {
        var blocks: [String] = [], current: String?
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "BEGIN;" { current = "" } else if line == "COMMIT;" { if let c = current { blocks.append(c) }; current = nil } else { current? += line + "\n" }
        }
        return blocks
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func everyMigrationOfHeadStartsWithTheTimeouts() throws {
        let sql = try Self.sql("head")
        #expect(sql.contains("SET lock_timeout = '1s';"))
        let migrations = sql.components(separatedBy: "-- Running upgrade ").dropFirst()
        #expect(migrations.count == 14)
        for m in migrations {
            let statements = m.split(separator: "\n").dropFirst().filter { !$0.isEmpty }.prefix(2).map(String.init)
            #expect(statements == ["SET lock_timeout = '1s';", "SET statement_timeout = '30s';"], "\(m.prefix(20))")
        }
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func timeoutsComeFromTheEnvironmentAndAreChecked() throws {
        let sql = try Self.sql("0001", env: ["FAULTLINE_MIGRATE_LOCK_TIMEOUT": "250ms", "FAULTLINE_MIGRATE_STATEMENT_TIMEOUT": "10s"])
        #expect(sql.contains("SET lock_timeout = '250ms';") && sql.contains("SET statement_timeout = '10s';"))
        let bad = try Self.run(Self.alembic, ["-c", Self.ini, "upgrade", "head", "--sql"],
                               env: ["FAULTLINE_MIGRATE_LOCK_TIMEOUT": "1s'; DROP TABLE orders; --"])
        #expect(bad.status == 2)
        #expect(!bad.out.contains("DROP TABLE orders") && bad.err.contains("is not a duration"))
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func indexIsBuiltConcurrentlyOutsideATransactionAfterDroppingALeftover() throws {
        let sql = try Self.sql("0009:0010")
        let outside = Self.outsideTransactions(sql)
        let create = "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_created_idx ON orders (customer_id, created_at);"
        let drop = "DROP INDEX CONCURRENTLY IF EXISTS orders_customer_created_idx;"
        #expect(outside.contains(create) && outside.contains(drop), "\(outside)")
        #expect((outside.firstIndex(of: drop) ?? .max) < (outside.firstIndex(of: create) ?? -1))
        #expect(!Self.transactions(sql).contains { $0.contains("CONCURRENTLY") })
        // Across the whole history, nothing CONCURRENTLY sits in a transaction block.
        #expect(!Self.transactions(try Self.sql("head")).contains { $0.contains("CONCURRENTLY") })
    }

    /// The query-optimisation indexes (0013, 0014; docs/query-optimization.md) follow 0010's pattern.
    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func queryOptimisationIndexesAreBuiltConcurrentlyAfterDroppingALeftover() throws {
        for (range, name, definition) in [("0012:0013", "orders_created_at_idx", "ON orders (created_at)"),
                                          ("0013:0014", "orders_lower_comment_idx", "ON orders (lower(comment))")] {
            let sql = try Self.sql(range)
            let outside = Self.outsideTransactions(sql)
            let create = "CREATE INDEX CONCURRENTLY IF NOT EXISTS \(name) \(definition);"
            let drop = "DROP INDEX CONCURRENTLY IF EXISTS \(name);"
            #expect(outside.contains(create) && outside.contains(drop), "\(outside)")
            #expect((outside.firstIndex(of: drop) ?? .max) < (outside.firstIndex(of: create) ?? -1))
            #expect((outside.firstIndex(of: "SET statement_timeout = '30min';") ?? .max) < (outside.firstIndex(of: create) ?? -1))
            #expect(!Self.transactions(sql).contains { $0.contains("CONCURRENTLY") })
        }
        let down = try Self.run(Self.alembic, ["-c", Self.ini, "downgrade", "0014:0012", "--sql"])
        #expect(down.out.contains("DROP INDEX CONCURRENTLY IF EXISTS orders_lower_comment_idx;")
                && down.out.contains("DROP INDEX CONCURRENTLY IF EXISTS orders_created_at_idx;"), "\(down.err)")
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func backfillCommitsABatchAtATimeKeyedByIdOutsideATransaction() throws {
        let sql = try Self.sql("0002:0003")
        #expect(sql.contains("WHERE id > lo AND id <= lo + batch_size AND priority IS NULL"))
        #expect(sql.contains("UPDATE faultline_backfill SET last_id = lo + batch_size"), "progress is recorded with each batch")
        #expect(sql.contains("CREATE OR REPLACE PROCEDURE faultline_backfill_priority") && sql.contains("        COMMIT;\n"))
        #expect(Self.outsideTransactions(sql).contains("CALL faultline_backfill_priority(5000, 0.05);"))
        let small = try Self.sql("0002:0003", env: ["FAULTLINE_MIGRATE_BATCH_ROWS": "1000", "FAULTLINE_MIGRATE_BATCH_PAUSE": "0.2"])
        #expect(small.contains("CALL faultline_backfill_priority(1000, 0.2);"))
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func notNullGoesThroughANotValidCheckEachStepInItsOwnTransaction() throws {
        let blocks = Self.transactions(try Self.sql("0003:0006"))
        #expect(blocks.count == 3)
        guard blocks.count == 3 else { return }
        #expect(blocks[0].contains("CHECK (priority IS NOT NULL) NOT VALID") && !blocks[0].contains("VALIDATE"))
        #expect(blocks[1].contains("VALIDATE CONSTRAINT orders_priority_not_null") && blocks[1].contains("SET statement_timeout = '30min'"))
        #expect(blocks[2].contains("ALTER COLUMN priority SET NOT NULL") && !blocks[2].contains("VALIDATE"))
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func renameBridgesThroughAViewAndRenamesOnlyInTheContract() throws {
        let expand = try Self.sql("0006:0008")
        #expect(expand.contains("CREATE VIEW orders_v2") && expand.contains("note AS comment"))
        #expect(!expand.contains("RENAME COLUMN"))
        let contract = try Self.sql("0008:0009")
        #expect(contract.contains("unused_column_check('orders', 'note')"))
        #expect(contract.contains("ALTER TABLE orders RENAME COLUMN note TO comment;"))
        #expect(Self.transactions(contract).count == 1, "rename and view swap in one transaction")
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func naiveHistoryHasTheNaiveStatements() throws {
        let sql = try Self.sql("head", naive: true)
        #expect(sql.contains("ALTER TABLE orders ADD COLUMN priority int NOT NULL DEFAULT (random() * 10)::int;"))
        #expect(sql.contains("ALTER TABLE orders RENAME COLUMN note TO comment;"))
        #expect(sql.contains("CREATE INDEX orders_customer_created_idx ON orders (customer_id, created_at);"))
        #expect(!sql.contains("CONCURRENTLY") && !sql.contains("orders_v2"))
        #expect(Self.outsideTransactions(sql).filter { !$0.hasPrefix("--") }.isEmpty, "every naive statement in a transaction")
    }

    /// `alembic history` lines read `down -> up[ (head)], message`, newest first.
    static func chain(naive: Bool) throws -> [String] { try chain(section: naive ? "naive" : "alembic") }

    /// The chain of one ini section's history (alembic, naive, failing).
    static func chain(section: String) throws -> [String] {
        let r = try run(alembic, ["-c", ini, "-n", section, "history"])
        #expect(r.status == 0, "\(r.err)")
        return r.out.split(separator: "\n").reversed().compactMap { line -> String? in
            guard let arrow = line.range(of: " -> ") else { return nil }
            let down = String(line[..<arrow.lowerBound])
            let up = line[arrow.upperBound...].prefix { $0 != "," && $0 != " " }
            return "\(down)>\(up)"
        }
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func historiesAreLinearInTheDocumentedOrder() throws {
        let safe = ["<base>"] + (1...14).map { String(format: "%04d", $0) }
        #expect(try Self.chain(naive: false) == zip(safe, safe.dropFirst()).map { "\($0)>\($1)" })
        #expect(try Self.chain(naive: true) == ["<base>>0001", "0001>n0002", "n0002>n0003", "n0003>n0004"])
        #expect(try Self.chain(section: "failing") == ["<base>>0001", "0001>f0002", "f0002>f0003", "f0003>f0004"])
    }

    /// The failing fixtures: f0003 needs ACCESS EXCLUSIVE on orders, f0004 is a validated (not NOT VALID) CHECK.
    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func failingFixturesFailTheWayTheyAreMeantTo() throws {
        let r = try Self.run(Self.alembic, ["-c", Self.ini, "-n", "failing", "upgrade", "0001:head", "--sql"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("ALTER TABLE customers ADD COLUMN IF NOT EXISTS phone text;"))
        #expect(r.out.contains("ALTER TABLE orders ADD COLUMN IF NOT EXISTS flagged boolean;"))
        #expect(r.out.contains("ADD CONSTRAINT orders_not_cancelled CHECK (status <> 'cancelled');"))
        #expect(!r.out.contains("NOT VALID"), "the check must scan (and fail on) the seed data")
        let blocks = Self.transactions(r.out)
        #expect(blocks.count == 3)
        for block in blocks {
            let set = try #require(block.range(of: "SET lock_timeout = '1s';"), "\(block)")
            let alter = try #require(block.range(of: "ALTER TABLE"), "\(block)")
            #expect(set.lowerBound < alter.lowerBound, "timeouts first: \(block)")
        }
    }

    /// unused_column_check over a fake pg_stat_statements: refuses when a statement naming the column and the
    /// table or view ran in the window, passes otherwise, skips at window 0, and needs the extension.
    @Test(.enabled(if: hasAlembic, "needs .venv (scripts/setup)"))
    func unusedColumnCheckReadsTheCallsTwice() throws {
        let script = """
        import json, os, sys
        sys.path.insert(0, sys.argv[1])
        import faultline_migrate as fm
        class Result:
            def __init__(self, rows): self.rows = rows
            def scalar(self): return self.rows[0][0] if self.rows else None
            def all(self): return self.rows
        class Bind:
            def __init__(self, readings, ext=True): self.readings, self.ext = list(readings), ext
            def execute(self, stmt, *a):
                if "pg_extension" in str(stmt): return Result([(1,)] if self.ext else [])
                return Result(self.readings.pop(0))
        idle = [(1, "SELECT note FROM orders WHERE id = $1", 5), (2, "SELECT comment FROM orders_v2", 9),
                (3, "SELECT notes FROM orders", 1), (4, "SELECT note FROM orders_v3", 1)]
        busy = [(1, "SELECT note FROM orders WHERE id = $1", 8), (2, "SELECT comment FROM orders_v2", 20),
                (3, "SELECT notes FROM orders", 7), (4, "SELECT note FROM orders_v3", 4),
                (5, "UPDATE orders_v2 SET note = $1", 2), (6, "SELECT query FROM pg_stat_statements WHERE note", 3)]
        out = {}
        def run(name, bind, window="0.01"):
            os.environ["FAULTLINE_MIGRATE_UNUSED_WINDOW"] = window
            try:
                fm.unused_column_check("orders", "note", views=("orders_v2",), bind=bind, sleep=lambda s: None)
                out[name] = "passed"
            except fm.MigrationRefused as e:
                out[name] = str(e)
        run("busy", Bind([idle, busy]))
        run("other", Bind([idle, [(2, "SELECT comment FROM orders_v2", 20), (3, "SELECT notes FROM orders", 7)] + idle[:1]]))
        run("noext", Bind([], ext=False))
        run("skip", Bind([]), window="0")
        out["using"] = sorted(fm.statements_using([(r[0], r[1]) for r in busy], ["orders", "orders_v2"], "note"))
        out["grown"] = fm.grown_calls({1: 5, 2: 3}, {1: 5, 2: 4, 7: 2})
        print(json.dumps(out))
        """
        let r = try Self.run(Self.home + "/.venv/bin/python", ["-c", script, Self.home + "/migrations"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let busy = try #require(obj["busy"] as? String)
        #expect(busy.contains("SELECT note FROM orders WHERE id = $1' ran 3 time(s)") && busy.contains("and 1 more"), "\(busy)")
        #expect(obj["other"] as? String == "passed", "only statements on other columns or relations grew")
        #expect((obj["noext"] as? String)?.contains("CREATE EXTENSION pg_stat_statements") == true)
        #expect(obj["skip"] as? String == "passed")
        #expect(obj["using"] as? [Int] == [1, 5], "word match on note, in statements naming orders or orders_v2")
        #expect(obj["grown"] as? [String: Int] == ["2": 1, "7": 2])
    }

    /// verify-schema's normalisation: dump headers, blank lines, the restrict key, the database name,
    /// pg_stat_statements and alembic_version's DDL go; alembic_version's rows stay as a data line.
    @Test func schemaDumpNormalisationKeepsOnlyTheSchema() throws {
        let script = """
        import sys
        sys.path.insert(0, sys.argv[1])
        import faultline_migrate as fm
        def dump(db, key, ext):
            e = ("--\\n-- Name: pg_stat_statements; Type: EXTENSION; Schema: -; Owner: -\\n--\\n\\n"
                 "CREATE EXTENSION IF NOT EXISTS pg_stat_statements WITH SCHEMA public;\\n\\n\\n"
                 "SET default_tablespace = '';\\n\\n") if ext else "SET default_tablespace = '';\\n\\n\\n"
            return (f"--\\n-- PostgreSQL database dump\\n--\\n\\\\restrict {key}\\n-- Dumped from database version 15.1\\n\\n"
                    "SET lock_timeout = 0;\\n\\n" + e +
                    "--\\n-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -\\n--\\n\\n"
                    "CREATE TABLE public.alembic_version (version_num varchar(32));\\n\\n"
                    "--\\n-- Name: orders; Type: TABLE; Schema: public; Owner: -\\n--\\n\\n"
                    f"CREATE TABLE public.orders (id bigint);\\nALTER DATABASE {db} SET x = 1;\\n")
        a = fm.normalise_dump(dump("orders", "k1", True), "orders", ["0006"])
        b = fm.normalise_dump(dump("orders_faultline_verify", "k2", False), "orders_faultline_verify", ["0006"])
        c = fm.normalise_dump(dump("orders", "k1", True), "orders", ["0005"])
        assert a == b, (a, b)
        assert a != c
        assert "CREATE TABLE public.orders" in a and "SET default_tablespace" in a and "alembic_version (data): 0006" in a
        assert "pg_stat_statements" not in a and "restrict" not in a and "CREATE TABLE public.alembic_version" not in a
        assert "ALTER DATABASE <database> SET" in a
        assert fm.verify_database("x" * 70).endswith("_faultline_verify") and len(fm.verify_database("x" * 70)) == 63
        print("ok")
        """
        let r = try Self.run("/usr/bin/env", ["python3", "-c", script, Self.home + "/migrations"])
        #expect(r.status == 0 && r.out == "ok\n", "\(r.out)\(r.err)")
    }

    /// faultline_migrate's pure parts, run by python3 with a fake lock timeout (SQLSTATE 55P03).
    @Test func backoffScheduleAndLockRetriesAreBounded() throws {
        let script = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import faultline_migrate as fm
        class Locked(Exception):
            sqlstate = "55P03"
        class Wrapper(Exception):
            def __init__(self, orig): self.orig = orig
        out = {"schedule": fm.backoff_schedule(), "short": fm.backoff_schedule(tries=3, first=1, cap=1.5)}
        sleeps, calls = [], [0]
        def flaky():
            calls[0] += 1
            if calls[0] <= 3: raise Wrapper(Locked())
            return "done"
        out["result"] = fm.with_lock_retries(flaky, sleep=sleeps.append, log=lambda s: None)
        out["sleeps"] = sleeps
        def always(): raise Locked()
        slept = []
        try:
            fm.with_lock_retries(always, sleep=slept.append, log=lambda s: None); out["exhausted"] = "no"
        except fm.LockRetriesExhausted:
            out["exhausted"] = len(slept)
        other = [0]
        def broken():
            other[0] += 1; raise ValueError("not a lock")
        try:
            fm.with_lock_retries(broken, sleep=lambda s: None, log=lambda s: None)
        except ValueError:
            out["other_tries"] = other[0]
        print(json.dumps(out))
        """
        let r = try Self.run("/usr/bin/env", ["python3", "-c", script, Self.home + "/migrations"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let schedule = try #require(obj["schedule"] as? [Double])
        #expect(schedule == [0.1, 0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0, 5.0], "10 tries: 9 sleeps, doubling to 5 s")
        #expect(schedule.reduce(0, +) < 22)
        #expect(obj["short"] as? [Double] == [1.0, 1.5])
        #expect(obj["result"] as? String == "done")
        #expect(obj["sleeps"] as? [Double] == [0.1, 0.2, 0.4], "three lock timeouts, three sleeps")
        #expect(obj["exhausted"] as? Int == 9, "gives up after the 10th try")
        #expect(obj["other_tries"] as? Int == 1, "other errors are not retried")
    }

    /// The failure classification behind `up`'s resume: a lost database (no SQLSTATE, class 08, 57P01-57P03,
    /// 25006, through SQLAlchemy's wrapper or an exception's context) resumes, anything else rolls back; the
    /// resume settings and the bounded wait for a writable database (a fake clock).
    @Test(.enabled(if: hasAlembic, "needs .venv (scripts/setup)"))
    func connectionLossResumesEverythingElseRollsBack() throws {
        let script = """
        import json, sys
        sys.path.insert(0, sys.argv[1])
        import faultline_migrate as fm
        import psycopg, psycopg.errors as E
        import sqlalchemy.exc as SA
        def wrap(orig): return SA.OperationalError("SELECT 1", {}, orig)
        cases = {
            "closed": psycopg.OperationalError("server closed the connection unexpectedly"),
            "admin": E.AdminShutdown("terminating connection due to administrator command"),
            "crash": E.CrashShutdown("terminating connection because of crash of another server process"),
            "cannot_connect": E.CannotConnectNow("the database system is starting up"),
            "readonly": wrap(E.ReadOnlySqlTransaction("cannot execute UPDATE in a read-only transaction")),
            "conn08": E.ConnectionFailure("connection failure"),
            "recovery": psycopg.OperationalError("the database system is in recovery mode"),
            "wrapped_closed": wrap(psycopg.OperationalError("consuming input failed: server closed the connection unexpectedly")),
            "libpq_other": psycopg.OperationalError("connection failed: weird"),
            "lock": wrap(E.LockNotAvailable("canceling statement due to lock timeout")),
            "stmt_timeout": E.QueryCanceled("canceling statement due to statement timeout"),
            "check": wrap(E.CheckViolation("check constraint ... terminating connection")),
            "value": ValueError("boom"),
            "refused": fm.MigrationRefused("unused_column_check(orders.note): still in use"),
        }
        try:
            try: raise E.LockNotAvailable("lock timeout")
            except Exception as e: raise fm.LockRetriesExhausted("every try") from e
        except Exception as e: cases["exhausted"] = e
        try:
            try: raise E.AdminShutdown("terminating connection due to administrator command")
            except Exception as e: raise RuntimeError("during the batch")
        except Exception as e: cases["context"] = e
        out = {k: fm.connection_lost(v) for k, v in cases.items()}
        out["defaults"] = fm.resume_settings({})
        out["follows"] = fm.resume_settings({"FAULTLINE_MIGRATE_RESUME_WAIT": "5", "FAULTLINE_MIGRATE_RESUMES": "0"})
        out["own"] = fm.resume_settings({"FAULTLINE_MIGRATE_RESUME_WAIT": "5", "FAULTLINE_MIGRATE_ROLLBACK_WAIT": "60"})
        bad = []
        for env in ({"FAULTLINE_MIGRATE_RESUMES": "21"}, {"FAULTLINE_MIGRATE_RESUMES": "x"}, {"FAULTLINE_MIGRATE_RESUME_WAIT": "0"},
                    {"FAULTLINE_MIGRATE_RESUME_WAIT": "3601"}, {"FAULTLINE_MIGRATE_ROLLBACK_WAIT": "soon"}):
            try: fm.resume_settings(env); bad.append("accepted")
            except fm.BadInput as e: bad.append(str(e))
        out["bad"] = bad
        class Clock:
            def __init__(self): self.t = 0.0
            def __call__(self): return self.t
            def sleep(self, s): self.sleeps.append(round(s, 3)); self.t += s
        def scenario(ready_after, wait):
            c = Clock(); c.sleeps = []; calls = [0]
            def probe():
                calls[0] += 1; c.t += 0.25
                return None if calls[0] > ready_after else f"down {calls[0]}"
            ok, waited, last = fm.wait_until_writable(probe, wait, sleep=c.sleep, clock=c)
            return {"ok": ok, "waited": round(waited, 2), "last": last, "probes": calls[0], "sleeps": c.sleeps}
        out["comes_back"] = scenario(3, 90)
        out["stays_down"] = scenario(1000, 5)
        print(json.dumps(out))
        """
        let r = try Self.run(Self.home + "/.venv/bin/python", ["-c", script, Self.home + "/migrations"])
        #expect(r.status == 0, "\(r.err)")
        let obj = try #require(JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let lost = ["closed": "server closed the connection", "admin": "server shut down (57P01)",
                    "crash": "server crashed (57P02)", "cannot_connect": "server not accepting connections (57P03)",
                    "readonly": "read-only transaction: the primary was demoted (25006)",
                    "conn08": "connection failure (08006)", "recovery": "database in recovery mode",
                    "wrapped_closed": "server closed the connection", "libpq_other": "connection error: connection failed: weird",
                    "context": "server shut down (57P01)"]
        for (name, reason) in lost {
            #expect(obj[name] as? String == reason, "\(name) resumes: \(obj[name] ?? "nil")")
        }
        for name in ["lock", "stmt_timeout", "check", "value", "refused", "exhausted"] {
            #expect(obj[name] is NSNull, "\(name) rolls back, got \(obj[name] ?? "missing")")
        }
        #expect(obj["defaults"] as? [Double] == [3, 90, 90])
        #expect(obj["follows"] as? [Double] == [0, 5, 5], "the rollback waits as long as a resume unless set")
        #expect(obj["own"] as? [Double] == [3, 5, 60])
        let bad = try #require(obj["bad"] as? [String])
        #expect(bad.count == 5 && !bad.contains("accepted"), "\(bad)")
        let back = try #require(obj["comes_back"] as? [String: Any])
        #expect(back["ok"] as? Bool == true && back["probes"] as? Int == 4 && back["last"] as? String == "down 3")
        #expect(back["sleeps"] as? [Double] == [0.75, 0.75, 0.75], "a probe about once a second")
        let down = try #require(obj["stays_down"] as? [String: Any])
        #expect(down["ok"] as? Bool == false && (down["waited"] as? Double ?? 0) >= 5 && (down["waited"] as? Double ?? 99) < 6.5)
    }

    @Test(.enabled(if: hasAlembic, "needs .venv/bin/alembic (scripts/setup)"))
    func scriptRefusesBadInputWithExit2BeforeAnyDatabase() throws {
        let migrate = Self.home + "/scripts/migrate"
        let url = "postgresql://app:sekret-pw@127.0.0.1:1/orders"
        let cases: [([String], [String: String], String)] = [
            (["up", "--to", "9999"], ["FAULTLINE_MIGRATE_URL": url], "unknown revision '9999'"),
            (["up", "--to", "n0003"], ["FAULTLINE_MIGRATE_URL": url], "unknown revision 'n0003'"),
            (["down", "--to", "nope", "--naive"], ["FAULTLINE_MIGRATE_URL": url], "unknown revision 'nope'"),
            (["up"], ["FAULTLINE_MIGRATE_URL": "postgresql://app:sekret-pw@127.0.0.1:5432/"], "names no database"),
            (["status"], ["FAULTLINE_MIGRATE_URL": "postgresql://app:sekret-pw@127.0.0.1"], "names no database"),
            (["down"], [:], "FAULTLINE_MIGRATE_URL is not set"),
            (["up", "--to", "-1"], ["FAULTLINE_MIGRATE_URL": url], "for down only"),
            (["sideways"], [:], "unknown argument"),
            (["status", "--history", "bogus"], ["FAULTLINE_MIGRATE_URL": url], "unknown history 'bogus'"),
            (["up", "--failing", "--to", "n0003"], ["FAULTLINE_MIGRATE_URL": url], "unknown revision 'n0003'"),
            (["verify-schema", "--to", "0002"], ["FAULTLINE_MIGRATE_URL": url], "--to is not for verify-schema"),
            (["up"], ["FAULTLINE_MIGRATE_URL": url, "FAULTLINE_MIGRATE_LOCK_RETRIES": "0"], "LOCK_RETRIES '0'"),
            (["up"], ["FAULTLINE_MIGRATE_URL": url, "FAULTLINE_MIGRATE_UNUSED_WINDOW": "soon"], "UNUSED_WINDOW 'soon'"),
            (["up"], ["FAULTLINE_MIGRATE_URL": url, "FAULTLINE_MIGRATE_RESUMES": "many"], "RESUMES 'many' is not 0...20"),
            (["up"], ["FAULTLINE_MIGRATE_URL": url, "FAULTLINE_MIGRATE_RESUME_WAIT": "0"], "RESUME_WAIT '0' is not seconds"),
            (["down"], ["FAULTLINE_MIGRATE_URL": url, "FAULTLINE_MIGRATE_ROLLBACK_WAIT": "90s"], "ROLLBACK_WAIT '90s'"),
        ]
        for (args, env, want) in cases {
            let r = try Self.run(migrate, args, env: env)
            #expect(r.status == 2, "\(args): \(r.err)")
            #expect(r.err.contains(want), "\(args): \(r.err)")
            #expect(r.err.split(separator: "\n").count == 1, "one line: \(r.err)")
            #expect(!(r.out + r.err).contains("sekret-pw"))
        }
        // Past the base is checked against the database's revision; the plan itself needs none.
        let py = Self.home + "/.venv/bin/python"
        let past = try Self.run(py, [Self.home + "/migrations/faultline_migrate.py", "plan", Self.ini, "alembic", "down", "0002", "-3"])
        #expect(past.status == 2 && past.err.contains("past the base"), "\(past.err)")
        let fine = try Self.run(py, [Self.home + "/migrations/faultline_migrate.py", "plan", Self.ini, "alembic", "down", "0002", "-2"])
        #expect(fine.status == 0 && fine.out == "base\n0002 0001\n", "\(fine.out)\(fine.err)")
        // The pipeline refuses bad usage before any step.
        let pipeline = Self.home + "/scripts/deploy-pipeline"
        for (args, want) in [([String](), "no deploy command"), (["--sideways", "--", "true"], "unknown argument")] {
            let p = try Self.run(pipeline, args)
            #expect(p.status == 2 && p.err.contains(want) && p.out.isEmpty, "\(args): \(p.out)\(p.err)")
        }
    }

    @Test(.enabled(if: hasAlembic && hasSquawk, "needs .venv/bin/alembic and .venv/bin/squawk (scripts/setup)"))
    func squawkPassesTheSafeHistoryAndFlagsTheNaiveOne() throws {
        let migrate = Self.home + "/scripts/migrate"
        let safe = try Self.run(migrate, ["check"])
        #expect(safe.status == 0, "\(safe.out)\(safe.err)")
        let naive = try Self.run(migrate, ["check", "--naive"])
        #expect(naive.status == 1)
        for rule in ["adding-field-with-default", "renaming-column", "require-concurrent-index-creation"] {
            #expect(naive.out.contains(rule), "\(rule): \(naive.out)")
        }
    }
}
