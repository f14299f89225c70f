"""Flask CLI glue: `init-db` and `seed` for whichever unit registers them."""

from collections.abc import Callable

import click
import psycopg
from flask import Flask

from scheduler_common.db import transaction
from scheduler_common.seed import MAX_SCALE, SeedError, seed_database


def register_commands(app: Flask, create_schema: Callable[[psycopg.Connection], None]) -> None:
    """Add `flask init-db` (which runs the unit's `create_schema`) and `flask seed`."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Create the schema in the empty database at DATABASE_URL."""
        try:
            with transaction() as conn:
                create_schema(conn)
        except (psycopg.errors.DuplicateObject, psycopg.errors.DuplicateTable):
            raise click.ClickException(
                "The schema already exists: point DATABASE_URL at an empty database."
            ) from None
        click.echo("Created the schema.")

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
                counts = seed_database(conn, scale=scale)
        except SeedError as error:
            raise click.ClickException(str(error)) from None
        except psycopg.errors.UndefinedTable:
            raise click.ClickException(
                "The database has no schema yet: run `flask init-db` first."
            ) from None
        click.echo(f"Seeded: {counts}")
