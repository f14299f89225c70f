"""The external sign-in service (lesson 4.6) on PostgreSQL, where the API tests cannot reach:
two first sign-ins of the same person racing. The race is made to happen, not hoped for: the
other sign-in's transaction is held open by the test until ours is seen waiting on its rows."""

import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from scheduler.oidc import ExternalIdentity
from scheduler.services import external_auth
from scheduler.unit_of_work import Database

ADA = ExternalIdentity(
    issuer="https://idp.example",
    subject="ada",
    email="ada@example.edu",
    email_verified=True,
    name="Ada L",
)
SIGN_IN = "racing-sign-in"
WAIT = 10  # seconds at most for the sign-in to reach its lock wait: bounded, never a hang


@pytest.fixture
def database(database_url) -> Iterator[Database]:
    """The unit of work, on a small pool of this test's database (as the app builds its own),
    whose connections are named so that the test can see them wait."""
    settings = {"row_factory": dict_row, "autocommit": True, "application_name": SIGN_IN}
    with ConnectionPool(database_url, min_size=1, max_size=2, kwargs=settings) as pool:
        yield Database(pool)


def wait_until_blocked(db, application_name: str) -> None:
    """Return once the named session waits for a lock; fail after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        waiting = db.execute(
            "SELECT count(*) AS n FROM pg_stat_activity"
            " WHERE application_name = %s AND wait_event_type = 'Lock'",
            (application_name,),
        ).fetchone()["n"]
        if waiting:
            return
        time.sleep(0.01)
    pytest.fail("the sign-in never waited for the other one's rows")


# --8<-- [start:race-test]
def test_two_first_sign_ins_of_one_person_make_one_account(database_url, database, db):
    other = psycopg.connect(database_url, row_factory=dict_row)  # the sign-in that wins
    with other.transaction():
        student = other.execute(
            "INSERT INTO students (full_name, email) VALUES ('Ada L', %s) RETURNING id",
            (ADA.email,),
        ).fetchone()
        winner = other.execute(
            "INSERT INTO users (email, password_hash, role, is_verified, student_id)"
            " VALUES (%s, 'x', 'student', true, %s) RETURNING id",
            (ADA.email, student["id"]),
        ).fetchone()
        other.execute(
            "INSERT INTO external_identities (issuer, subject, user_id) VALUES (%s, %s, %s)",
            (ADA.issuer, ADA.subject, winner["id"]),
        )
        # Ours sees none of that yet, so it makes the account too, and waits on the email.
        result = {}
        ours = threading.Thread(
            target=lambda: result.update(identity=external_auth.sign_in(database, ADA, 4))
        )
        ours.start()
        wait_until_blocked(db, SIGN_IN)
    # Committed: ours now fails on the email's unique key, and is retried.
    other.close()
    ours.join(WAIT)

    assert result["identity"].user_id == winner["id"]
    assert db.execute("SELECT count(*) AS n FROM users").fetchone()["n"] == 1
    # --8<-- [end:race-test]
