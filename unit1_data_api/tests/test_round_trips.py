"""Statements per request, as the server receives them (libpq's trace, so BEGIN, COMMIT and
the pool's health checks count): a read is its SQL and nothing else, and a write is one
transaction. A health check on every checkout or a BEGIN around a read turns these red."""

COURSES = "/api/v1/courses"


def statements_of(wire_statements, send) -> list[str]:
    """The statements the server received while `send()` made one request."""
    wire_statements.clear()
    response = send()
    assert response.status_code < 300, response.get_json()
    return wire_statements.statements()


def test_a_read_sends_only_its_queries(client, wire_statements):
    statements = statements_of(wire_statements, lambda: client.get(COURSES))

    assert len(statements) == 2, statements  # how many courses there are, then the page


def test_a_write_is_one_transaction(client, wire_statements):
    course = {"code": "RT101", "title": "Round trips", "credits": 3}

    statements = statements_of(wire_statements, lambda: client.post(COURSES, json=course))

    assert len(statements) == 3, statements
    assert statements[0] == "BEGIN"
    assert statements[1].startswith("INSERT INTO")
    assert statements[2] == "COMMIT"
