"""What every error answer must be, in one place: DESIGN.md's error table as assertions.

`assert_problem(response, status)` checks an RFC 9457 problem (content type, exactly the keys
type/title/status/detail, plus a well-formed `errors` where one is due), the headers its status
calls for, the request id, and that nothing leaks. `all_rows(db)` is what a failed request must
leave exactly as it found it.
"""

from psycopg import sql

from scheduler.errors import PROBLEM_BASE
from scheduler.request_id import REQUEST_ID_HEADER, SANE_REQUEST_ID

PROBLEM_KEYS = {"type", "title", "status", "detail"}
# Headers that come with a status, whichever route answers it (RFC 6750, RFC 9110).
HEADERS_OF_STATUS = {
    401: "WWW-Authenticate",
    405: "Allow",
    429: "Retry-After",
    503: "Retry-After",
}
# What an error body must never show: a stack trace, an HTML page, the database's own words.
LEAKS = ("Traceback", 'File "', "<html", "<!doctype", "psycopg", "SELECT ", "INSERT ", "UPDATE ")


# --8<-- [start:assert-problem]
def assert_problem(response, status: int, *, errors: bool | None = None) -> dict:
    """Assert `response` is an RFC 9457 problem with `status`; return its JSON body.

    `errors` (a map of field names to non-empty lists of messages) is required on a 422 and
    refused elsewhere, unless `errors=True` says it is due (a 400 for a bad query parameter).
    """
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert isinstance(body, dict)
    with_errors = status == 422 if errors is None else errors
    assert set(body) == (PROBLEM_KEYS | {"errors"} if with_errors else PROBLEM_KEYS), body
    assert body["status"] == status
    assert isinstance(body["type"], str)
    assert body["type"].startswith(PROBLEM_BASE)
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    if with_errors:
        assert isinstance(body["errors"], dict)
        assert body["errors"]
        for field, messages in body["errors"].items():
            assert isinstance(field, str)
            assert isinstance(messages, list)
            assert messages
            assert all(isinstance(message, str) and message for message in messages)
    if status in HEADERS_OF_STATUS:
        assert response.headers.get(HEADERS_OF_STATUS[status]), (status, dict(response.headers))
    request_id = response.headers.get(REQUEST_ID_HEADER, "")
    assert SANE_REQUEST_ID.fullmatch(request_id), dict(response.headers)
    if status == 500:  # the id is all a 500 says about what happened
        assert request_id in body["detail"], body
    text = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak.lower() not in text.lower(), text
    return body
    # --8<-- [end:assert-problem]


# --8<-- [start:all-rows]
def all_rows(db) -> dict[str, list[str]]:
    """Every row of every table, sorted: compare before and after a refused request to show
    that it changed nothing (and lost nothing)."""
    tables = [
        row["tablename"]
        for row in db.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
        )
    ]
    return {
        table: sorted(
            repr(sorted(row.items()))
            for row in db.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))
        )
        for table in tables
    }
    # --8<-- [end:all-rows]
