"""Flask CLI glue: `init-db` and `seed` for whichever unit registers them."""

from collections.abc import Callable

import click
import psycopg
from flask import Flask

from scheduler_common.db import transaction
from scheduler_common.seed import DEV_PASSWORD, MAX_SCALE, SeedError, seed_database

LOCAL_HOSTS = {"localhost", "::1"}


def is_local_host(host: str) -> bool:
    """Whether a connection's host is this machine: a socket directory or a loopback address."""
    return host.startswith("/") or host in LOCAL_HOSTS or host.startswith("127.")


def register_commands(app: Flask, create_schema: Callable[[psycopg.Connection], None]) -> None:
    """Add `flask init-db` (which runs the unit's `create_schema`) and `flask seed`."""
    register_seed_command(app)

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


def register_seed_command(app: Flask) -> None:
    """Add `flask seed` (a unit with migrations brings its own `init-db`)."""

    @app.cli.command("seed")
    @click.option(
        "--scale",
        default=1,
        show_default=True,
        type=click.IntRange(1, MAX_SCALE),
        help="Multiply every count (e.g. 20 for benchmarks).",
    )
    @click.option(
        "--dev-accounts",
        is_flag=True,
        help=f"Also an account for everyone, password {DEV_PASSWORD!r}: local databases only.",
    )
    @click.option(
        "--if-empty",
        is_flag=True,
        help="Leave a database that already holds data as it is, and succeed (for scripts that "
        "run on every start, such as a container's migrate step).",
    )
    def seed_command(scale: int, dev_accounts: bool, if_empty: bool) -> None:
        """Load realistic sample data into the empty schema."""
        try:
            with transaction() as conn:
                # The development password is published: never on a database others can reach.
                if dev_accounts and not is_local_host(conn.info.host):
                    raise click.ClickException(
                        f"--dev-accounts is only for a database on this machine, "
                        f"not on {conn.info.host!r}."
                    )
                # A batch job, not a request: a large --scale may take longer than the
                # statement timeout that bounds requests.
                conn.execute("SET LOCAL statement_timeout = 0")
                counts = seed_database(conn, scale=scale, dev_accounts=dev_accounts)
        except SeedError as error:
            if if_empty:  # seed_database found data before it wrote any: nothing to undo
                click.echo("Not seeded: the database already holds data.")
                return
            raise click.ClickException(str(error)) from None
        except psycopg.errors.UndefinedTable:
            raise click.ClickException(
                "The database has no schema yet: run `flask init-db` first."
            ) from None
        click.echo(f"Seeded: {counts}")
