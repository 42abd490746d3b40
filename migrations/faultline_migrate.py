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
    schedule = backoff_schedule() if schedule is None else list(schedule)
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


def unused_column_check(table: str, column: str) -> None:
    """Hook run (online only) before a contract revision drops or renames away an old column name: it must
    raise when anything still reads `table.column`.

    TODO(harness): implement with pg_stat_statements (no statement since the last reset mentions the column,
    after a window long enough for every application instance to have run its queries). Until then it
    checks nothing and says so.
    """
    print(f"faultline-migrate: unused_column_check({table}.{column}) is not implemented yet; nothing was checked",
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
        elif argv[:1] == ["settings"]:
            rows, pause = backfill_settings()
            print("\n".join(timeout_statements() + [long_statement_timeout()]))
            print(f"backfill: {rows} rows a batch, {pause:g} s pause")
        else:
            print("usage: faultline_migrate.py url | revisions CONFIG SECTION | plan CONFIG SECTION up|down CURRENT TO"
                  " | settings", file=sys.stderr)
            return 2
    except BadInput as e:
        print(e, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
