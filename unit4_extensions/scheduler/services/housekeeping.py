"""Housekeeping: the rows that only grow (lesson 4.9). Verification tokens, refresh tokens and
failed logins are written by every registration, refresh and mistyped password; each is
deleted once nothing can ask for it again, a bounded batch per transaction."""

from collections.abc import Callable
from datetime import datetime, timedelta

from psycopg import Connection

from scheduler.repositories import failed_logins, refresh_tokens, verifications
from scheduler.services.accounts import MAIL_LIMIT_WINDOW
from scheduler.unit_of_work import Database

# Rows per transaction: each batch's row locks are let go at its commit, so a purge of a
# large backlog never holds up a login or a refresh for long.
BATCH_SIZE = 1000


# --8<-- [start:purge]
def purge_expired(
    database: Database, now: datetime, login_window: timedelta, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Delete what can no longer matter `now`; return how many rows went, per table.

    A verification token goes once it is used or expired and no longer counts towards the
    resend limit; a refresh token once its family has no usable token left (its used tokens
    detect a replay until then); a failed login once it is older than the login window.
    """
    purges: dict[str, Callable[[Connection, int], int]] = {
        "email_verifications": lambda conn, limit: verifications.purge(
            conn, now, now - MAIL_LIMIT_WINDOW, limit
        ),
        "refresh_tokens": lambda conn, limit: refresh_tokens.purge(conn, now, limit),
        "failed_logins": lambda conn, limit: failed_logins.purge(conn, now - login_window, limit),
    }
    return {table: in_batches(database, purge, batch_size) for table, purge in purges.items()}
    # --8<-- [end:purge]


def in_batches(database: Database, purge: Callable[[Connection, int], int], batch_size: int) -> int:
    """Run `purge` one batch per transaction until a batch comes back short; return the total.
    Each batch is committed: a purge stopped half-way keeps what it did, and the next run
    carries on."""
    total = 0
    while True:
        with database.transaction() as conn:
            deleted = purge(conn, batch_size)
        total += deleted
        if deleted < batch_size:
            return total
