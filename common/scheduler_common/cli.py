"""Flask CLI glue: `init-db` and `seed` for whichever unit registers them."""

import click
import psycopg
from flask import Flask

from scheduler_common.db import transaction
from scheduler_common.schema import apply_schema
from scheduler_common.seed import MAX_SCALE, SeedError, seed_database


def register_commands(app: Flask, schema_parts: tuple[str, ...]) -> None:
    """Add `flask init-db` and `flask seed` to the app's command line."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the schema in the empty database at DATABASE_URL."""
        try:
            with transaction() as conn:
                apply_schema(conn, schema_parts)
        except (psycopg.errors.DuplicateObject, psycopg.errors.DuplicateTable):
            raise click.ClickException(
                "The schema already exists: point DATABASE_URL at an empty database."
            ) from None
        click.echo(f"Created the schema ({', '.join(schema_parts)}).")

    @app.cli.command("seed")
    @click.option(
        "--scale",
        default=1,
        show_default=True,
        type=click.IntRange(1, MAX_SCALE),
        help="Multiply every count (e.g. 20 for benchmarks).",
    )
    def seed_command(scale: int) -> None:
        """Load realistic sample data into the empty schema."""
        try:
            with transaction() as conn:
                # A batch job, not a request: a large --scale may take longer than the
                # statement timeout that bounds requests.
                conn.execute("SET LOCAL statement_timeout = 0")
                counts = seed_database(conn, scale=scale)
        except SeedError as error:
            raise click.ClickException(str(error)) from None
        except psycopg.errors.UndefinedTable:
            raise click.ClickException(
                "The database has no schema yet: run `flask init-db` first."
            ) from None
        click.echo(f"Seeded: {counts}")
