"""Alembic environment for the demo orders application (see docs/migrations.md).

Every migration runs in its own transaction (transaction_per_migration) that starts with
`SET lock_timeout = '1s'` and `SET statement_timeout = '30s'` (FAULTLINE_MIGRATE_LOCK_TIMEOUT,
FAULTLINE_MIGRATE_STATEMENT_TIMEOUT), online and offline alike: the SETs are the first statements of every
revision's upgrade and downgrade, so they also appear in `--sql` output.

Online only: the database is FAULTLINE_MIGRATE_URL; one run at a time (a session advisory lock, exit 2 with
"another migration holds the lock" when another run holds it); a step that fails with lock_timeout (55P03) is
tried again in a fresh transaction after a backoff (faultline_migrate.with_lock_retries: 10 tries, 0.1 s
doubling to 5 s), from the revision the database reached, so committed steps are not run again. A lost
database (faultline_migrate.connection_lost: a failover, a crash, a demoted primary) exits 75 instead of 1:
`scripts/migrate up` waits for a writable database and runs the upgrade again rather than rolling back.
"""
from __future__ import annotations

import functools
import os
import sys

from alembic import context, op
from sqlalchemy import create_engine, pool, text
from sqlalchemy.exc import DBAPIError

import faultline_migrate as fm

config = context.config


def fail(message: str) -> None:
    """Bad input or a held lock: one line, exit 2 (scripts/migrate passes it on; nothing ran)."""
    print(f"faultline-migrate: {message}", file=sys.stderr)
    sys.exit(2)


try:
    TIMEOUTS = fm.timeout_statements()
    fm.lock_tries()
    fm.unused_window()
    fm.resume_settings()
except fm.BadInput as e:
    fail(str(e))


#: The revision whose upgrade or downgrade runs now (None before the first): where a lost database left the run.
RUNNING: dict[str, str | None] = {"revision": None, "from": None}


def _with_timeouts(fn, revision: str, before: str | None):
    """A revision's upgrade or downgrade preceded by the timeout SETs, inside that revision's transaction. Online it
    first says on stderr which one starts ("faultline-migrate: upgrade 0010"): the harness waits for that line to time
    a fault into a step (a background migration's start)."""
    if getattr(fn, "_faultline_timeouts", False):
        return fn
    direction = "downgrade" if before == revision else "upgrade"

    @functools.wraps(fn)
    def run(*args, **kwargs):
        RUNNING["revision"], RUNNING["from"] = revision, before
        if not context.is_offline_mode():
            print(f"faultline-migrate: {direction} {revision}", file=sys.stderr, flush=True)
        for statement in TIMEOUTS:
            op.execute(statement)
        return fn(*args, **kwargs)

    run._faultline_timeouts = True
    return run


for revision in context.script.walk_revisions():
    _down = revision.down_revision if isinstance(revision.down_revision, str) or revision.down_revision is None \
        else ",".join(revision.down_revision)
    revision.module.upgrade = _with_timeouts(revision.module.upgrade, revision.revision, _down or "base")
    revision.module.downgrade = _with_timeouts(revision.module.downgrade, revision.revision, revision.revision)


def lost(error: BaseException, reason: str) -> None:
    """The database went away mid-run (a failover, a crash): exit 75 so `scripts/migrate up` waits and resumes
    instead of rolling back. The reason, the revision running and the one the database should be at go to
    the file FAULTLINE_MIGRATE_LOST_FILE (tab-separated; scripts/migrate sets it), else one line on stderr.
    """
    where = RUNNING["revision"] or "-"
    at = RUNNING["from"] or "-"
    path = os.environ.get("FAULTLINE_MIGRATE_LOST_FILE", "")
    if path:
        with open(path, "w") as f:
            f.write(f"{reason}\t{where}\t{at}\n")
    else:
        print(f"faultline-migrate: lost the database ({reason}) in revision {where}; the database should be at {at}",
              file=sys.stderr)
    sys.exit(fm.CONNECTION_LOST_EXIT)


def run_migrations_offline() -> None:
    """Renders SQL (`alembic upgrade FROM:TO --sql`) without a database; needs no URL."""
    context.configure(
        dialect_name="postgresql",
        literal_binds=True,
        transaction_per_migration=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Runs against FAULTLINE_MIGRATE_URL, under the advisory lock, retrying lock timeouts."""
    url = os.environ.get("FAULTLINE_MIGRATE_URL", "")
    try:
        fm.database_name(url)
    except fm.BadInput as e:
        fail(str(e))
    engine = create_engine(fm.sqlalchemy_url(url), poolclass=pool.NullPool)
    gone: list[str] = []
    try:
        _online(engine, gone)
    except Exception as e:  # whatever _online did not settle: a lost database exits 75, anything else as before
        reason = gone[0] if gone else fm.connection_lost(e)
        if reason:
            lost(e, reason)
        raise


def _online(engine, gone: list[str]) -> None:
    """The online run on one connection; `gone` gets the reason when the database went away."""
    with engine.connect() as connection:
        got = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": fm.ADVISORY_LOCK_KEY}).scalar()
        connection.commit()
        if not got:
            fail(fm.LOCK_HELD_MESSAGE)
        applied: list[str] = []
        seen = [0]

        def attempt() -> None:
            context.configure(
                connection=connection,
                transaction_per_migration=True,
                on_version_apply=lambda **kw: applied.append(str(kw.get("step"))),
            )
            try:
                with context.begin_transaction():
                    context.run_migrations()
            except Exception:
                try:
                    if connection.in_transaction():
                        connection.rollback()
                except Exception:
                    pass  # a dead connection: the error that killed it is the one that counts
                raise

        def progressed() -> bool:
            moved = len(applied) > seen[0]
            seen[0] = len(applied)
            return moved

        try:
            fm.with_lock_retries(attempt, progressed=progressed)
        except (fm.MigrationRefused, fm.LockRetriesExhausted) as e:
            # A refusal or a lock that never came: one line (no traceback), exit 1 (`up` rolls back).
            print(f"faultline-migrate: {e}", file=sys.stderr)
            sys.exit(1)
        except DBAPIError as e:
            reason = fm.connection_lost(e)
            if reason:
                gone.append(reason)
                raise
            # The database refused a statement (a violated constraint, a timeout): its one line, exit 1.
            orig = getattr(e, "orig", None) or e
            first = (str(orig).strip().splitlines() or [""])[0]
            print(f"faultline-migrate: the migration failed: {type(orig).__name__} "
                  f"(SQLSTATE {getattr(orig, 'sqlstate', None) or '?'}): {first}", file=sys.stderr)
            sys.exit(1)
        except Exception as e:
            reason = fm.connection_lost(e)
            if reason:
                gone.append(reason)
            raise
        finally:
            if not gone:
                if connection.in_transaction():
                    connection.rollback()
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": fm.ADVISORY_LOCK_KEY})
                connection.commit()

if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
