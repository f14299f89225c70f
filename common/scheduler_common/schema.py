"""Run a folder of plain SQL files in order: how a unit's `create_schema` builds its schema."""

from importlib.resources.abc import Traversable

import psycopg


def run_sql_files(conn: psycopg.Connection, folder: Traversable) -> None:
    """Run every .sql file in `folder` in file-name order, in the caller's transaction."""
    for name in sorted(path.name for path in folder.iterdir() if path.name.endswith(".sql")):
        conn.execute((folder / name).read_text())
