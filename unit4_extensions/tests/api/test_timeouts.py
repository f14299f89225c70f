"""Bounded waits: a statement or a lock wait that runs past DB_STATEMENT_TIMEOUT or
DB_LOCK_TIMEOUT answers 503 problem+json with Retry-After, changes nothing, and leaves the
pool usable; /health does not wait on table locks. The requests are an admin's."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from helpers import assert_problem, db_snapshot, make_section

from scheduler_common.db import close_pool, init_pool, transaction

API = "/api/v1"


def with_timeouts(app, *, statement: float | None, lock: float | None) -> None:
    """Rebuild the app's pool with these timeouts (seconds; None: the server's default)."""
    close_pool(app)
    app.config.update(DB_STATEMENT_TIMEOUT=statement, DB_LOCK_TIMEOUT=lock)
    init_pool(app)


@contextmanager
def locked_sections(db) -> Iterator[None]:
    """Hold LOCK TABLE sections (ACCESS EXCLUSIVE) from the test's own connection."""
    # Were the app's timeouts missing, the server ends this idle transaction after 20 s, the
    # request then succeeds and the test fails instead of hanging.
    db.execute("SET idle_in_transaction_session_timeout = '20s'")
    with db.transaction():
        db.execute("LOCK TABLE sections")
        yield


@pytest.mark.parametrize(
    ("statement", "lock"),
    [(30.0, 0.2), (0.3, None)],
    ids=["lock-timeout", "statement-timeout"],
)
def test_list_while_sections_are_locked_is_503_problem_with_retry_after(
    app, client, db, statement, lock
):
    make_section(client)
    with_timeouts(app, statement=statement, lock=lock)

    with locked_sections(db):
        response = client.get(f"{API}/sections")

    problem = assert_problem(response, 503)
    assert problem["type"].endswith("/database-timeout")
    assert response.headers["Retry-After"].isdigit()
    # The cancelled transaction was rolled back: the same pooled connection serves again.
    assert client.get(f"{API}/sections").get_json()["total"] == 1


def test_write_while_sections_are_locked_is_503_problem_and_changes_nothing(app, client, db):
    section = make_section(client)
    with_timeouts(app, statement=30.0, lock=0.2)
    before = db_snapshot(db)

    with locked_sections(db):
        patched = client.patch(f"{API}/sections/{section['id']}", json={"capacity": 5})
        created = client.post(
            f"{API}/sections",
            json={
                **{key: section[key] for key in ("term", "days")},
                "capacity": 5,
                "course_id": section["course"]["id"],
                "instructor_id": section["instructor"]["id"],
                "room_id": section["room"]["id"],
                "starts_at": "13:00",
                "ends_at": "14:00",
            },
        )

    assert_problem(patched, 503)
    assert_problem(created, 503)
    assert db_snapshot(db) == before


def test_health_answers_while_a_table_is_locked(app, client, db):
    with_timeouts(app, statement=30.0, lock=0.2)

    with locked_sections(db):
        response = client.get(f"{API}/health")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_every_pooled_connection_carries_the_default_timeouts(app):
    with app.app_context(), transaction() as conn:
        settings = conn.execute(
            "SELECT current_setting('statement_timeout') AS statement,"
            " current_setting('lock_timeout') AS lock"
        ).fetchone()

    assert settings == {"statement": "10s", "lock": "5s"}
