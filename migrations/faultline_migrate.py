"""Faultline's migration helpers: timeouts, lock retries, the URL check and the revision plan.

Imported by env.py and the revisions (alembic.ini puts this folder on sys.path), and run as a small CLI by
scripts/migrate (`python faultline_migrate.py url|plan ...`) for the checks it makes before anything changes.
The pure functions (backoff_schedule, timeout_setting, database_name, plan) need no database.
"""
from __future__ import annotations

import os
import re
import sys
import time
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")

#: SQLSTATE of lock_not_available: what a statement that waited lock_timeout for a lock fails with.
LOCK_NOT_AVAILABLE = "55P03"
#: The key of the session advisory lock one migration run holds (online mode): "faultline-migrate" as an int8.
ADVISORY_LOCK_KEY = 0x6661756C746D6967
#: What env.py prints (and exits 2 with) when another run holds that lock; scripts/migrate looks for it.
LOCK_HELD_MESSAGE = "another migration holds the lock"

_DURATION = re.compile(r"^(0|[1-9][0-9]{0,6})(ms|s|min)?$")


class BadInput(Exception):
    """A setting or argument that is wrong before anything ran: scripts/migrate exits 2 with its text."""


class LockRetriesExhausted(Exception):
    """Every try of a step hit lock_timeout."""


def timeout_setting(name: str, value: str) -> str:
    """A `SET name = 'value'` statement for a PostgreSQL duration such as 1s, 500ms, 30s, 10min or 0 (none).

    The value is checked against a strict pattern: it comes from the environment and lands in SQL.
    """
    if not _DURATION.match(value):
        raise BadInput(f"{name} '{value}' is not a duration such as 1s, 500ms, 30s or 10min")
    return f"SET {name} = '{value}'"


def timeout_statements(env: dict[str, str] | None = None) -> list[str]:
    """The SETs every migration transaction starts with: lock_timeout (default 1s) and statement_timeout
    (default 30s), from FAULTLINE_MIGRATE_LOCK_TIMEOUT and FAULTLINE_MIGRATE_STATEMENT_TIMEOUT.
    """
    env = os.environ if env is None else env
    return [
        timeout_setting("lock_timeout", env.get("FAULTLINE_MIGRATE_LOCK_TIMEOUT", "1s")),
        timeout_setting("statement_timeout", env.get("FAULTLINE_MIGRATE_STATEMENT_TIMEOUT", "30s")),
    ]


def long_statement_timeout(env: dict[str, str] | None = None) -> str:
    """The SET for a step that is one long statement by design (CREATE INDEX CONCURRENTLY, VALIDATE, the
    offline backfill's CALL): bounded too, by FAULTLINE_MIGRATE_LONG_STATEMENT_TIMEOUT (default 30min).
    """
    env = os.environ if env is None else env
    return timeout_setting("statement_timeout", env.get("FAULTLINE_MIGRATE_LONG_STATEMENT_TIMEOUT", "30min"))


def backfill_settings(env: dict[str, str] | None = None) -> tuple[int, float]:
    """The backfill's rows a batch (FAULTLINE_MIGRATE_BATCH_ROWS, default 5000, at most 100000) and pause
    between batches in seconds (FAULTLINE_MIGRATE_BATCH_PAUSE, default 0.05).
    """
    env = os.environ if env is None else env
    rows = env.get("FAULTLINE_MIGRATE_BATCH_ROWS", "5000")
    pause = env.get("FAULTLINE_MIGRATE_BATCH_PAUSE", "0.05")
    if not re.fullmatch(r"[1-9][0-9]{0,5}", rows) or int(rows) > 100_000:
        raise BadInput(f"FAULTLINE_MIGRATE_BATCH_ROWS '{rows}' is not 1...100000")
    if not re.fullmatch(r"[0-9]{1,3}(\.[0-9]{1,3})?", pause):
        raise BadInput(f"FAULTLINE_MIGRATE_BATCH_PAUSE '{pause}' is not seconds such as 0.05")
    return int(rows), float(pause)


def lock_tries(env: dict[str, str] | None = None) -> int:
    """How many tries a step gets against lock_timeout: FAULTLINE_MIGRATE_LOCK_RETRIES, 1...100, default 10
    (a test sets 2 or 3 so a held lock fails the step in seconds, not the full ~30 s schedule).
    """
    env = os.environ if env is None else env
    tries = env.get("FAULTLINE_MIGRATE_LOCK_RETRIES", "10")
    if not re.fullmatch(r"[1-9][0-9]?|100", tries):
        raise BadInput(f"FAULTLINE_MIGRATE_LOCK_RETRIES '{tries}' is not 1...100")
    return int(tries)


def unused_window(env: dict[str, str] | None = None) -> float:
    """unused_column_check's window in seconds: FAULTLINE_MIGRATE_UNUSED_WINDOW, 0...3600, default 10
    (0 skips the check).
    """
    env = os.environ if env is None else env
    window = env.get("FAULTLINE_MIGRATE_UNUSED_WINDOW", "10")
    if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,3})?", window) or float(window) > 3600:
        raise BadInput(f"FAULTLINE_MIGRATE_UNUSED_WINDOW '{window}' is not seconds 0...3600")
    return float(window)


def backoff_schedule(tries: int = 10, first: float = 0.1, factor: float = 2.0, cap: float = 5.0) -> list[float]:
    """The sleeps between `tries` tries of a step that hit lock_timeout: first, first*factor, ... each at most
    cap; tries-1 of them (no sleep after the last try). GitLab's with_lock_retries in spirit.
    """
    if tries < 1 or first < 0 or factor < 1 or cap < 0:
        raise ValueError("tries >= 1, first >= 0, factor >= 1, cap >= 0")
    return [min(cap, first * factor**i) for i in range(tries - 1)]


def is_lock_timeout(error: BaseException) -> bool:
    """Whether an error (SQLAlchemy's, psycopg's, or one wrapping them) is SQLSTATE 55P03."""
    seen: set[int] = set()
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        if getattr(e, "sqlstate", None) == LOCK_NOT_AVAILABLE or getattr(e, "pgcode", None) == LOCK_NOT_AVAILABLE:
            return True
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    return False


def with_lock_retries(
    attempt: Callable[[], T],
    schedule: Sequence[float] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
    progressed: Callable[[], bool] = lambda: False,
) -> T:
    """Runs `attempt` (which must open its own transaction) until it does not fail with lock_timeout.

    After a lock timeout it sleeps the schedule's next value and tries again; when `progressed()` says the
    failed try still got further than the one before (a step of a multi-step run committed), the schedule
    starts over. Errors other than lock timeouts propagate at once; a lock timeout after the last sleep
    raises LockRetriesExhausted.
    """
    schedule = backoff_schedule(lock_tries()) if schedule is None else list(schedule)
    i = 0
    while True:
        try:
            return attempt()
        except Exception as e:
            if not is_lock_timeout(e):
                raise
            if progressed():
                i = 0
            if i >= len(schedule):
                raise LockRetriesExhausted(f"lock_timeout on every one of {len(schedule) + 1} tries") from e
            log(f"faultline-migrate: lock_timeout (55P03), try {i + 2} of {len(schedule) + 1} in {schedule[i]:g} s")
            sleep(schedule[i])
            i += 1


#: What env.py exits with when it lost the database mid-run (EX_TEMPFAIL): scripts/migrate `up` resumes.
CONNECTION_LOST_EXIT = 75

#: SQLSTATEs of a server going away: admin_shutdown, crash_shutdown, cannot_connect_now, and read_only_sql_transaction
#: (the old primary, demoted, still answers). Class 08 (connection_exception) counts too.
_LOST_SQLSTATES = {"57P01": "server shut down (57P01)", "57P02": "server crashed (57P02)",
                   "57P03": "server not accepting connections (57P03)",
                   "25006": "read-only transaction: the primary was demoted (25006)"}
#: Messages of a lost connection, for errors that carry no SQLSTATE (libpq's own, a closed connection).
_LOST_MESSAGES = (
    ("server closed the connection unexpectedly", "server closed the connection"),
    ("terminating connection", "server terminated the connection"),
    ("the database system is in recovery mode", "database in recovery mode"),
    ("the database system is starting up", "database starting up"),
    ("the database system is shutting down", "database shutting down"),
    ("the database system is not yet accepting connections", "database not yet accepting connections"),
    ("in a read-only transaction", "read-only transaction: the primary was demoted"),
    ("the connection is closed", "connection closed"),
    ("connection refused", "connection refused"),
    ("no connection to the server", "no connection to the server"),
    ("consuming input failed", "connection lost while reading"),
    ("connection timeout expired", "connection timed out"),
    ("ssl syscall error", "connection lost (SSL)"),
    ("no such file or directory", "server down (no socket)"),
    ("connection is bad", "server unreachable"),
    ("could not connect", "server unreachable"),
)


def connection_lost(error: BaseException) -> str | None:
    """Why a failure means the database went away (a short reason), or None when it is a failure of the
    migration itself (lock timeout, constraint, statement timeout, ...), which must roll back.

    Walks the error's chain (SQLAlchemy's .orig, __cause__, __context__). Lost: SQLSTATE class 08, 57P01-57P03,
    25006; a psycopg OperationalError without SQLSTATE (libpq's own errors); SQLAlchemy's invalidated
    connection; or, without any SQLSTATE, a message of _LOST_MESSAGES. Any other SQLSTATE decides "not lost".
    """
    seen: set[int] = set()
    chain: list[BaseException] = []
    e: BaseException | None = error
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        chain.append(e)
        e = getattr(e, "orig", None) or e.__cause__ or e.__context__
    states = [s for s in (getattr(x, "sqlstate", None) or getattr(x, "pgcode", None) for x in chain) if s]
    for state in states:
        if state.startswith("08"):
            return f"connection failure ({state})"
        if state in _LOST_SQLSTATES:
            return _LOST_SQLSTATES[state]
    if states:
        return None
    for x in chain:
        message = str(x).lower()
        for needle, reason in _LOST_MESSAGES:
            if needle in message:
                return reason
    for x in chain:
        if getattr(x, "connection_invalidated", False):
            return "connection invalidated"
        if any(c.__name__ == "OperationalError" and c.__module__.startswith("psycopg") for c in type(x).__mro__):
            first = (str(x).strip().splitlines() or ["?"])[0]
            return "connection error: " + " ".join(first.split())[:80]
    return None


def resume_settings(env: dict[str, str] | None = None) -> tuple[int, float, float]:
    """`up`'s resumes after a lost database: how many (FAULTLINE_MIGRATE_RESUMES, 0...20, default 3; 0 rolls
    back at once as before), how long each waits for a writable database (FAULTLINE_MIGRATE_RESUME_WAIT, seconds
    1...3600, default 90) and how long the rollback waits (FAULTLINE_MIGRATE_ROLLBACK_WAIT, default the same).
    """
    env = os.environ if env is None else env
    resumes = env.get("FAULTLINE_MIGRATE_RESUMES", "3")
    if not re.fullmatch(r"[0-9]|1[0-9]|20", resumes):
        raise BadInput(f"FAULTLINE_MIGRATE_RESUMES '{resumes}' is not 0...20")
    waits = []
    for name, default in (("FAULTLINE_MIGRATE_RESUME_WAIT", "90"),
                          ("FAULTLINE_MIGRATE_ROLLBACK_WAIT", env.get("FAULTLINE_MIGRATE_RESUME_WAIT", "90"))):
        value = env.get(name, default)
        if not re.fullmatch(r"[0-9]{1,4}(\.[0-9]{1,3})?", value) or not 1 <= float(value) <= 3600:
            raise BadInput(f"{name} '{value}' is not seconds 1...3600")
        waits.append(float(value))
    return int(resumes), waits[0], waits[1]


def wait_until_writable(probe: Callable[[], str | None], wait: float, sleep: Callable[[float], None] = time.sleep,
                        clock: Callable[[], float] = time.monotonic, every: float = 1.0) -> tuple[bool, float, str]:
    """Polls `probe` (None: the database accepts writes; else why not) about every `every` seconds for at most
    `wait` seconds. Returns (ready, seconds waited, the last reason it was not).
    """
    start = clock()
    last = ""
    while True:
        tried = clock()
        why = probe()
        if why is None:
            return True, clock() - start, last
        last = why
        if clock() - start >= wait:
            return False, clock() - start, last
        sleep(max(0.0, min(every - (clock() - tried), wait - (clock() - start))))


def writable_probe(url: str) -> str | None:
    """One look at the URL's database: None when a new connection is read-write (`NOT pg_is_in_recovery()`)
    and the migration lock is free (a lost run's session is gone), else a short reason. Never the URL.
    """
    import psycopg

    env = libpq_env(url)
    args = {k.lower().replace("pg", "", 1).replace("database", "dbname"): v for k, v in env.items() if k != "PGPASSWORD"}
    try:
        with psycopg.connect("", **args, password=env.get("PGPASSWORD"), autocommit=True, connect_timeout=3,
                             options="-c statement_timeout=3000") as c:
            if not c.execute("SELECT NOT pg_is_in_recovery()").fetchone()[0]:
                return "in recovery (a standby)"
            if not c.execute("SELECT pg_try_advisory_lock(%s)", (ADVISORY_LOCK_KEY,)).fetchone()[0]:
                return "the migration lock is still held (the lost session lingers?)"
            c.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_KEY,))
            return None
    except Exception as e:
        return connection_lost(e) or " ".join((str(e).strip().splitlines() or ["?"])[0].split())[:80]


class MigrationRefused(Exception):
    """A migration that must not go on (a column still in use, a check that cannot run): env.py prints its
    one-line text and exits 1, so `scripts/migrate up` rolls back.
    """


def create_index_concurrently(name: str, definition: str) -> None:
    """Inside a revision's upgrade: `CREATE INDEX CONCURRENTLY IF NOT EXISTS name definition` in an autocommit
    block under the long statement timeout, after dropping an INVALID leftover of a failed earlier build
    (pg_index.indisvalid; offline SQL cannot ask, so it drops any index of that name). Used by 0010 and by the
    query-optimisation revisions (docs/query-optimization.md)."""
    from alembic import context, op
    from sqlalchemy import text as sql_text
    validity = sql_text("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                        "WHERE c.relname = :name AND c.relnamespace = current_schema()::regnamespace")
    with op.get_context().autocommit_block():
        if context.is_offline_mode():
            op.execute(f"-- online, only an INVALID {name} (pg_index.indisvalid) is dropped\n"
                       f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        elif op.get_bind().execute(validity, {"name": name}).scalar() is False:
            print(f"faultline-migrate: dropping the INVALID leftover {name}")
            op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        op.execute(long_statement_timeout())
        op.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} {definition}")
        op.execute(timeout_statements()[1])


def drop_index_concurrently(name: str) -> None:
    """Inside a revision's downgrade: `DROP INDEX CONCURRENTLY IF EXISTS name` in an autocommit block."""
    from alembic import op
    with op.get_context().autocommit_block():
        op.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


def statements_using(rows: Sequence[tuple[int, str]], relations: Sequence[str], column: str) -> dict[int, str]:
    """The (queryid, text) rows whose text names `column` and one of `relations` as whole words
    (case-insensitive; `orders` does not match `orders_v2`); the check's own reads of pg_stat_statements
    are left out.
    """
    col = re.compile(rf"(?<![\w$]){re.escape(column)}(?![\w$])", re.IGNORECASE)
    rel = re.compile(r"(?<![\w$])(" + "|".join(re.escape(r) for r in relations) + r")(?![\w$])", re.IGNORECASE)
    return {qid: q for qid, q in rows
            if col.search(q) and rel.search(q) and not re.search(r"pg_stat_statements", q, re.IGNORECASE)}


def grown_calls(before: dict[int, int], after: dict[int, int]) -> dict[int, int]:
    """The statements whose calls grew between two readings (a statement new in `after` grew from 0)."""
    return {qid: n - before.get(qid, 0) for qid, n in after.items() if n > before.get(qid, 0)}


_PGSS_READ = ("SELECT queryid, query, calls FROM pg_stat_statements "
              "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())")


def unused_column_check(table: str, column: str, views: Sequence[str] = (), bind=None,
                        sleep: Callable[[float], None] = time.sleep) -> None:
    """Run online before a contract revision renames or drops `table.column`: raises MigrationRefused when a
    statement that names the column and the table (or one of `views`) ran during the window.

    pg_stat_statements is read twice, FAULTLINE_MIGRATE_UNUSED_WINDOW seconds apart (default 10; 0 skips the
    check and says so): every statement whose calls grew counts. The migration's own session runs only these
    two reads in the window, and they are left out by text. The window must cover every application
    instance's queries; statements already evicted from pg_stat_statements are not seen.
    """
    from sqlalchemy import text

    window = unused_window()
    name = f"{table}.{column}"
    if window == 0:
        print(f"faultline-migrate: unused_column_check({name}) skipped (FAULTLINE_MIGRATE_UNUSED_WINDOW=0)",
              file=sys.stderr)
        return
    if bind is None:
        from alembic import op
        bind = op.get_bind()
    if not bind.execute(text("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")).scalar():
        raise MigrationRefused(
            f"unused_column_check({name}): pg_stat_statements is not installed in this database; run "
            "CREATE EXTENSION pg_stat_statements in it first (the server needs "
            "shared_preload_libraries=pg_stat_statements), or set FAULTLINE_MIGRATE_UNUSED_WINDOW=0 to skip")
    relations = [table, *views]

    def reading() -> tuple[dict[int, int], dict[int, str]]:
        rows = bind.execute(text(_PGSS_READ)).all()
        using = statements_using([(r[0], r[1]) for r in rows], relations, column)
        calls: dict[int, int] = {}
        for r in rows:  # one queryid may appear once per user and toplevel flag: sum them
            if r[0] in using:
                calls[r[0]] = calls.get(r[0], 0) + r[2]
        return calls, using

    before, _ = reading()
    print(f"faultline-migrate: unused_column_check({name}): watching pg_stat_statements for {window:g} s",
          file=sys.stderr)
    sleep(window)
    after, texts = reading()
    grown = grown_calls(before, after)
    if grown:
        qid, n = max(grown.items(), key=lambda kv: kv[1])
        query = " ".join(texts[qid].split())[:200]
        more = f" (and {len(grown) - 1} more)" if len(grown) > 1 else ""
        raise MigrationRefused(f"unused_column_check({name}): still in use: '{query}' ran {n} time(s) in the "
                               f"{window:g} s window{more}; refusing the rename")
    print(f"faultline-migrate: unused_column_check({name}): no statement used it in {window:g} s",
          file=sys.stderr)


def database_name(url: str) -> str:
    """The database a postgresql:// URL names; BadInput when the URL has none (or is not PostgreSQL's).

    Errors never contain the URL (it may hold a password).
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    if not url:
        raise BadInput("FAULTLINE_MIGRATE_URL is not set")
    try:
        u = make_url(url)
    except ArgumentError:
        raise BadInput("FAULTLINE_MIGRATE_URL is not a URL such as postgresql://user@host:5432/dbname") from None
    if u.get_backend_name() not in ("postgresql", "postgres"):
        raise BadInput("FAULTLINE_MIGRATE_URL is not a postgresql:// URL")
    if not u.database:
        raise BadInput("FAULTLINE_MIGRATE_URL names no database (postgresql://user@host:port/dbname)")
    return u.database


def sqlalchemy_url(url: str):
    """The URL with psycopg 3 as its driver (postgresql:// alone would mean psycopg2, not installed)."""
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql+psycopg")


def libpq_env(url: str, database: str | None = None) -> dict[str, str]:
    """PG* variables for pg_dump and psql from the URL (the password, if any, travels in PGPASSWORD, never
    on a command line); `database` replaces the URL's database. `?host=/socket/dir&port=N` works too.
    """
    from sqlalchemy.engine import make_url

    u = make_url(url)
    env: dict[str, str] = {}
    host = u.host or u.query.get("host")
    port = u.port or u.query.get("port")
    for key, value in (("PGHOST", host), ("PGPORT", port), ("PGUSER", u.username), ("PGPASSWORD", u.password),
                       ("PGDATABASE", database or u.database)):
        if value:
            env[key] = str(value if not isinstance(value, tuple) else value[0])
    return env


def _pg_dump_entries(dump: str) -> list[str]:
    """pg_dump's plain output split into its `-- Name: ...` entries (the first item is the preamble)."""
    return re.split(r"\n(?=--\n-- (?:Name|Data for Name): )", dump)


def normalise_dump(dump: str, database: str, versions: Sequence[str]) -> str:
    """A schema-only dump with what legitimately differs between two databases removed: pg_dump's
    header comments (versions, timestamps), blank lines, its random `\\restrict` key, the database name in
    `DATABASE name` clauses, the pg_stat_statements extension (monitoring, not schema) and Alembic's own
    alembic_version DDL, replaced by a data line with its revision(s) (`up` creates the table at base).
    """
    keep = []
    for entry in _pg_dump_entries(dump):
        head = entry.split("\n", 3)[:3]
        if any(re.search(r"-- Name: (EXTENSION )?pg_stat_statements;|-- Name: alembic_version[ ;]", h) for h in head):
            # pg_dump's session SETs before the first table may follow the dropped entry: they stay.
            keep.extend(line for line in entry.splitlines() if line.startswith("SET "))
            continue
        keep.append(entry)
    out = []
    for line in "\n".join(keep).splitlines():
        if (not line.strip() or re.match(r"^-- (Dumped (from|by)|Started on|Completed on)", line)
                or re.match(r"^\\(un)?restrict ", line)):
            continue
        out.append(re.sub(rf"\bDATABASE {re.escape(database)}\b", "DATABASE <database>", line))
    text_ = "\n".join(out) + "\n"
    return text_ + "\n-- alembic_version (data): " + (" ".join(sorted(versions)) or "none") + "\n"


def _versions(env: dict[str, str]) -> list[str]:
    import psycopg

    with psycopg.connect("", **{k.lower().replace("pg", "", 1).replace("database", "dbname"): v
                                for k, v in env.items() if k != "PGPASSWORD"},
                        password=env.get("PGPASSWORD"), autocommit=True) as c:
        if c.execute("SELECT to_regclass('alembic_version')").fetchone()[0] is None:
            return []
        return [r[0] for r in c.execute("SELECT version_num FROM alembic_version")]


def schema_dump(url: str, database: str | None = None) -> str:
    """The normalised `pg_dump --schema-only --no-owner --no-privileges` of the URL's database (or
    `database` on the same server), with alembic_version's rows. RuntimeError with pg_dump's last line when
    it fails.
    """
    import subprocess

    env = libpq_env(url, database)
    name = env["PGDATABASE"]
    r = subprocess.run(["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--lock-wait-timeout=10s"],
                       env={**os.environ, **env}, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError("pg_dump failed: " + (r.stderr.strip().splitlines() or ["?"])[-1])
    return normalise_dump(r.stdout, name, _versions(env))


def verify_database(database: str) -> str:
    """The scratch database verify-schema creates next to `database` (at most 63 bytes)."""
    return (database[: 63 - len("_faultline_verify")] + "_faultline_verify")


def verify_schema(url: str, config_path: str, section: str, alembic: str) -> tuple[bool, str, str]:
    """Compares the URL's database with a scratch database on the same server, migrated from scratch with
    `alembic` to the same revision of the history [section]. Returns (matches, revision, unified diff).
    BadInput when the role cannot create databases or the revision is not in the history.
    """
    import difflib
    import subprocess

    import psycopg
    from psycopg import sql

    env = libpq_env(url)
    database = env["PGDATABASE"]
    versions = _versions(env)
    if len(versions) > 1:
        raise BadInput(f"the database has {len(versions)} alembic revisions ({' '.join(versions)}); not a linear history")
    revision = versions[0] if versions else "base"
    revs = linear_revisions(config_path, section)
    if revision != "base" and revision not in revs:
        raise BadInput(f"the database is at revision '{revision}', which history [{section}] does not have")
    scratch = verify_database(database)
    conn_args = {k.lower().replace("pg", "", 1).replace("database", "dbname"): v
                 for k, v in env.items() if k != "PGPASSWORD"}
    with psycopg.connect("", **conn_args, password=env.get("PGPASSWORD"), autocommit=True) as c:
        can = c.execute("SELECT rolcreatedb OR rolsuper FROM pg_roles WHERE rolname = current_user").fetchone()[0]
        if not can:
            raise BadInput("verify-schema needs a role that may create databases (CREATEDB); nothing was checked")
        c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(scratch)))
        c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        try:
            from sqlalchemy.engine import make_url
            scratch_url = make_url(url).set(database=scratch).render_as_string(hide_password=False)
            r = subprocess.run([alembic, "-c", config_path, "-n", section, "upgrade", revision],
                               env={**os.environ, "FAULTLINE_MIGRATE_URL": scratch_url,
                                    "FAULTLINE_MIGRATE_UNUSED_WINDOW": "0"},
                               capture_output=True, text=True)
            if r.returncode != 0:
                last = [l for l in (r.stderr + r.stdout).splitlines() if l.strip() and not l.startswith("INFO")]
                raise RuntimeError(f"migrating the scratch database to {revision} failed: "
                                   + (last[-1] if last else f"exit {r.returncode}"))
            ours = schema_dump(url)
            theirs = schema_dump(url, scratch)
        finally:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
    diff = "".join(difflib.unified_diff(theirs.splitlines(True), ours.splitlines(True),
                                        f"{scratch} (migrated from scratch to {revision})", database))
    return not diff, revision, diff


def diff_summary(diff: str) -> str:
    """One line for a unified diff: how many lines differ and the first changed one."""
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    first = next((l for l in changed if l[1:].strip() and not l[1:].startswith("--")), changed[0] if changed else "")
    return f"{len(changed)} line(s) differ, first: {first[:160].strip()}"


def plan(revisions: Sequence[str], current: str | None, command: str, to: str | None) -> tuple[str, list[str]]:
    """What `command` (up or down) to `to` does from `current` on a linear history.

    `revisions` runs from the base revision to the head; `current` is None at the base (an empty database).
    `to` is a revision id or a unique prefix of one, head, base, or (down) -N steps; default head for up and
    -1 for down. Returns the target (a revision id, or "base") and the revisions it applies (up) or reverts
    (down), in order. BadInput for an unknown or ambiguous revision, one on the wrong side of `current`, and
    a downgrade past the base.
    """
    revs = list(revisions)
    def position(rev: str | None) -> int:  # -1 is the base: nothing applied
        if rev is None or rev == "base":
            return -1
        if rev == "head":
            return len(revs) - 1
        hits = [i for i, r in enumerate(revs) if r.startswith(rev)]
        exact = [i for i, r in enumerate(revs) if r == rev]
        if exact:
            return exact[0]
        if len(hits) != 1:
            raise BadInput(f"unknown revision '{rev}'" if not hits else f"ambiguous revision '{rev}'")
        return hits[0]
    if current is not None and current not in revs:
        raise BadInput(f"the database is at revision '{current}', which this history does not have")
    here = position(current)
    if command == "up":
        there = position(to or "head")
        if there < here:
            raise BadInput(f"'{to}' is below the current revision {current}; use down")
        return ("base" if there < 0 else revs[there]), revs[here + 1:there + 1]
    if command == "down":
        to = to or "-1"
        if re.fullmatch(r"-[0-9]+", to):
            steps = int(to[1:])
            if steps == 0 or steps > here + 1:
                raise BadInput(f"down {to} goes past the base (the database is {here + 1} revision(s) above it)"
                               if steps else "down -0 does nothing")
            there = here - steps
        else:
            there = position(to)
            if there > here:
                raise BadInput(f"'{to}' is above the current revision {current or 'base'}; use up")
        return ("base" if there < 0 else revs[there]), list(reversed(revs[there + 1:here + 1]))
    raise BadInput(f"unknown command '{command}'")


def linear_revisions(config_path: str, section: str) -> list[str]:
    """The history's revisions from base to head; BadInput unless it is one line (one base, one head)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(Config(config_path, ini_section=section))
    heads = script.get_heads()
    if len(heads) != 1 or len(script.get_bases()) != 1:
        raise BadInput(f"history [{section}] is not linear: heads {heads}")
    return [r.revision for r in reversed(list(script.walk_revisions("base", heads[0])))]


def _main(argv: list[str]) -> int:
    """CLI for scripts/migrate: `url` prints the database name; `plan CONFIG SECTION COMMAND CURRENT TO`
    prints the target on its first line and the revisions it runs on the second; `revisions CONFIG SECTION`.
    """
    try:
        if argv[:1] == ["url"]:
            print(database_name(os.environ.get("FAULTLINE_MIGRATE_URL", "")))
        elif argv[:1] == ["revisions"] and len(argv) == 3:
            print(" ".join(linear_revisions(argv[1], argv[2])))
        elif argv[:1] == ["plan"] and len(argv) == 6:
            revs = linear_revisions(argv[1], argv[2])
            target, steps = plan(revs, argv[4] or None, argv[3], argv[5] or None)
            print(target)
            print(" ".join(steps))
        elif argv[:1] == ["dump"] and len(argv) == 2:
            with open(argv[1], "w") as f:
                f.write(schema_dump(os.environ.get("FAULTLINE_MIGRATE_URL", "")))
        elif argv[:1] == ["verify"] and len(argv) == 4:
            database_name(os.environ.get("FAULTLINE_MIGRATE_URL", ""))
            same, revision, diff = verify_schema(os.environ["FAULTLINE_MIGRATE_URL"], argv[1], argv[2], argv[3])
            if same:
                print(f"migrate: schema matches revision {revision}")
                return 0
            print(f"migrate: schema differs from revision {revision}: {diff_summary(diff)}")
            sys.stderr.write(diff)
            return 1
        elif argv[:1] == ["settings"]:
            rows, pause = backfill_settings()
            lock_tries()
            unused_window()
            resumes, wait, rollback_wait = resume_settings()
            print("\n".join(timeout_statements() + [long_statement_timeout()]))
            print(f"backfill: {rows} rows a batch, {pause:g} s pause")
            print(f"resumes: {resumes}, waiting {wait:g} s each; rollback waits {rollback_wait:g} s")
        elif argv[:1] == ["wait-writable"] and len(argv) == 2:
            _, wait, rollback_wait = resume_settings()
            limit = rollback_wait if argv[1] == "rollback" else wait
            url = os.environ.get("FAULTLINE_MIGRATE_URL", "")
            database_name(url)
            ready, waited, last = wait_until_writable(lambda: writable_probe(url), limit)
            print(f"{waited:.1f}")
            if not ready:
                print(f"the database did not accept writes within {limit:g} s (last: {last})", file=sys.stderr)
                return 1
        else:
            print("usage: faultline_migrate.py url | revisions CONFIG SECTION | plan CONFIG SECTION up|down CURRENT TO"
                  " | settings | dump FILE | verify CONFIG SECTION ALEMBIC | wait-writable resume|rollback", file=sys.stderr)
            return 2
    except BadInput as e:
        print(e, file=sys.stderr)
        return 2
    except Exception as e:  # a database or pg_dump error: one line, no traceback
        print(" ".join(f"{type(e).__name__}: {e}".split())[:300], file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
