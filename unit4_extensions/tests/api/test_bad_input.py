"""Input that once slipped past the boundary: lone UTF-16 surrogates in any string, chunked
bodies over the size limit, and email addresses that pass for someone else's.
The requests are an admin's unless they are the anonymous auth endpoints."""

import http.client
import io
import json
import threading
from collections.abc import Iterator

import pytest
from helpers import (
    assert_problem,
    count_rows,
    course_body,
    db_snapshot,
    instructor_body,
    make_course,
    make_student,
    room_body,
    section_body,
    student_body,
)
from settings import TEST_PASSWORD, token_for
from werkzeug.serving import make_server

from scheduler_common.db import close_pool

API = "/api/v1"
SURROGATE = "\ud800"
TIMEOUT = 30  # seconds, for every socket operation: the live-server tests always finish
LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH


# --- Lone surrogates: 400 wherever a string goes, and nothing is written --------------------


def auth_body(path: str) -> dict:
    """A well-formed body for one of the anonymous auth endpoints."""
    return {
        "/auth/register": {
            "email": "new@example.edu",
            "password": TEST_PASSWORD,
            "full_name": "New Student",
        },
        "/auth/login": {"email": "admin@example.edu", "password": TEST_PASSWORD},
        "/auth/verify": {"token": "some-token"},
        "/auth/refresh": {"refresh_token": "some-token"},
        "/auth/resend-verification": {"email": "admin@example.edu"},
    }[path]


# (path, field, table that must stay as it was): every string field of every body.
STRING_FIELDS = [
    ("/courses", "code", "courses"),
    ("/courses", "title", "courses"),
    ("/courses", "description", "courses"),
    ("/instructors", "full_name", "instructors"),
    ("/instructors", "email", "instructors"),
    ("/rooms", "name", "rooms"),
    ("/students", "full_name", "students"),
    ("/students", "email", "students"),
    ("/sections", "term", "sections"),
    ("/sections", "days", "sections"),
    ("/sections", "starts_at", "sections"),
    ("/sections", "ends_at", "sections"),
    ("/sections", "notes", "sections"),
    ("/auth/register", "email", "users"),
    ("/auth/register", "password", "users"),
    ("/auth/register", "full_name", "users"),
    ("/auth/login", "email", "refresh_tokens"),
    ("/auth/login", "password", "refresh_tokens"),
    ("/auth/verify", "token", "users"),
    ("/auth/refresh", "refresh_token", "refresh_tokens"),
    ("/auth/resend-verification", "email", "outbox"),
]


def valid_body(client, path: str) -> dict:
    """A body the endpoint would accept (or judge on its merits, for the auth ones)."""
    if path == "/sections":
        return {**section_body(client), "notes": "Bring a laptop."}
    makers = {
        "/courses": course_body,
        "/instructors": instructor_body,
        "/rooms": room_body,
        "/students": student_body,
    }
    return makers[path]() if path in makers else auth_body(path)


def with_surrogate(value):
    """The value with a lone surrogate inside its (first) string."""
    if isinstance(value, list):
        return [value[0] + SURROGATE, *value[1:]]
    return value[:1] + SURROGATE + value[1:]


def encoded(body: dict, form: str) -> bytes:
    """The body as JSON text: surrogates as \\ud800 escapes, or as raw bytes ED A0 80."""
    if form == "escaped":
        return json.dumps(body).encode()
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("form", ["escaped", "raw-bytes"])
@pytest.mark.parametrize(("path", "field", "table"), STRING_FIELDS)
def test_lone_surrogate_in_any_string_field_is_400_problem_and_writes_nothing(
    client, admin, db, path, field, table, form
):
    body = valid_body(client, path)
    body[field] = with_surrogate(body[field])
    before = count_rows(db, table)

    response = client.post(API + path, data=encoded(body, form), content_type="application/json")

    problem = assert_problem(response, 400)
    assert problem["detail"].startswith("The body is not valid JSON text")
    assert count_rows(db, table) == before


@pytest.mark.parametrize("form", ["escaped", "raw-bytes"])
def test_lone_surrogate_in_a_patch_is_400_problem_and_changes_nothing(client, db, form):
    course = make_course(client)
    before = db_snapshot(db)
    body = encoded({"title": "Renamed" + SURROGATE}, form)

    response = client.patch(
        f"{API}/courses/{course['id']}", data=body, content_type="application/json"
    )

    assert_problem(response, 400)
    assert db_snapshot(db) == before


def test_lone_surrogate_in_a_key_or_a_nested_value_is_400_problem(client, db):
    for body in ({"title" + SURROGATE: "x"}, {"days": [[SURROGATE]]}):
        response = client.post(
            f"{API}/courses", data=encoded(body, "escaped"), content_type="application/json"
        )
        assert_problem(response, 400)
    assert count_rows(db, "courses") == 0


def test_surrogate_pairs_that_make_a_character_are_accepted(client):
    response = client.post(
        f"{API}/courses",
        data=encoded(course_body(title="Music \U0001f3b5"), "escaped"),
        content_type="application/json",
    )

    assert response.status_code == 201
    assert response.get_json()["title"] == "Music \U0001f3b5"


def test_text_the_database_cannot_encode_is_400_problem_even_past_the_boundary(
    client, db, monkeypatch
):
    # Were a route to take a body without json_body's check, the database driver's
    # UnicodeEncodeError must still answer a problem, not a 500.
    body = course_body(title="Title" + SURROGATE)
    monkeypatch.setattr("scheduler.routes.courses.json_body", lambda: body)

    response = client.post(f"{API}/courses", json={})

    problem = assert_problem(response, 400)
    assert "not valid Unicode" in problem["detail"]
    assert count_rows(db, "courses") == 0


# --- Chunked bodies: over the limit is a 413, as with Content-Length ------------------------


def padded(body: dict, size: int) -> bytes:
    """The JSON body followed by spaces up to `size` bytes: still valid JSON at any cut."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


def chunked_patch(client, path: str, data: bytes):
    """PATCH `data` through the test client as a body without Content-Length (chunked)."""
    return client.patch(
        path,
        input_stream=io.BytesIO(data),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # what a server that dechunks sets
    )


def test_chunked_body_over_64_kib_is_413_problem_and_changes_nothing(client, db):
    course = make_course(client, title="Original")

    response = chunked_patch(
        client, f"{API}/courses/{course['id']}", padded({"title": "Replaced"}, 200_000)
    )

    assert_problem(response, 413)
    assert db.execute("SELECT title FROM courses").fetchone()["title"] == "Original"


def test_chunked_body_of_exactly_64_kib_is_accepted(client, db):
    course = make_course(client, title="Original")

    response = chunked_patch(
        client, f"{API}/courses/{course['id']}", padded({"title": "Replaced"}, LIMIT)
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["title"] == "Replaced"


@pytest.fixture
def live_server(app_factory, database_url) -> Iterator[int]:
    """The app served by a threaded werkzeug server on 127.0.0.1 (which dechunks bodies
    as gunicorn does); yields its port."""
    app = app_factory({"TESTING": True, "DATABASE_URL": database_url})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield server.server_port
    finally:
        server.shutdown()
        server.server_close()
        thread.join(TIMEOUT)
        close_pool(app)


def send_chunked(port: int, token: str, path: str, data: bytes) -> tuple[int, str, dict]:
    """PATCH `data` with Transfer-Encoding: chunked, 8 KiB a chunk; return status, media
    type and JSON body."""
    chunks = (data[start : start + 8192] for start in range(0, len(data), 8192))
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.request(
            "PATCH",
            path,
            body=chunks,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            encode_chunked=True,
        )
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type"), json.loads(response.read())
    finally:
        connection.close()


def test_chunked_body_over_64_kib_through_a_real_server_is_413_problem(live_server, db, admin):
    course_id = db.execute(
        "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'Original', 3) RETURNING id"
    ).fetchone()["id"]

    status, media_type, body = send_chunked(
        live_server,
        token_for(admin),
        f"{API}/courses/{course_id}",
        padded({"title": "Replaced"}, 100_000),
    )

    assert (status, media_type, body["status"]) == (413, "application/problem+json", 413)
    assert db.execute("SELECT title FROM courses").fetchone()["title"] == "Original"


def test_chunked_body_under_the_limit_through_a_real_server_is_applied(live_server, db, admin):
    course_id = db.execute(
        "INSERT INTO courses (code, title, credits) VALUES ('CS101', 'Original', 3) RETURNING id"
    ).fetchone()["id"]

    status, _, body = send_chunked(
        live_server,
        token_for(admin),
        f"{API}/courses/{course_id}",
        padded({"title": "Replaced"}, 20_000),
    )

    assert (status, body["title"]) == (200, "Replaced")


# --- Look-alike emails: one spelling per address, the ambiguous ones refused ---------------


@pytest.mark.parametrize("collection", ["students", "instructors"])
@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("ana@example.edu.", "ana@example.edu"),
        ("ana@EXAMPLE.Edu", "ana@example.edu"),
        ("Ana@example.edu", "Ana@example.edu"),  # the local part is the mailbox's own affair
        ("\uff41\uff4e\uff41\uff20\uff45xample.edu", "ana@example.edu"),  # fullwidth
    ],
    ids=["trailing-dot", "domain-case", "local-case-kept", "fullwidth"],
)
def test_email_is_stored_in_its_plain_spelling(client, collection, given, stored):
    response = client.post(f"{API}/{collection}", json={"full_name": "Ana", "email": given})

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["email"] == stored


@pytest.mark.parametrize(
    "look_alike",
    ["ana@example.edu.", "ANA@Example.EDU", "\uff41\uff4e\uff41@example.edu"],
    ids=["trailing-dot", "case", "fullwidth"],
)
def test_look_alike_of_an_existing_email_is_409_problem(client, db, look_alike):
    make_student(client, email="ana@example.edu")

    response = client.post(f"{API}/students", json=student_body(email=look_alike))

    assert_problem(response, 409)
    assert count_rows(db, "students") == 1


@pytest.mark.parametrize(
    ("look_alike", "message"),
    [
        ("\u0430na@example.edu", "ASCII"),  # Cyrillic а
        ("ana@ex\u0430mple.edu", "ASCII"),
        ("an\u00e4@example.edu", "ASCII"),
        ("ana\u200b@example.edu", "invisible"),  # zero-width space
        ("ana@example\u200d.edu", "invisible"),  # zero-width joiner
        ("\u2060ana@example.edu", "invisible"),  # word joiner
    ],
    ids=["cyrillic-local", "cyrillic-domain", "latin-umlaut", "zwsp", "zwj", "word-joiner"],
)
@pytest.mark.parametrize("collection", ["students", "instructors"])
def test_ambiguous_email_is_422_problem_naming_it(client, db, collection, look_alike, message):
    response = client.post(f"{API}/{collection}", json={"full_name": "Ana", "email": look_alike})

    problem = assert_problem(response, 422)
    assert list(problem["errors"]) == ["email"]
    assert message in problem["errors"]["email"][0]
    assert count_rows(db, collection) == 0


def test_registering_a_look_alike_of_an_account_is_refused(anonymous_client, db, admin):
    for look_alike, status in (("admin@example.edu.", 409), ("\u0430dmin@example.edu", 422)):
        response = anonymous_client.post(
            f"{API}/auth/register",
            json={"email": look_alike, "password": TEST_PASSWORD, "full_name": "Mallory"},
        )
        assert_problem(response, status)
    assert count_rows(db, "users") == 1


def test_login_accepts_the_address_in_any_plain_spelling(anonymous_client, admin):
    response = anonymous_client.post(
        f"{API}/auth/login", json={"email": "admin@EXAMPLE.edu.", "password": TEST_PASSWORD}
    )

    assert response.status_code == 200, response.get_json()


def test_email_that_grows_past_254_characters_when_folded_is_422_problem(client, db):
    folds_long = "\ufb03" * 84 + "@example.edu"  # 96 characters; each ligature folds to "ffi"

    response = client.post(f"{API}/students", json=student_body(email=folds_long))

    problem = assert_problem(response, 422)
    assert problem["errors"]["email"] == ["Must be at most 254 characters."]
    assert count_rows(db, "students") == 0
