"""Statements per request, as the server receives them (libpq's trace, so BEGIN, COMMIT and
the pool's health checks count): a read is its SQL and nothing else, the token's user is
one statement more, and a write is one transaction. A second transaction, a health check on
every checkout or a BEGIN around a read turns these red. And the request's own Python builds
no validation schema: they are built once, at import."""

from conftest import TEST_PASSWORD
from helpers import make_section

from scheduler import validation

COURSES = "/api/v1/courses"
PAGE_OF_COURSES = 2  # how many there are in all, then the page


def statements_of(wire_statements, send) -> list[str]:
    """The statements the server received while `send()` made one request."""
    wire_statements.clear()
    response = send()
    assert response.status_code < 300, response.get_json()
    return wire_statements.statements()


def test_an_anonymous_read_sends_only_its_queries(anonymous_client, wire_statements):
    statements = statements_of(wire_statements, lambda: anonymous_client.get(COURSES))

    assert len(statements) == PAGE_OF_COURSES, statements


def test_an_authenticated_read_adds_one_statement_for_the_user(client, wire_statements):
    statements = statements_of(wire_statements, lambda: client.get(COURSES))

    assert len(statements) == 1 + PAGE_OF_COURSES, statements
    assert "users" in statements[0]


def test_a_write_is_the_user_then_one_transaction(client, wire_statements):
    course = {"code": "RT101", "title": "Round trips", "credits": 3}

    statements = statements_of(wire_statements, lambda: client.post(COURSES, json=course))

    assert len(statements) == 4, statements
    assert statements[1:] == ["BEGIN", statements[2], "COMMIT"]
    assert statements[2].startswith("INSERT INTO")


def test_an_enrollment_is_the_user_then_one_transaction(
    client, client_for, make_user, wire_statements
):
    section = make_section(client)
    student = make_user("student")
    enroll = client_for(student).post
    url = f"/api/v1/sections/{section['id']}/enrollments"

    statements = statements_of(
        wire_statements, lambda: enroll(url, json={"student_id": student["student_id"]})
    )

    assert "users" in statements[0]
    assert statements[1] == "BEGIN"
    assert statements[-1] == "COMMIT"
    assert "BEGIN" not in statements[2:-1]
    assert "COMMIT" not in statements[2:-1]
    assert "" not in statements  # no health check on the way


def test_a_roster_is_the_user_then_its_reads_without_a_transaction(client, wire_statements):
    section = make_section(client)
    roster = f"/api/v1/sections/{section['id']}/enrollments"

    statements = statements_of(wire_statements, lambda: client.get(roster))

    # The token's user, the section (who teaches it), then the count and the page.
    assert len(statements) == 4, statements
    assert "BEGIN" not in statements


def test_a_login_sends_no_health_check(anonymous_client, make_user, wire_statements):
    user = make_user("student")
    login = {"email": user["email"], "password": TEST_PASSWORD}

    statements = statements_of(
        wire_statements, lambda: anonymous_client.post("/api/v1/auth/login", json=login)
    )

    assert "" not in statements
    assert statements.count("BEGIN") == statements.count("COMMIT")


def test_query_strings_are_checked_against_schemas_built_at_import(anonymous_client, monkeypatch):
    def no_schema_per_request(*args, **kwargs):
        raise AssertionError("a voluptuous Schema was built while answering a request")

    monkeypatch.setattr(validation, "Schema", no_schema_per_request)

    assert anonymous_client.get(f"{COURSES}?limit=5").status_code == 200
    sections = anonymous_client.get("/api/v1/sections?term=2027-fall&limit=5")
    assert sections.status_code == 200
