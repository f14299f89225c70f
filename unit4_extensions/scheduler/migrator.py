"""Lesson 4.5: the schema as an ordered list of migrations in `scheduler/migrations/`, applied
and rolled back by yoyo, which records each one it applies in its table `_yoyo_migration`.

A database that Units 1-3 built with their schema files has the first migrations' tables but
no record of them: `upgrade` adopts it (marks those migrations as applied) before it applies
the rest, so `flask init-db` brings any database, empty, older or partly migrated, up to date.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import get_backend, read_migrations
from yoyo.backends import DatabaseBackend

# Package data, so an installed wheel finds its migrations wherever it is installed.
MIGRATIONS = "package:scheduler:migrations"

# --8<-- [start:baseline]
# The migrations that were schema files before Unit 4, and the tables each one creates.
BASELINE = {
    "0001_unit1_catalog": (
        "courses",
        "instructors",
        "rooms",
        "students",
        "sections",
        "enrollments",
    ),
    "0002_unit2_auth": (
        "users",
        "email_verifications",
        "outbox",
        "failed_logins",
        "refresh_tokens",
    ),
}
# --8<-- [end:baseline]


class MigrationError(Exception):
    """The database is in a state the migrations cannot take it from on their own."""


@dataclass(frozen=True)
class MigrationState:
    """One migration, and whether the database has it."""

    id: str
    applied: bool


def yoyo_uri(conninfo: str) -> str:
    """yoyo's URI for a libpq connection string or URL: every parameter goes to psycopg as
    is (yoyo's own URI parser cannot spell a socket directory or an odd database name)."""
    return "postgresql+psycopg://?" + urlencode(conninfo_to_dict(conninfo))


def conninfo_of(conn: psycopg.Connection) -> str:
    """The connection string of an open connection, password included (its dsn has none)."""
    params = conninfo_to_dict(conn.info.dsn)
    if conn.info.password:
        params["password"] = conn.info.password
    return psycopg.conninfo.make_conninfo(**params)


@contextmanager
def migrating(conninfo: str) -> Iterator[DatabaseBackend]:
    """yoyo on the database, holding yoyo's lock: two `init-db`s at once take turns."""
    backend = get_backend(yoyo_uri(conninfo))
    try:
        with backend.lock():
            yield backend
    finally:
        backend.connection.close()


# --8<-- [start:adopt]
def adopt(backend: DatabaseBackend, migrations) -> list[str]:
    """Mark the baseline migrations whose tables a pre-Unit 4 database already has as applied;
    return their ids. A baseline only partly there is drift that no tool should guess about."""
    tables = set(backend.list_tables())
    adopted = []  # marked all at once at the end, so a refusal marks none
    for migration in migrations:
        expected = BASELINE.get(migration.id)
        if expected is None or backend.is_applied(migration):
            continue
        present = tables.intersection(expected)
        if not present:
            break  # from here on the database is as old as it gets: apply the rest
        if len(present) < len(expected):
            missing = ", ".join(sorted(set(expected) - present))
            raise MigrationError(
                f"The database has some of the tables of {migration.id} but not {missing}: "
                "it was changed by hand. Repair it, or start from an empty database."
            )
        adopted.append(migration)
    backend.mark_migrations(adopted)
    return [migration.id for migration in adopted]
    # --8<-- [end:adopt]


# --8<-- [start:upgrade]
def upgrade(conninfo: str) -> tuple[list[str], list[str]]:
    """Bring the database to the newest schema; return the ids adopted and the ids applied."""
    migrations = read_migrations(MIGRATIONS)
    with migrating(conninfo) as backend:
        adopted = adopt(backend, migrations)
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return adopted, [migration.id for migration in pending]
    # --8<-- [end:upgrade]


def downgrade(conninfo: str, steps: int = 1) -> list[str]:
    """Roll back the newest `steps` applied migrations, newest first; return their ids."""
    migrations = read_migrations(MIGRATIONS)
    with migrating(conninfo) as backend:
        newest = backend.to_rollback(migrations)[:steps]
        backend.rollback_migrations(newest)
    return [migration.id for migration in newest]


def status(conninfo: str) -> list[MigrationState]:
    """Every migration in order, and whether the database has it."""
    migrations = read_migrations(MIGRATIONS)
    with migrating(conninfo) as backend:
        applied = set(backend.get_applied_migration_hashes())
    return [MigrationState(migration.id, migration.hash in applied) for migration in migrations]
