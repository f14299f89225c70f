"""Races against a real threaded HTTP server: many clients racing for the last seats, one
student racing into clashing sections, and a room shrinking while a section is scheduled into
it never get more than the rules allow.

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
    SECTION_DEFAULTS,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
)
from werkzeug.serving import make_server

from scheduler_common.db import close_pool

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


def send_json(port: int, method: str, path: str, body: dict) -> int:
    """Send a JSON body over a fresh connection and return the status code."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(
            method, path, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def race(port: int, requests: list[tuple[str, dict]]) -> Counter:
    """Send every (path, body) POST at once, released together by a barrier; count statuses."""
    barrier = threading.Barrier(len(requests), timeout=TIMEOUT)

    def send(request: tuple[str, dict]) -> int:
        barrier.wait()
        return send_json(port, "POST", *request)

    with ThreadPoolExecutor(max_workers=len(requests)) as executor:
        statuses = list(executor.map(send, requests, timeout=4 * TIMEOUT))
    return Counter(statuses)


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


def test_thirty_students_race_for_three_seats(live_server, db):
    app, port = live_server
    with app.test_client() as client:
        section = make_section(client, capacity=3)
        students = [make_student(client) for _ in range(30)]
    path = f"/api/v1/sections/{section['id']}/enrollments"

    statuses = race(port, [(path, {"student_id": student["id"]}) for student in students])

    assert statuses == Counter({201: 3, 409: 27})
    assert (
        db.execute(
            "SELECT count(*) AS n FROM enrollments WHERE section_id = %s", (section["id"],)
        ).fetchone()["n"]
        == 3
    )
    assert db.execute("SELECT count(*) AS n FROM enrollments").fetchone()["n"] == 3


def test_one_student_races_into_ten_clashing_sections(live_server, db):
    app, port = live_server
    with app.test_client() as client:
        # Each section has its own room and instructor; all meet MON/WED 09:00–10:15.
        sections = [make_section(client) for _ in range(10)]
        student = make_student(client)

    statuses = race(
        port,
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


def test_a_room_cannot_shrink_under_a_section_being_scheduled(live_server, db, database_url):
    app, port = live_server
    with app.test_client() as client:
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
        create = executor.submit(send_json, port, "POST", "/api/v1/sections", section)
        wait_until(lambda: lock_waiters(db) >= 1)
        shrink = executor.submit(
            send_json, port, "PATCH", f"/api/v1/rooms/{room['id']}", {"capacity": 10}
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
