"""The purge of the unbounded tables (lesson 4.9): each table's rows that can no longer matter
go, in bounded batches; recent rows, tokens that still count towards the resend limit and the
used refresh tokens of a family still alive stay."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from scheduler.services import housekeeping
from scheduler.unit_of_work import Database

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
LOGIN_WINDOW = timedelta(minutes=15)
SECOND = timedelta(seconds=1)


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    """The unit of work the services run on, on this test's database."""
    with ConnectionPool(
        database_url, min_size=1, max_size=1, kwargs={"row_factory": dict_row}
    ) as pool:
        yield Database(pool)


@pytest.fixture
def user_id(db) -> int:
    """A user for the tokens to belong to."""
    return db.execute(
        "INSERT INTO users (email, password_hash, role) VALUES ('u@example.edu', 'x', 'admin')"
        " RETURNING id"
    ).fetchone()["id"]


def verification(db, user_id: int, name: str, created: timedelta, *, used: bool) -> None:
    """A verification token made `created` before NOW, valid for a day."""
    made = NOW - created
    db.execute(
        "INSERT INTO email_verifications (user_id, token_hash, created_at, expires_at, used_at)"
        " VALUES (%s, %s, %s, %s, %s)",
        (user_id, name, made, made + timedelta(days=1), made if used else None),
    )


def refresh_token(db, user_id: int, family, name: str, expires: timedelta, state: str) -> None:
    """A refresh token of the family expiring `expires` after NOW: 'live', 'used' or 'revoked'."""
    db.execute(
        "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at, used_at,"
        " revoked_at) VALUES (%s, %s, %s, %s, %s, %s)",
        (
            user_id,
            family,
            name,
            NOW + expires,
            NOW - timedelta(days=2) if state == "used" else None,
            NOW - timedelta(days=1) if state == "revoked" else None,
        ),
    )


def failed_login(db, ago: timedelta) -> None:
    """A failed login made `ago` before NOW."""
    db.execute(
        "INSERT INTO failed_logins (email, client, attempted_at) VALUES ('u@example.edu',"
        " '127.0.0.1', %s)",
        (NOW - ago,),
    )


def hashes(db, table: str) -> set[str]:
    return {row["token_hash"] for row in db.execute(f"SELECT token_hash FROM {table}")}  # noqa: S608


def test_each_table_loses_what_can_no_longer_matter_and_keeps_the_rest(database, db, user_id):
    verification(db, user_id, "used-long-ago", timedelta(hours=2), used=True)
    verification(db, user_id, "expired", timedelta(days=2), used=False)
    verification(db, user_id, "waiting", timedelta(hours=2), used=False)
    # Used, but made within the hour: it still counts towards the resend limit.
    verification(db, user_id, "used-just-now", timedelta(minutes=30), used=True)
    alive, spent, logged_out = uuid4(), uuid4(), uuid4()
    # The used token has expired, but its family lives on: a replay of it must revoke that.
    refresh_token(db, user_id, alive, "alive-used", -SECOND, "used")
    refresh_token(db, user_id, alive, "alive-live", timedelta(days=3), "live")
    refresh_token(db, user_id, spent, "spent-used", -timedelta(days=1), "used")
    refresh_token(db, user_id, spent, "spent-expired", -SECOND, "live")
    refresh_token(db, user_id, logged_out, "logged-out", timedelta(days=3), "revoked")
    failed_login(db, LOGIN_WINDOW)  # the throttle counts only those after NOW - LOGIN_WINDOW
    failed_login(db, LOGIN_WINDOW - SECOND)

    purged = housekeeping.purge_expired(database, NOW, LOGIN_WINDOW)

    assert purged == {"email_verifications": 2, "refresh_tokens": 3, "failed_logins": 1}
    assert hashes(db, "email_verifications") == {"waiting", "used-just-now"}
    assert hashes(db, "refresh_tokens") == {"alive-used", "alive-live"}
    (kept,) = db.execute("SELECT attempted_at FROM failed_logins").fetchall()
    assert kept["attempted_at"] == NOW - LOGIN_WINDOW + SECOND


def test_a_backlog_goes_in_batches_until_none_is_left(database, db):
    for _ in range(5):
        failed_login(db, timedelta(days=1))

    purged = housekeeping.purge_expired(database, NOW, LOGIN_WINDOW, batch_size=2)

    assert purged["failed_logins"] == 5
    assert db.execute("SELECT count(*) AS n FROM failed_logins").fetchone()["n"] == 0


def test_purging_again_deletes_nothing_more(database, db, user_id):
    verification(db, user_id, "expired", timedelta(days=2), used=False)
    failed_login(db, timedelta(days=1))
    housekeeping.purge_expired(database, NOW, LOGIN_WINDOW)

    again = housekeeping.purge_expired(database, NOW, LOGIN_WINDOW)

    assert again == {"email_verifications": 0, "refresh_tokens": 0, "failed_logins": 0}
