"""The periodic purge through the worker (lesson 4.9), on the app's clock: a refresh token that
was used, and has expired, stays while its family still has a live token, so replaying it after
a purge still revokes the family."""

from datetime import timedelta

import pytest
from manual_clock import ManualClock
from settings import TEST_PASSWORD

from scheduler.background import later, queue

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"


@pytest.fixture
def clock(app) -> ManualClock:
    """The app's clock for this test (the `app` fixture restores the real one afterwards)."""
    app.config["CLOCK"] = ManualClock()
    return app.config["CLOCK"]


def purge_now(db, run_jobs) -> None:
    """Queue the purge as its schedule would, and let the worker run it."""
    later(db, "purge_expired_rows", timestamp=0)
    run_jobs()
    (job,) = db.execute(
        "SELECT status FROM procrastinate_jobs WHERE task_name = 'purge_expired_rows'"
    ).fetchall()
    assert job["status"] == "succeeded"


def test_reuse_detection_still_revokes_the_family_after_a_purge(
    clock, anonymous_client, make_user, db, run_jobs
):
    user = make_user()
    login = anonymous_client.post(LOGIN, json={"email": user["email"], "password": TEST_PASSWORD})
    stolen = login.get_json()["refresh_token"]
    clock.advance(timedelta(days=1))
    rotated = anonymous_client.post(REFRESH, json={"refresh_token": stolen}).get_json()
    # The stolen token's fourteen days are over; the family's live token has one left.
    clock.advance(timedelta(days=13, seconds=1))

    purge_now(db, run_jobs)

    assert db.execute("SELECT count(*) AS n FROM refresh_tokens").fetchone()["n"] == 2
    assert anonymous_client.post(REFRESH, json={"refresh_token": stolen}).status_code == 401
    replayed_then_owner = anonymous_client.post(
        REFRESH, json={"refresh_token": rotated["refresh_token"]}
    )
    assert replayed_then_owner.status_code == 401  # the family was revoked


def test_a_family_that_has_expired_is_purged_whole(
    clock, anonymous_client, make_user, db, run_jobs
):
    user = make_user()
    login = anonymous_client.post(LOGIN, json={"email": user["email"], "password": TEST_PASSWORD})
    anonymous_client.post(REFRESH, json={"refresh_token": login.get_json()["refresh_token"]})
    clock.advance(timedelta(days=15))

    purge_now(db, run_jobs)

    assert db.execute("SELECT count(*) AS n FROM refresh_tokens").fetchone()["n"] == 0


def test_the_purge_is_scheduled_hourly():
    queue.perform_import_paths()  # what a worker does first: the tasks' modules register them
    (scheduled,) = [
        task
        for task in queue.periodic_registry.periodic_tasks.values()
        if task.task.name == "purge_expired_rows"
    ]

    assert scheduled.cron == "17 * * * *"
