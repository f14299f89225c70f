"""Error paths are features: DESIGN.md's error table, row by row, for every endpoint family;
a walk of the URL map with bad input; request ids in responses, logs and 500s.

Each row of the table (400 … 503) is one test, run once per endpoint family (the app's
blueprints); a family a row cannot apply to is listed in NOT_APPLICABLE with the reason, and a
test checks that every family × row is one or the other, so a new blueprint must be thought
through. Every answer is checked by the one `assert_problem` (tests/problems.py), and every
refused request must leave the database exactly as it found it.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from problems import all_rows, assert_problem

from scheduler.request_id import REQUEST_ID_HEADER
from scheduler_common.db import transaction

API = "/api/v1"
FAMILIES = (
    "health",
    "auth",
    "courses",
    "instructors",
    "rooms",
    "students",
    "sections",
    "enrollments",
    "advisor",
    "docs",
)
TOO_LARGE = {"full_name": "x" * (70 * 1024)}  # over the 64 KiB limit
MISSING = 2**63 - 1  # a valid id that no record has


@dataclass
class Context:
    """Clients for each kind of caller, and existing records to aim requests at."""

    admin: object
    anonymous: object
    student: object
    unverified: object
    forged: object
    ids: dict[str, int]
    emails: dict[str, str]


@pytest.fixture
def ctx(app, client, client_for, make_user, db) -> Context:
    """A course, an instructor, a room, a section with one enrolled student, and clients."""
    student, unverified = make_user("student"), make_user("student", verified=False)
    forged = app.test_client()
    forged.environ_base["HTTP_AUTHORIZATION"] = "Bearer not.a.token"
    course = client.post(f"{API}/courses", json={"code": "CS101", "title": "P", "credits": 3})
    instructor = client.post(
        f"{API}/instructors", json={"full_name": "Ada", "email": "ada@example.edu"}
    )
    room = client.post(f"{API}/rooms", json={"name": "Hall A", "capacity": 30})
    section = client.post(
        f"{API}/sections",
        json={
            "course_id": course.get_json()["id"],
            "instructor_id": instructor.get_json()["id"],
            "room_id": room.get_json()["id"],
            "term": "2027-spring",
            "capacity": 10,
            "days": ["MON"],
            "starts_at": "09:00",
            "ends_at": "10:15",
        },
    ).get_json()
    enrolled = client.post(
        f"{API}/sections/{section['id']}/enrollments", json={"student_id": student["student_id"]}
    )
    assert enrolled.status_code == 201, enrolled.get_json()
    # A plan the worker has not made yet (no worker runs here): accepting it is a conflict.
    plan = db.execute(
        "INSERT INTO advisor_plans (student_id, term, goals, provider, model)"
        " VALUES (%s, '2027-spring', 'Anything.', 'offline', 'offline-planner') RETURNING id",
        (student["student_id"],),
    ).fetchone()["id"]
    return Context(
        admin=client,
        anonymous=app.test_client(),
        student=client_for(student),
        unverified=client_for(unverified),
        forged=forged,
        ids={
            "course": course.get_json()["id"],
            "instructor": instructor.get_json()["id"],
            "room": room.get_json()["id"],
            "section": section["id"],
            "student": student["student_id"],
            "unverified": unverified["student_id"],
            "plan": plan,
        },
        emails={"student": student["email"], "instructor": "ada@example.edu"},
    )


@dataclass(frozen=True)
class Case:
    """How one family is made to answer one row's status; `errors` as for assert_problem."""

    send: Callable[[Context], object]
    errors: bool | None = None


def malformed(client, method: str, path: str, raw: str = "{"):
    """Send `raw` as a JSON body."""
    return client.open(path, method=method, data=raw, content_type="application/json")


def not_json(client, method: str, path: str):
    """Send a body that is not JSON."""
    return client.open(path, method=method, data="name=x", content_type="text/plain")


def same_room_and_time(c: Context) -> dict:
    """A new section in the context's section's room at its time: the room is double-booked."""
    return {
        "course_id": c.ids["course"],
        "instructor_id": c.ids["instructor"],
        "room_id": c.ids["room"],
        "term": "2027-spring",
        "capacity": 10,
        "days": ["MON"],
        "starts_at": "09:30",
        "ends_at": "10:00",
    }


PLANS = f"{API}/advisor/plans"
A_REQUEST = {"term": "2027-spring", "goals": "Anything."}


def plans_past_the_quota(c: Context):
    """Ask for plans until refused: ADVISOR_PLANS_PER_DAY (10) a day, the context's included."""
    for _ in range(10):
        response = c.student.post(PLANS, json=A_REQUEST)
        if response.status_code != 202:
            break
    return response


def section_path(c: Context, rest: str = "") -> str:
    """The path of the context's section, plus `rest`."""
    return f"{API}/sections/{c.ids['section']}{rest}"


# --8<-- [start:error-table]
# DESIGN.md's error table: for each status, how each endpoint family is made to answer it.
ERROR_TABLE: dict[int, dict[str, Case]] = {
    400: {
        "auth": Case(lambda c: malformed(c.anonymous, "POST", f"{API}/auth/login")),
        "courses": Case(lambda c: malformed(c.admin, "POST", f"{API}/courses", "[]")),
        "instructors": Case(
            lambda c: malformed(c.admin, "PATCH", f"{API}/instructors/{c.ids['instructor']}")
        ),
        "rooms": Case(lambda c: c.admin.get(f"{API}/rooms?limit=abc"), errors=True),
        "students": Case(lambda c: malformed(c.admin, "POST", f"{API}/students", '"x"')),
        "sections": Case(lambda c: c.admin.get(f"{API}/sections?term=spring"), errors=True),
        "enrollments": Case(lambda c: malformed(c.admin, "POST", section_path(c, "/enrollments"))),
        "advisor": Case(lambda c: malformed(c.student, "POST", PLANS)),
    },
    401: {
        "health": Case(lambda c: c.forged.get(f"{API}/health")),
        "auth": Case(lambda c: c.anonymous.get(f"{API}/auth/me")),
        "courses": Case(lambda c: c.anonymous.post(f"{API}/courses", json={})),
        "instructors": Case(lambda c: c.forged.get(f"{API}/instructors")),
        "rooms": Case(lambda c: c.anonymous.delete(f"{API}/rooms/{c.ids['room']}")),
        "students": Case(lambda c: c.anonymous.get(f"{API}/students/{c.ids['student']}")),
        "sections": Case(lambda c: c.anonymous.patch(section_path(c), json={"notes": "x"})),
        "enrollments": Case(lambda c: c.anonymous.get(section_path(c, "/enrollments"))),
        "docs": Case(lambda c: c.forged.get(f"{API}/openapi.json")),
        "advisor": Case(lambda c: c.anonymous.post(PLANS, json=A_REQUEST)),
    },
    403: {
        "courses": Case(lambda c: c.student.post(f"{API}/courses", json={})),
        "instructors": Case(
            lambda c: c.student.patch(f"{API}/instructors/{c.ids['instructor']}", json={})
        ),
        "rooms": Case(lambda c: c.student.delete(f"{API}/rooms/{c.ids['room']}")),
        "students": Case(lambda c: c.student.get(f"{API}/students/{c.ids['unverified']}")),
        "sections": Case(lambda c: c.student.patch(section_path(c), json={"notes": "x"})),
        "enrollments": Case(
            lambda c: c.unverified.post(
                section_path(c, "/enrollments"), json={"student_id": c.ids["unverified"]}
            )
        ),
        "advisor": Case(lambda c: c.unverified.post(PLANS, json=A_REQUEST)),
    },
    404: {
        "health": Case(lambda c: c.anonymous.get(f"{API}/health/details")),
        "auth": Case(lambda c: c.anonymous.post(f"{API}/auth/forgot-password", json={})),
        "courses": Case(lambda c: c.admin.get(f"{API}/courses/{MISSING}")),
        "instructors": Case(
            lambda c: c.admin.patch(f"{API}/instructors/{MISSING}", json={"full_name": "X"})
        ),
        "rooms": Case(lambda c: c.admin.delete(f"{API}/rooms/{MISSING}")),
        "students": Case(lambda c: c.admin.get(f"{API}/students/abc")),
        "sections": Case(lambda c: c.admin.get(f"{API}/sections/0")),
        "enrollments": Case(
            lambda c: c.admin.delete(section_path(c, f"/enrollments/{c.ids['unverified']}"))
        ),
        "docs": Case(lambda c: c.anonymous.get(f"{API}/docs/assets/missing.js")),
        "advisor": Case(lambda c: c.admin.get(f"{PLANS}/{MISSING}")),
    },
    405: {
        "health": Case(lambda c: c.anonymous.post(f"{API}/health")),
        "auth": Case(lambda c: c.anonymous.get(f"{API}/auth/login")),
        "courses": Case(lambda c: c.admin.put(f"{API}/courses/{c.ids['course']}", json={})),
        "instructors": Case(lambda c: c.admin.delete(f"{API}/instructors")),
        "rooms": Case(lambda c: c.admin.put(f"{API}/rooms/{c.ids['room']}", json={})),
        "students": Case(lambda c: c.admin.post(f"{API}/students/{c.ids['student']}", json={})),
        "sections": Case(lambda c: c.admin.put(section_path(c), json={})),
        "enrollments": Case(
            lambda c: c.admin.patch(section_path(c, f"/enrollments/{c.ids['student']}"), json={})
        ),
        "docs": Case(lambda c: c.anonymous.post(f"{API}/openapi.json")),
        "advisor": Case(lambda c: c.admin.delete(PLANS)),
    },
    409: {
        "auth": Case(
            lambda c: c.anonymous.post(
                f"{API}/auth/register",
                json={"email": c.emails["student"], "password": "long enough", "full_name": "X"},
            )
        ),
        "courses": Case(
            lambda c: c.admin.post(
                f"{API}/courses", json={"code": "CS101", "title": "T", "credits": 1}
            )
        ),
        "instructors": Case(
            lambda c: c.admin.post(
                f"{API}/instructors", json={"full_name": "B", "email": c.emails["instructor"]}
            )
        ),
        "rooms": Case(lambda c: c.admin.delete(f"{API}/rooms/{c.ids['room']}")),
        "students": Case(lambda c: c.admin.delete(f"{API}/students/{c.ids['student']}")),
        "sections": Case(lambda c: c.admin.post(f"{API}/sections", json=same_room_and_time(c))),
        "enrollments": Case(
            lambda c: c.admin.post(
                section_path(c, "/enrollments"), json={"student_id": c.ids["student"]}
            )
        ),
        "advisor": Case(lambda c: c.student.post(f"{PLANS}/{c.ids['plan']}/accept")),
    },
    413: {
        "auth": Case(lambda c: c.anonymous.post(f"{API}/auth/register", json=TOO_LARGE)),
        "courses": Case(lambda c: c.admin.post(f"{API}/courses", json=TOO_LARGE)),
        "instructors": Case(
            lambda c: c.admin.patch(f"{API}/instructors/{c.ids['instructor']}", json=TOO_LARGE)
        ),
        "rooms": Case(lambda c: c.admin.post(f"{API}/rooms", json=TOO_LARGE)),
        "students": Case(
            lambda c: c.student.patch(f"{API}/students/{c.ids['student']}", json=TOO_LARGE)
        ),
        "sections": Case(lambda c: c.admin.patch(section_path(c), json=TOO_LARGE)),
        "enrollments": Case(
            lambda c: c.admin.post(section_path(c, "/enrollments"), json=TOO_LARGE)
        ),
        "advisor": Case(lambda c: c.student.post(PLANS, json=TOO_LARGE)),
    },
    415: {
        "auth": Case(lambda c: not_json(c.anonymous, "POST", f"{API}/auth/verify")),
        "courses": Case(lambda c: not_json(c.admin, "PATCH", f"{API}/courses/{c.ids['course']}")),
        "instructors": Case(lambda c: not_json(c.admin, "POST", f"{API}/instructors")),
        "rooms": Case(lambda c: not_json(c.admin, "PATCH", f"{API}/rooms/{c.ids['room']}")),
        "students": Case(lambda c: not_json(c.admin, "POST", f"{API}/students")),
        "sections": Case(lambda c: not_json(c.admin, "POST", f"{API}/sections")),
        "enrollments": Case(lambda c: not_json(c.student, "POST", section_path(c, "/enrollments"))),
        "advisor": Case(lambda c: not_json(c.student, "POST", PLANS)),
    },
    422: {
        "auth": Case(
            lambda c: c.anonymous.post(
                f"{API}/auth/register",
                json={"email": "new@example.edu", "password": "short", "full_name": "N"},
            )
        ),
        "courses": Case(
            lambda c: c.admin.patch(f"{API}/courses/{c.ids['course']}", json={"credits": 13})
        ),
        "instructors": Case(
            lambda c: c.admin.post(f"{API}/instructors", json={"full_name": "B", "email": "b@"})
        ),
        "rooms": Case(
            lambda c: c.admin.patch(f"{API}/rooms/{c.ids['room']}", json={"capacity": 0})
        ),
        "students": Case(
            lambda c: c.admin.post(f"{API}/students", json={"email": "s@example.edu"})
        ),
        "sections": Case(
            lambda c: c.admin.patch(
                section_path(c), json={"starts_at": "11:00", "ends_at": "10:00"}
            )
        ),
        "enrollments": Case(
            lambda c: c.admin.post(section_path(c, "/enrollments"), json={"student_id": "one"})
        ),
        "advisor": Case(lambda c: c.student.post(PLANS, json={**A_REQUEST, "term": "spring"})),
    },
    429: {
        "auth": Case(lambda c: login_after_failures(c, failures=10)),
        "advisor": Case(plans_past_the_quota),
    },
}
# --8<-- [end:error-table]

NOT_APPLICABLE = {
    (400, "health"): "takes no body and no query parameter",
    (400, "docs"): "takes no body and no query parameter",
    (403, "health"): "public",
    (403, "auth"): "every account may use its own endpoints",
    (403, "docs"): "public",
    (409, "health"): "changes nothing",
    (409, "docs"): "changes nothing",
    (413, "health"): "takes no body",
    (413, "docs"): "takes no body",
    (415, "health"): "takes no body",
    (415, "docs"): "takes no body",
    (422, "health"): "takes no body",
    (422, "docs"): "takes no body",
    **{
        (429, family): "nothing else is throttled"
        for family in FAMILIES
        if family not in ("auth", "advisor")
    },
    (503, "docs"): "never touches the database: the documentation stays up in an outage",
}


def login_after_failures(c: Context, failures: int):
    """Fail to log in `failures` times, then log in with the right password."""
    for _ in range(failures):
        wrong = c.anonymous.post(
            f"{API}/auth/login", json={"email": c.emails["student"], "password": "wrong guess"}
        )
        assert wrong.status_code == 401
    return c.anonymous.post(
        f"{API}/auth/login", json={"email": c.emails["student"], "password": "ignored"}
    )


def endpoint_family(endpoint: str) -> str:
    """The blueprint an endpoint belongs to ("api.courses.get_course" → "courses")."""
    return endpoint.split(".")[1]


def test_the_families_are_the_apps_blueprints(unbound_app):
    served = {
        endpoint_family(rule.endpoint)
        for rule in unbound_app.url_map.iter_rules()
        if rule.endpoint != "static"
    }

    assert served == set(FAMILIES)


def test_every_row_is_tested_for_every_family_or_says_why_not():
    tested = {(status, family) for status, cases in ERROR_TABLE.items() for family in cases}
    tested |= {(500, family) for family in FAULTY_REQUESTS}
    tested |= {(503, family) for family in OUTAGE_REQUESTS}
    statuses = [*ERROR_TABLE, 500, 503]

    assert not tested & set(NOT_APPLICABLE)
    assert tested | set(NOT_APPLICABLE) == {(s, f) for s in statuses for f in FAMILIES}


# --8<-- [start:row-test]
@pytest.mark.parametrize(
    ("status", "family"),
    [(status, family) for status, cases in ERROR_TABLE.items() for family in cases],
    ids=str,
)
def test_the_error_row_for_the_family(status, family, ctx, db):
    case = ERROR_TABLE[status][family]
    before = all_rows(db) if status != 429 else None

    response = case.send(ctx)

    assert_problem(response, status, errors=case.errors)
    if before is not None:  # 429: the failed logins before it are recorded, by design
        assert all_rows(db) == before, "a refused request changed the database"
        # --8<-- [end:row-test]


# --- 500: unexpected; logged with a request id; the body says only that ------------------------

# One request per family, and the endpoint that answers it.
FAULTY_REQUESTS = {
    "health": ("/health", "api.health.health"),
    "auth": ("/auth/me", "api.auth.me"),
    "courses": ("/courses", "api.courses.list_courses"),
    "instructors": ("/instructors", "api.instructors.list_instructors"),
    "rooms": ("/rooms", "api.rooms.list_rooms"),
    "students": ("/students", "api.students.list_students"),
    "sections": ("/sections", "api.sections.list_sections"),
    "enrollments": ("/sections/{section}/enrollments", "api.enrollments.list_roster"),
    "advisor": ("/advisor/plans/{plan}", "api.advisor.get_plan"),
    "docs": ("/openapi.json", "api.docs.openapi_json"),
}
SECRET = "password=hunter2 in SELECT * FROM users"


def half_done_then_broken(**url_values):
    """A view that writes, then fails as no one expected: the write must be rolled back."""
    with transaction() as conn:
        conn.execute("INSERT INTO rooms (name, capacity) VALUES ('Half-done', 1)")
        raise RuntimeError(SECRET)


# --8<-- [start:unexpected]
@pytest.mark.parametrize("family", FAULTY_REQUESTS)
def test_an_unexpected_error_is_a_500_that_quotes_the_request_id_and_nothing_else(
    family, ctx, app, db, monkeypatch
):
    path, endpoint = FAULTY_REQUESTS[family]
    monkeypatch.setitem(app.view_functions, endpoint, half_done_then_broken)
    server_log = io.StringIO()
    before = all_rows(db)

    response = ctx.admin.get(
        API + path.format(**ctx.ids),
        headers={REQUEST_ID_HEADER: f"support-{family}"},
        environ_overrides={"wsgi.errors": server_log},
    )

    body = assert_problem(response, 500)
    assert response.headers[REQUEST_ID_HEADER] == f"support-{family}"
    assert body["detail"] == (
        f"Something went wrong on our side. Quote request id support-{family} when reporting it."
    )
    assert "hunter2" not in response.get_data(as_text=True)
    assert all_rows(db) == before, "the half-done write was not rolled back"
    log = server_log.getvalue()
    assert f"[request support-{family}]" in log.splitlines()[0]
    assert "RuntimeError: password=hunter2" in log  # the log has what the client must not see
    # --8<-- [end:unexpected]


# --- 503: the database is unavailable --------------------------------------------------------

OUTAGE_REQUESTS = {
    "health": ("GET", "/health", None),
    "auth": ("POST", "/auth/login", {"email": "a@example.edu", "password": "whatever"}),
    "courses": ("GET", "/courses", None),
    "instructors": ("GET", "/instructors/1", None),
    "rooms": ("GET", "/rooms", None),
    "students": ("GET", "/students/1", None),
    "sections": ("GET", "/sections", None),
    "enrollments": ("GET", "/sections/1/enrollments", None),
    "advisor": ("GET", "/advisor/plans/1", None),
}


@pytest.mark.parametrize("family", OUTAGE_REQUESTS)
def test_a_database_outage_is_a_503_with_retry_after(family, app, client, database_outage):
    # As an admin: on a protected route, loading the caller is what meets the outage.
    method, path, body = OUTAGE_REQUESTS[family]
    app.extensions["scheduler_db_pool"].timeout = 0.5
    server_log = io.StringIO()

    with database_outage():
        response = client.open(
            API + path, method=method, json=body, environ_overrides={"wsgi.errors": server_log}
        )
        documentation = app.test_client().get(f"{API}/openapi.json")

    assert_problem(response, 503)
    assert response.headers["Retry-After"].isdigit()
    assert f"[request {response.headers[REQUEST_ID_HEADER]}]" in server_log.getvalue()
    assert documentation.status_code == 200


# --- the walk: every route, bad input, never HTML, text or a stack trace -----------------------


# POSTs that are actions on what the URL names, with nothing to send: a body is not read.
TAKES_NO_BODY = {"api.advisor.accept_plan"}


def bad_requests(rule, method: str) -> list[tuple[str, dict, int]]:
    """What to send to one route that it must refuse: (description, request, status)."""
    path = re.sub(r"<id:\w+>", "1", rule.rule).replace("<filename>", "init.js")
    requests = [
        ("a forged token", {"headers": {"Authorization": "Bearer forged"}}, 401),
        ("a method it does not have", {"path": path, "method": "PUT"}, 405),
    ]
    if "<id:" in rule.rule:
        for bad_id in ("0", "abc", "1.5", "-1", "1" * 20):
            bad_path = re.sub(r"<id:\w+>", bad_id, rule.rule, count=1)
            bad_path = re.sub(r"<id:\w+>", "1", bad_path)
            requests.append((f"the id {bad_id!r}", {"path": bad_path}, 404))
    if method in ("POST", "PATCH") and rule.endpoint not in TAKES_NO_BODY:
        requests += [
            ("malformed JSON", {"data": "{", "content_type": "application/json"}, 400),
            ("JSON that is no object", {"data": "[]", "content_type": "application/json"}, 400),
            ("a body that is not JSON", {"data": "<p>", "content_type": "text/html"}, 415),
            ("a body over the limit", {"json": TOO_LARGE}, 413),
        ]
    return [
        (description, {"path": path, "method": method, **request}, status)
        for description, request, status in requests
    ]


# --8<-- [start:walk]
def test_no_route_answers_bad_input_with_anything_but_a_problem(app, client):
    failures = []
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    for rule in rules:
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            for description, request, status in bad_requests(rule, method):
                try:
                    assert_problem(client.open(**request), status)
                except AssertionError as error:  # the contract client's too
                    failures.append(f"{method} {rule.rule} with {description}: {error}")

    assert not failures, "\n".join(failures)
    assert len(rules) > 20  # the walk walked
    # --8<-- [end:walk]


# --- request ids ------------------------------------------------------------------------------


@pytest.mark.parametrize("request_id", ["a", "trace-42", "A.b_c-9", "x" * 64])
def test_a_sane_request_id_from_the_client_is_kept(anonymous_client, request_id):
    response = anonymous_client.get(f"{API}/health", headers={REQUEST_ID_HEADER: request_id})

    assert response.headers[REQUEST_ID_HEADER] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["", "x" * 65, "two words", "naïve", "a,b", "<script>", "id;drop"],
    ids=["empty", "65-chars", "space", "non-ascii", "comma", "markup", "semicolon"],
)
def test_any_other_request_id_is_replaced_by_a_new_one(anonymous_client, request_id):
    response = anonymous_client.get(f"{API}/health", headers={REQUEST_ID_HEADER: request_id})

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers[REQUEST_ID_HEADER])


def test_each_request_gets_its_own_id_on_every_kind_of_answer(anonymous_client, client):
    answers = [
        anonymous_client.get(f"{API}/health"),
        anonymous_client.get(f"{API}/nowhere"),
        client.post(f"{API}/courses", json={"code": "CS101", "title": "P", "credits": 3}),
        client.delete(f"{API}/courses/1"),
        anonymous_client.get(f"{API}/docs"),
    ]

    assert [answer.status_code for answer in answers] == [200, 404, 201, 204, 200]
    ids = [answer.headers[REQUEST_ID_HEADER] for answer in answers]
    assert len(set(ids)) == len(ids)


def test_a_log_line_outside_any_request_says_so(app, capsys):
    with app.app_context():
        app.logger.warning("starting up")

    assert "[request -] scheduler: starting up" in capsys.readouterr().err
