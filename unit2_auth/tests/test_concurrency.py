"""Concurrent enrollment against a real threaded HTTP server: many clients racing for the last
seats, and one student racing into clashing sections, never get more than the rules allow.
Every request is an admin's, with its access token."""

import http.client
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import token_for
from helpers import make_section, make_student
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


def post_json(port: int, token: str, path: str, body: dict) -> int:
    """POST a JSON body with a Bearer token over a fresh connection and return the status code."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(
            "POST",
            path,
            body=json.dumps(body),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def race(port: int, token: str, requests: list[tuple[str, dict]]) -> Counter:
    """Send every (path, body) POST at once, released together by a barrier; count statuses."""
    barrier = threading.Barrier(len(requests), timeout=TIMEOUT)

    def send(request: tuple[str, dict]) -> int:
        barrier.wait()
        return post_json(port, token, *request)

    with ThreadPoolExecutor(max_workers=len(requests)) as executor:
        statuses = list(executor.map(send, requests, timeout=4 * TIMEOUT))
    return Counter(statuses)


def test_thirty_students_race_for_three_seats(live_server, db, admin):
    app, port = live_server
    token = token_for(admin)
    with app.test_client() as client:
        client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
        section = make_section(client, capacity=3)
        students = [make_student(client) for _ in range(30)]
    path = f"/api/v1/sections/{section['id']}/enrollments"

    statuses = race(port, token, [(path, {"student_id": student["id"]}) for student in students])

    assert statuses == Counter({201: 3, 409: 27})
    assert (
        db.execute(
            "SELECT count(*) AS n FROM enrollments WHERE section_id = %s", (section["id"],)
        ).fetchone()["n"]
        == 3
    )
    assert db.execute("SELECT count(*) AS n FROM enrollments").fetchone()["n"] == 3


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
