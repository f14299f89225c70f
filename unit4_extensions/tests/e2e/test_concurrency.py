"""Races against a real threaded HTTP server: many clients racing for the last seats (the
losers join the waitlist, each at a position of their own), one
student racing into clashing sections or past the credit limit, a room shrinking while a section
is scheduled into it, concurrent failed logins, verification resends and refreshes of one token
never get more than the rules allow; concurrent logins hold no connection while bcrypt runs.

Where a plain race would rarely go wrong even without the lock that prevents it, the test holds
a lock of its own in the test database while the requests queue behind it, and lets go only once
every request waits: the requests then meet at the very point the guard protects, every run.
"""

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import psycopg
import pytest
from helpers import (
    NOTHING_HELD,
    SECTION_DEFAULTS,
    held,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
)
from settings import TEST_PASSWORD, token_for
from werkzeug.serving import make_server

from scheduler.services import auth as auth_service
from scheduler_common.db import POOL_EXTENSION, close_pool

TIMEOUT = 30  # seconds, for every socket operation and every wait: the test always finishes


@pytest.fixture
def live_server(app_factory, database_url) -> Iterator[tuple[object, int]]:
    """The app served by a threaded werkzeug server on 127.0.0.1; yields (app, port)."""
    app = app_factory(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "DB_POOL_MAX_SIZE": 20,
            # Twenty connections open before the race, so requests really run side by side
            # instead of queueing behind a pool that is still growing.
            "DB_POOL_MIN_SIZE": 20,
            # Requests queue for a pooled connection while others hold the section's lock.
            "DB_POOL_TIMEOUT": TIMEOUT,
        }
    )
    app.extensions["scheduler_db_pool"].wait(timeout=TIMEOUT)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield app, server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        close_pool(app)


def exchange_json(
    port: int, method: str, path: str, body: dict, token: str | None = None
) -> tuple[int, dict]:
    """Send a JSON body (with a Bearer token, if given) over a fresh connection; return the
    status code and the JSON answer."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(method, path, body=json.dumps(body), headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def send_json(port: int, method: str, path: str, body: dict, token: str | None = None) -> int:
    """Send a JSON body over a fresh connection; return the status code."""
    return exchange_json(port, method, path, body, token)[0]


def race_answers(
    port: int,
    token: str | None,
    requests: list[tuple[str, dict]],
    *,
    meanwhile: Callable[[], None] = lambda: None,
) -> list[tuple[int, dict]]:
    """Send every (path, body) POST at once, released together by a barrier; run `meanwhile`
    while they are in flight, then return their statuses and answers."""
    barrier = threading.Barrier(len(requests), timeout=TIMEOUT)

    def send(request: tuple[str, dict]) -> tuple[int, dict]:
        barrier.wait()
        return exchange_json(port, "POST", *request, token)

    with ThreadPoolExecutor(max_workers=len(requests)) as executor:
        futures = [executor.submit(send, request) for request in requests]
        meanwhile()
        return [future.result(timeout=4 * TIMEOUT) for future in futures]


def race(
    port: int,
    token: str | None,
    requests: list[tuple[str, dict]],
    *,
    meanwhile: Callable[[], None] = lambda: None,
) -> Counter:
    """Race the requests as `race_answers` does, and count their statuses."""
    answers = race_answers(port, token, requests, meanwhile=meanwhile)
    return Counter(status for status, _ in answers)


@contextmanager
def holding(database_url: str, statement: str, params: tuple = ()) -> Iterator[psycopg.Connection]:
    """Run `statement` in a transaction of the test's own and keep it open (its locks held)
    until the block ends; the block may end it sooner with commit or rollback."""
    with psycopg.connect(database_url) as blocker:
        blocker.execute(statement, params)
        yield blocker


def lock_waiters(db) -> int:
    """How many sessions of the test's database are waiting for a lock right now."""
    return db.execute(
        "SELECT count(*) AS n FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    ).fetchone()["n"]


def wait_until(condition: Callable[[], bool]) -> None:
    """Poll until `condition` holds; fail the test if it never does."""
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        assert time.monotonic() < deadline, "the requests never queued on the test's lock"
        time.sleep(0.01)


def release_once_queued(db, blocker: psycopg.Connection, count: int) -> Callable[[], None]:
    """Return a `meanwhile` for `race`: once `count` requests wait for a lock, commit the
    blocker's transaction, letting them go."""

    def release() -> None:
        wait_until(lambda: lock_waiters(db) >= count)
        blocker.commit()

    return release


def test_thirty_students_race_for_three_seats_and_the_rest_line_up(live_server, db, admin):
    app, port = live_server
    token = token_for(admin)
    with app.test_client() as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        section = make_section(client, capacity=3)
        students = [make_student(client) for _ in range(30)]
    path = f"/api/v1/sections/{section['id']}/enrollments"

    answers = race_answers(
        port, token, [(path, {"student_id": student["id"]}) for student in students]
    )

    assert Counter(status for status, _ in answers) == Counter({201: 30})
    told = Counter(answer["status"] for _, answer in answers)
    assert told == Counter({"enrolled": 3, "waitlisted": 27})
    # Each was told a position of their own: 1 to 27, no gaps, no repeats.
    told_positions = sorted(a["position"] for _, a in answers if a["status"] == "waitlisted")
    assert told_positions == list(range(1, 28))
    stored = db.execute(
        "SELECT student_id, status, waitlist_position(section_id, waitlist_ticket) AS position"
        " FROM enrollments WHERE section_id = %s",
        (section["id"],),
    ).fetchall()
    assert Counter(row["status"] for row in stored) == told
    # What each was told is what the database holds.
    assert {row["student_id"]: row["position"] for row in stored} == {
        answer["student_id"]: answer["position"] for _, answer in answers
    }


def test_one_student_races_into_ten_clashing_sections(live_server, db, admin):
    app, port = live_server
    token = token_for(admin)
    with app.test_client() as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        # Each section has its own room and instructor; all meet MON/WED 09:00–10:15.
        sections = [make_section(client) for _ in range(10)]
        student = make_student(client)

    statuses = race(
        port,
        token,
        [
            (f"/api/v1/sections/{section['id']}/enrollments", {"student_id": student["id"]})
            for section in sections
        ],
    )

    assert statuses == Counter({201: 1, 409: 9})
    assert (
        db.execute(
            "SELECT count(*) AS n FROM enrollments WHERE student_id = %s", (student["id"],)
        ).fetchone()["n"]
        == 1
    )


def test_one_student_races_past_the_credit_limit(live_server, db, database_url, admin):
    app, port = live_server
    token = token_for(admin)
    with app.test_client() as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        # Four 6-credit sections at different times of one term: any three make 18, all 24.
        sections = [
            make_section(
                client,
                course_id=make_course(client, credits=6)["id"],
                starts_at=f"{hour:02}:00",
                ends_at=f"{hour:02}:50",
            )
            for hour in (8, 10, 12, 14)
        ]
        student = make_student(client)
    requests = [
        (f"/api/v1/sections/{section['id']}/enrollments", {"student_id": student["id"]})
        for section in sections
    ]

    # The test holds the student's row, so every enrollment queues on it (or, without the
    # service's own lock on it, after its credit check): all four decide at the same moment.
    lock_student = "SELECT 1 FROM students WHERE id = %s FOR UPDATE"
    with holding(database_url, lock_student, (student["id"],)) as blocker:
        statuses = race(
            port, token, requests, meanwhile=release_once_queued(db, blocker, len(requests))
        )

    assert statuses == Counter({201: 3, 409: 1})
    assert (
        db.execute(
            """
            SELECT sum(c.credits) AS credits
              FROM enrollments AS e
              JOIN sections AS s ON s.id = e.section_id
              JOIN courses AS c ON c.id = s.course_id
             WHERE e.student_id = %s
            """,
            (student["id"],),
        ).fetchone()["credits"]
        == 18
    )


def test_a_room_cannot_shrink_under_a_section_being_scheduled(live_server, db, database_url, admin):
    app, port = live_server
    token = token_for(admin)
    with app.test_client() as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        room = make_room(client, capacity=30)
        other_room = make_room(client, capacity=30)
        instructor = make_instructor(client)
        course = make_course(client)
    section = {
        "course_id": course["id"],
        "instructor_id": instructor["id"],
        "room_id": room["id"],
        **SECTION_DEFAULTS,
        "capacity": 30,
    }

    # The test books the section's instructor at the same time in another room and keeps that
    # uncommitted: the new section's insert waits on it, after the section checked its room.
    book_instructor = (
        "INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,"
        " starts_at, ends_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    booking = (
        course["id"],
        instructor["id"],
        other_room["id"],
        *(SECTION_DEFAULTS[name] for name in ("term", "capacity", "days", "starts_at", "ends_at")),
    )
    with (
        holding(database_url, book_instructor, booking) as blocker,
        ThreadPoolExecutor(max_workers=2) as executor,
    ):
        create = executor.submit(send_json, port, "POST", "/api/v1/sections", section, token)
        wait_until(lambda: lock_waiters(db) >= 1)
        shrink = executor.submit(
            send_json, port, "PATCH", f"/api/v1/rooms/{room['id']}", {"capacity": 10}, token
        )
        # The shrink either finishes (nothing stopped it) or queues behind the section.
        wait_until(lambda: shrink.done() or lock_waiters(db) >= 2)
        blocker.rollback()
        statuses = (create.result(timeout=TIMEOUT), shrink.result(timeout=TIMEOUT))

    assert statuses == (201, 409)
    assert (
        db.execute(
            "SELECT count(*) AS n FROM sections JOIN rooms ON rooms.id = sections.room_id"
            " WHERE sections.capacity > rooms.capacity"
        ).fetchone()["n"]
        == 0
    )
    room_now = db.execute("SELECT capacity FROM rooms WHERE id = %s", (room["id"],)).fetchone()
    assert room_now["capacity"] == 30


def test_concurrent_failed_logins_cannot_slip_under_the_limit(
    live_server, db, database_url, make_user
):
    _, port = live_server
    user = make_user("student")
    # Nine failures so far: the next one is the tenth, and after it the account is throttled.
    db.execute(
        "INSERT INTO failed_logins (email, client)"
        " SELECT %s, '127.0.0.1' FROM generate_series(1, 9)",
        (user["email"],),
    )
    requests = [
        ("/api/v1/auth/login", {"email": user["email"], "password": "not the password"})
    ] * 8

    # The test holds off every insert into failed_logins, so each attempt waits either to
    # record its failure or (with the account's lock) for the attempt before it.
    with holding(database_url, "LOCK TABLE failed_logins IN SHARE MODE") as blocker:
        statuses = race(
            port, None, requests, meanwhile=release_once_queued(db, blocker, len(requests))
        )

    assert statuses == Counter({401: 1, 429: 7})
    assert db.execute("SELECT count(*) AS n FROM failed_logins").fetchone()["n"] == 10


def test_concurrent_logins_hold_no_session_or_lock_while_bcrypt_runs(
    live_server, db, make_user, monkeypatch
):
    app, port = live_server
    pool = app.extensions[POOL_EXTENSION]
    logins = 16  # fewer than the pool's 20, so that even holding one each they all get here
    users = [make_user("student") for _ in range(logins)]
    all_checking = threading.Barrier(logins, timeout=TIMEOUT)
    seen = []
    real = auth_service.password_matches

    def check_all_at_once(password: str, password_hash: str) -> bool:
        # The moment that used to exhaust the pool: every login is inside bcrypt at once.
        if all_checking.wait() == 0:
            seen.append(held(db, pool))
        all_checking.wait()  # nobody moves on before the look
        return real(password, password_hash)

    monkeypatch.setattr(auth_service, "password_matches", check_all_at_once)
    requests = [
        ("/api/v1/auth/login", {"email": user["email"], "password": TEST_PASSWORD})
        for user in users
    ]

    statuses = race(port, None, requests)

    assert statuses == Counter({200: logins})
    assert seen == [NOTHING_HELD]


def test_concurrent_resends_mail_at_most_five_tokens(live_server, db, database_url, make_user):
    _, port = live_server
    user = make_user("student", verified=False)
    requests = [("/api/v1/auth/resend-verification", {"email": user["email"]})] * 8

    # The test holds off every new verification token, so each resend waits either to store
    # its token or (with the account's lock) for the resend before it.
    with holding(database_url, "LOCK TABLE email_verifications IN SHARE MODE") as blocker:
        statuses = race(
            port, None, requests, meanwhile=release_once_queued(db, blocker, len(requests))
        )

    assert statuses == Counter({202: 8})
    assert (
        db.execute(
            "SELECT count(*) AS n FROM email_verifications WHERE user_id = %s", (user["id"],)
        ).fetchone()["n"]
        == 5
    )
    assert (
        db.execute(
            "SELECT count(*) AS n FROM outbox WHERE to_address = %s", (user["email"],)
        ).fetchone()["n"]
        == 5
    )


def test_two_concurrent_refreshes_of_one_token_cannot_both_succeed(
    live_server, db, database_url, make_user
):
    app, port = live_server
    user = make_user("student")
    with app.test_client() as client:
        login = client.post(
            "/api/v1/auth/login", json={"email": user["email"], "password": TEST_PASSWORD}
        )
    assert login.status_code == 200, login.get_json()
    refresh_token = login.get_json()["refresh_token"]
    requests = [("/api/v1/auth/refresh", {"refresh_token": refresh_token})] * 2

    # The test holds the token's row, so both refreshes queue on it (or, without their own
    # lock on it, after both read it as unspent).
    lock_token = "SELECT 1 FROM refresh_tokens FOR UPDATE"
    with holding(database_url, lock_token) as blocker:
        statuses = race(
            port, None, requests, meanwhile=release_once_queued(db, blocker, len(requests))
        )

    # The second one found the token spent: a reuse, so the whole family is revoked.
    assert statuses == Counter({200: 1, 401: 1})
    unrevoked = db.execute("SELECT count(*) AS n FROM refresh_tokens WHERE revoked_at IS NULL")
    assert unrevoked.fetchone()["n"] == 0
