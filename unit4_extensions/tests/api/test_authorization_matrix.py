"""The authorization matrix: every route of the API, called by each of seven actors, and the
status each one gets, written down as one table of data.

A test checks the table against the app's URL map, so a route added without a row fails the
suite until someone decides, in writing, who may call it. Each cell runs in a fresh database
arranged by `world` (plain SQL: fast, and independent of the routes under test):

- `student` is verified and enrolled in `section`; `other_student` is verified too;
  `unverified` has not confirmed their email;
- `instructor` teaches `section`, `open` and `spare_section`; `other_instructor` teaches
  `other_section`;
- `spare_*` records are referenced by nothing, so that an admin may delete them.

A refusal (401, 403) must be a problem and change nothing; a success must change the database
exactly when it is a write.
"""

import re
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from helpers import insert_ready_plan
from problems import all_rows, assert_problem
from psycopg import sql
from settings import TEST_PASSWORD

from scheduler.clock import utc_now
from scheduler.repositories import refresh_tokens, verifications
from scheduler.security import hash_token

API = "/api/v1"
ACTORS = (
    "anonymous",
    "unverified",
    "student",
    "other_student",
    "instructor",
    "other_instructor",
    "admin",
)

# --8<-- [start:matrix]
# One row per request, "METHOD path [body]", and the status each actor gets: anonymous, the
# unverified student, the student, another student, the section's instructor, another
# instructor, an admin (ACTORS). {names} in a path are records of the world; the body is
# named from BODIES below.
# fmt: off
MATRIX = [
    #                                                    anon unv  stu  oth  ins  oins adm
    ("GET /health",                                     (200, 200, 200, 200, 200, 200, 200)),
    # accounts: public, except who am I
    ("POST /auth/register new_account",                 (201, 201, 201, 201, 201, 201, 201)),
    ("POST /auth/verify verification",                  (200, 200, 200, 200, 200, 200, 200)),
    ("POST /auth/resend-verification unverified_email", (202, 202, 202, 202, 202, 202, 202)),
    ("POST /auth/login student_login",                  (200, 200, 200, 200, 200, 200, 200)),
    ("POST /auth/refresh refresh_token",                (200, 200, 200, 200, 200, 200, 200)),
    ("POST /auth/logout refresh_token",                 (204, 204, 204, 204, 204, 204, 204)),
    ("GET /auth/me",                                    (401, 200, 200, 200, 200, 200, 200)),
    # the catalog: public reads, admin writes (not even an instructor's own record)
    ("GET /courses",                                    (200, 200, 200, 200, 200, 200, 200)),
    ("POST /courses new_course",                        (401, 403, 403, 403, 403, 403, 201)),
    ("GET /courses/{course}",                           (200, 200, 200, 200, 200, 200, 200)),
    ("PATCH /courses/{course} title",                   (401, 403, 403, 403, 403, 403, 200)),
    ("DELETE /courses/{spare_course}",                  (401, 403, 403, 403, 403, 403, 204)),
    ("GET /instructors",                                (200, 200, 200, 200, 200, 200, 200)),
    ("POST /instructors new_instructor",                (401, 403, 403, 403, 403, 403, 201)),
    ("GET /instructors/{instructor}",                   (200, 200, 200, 200, 200, 200, 200)),
    ("PATCH /instructors/{instructor} full_name",       (401, 403, 403, 403, 403, 403, 200)),
    ("DELETE /instructors/{spare_instructor}",          (401, 403, 403, 403, 403, 403, 204)),
    ("GET /rooms",                                      (200, 200, 200, 200, 200, 200, 200)),
    ("POST /rooms new_room",                            (401, 403, 403, 403, 403, 403, 201)),
    ("GET /rooms/{room}",                               (200, 200, 200, 200, 200, 200, 200)),
    ("PATCH /rooms/{room} room_name",                   (401, 403, 403, 403, 403, 403, 200)),
    ("DELETE /rooms/{spare_room}",                      (401, 403, 403, 403, 403, 403, 204)),
    # students: admins list, create and delete; a student reads and renames only themselves
    ("GET /students",                                   (401, 403, 403, 403, 403, 403, 200)),
    ("POST /students new_student",                      (401, 403, 403, 403, 403, 403, 201)),
    ("GET /students/{student}",                         (401, 403, 200, 403, 403, 403, 200)),
    ("GET /students/{unverified}",                      (401, 200, 403, 403, 403, 403, 200)),
    ("PATCH /students/{student} full_name",             (401, 403, 200, 403, 403, 403, 200)),
    ("DELETE /students/{spare_student}",                (401, 403, 403, 403, 403, 403, 204)),
    ("GET /students/{student}/schedule",                (401, 403, 200, 403, 403, 403, 200)),
    # sections: public reads, admin writes; an instructor the notes of their own
    ("GET /sections",                                   (200, 200, 200, 200, 200, 200, 200)),
    ("POST /sections new_section",                      (401, 403, 403, 403, 403, 403, 201)),
    ("GET /sections/{section}",                         (200, 200, 200, 200, 200, 200, 200)),
    ("PATCH /sections/{section} notes",                 (401, 403, 403, 403, 200, 403, 200)),
    ("DELETE /sections/{spare_section}",                (401, 403, 403, 403, 403, 403, 204)),
    # enrollments: oneself once verified (or anyone, for an admin); rosters for the teacher
    ("POST /sections/{open}/enrollments the_student",   (401, 403, 201, 403, 403, 403, 201)),
    ("POST /sections/{open}/enrollments the_unverified",(401, 403, 403, 403, 403, 403, 201)),
    ("GET /sections/{section}/enrollments",             (401, 403, 403, 403, 200, 403, 200)),
    ("GET /sections/{section}/enrollments/{student}",   (401, 403, 200, 403, 200, 403, 200)),
    ("DELETE /sections/{section}/enrollments/{student}",(401, 403, 204, 403, 403, 403, 204)),
    # the advisor: a verified student asks for themselves; their plan, theirs or an admin's
    ("POST /advisor/plans advisor_request",             (401, 403, 202, 202, 403, 403, 403)),
    ("GET /advisor/plans/{plan}",                       (401, 403, 200, 403, 403, 403, 200)),
    ("POST /advisor/plans/{plan}/accept no_fields",     (401, 403, 200, 403, 403, 403, 200)),
    # the API's documentation: public
    ("GET /openapi.json",                               (200, 200, 200, 200, 200, 200, 200)),
    ("GET /docs",                                       (200, 200, 200, 200, 200, 200, 200)),
    ("GET /docs/assets/{asset}",                        (200, 200, 200, 200, 200, 200, 200)),
]
# fmt: on
# --8<-- [end:matrix]


# --- the arranged world --------------------------------------------------------------------


@dataclass
class World:
    """Ids (and names) of the arranged records, the user behind each actor, one-time tokens."""

    ids: dict[str, int | str]
    users: dict[str, dict]
    verification_token: str
    refresh_token: str


def insert(db, table: str, **fields) -> int:
    """Insert one row straight into `table` and return its id."""
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING id").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, fields)),
        sql.SQL(", ").join(map(sql.Placeholder, fields)),
    )
    return db.execute(query, fields).fetchone()["id"]


def insert_section(db, instructor_id: int, course_id: int, room_id: int, days: list[str]) -> int:
    """Schedule a 2027-spring section at 09:00–10:15 on `days`, for 10 students."""
    return db.execute(
        "INSERT INTO sections (course_id, instructor_id, room_id, term, capacity, days,"
        " starts_at, ends_at) VALUES (%s, %s, %s, '2027-spring', 10, %s::weekday[],"
        " '09:00', '10:15') RETURNING id",
        (course_id, instructor_id, room_id, days),
    ).fetchone()["id"]


@pytest.fixture
def world(db, make_user, admin) -> World:
    """The records and users every cell is run against (see the module's docstring)."""
    users = {
        "admin": admin,
        "student": make_user("student"),
        "other_student": make_user("student"),
        "unverified": make_user("student", verified=False),
        "instructor": make_user("instructor"),
        "other_instructor": make_user("instructor"),
    }
    teacher = users["instructor"]["instructor_id"]
    course = insert(db, "courses", code="CS101", title="Programming", credits=3)
    room = insert(db, "rooms", name="Hall A", capacity=30)
    section = insert_section(db, teacher, course, room, ["MON", "WED"])
    db.execute(
        "INSERT INTO enrollments (section_id, student_id) VALUES (%s, %s)",
        (section, users["student"]["student_id"]),
    )
    verification_token, refresh_token = "verify-" + uuid.uuid4().hex, uuid.uuid4().hex
    now = utc_now()
    verifications.create(
        db, users["unverified"]["id"], hash_token(verification_token), now, timedelta(hours=1)
    )
    refresh_tokens.create(
        db, users["student"]["id"], uuid.uuid4(), hash_token(refresh_token), now, timedelta(days=1)
    )
    other_teacher = users["other_instructor"]["instructor_id"]
    return World(
        ids={
            "course": course,
            "spare_course": insert(db, "courses", code="CS999", title="Spare", credits=1),
            "instructor": teacher,
            "spare_instructor": insert(
                db, "instructors", full_name="Spare Teacher", email="spare@example.edu"
            ),
            "room": room,
            "spare_room": insert(db, "rooms", name="Spare Room", capacity=5),
            "student": users["student"]["student_id"],
            "unverified": users["unverified"]["student_id"],
            "spare_student": insert(
                db, "students", full_name="Spare Student", email="spare.student@example.edu"
            ),
            "section": section,
            "open": insert_section(db, teacher, course, room, ["TUE", "THU"]),
            "spare_section": insert_section(db, teacher, course, room, ["SAT"]),
            "other_section": insert_section(db, other_teacher, course, room, ["FRI"]),
            "asset": "init.js",
            "plan": insert_ready_plan(db, users["student"]["student_id"], []),
        },
        users=users,
        verification_token=verification_token,
        refresh_token=refresh_token,
    )


# --- the requests of the rows ----------------------------------------------------------------

BODIES: dict[str, Callable[[World], dict]] = {
    "new_account": lambda _w: {
        "email": "newcomer@example.edu",
        "password": TEST_PASSWORD,
        "full_name": "New Comer",
    },
    "verification": lambda w: {"token": w.verification_token},
    "unverified_email": lambda w: {"email": w.users["unverified"]["email"]},
    "student_login": lambda w: {"email": w.users["student"]["email"], "password": TEST_PASSWORD},
    "refresh_token": lambda w: {"refresh_token": w.refresh_token},
    "new_course": lambda _w: {"code": "CS202", "title": "Data", "credits": 4},
    "title": lambda _w: {"title": "Renamed"},
    "new_instructor": lambda _w: {"full_name": "New Teacher", "email": "new.t@example.edu"},
    "full_name": lambda _w: {"full_name": "Renamed"},
    "new_room": lambda _w: {"name": "Hall B", "capacity": 20},
    "room_name": lambda _w: {"name": "Hall A2"},
    "new_student": lambda _w: {"full_name": "New Student", "email": "new.s@example.edu"},
    "new_section": lambda w: {
        "course_id": w.ids["course"],
        "instructor_id": w.users["other_instructor"]["instructor_id"],
        "room_id": w.ids["room"],
        "term": "2027-spring",
        "capacity": 10,
        "days": ["SUN"],
        "starts_at": "09:00",
        "ends_at": "10:15",
    },
    "notes": lambda _w: {"notes": "Bring a laptop."},
    "the_student": lambda w: {"student_id": w.ids["student"]},
    "the_unverified": lambda w: {"student_id": w.ids["unverified"]},
    "advisor_request": lambda _w: {"term": "2027-spring", "goals": "Anything."},
    "no_fields": lambda _w: {},
}


@dataclass(frozen=True)
class Call:
    """One row's request: method, path with {world names}, and the name of its body."""

    method: str
    path: str
    body: str | None

    @classmethod
    def parse(cls, request: str) -> "Call":
        """Read "METHOD path [body]"."""
        method, path, *body = request.split()
        return cls(method, path, body[0] if body else None)

    def url(self, ids: dict) -> str:
        """The full path, with each {name} replaced by that record of the world."""
        return API + re.sub(r"\{(\w+)\}", lambda match: str(ids[match.group(1)]), self.path)

    def send(self, client, world: World):
        """Make the request with `client`."""
        body = BODIES[self.body](world) if self.body else None
        return client.open(self.url(world.ids), method=self.method, json=body)


CELLS = [
    pytest.param(Call.parse(request), actor, status, id=f"{request} as {actor}")
    for request, statuses in MATRIX
    for actor, status in zip(ACTORS, statuses, strict=True)
]


# --- the table against the app ---------------------------------------------------------------


# --8<-- [start:every-route]
def test_the_matrix_has_a_row_for_every_route_and_only_for_routes(unbound_app):
    adapter = unbound_app.url_map.bind("localhost")
    served = {
        (method, rule.rule)
        for rule in unbound_app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    rows = {}
    for request, _ in MATRIX:
        call = Call.parse(request)
        any_ids = defaultdict(lambda: 1)  # an id or a file name: which rule, not which record
        rule, _ = adapter.match(call.url(any_ids), method=call.method, return_rule=True)
        rows.setdefault((call.method, rule.rule), []).append(request)

    assert served - set(rows) == set(), "routes without a row in the matrix"
    assert set(rows) == served
    # --8<-- [end:every-route]


def test_every_row_is_one_request_with_a_status_for_each_actor():
    requests = [request for request, _ in MATRIX]

    assert len(requests) == len(set(requests))
    for request, statuses in MATRIX:
        call = Call.parse(request)
        assert len(statuses) == len(ACTORS), request
        assert (call.body is None) == (call.method in ("GET", "DELETE")), request
        assert call.body is None or call.body in BODIES, request


# --- every cell --------------------------------------------------------------------------------


# --8<-- [start:cell]
@pytest.mark.parametrize(("call", "actor", "status"), CELLS)
def test_the_cell(call, actor, status, world, app, client_for, db):
    client = app.test_client() if actor == "anonymous" else client_for(world.users[actor])
    before = all_rows(db)

    response = call.send(client, world)

    if status >= 400:
        assert_problem(response, status)
        assert ("WWW-Authenticate" in response.headers) == (status == 401)
        assert all_rows(db) == before, "a refused request changed the database"
    else:
        assert response.status_code == status, response.get_data(as_text=True)
        assert (all_rows(db) != before) == (call.method != "GET"), "reads change nothing"
        # --8<-- [end:cell]
