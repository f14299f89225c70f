"""The schema as plain SQL files, one per unit that introduces a part, applied in order."""

from importlib.resources import files

import psycopg

SQL_PACKAGE = "scheduler_common.sql"


def schema_sql(parts: tuple[str, ...]) -> str:
    """Return the SQL text of the named schema parts, in the order given."""
    return "\n".join(files(SQL_PACKAGE).joinpath(f"{part}.sql").read_text() for part in parts)


def apply_schema(conn: psycopg.Connection, parts: tuple[str, ...]) -> None:
    """Create the schema parts in an empty database, in the caller's transaction."""
    conn.execute(schema_sql(parts))
