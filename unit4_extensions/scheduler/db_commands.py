"""Lesson 4.5: `flask init-db` and `flask db upgrade|downgrade|status`, the migrations on
DATABASE_URL (see migrator.py)."""

from collections.abc import Iterator
from contextlib import contextmanager

import click
import psycopg
from flask import Flask, current_app
from yoyo.exceptions import LockTimeout

from scheduler import migrator


@contextmanager
def explained_failures() -> Iterator[None]:
    """Turn what can go wrong with a migration into one clear line instead of a traceback."""
    try:
        yield
    except migrator.MigrationError as error:
        raise click.ClickException(str(error)) from None
    except LockTimeout as error:
        raise click.ClickException(f"Another migration is running: {error}") from None
    except psycopg.Error as error:
        # The migration's transaction rolled back: the database is as it was.
        raise click.ClickException(f"The migration failed and changed nothing: {error}") from None


def database_url() -> str:
    """The app's DATABASE_URL (the settings checked it at start-up)."""
    return current_app.config["DATABASE_URL"]


def report_upgrade() -> None:
    """Upgrade DATABASE_URL and say what changed."""
    with explained_failures():
        adopted, applied = migrator.upgrade(database_url())
    for migration_id in adopted:
        click.echo(f"Adopted {migration_id}: its tables were already there.")
    for migration_id in applied:
        click.echo(f"Applied {migration_id}.")
    if not applied:
        click.echo("The schema is up to date.")


def register_db_commands(app: Flask) -> None:
    """Add `flask init-db` and the `flask db` group."""

    @app.cli.command("init-db")
    def init_db_command() -> None:
        """Bring the database at DATABASE_URL to the newest schema: empty, older or partly
        migrated; running it again changes nothing."""
        report_upgrade()

    @app.cli.group("db")
    def db_group() -> None:
        """The schema's migrations on DATABASE_URL."""

    @db_group.command("upgrade")
    def upgrade_command() -> None:
        """Apply every migration the database does not have yet (as init-db does)."""
        report_upgrade()

    @db_group.command("downgrade")
    @click.option("--steps", default=1, show_default=True, type=click.IntRange(1))
    def downgrade_command(steps: int) -> None:
        """Roll back the newest applied migrations, one unless --steps says more."""
        with explained_failures():
            rolled_back = migrator.downgrade(database_url(), steps)
        for migration_id in rolled_back:
            click.echo(f"Rolled back {migration_id}.")
        if not rolled_back:
            click.echo("No migration is applied: nothing to roll back.")

    @db_group.command("status")
    def status_command() -> None:
        """List every migration and whether the database has it."""
        with explained_failures():
            states = migrator.status(database_url())
        for state in states:
            click.echo(f"{'applied' if state.applied else 'pending':8} {state.id}")
