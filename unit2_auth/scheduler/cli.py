"""`flask create-admin`: the one way to make an admin (nobody can register as one)."""

import sys

import click
from flask import Flask, current_app
from voluptuous import Invalid

from scheduler.errors import Conflict
from scheduler.services.auth import create_admin
from scheduler.validation import email, password
from scheduler_common.db import transaction


def read_password() -> str:
    """Prompt twice on a terminal; read one line when the password is piped in."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def register_auth_commands(app: Flask) -> None:
    """Add `flask create-admin EMAIL` to the app's command line."""

    @app.cli.command("create-admin")
    @click.argument("address")
    def create_admin_command(address: str) -> None:
        """Create a verified admin account for ADDRESS."""
        try:
            address = email(address)
        except Invalid as error:
            raise click.ClickException(f"email: {error}") from None
        try:
            secret = password(read_password())
        except Invalid as error:
            raise click.ClickException(f"password: {error}") from None
        try:
            with transaction() as conn:
                user = create_admin(conn, address, secret, current_app.config["BCRYPT_ROUNDS"])
        except Conflict as error:
            raise click.ClickException(error.detail) from None
        click.echo(f"Created admin {user['email']} (id {user['id']}).")
