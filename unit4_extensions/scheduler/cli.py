"""`flask create-admin` and `flask create-instructor-account`: staff accounts are made here,
since registration only ever makes students. `flask outbox`: read the mail, and whether the
worker has sent it."""

import re
import sys

import click
import psycopg
from flask import Flask, current_app
from voluptuous import Invalid

from scheduler.extensions import database
from scheduler.repositories import outbox
from scheduler.services.accounts import create_admin, create_instructor_account
from scheduler.services.errors import DomainError
from scheduler.validation import email, password


def read_password() -> str:
    """Prompt twice on a terminal; read one line when the password is piped in."""
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


def read_valid_password() -> str:
    """Read a new password and check its rules, or stop with a clear message."""
    try:
        return password(read_password())
    except Invalid as error:
        raise click.ClickException(f"password: {error}") from None


def create_account(create) -> dict:
    """Run one account-creating service call on the app's database; refusals become clear
    errors."""
    try:
        return create(database())
    except DomainError as error:
        raise click.ClickException(error.detail) from None
    except psycopg.errors.UniqueViolation:  # lost a race with another command or request
        raise click.ClickException("An account with this email already exists.") from None


# The line of a verification mail that carries the token (see services.accounts.send_verification).
VERIFICATION_TOKEN = re.compile(r"POST /api/v1/auth/verify:\s+(\S+)")


def verification_token(body: str) -> str | None:
    """The verification token a mail carries, if it is a verification mail."""
    match = VERIFICATION_TOKEN.search(body)
    return match[1] if match else None


def delivery_status(mail: dict) -> str:
    """Whether the worker has sent the mail, and if not, what its attempts met."""
    if mail["sent_at"]:
        return f"sent {mail['sent_at'].isoformat()}"
    if mail["attempts"]:
        return f"not sent yet after {mail['attempts']} attempt(s): {mail['last_error']}"
    return "not sent yet"


def show_mail(mail: dict) -> None:
    """Print one mail, headers first, as a mail reader would."""
    click.echo(f"To: {mail['to_address']}")
    click.echo(f"Subject: {mail['subject']}")
    click.echo(f"Created: {mail['created_at'].isoformat()}")
    click.echo(f"Status: {delivery_status(mail)}")
    click.echo("")
    click.echo(mail["body"])
    click.echo("-" * 72)


def register_auth_commands(app: Flask) -> None:
    """Add `flask create-admin EMAIL`, `flask create-instructor-account ID` and `flask outbox`."""

    @app.cli.command("create-admin")
    @click.argument("address")
    def create_admin_command(address: str) -> None:
        """Create a verified admin account for ADDRESS."""
        try:
            address = email(address)
        except Invalid as error:
            raise click.ClickException(f"email: {error}") from None
        secret = read_valid_password()
        rounds = current_app.config["BCRYPT_ROUNDS"]
        user = create_account(lambda db: create_admin(db, address, secret, rounds))
        click.echo(f"Created admin {user['email']} (id {user['id']}).")

    @app.cli.command("create-instructor-account")
    @click.argument("instructor_id", type=click.IntRange(1))
    def create_instructor_account_command(instructor_id: int) -> None:
        """Give instructor INSTRUCTOR_ID a verified account (their email is the login)."""
        secret = read_valid_password()
        rounds = current_app.config["BCRYPT_ROUNDS"]
        user = create_account(
            lambda db: create_instructor_account(db, instructor_id, secret, rounds)
        )
        click.echo(f"Created instructor account {user['email']} (id {user['id']}).")

    @app.cli.command("outbox")
    @click.option("--to", "address", help="Only mail to this address (in any letter case).")
    @click.option("--limit", default=10, show_default=True, type=click.IntRange(1))
    @click.option(
        "--token",
        "token_only",
        is_flag=True,
        help="Print only the verification token of the newest matching mail (for scripts).",
    )
    def outbox_command(address: str | None, limit: int, token_only: bool) -> None:
        """List the mails, newest first, each with whether the worker has sent it."""
        with database().transaction() as conn:
            mails = outbox.newest(conn, address, limit)
        if token_only:
            tokens = [token for mail in mails if (token := verification_token(mail["body"]))]
            if not tokens:
                raise click.ClickException("No verification mail in the outbox matches.")
            click.echo(tokens[0])
            return
        if not mails:
            click.echo("No mail in the outbox matches.")
        for mail in mails:
            show_mail(mail)
