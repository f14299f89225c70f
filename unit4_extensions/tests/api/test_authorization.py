"""Who may do what: every route of the API, without a token, with the wrong role or owner,
and with the right credentials; then each ownership rule from both sides.

The matrix (`ROUTES`) lists every method and rule of the app; a test checks it against the
app's URL map, so a route added without an entry here fails the suite. Each route is called
in a fresh database arranged by `world`:

- `student` (A, verified) is enrolled in `section`; `other_student` (B) is verified too;
  `unverified` is a student who has not confirmed their email;
- `instructor` (X) teaches `section`, `open_section` and `spare_section`;
  `other_instructor` (Y) teaches `other_section`;
- `spare_*` records are referenced by nothing, so an admin may delete them.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from helpers import (
    assert_problem,
    course_body,
    insert_ready_plan,
    instructor_body,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
    room_body,
    student_body,
)
from psycopg import sql
from settings import TEST_PASSWORD

API = "/api/v1"
ACTORS = ("admin", "student", "other_student", "unverified", "instructor", "other_instructor")
ADMIN = ("admin",)
NOT_ADMIN = ("student", "instructor")
PAGE = {"limit": "20", "offset": "0"}


# --- the arranged world --------------------------------------------------------------------


@dataclass
class World:
    """Ids of the arranged records, the users behind each actor, and one-time tokens."""

    ids: dict[str, int | str]
    users: dict[str, dict]
    verification_token: str
    registered_email: str
    refresh_token: str


@pytest.fixture
def world(client, anonymous_client, make_user, admin, db) -> World:
    users = {
        "admin": admin,
        "student": make_user("student"),
        "other_student": make_user("student"),
        "unverified": make_user("student", verified=False),
        "instructor": make_user("instructor"),
        "other_instructor": make_user("instructor"),
    }
    teacher = users["instructor"]["instructor_id"]
    other_teacher = users["other_instructor"]["instructor_id"]
    course = make_course(client)
    room = make_room(client, capacity=30)
    slot = {"course_id": course["id"], "room_id": room["id"], "starts_at": "09:00"}
    section = make_section(client, instructor_id=teacher, days=["MON", "WED"], **slot)
    open_section = make_section(client, instructor_id=teacher, days=["TUE", "THU"], **slot)
    spare_section = make_section(client, instructor_id=teacher, days=["SAT"], **slot)
    other_section = make_section(client, instructor_id=other_teacher, days=["FRI"], **slot)
    student_id = users["student"]["student_id"]
    enrolled = client.post(
        f"{API}/sections/{section['id']}/enrollments", json={"student_id": student_id}
    )
    assert enrolled.status_code == 201, enrolled.get_json()

    registered_email = "newcomer@example.edu"
    registered = anonymous_client.post(
        f"{API}/auth/register",
        json={"email": registered_email, "password": TEST_PASSWORD, "full_name": "New Comer"},
    )
    assert registered.status_code == 201, registered.get_json()
    mail = db.execute("SELECT body FROM outbox ORDER BY id DESC LIMIT 1").fetchone()["body"]
    verification_token = re.search(r"auth/verify:\s+(\S+)", mail).group(1)
    login = anonymous_client.post(
        f"{API}/auth/login", json={"email": users["student"]["email"], "password": TEST_PASSWORD}
    )
    assert login.status_code == 200, login.get_json()

    return World(
        ids={
            "course": course["id"],
            "spare_course": make_course(client)["id"],
            "instructor": teacher,
            "spare_instructor": make_instructor(client)["id"],
            "room": room["id"],
            "spare_room": make_room(client)["id"],
            "student": student_id,
            "other_student": users["other_student"]["student_id"],
            "unverified": users["unverified"]["student_id"],
            "spare_student": make_student(client)["id"],
            "section": section["id"],
            "open_section": open_section["id"],
            "spare_section": spare_section["id"],
            "other_section": other_section["id"],
            "viewer_script": "init.js",
            "plan": insert_ready_plan(db, student_id, []),
        },
        users=users,
        verification_token=verification_token,
        registered_email=registered_email,
        refresh_token=login.get_json()["refresh_token"],
    )


def snapshot(db) -> dict[str, list[str]]:
    """Every row of every table, sorted: compare before and after to show nothing changed."""
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


# --- the matrix ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """One method on one URL rule, and who may call it.

    `allowed` empty means public. `ids` maps each URL variable to a key of `World.ids`;
    `body` builds the JSON body from the world.
    """

    method: str
    rule: str
    ok: int
    allowed: tuple[str, ...] = ()
    denied: tuple[str, ...] = ()
    ids: dict[str, str] = field(default_factory=dict)
    body: Callable[[World], dict] | None = None
    query: dict[str, str] | None = None

    @property
    def public(self) -> bool:
        return not self.allowed

    @property
    def name(self) -> str:
        return f"{self.method} {self.rule}"

    def path(self, world: World) -> str:
        return API + re.sub(
            r"<(?:id:)?(\w+)>", lambda match: str(world.ids[self.ids[match.group(1)]]), self.rule
        )

    def call(self, client, world: World):
        body = self.body(world) if self.body else None
        return client.open(self.path(world), method=self.method, json=body, query_string=self.query)


def new_section_body(world: World) -> dict:
    return {
        "course_id": world.ids["course"],
        "instructor_id": world.users["other_instructor"]["instructor_id"],
        "room_id": world.ids["room"],
        "term": "2027-spring",
        "capacity": 10,
        "days": ["SUN"],
        "starts_at": "09:00",
        "ends_at": "10:15",
    }


COURSE = {"course_id": "course"}
SPARE_COURSE = {"course_id": "spare_course"}
INSTRUCTOR = {"instructor_id": "instructor"}
SPARE_INSTRUCTOR = {"instructor_id": "spare_instructor"}
ROOM = {"room_id": "room"}
SPARE_ROOM = {"room_id": "spare_room"}
STUDENT = {"student_id": "student"}
SECTION = {"section_id": "section"}
ENROLLMENT = {"section_id": "section", "student_id": "student"}

ROUTES = [
    Route("GET", "/health", 200),
    # accounts: public, except who am I
    Route(
        "POST",
        "/auth/register",
        201,
        body=lambda _w: {
            "email": "someone@example.edu",
            "password": TEST_PASSWORD,
            "full_name": "S",
        },
    ),
    Route("POST", "/auth/verify", 200, body=lambda w: {"token": w.verification_token}),
    Route("POST", "/auth/resend-verification", 202, body=lambda w: {"email": w.registered_email}),
    Route(
        "POST",
        "/auth/login",
        200,
        body=lambda w: {"email": w.users["student"]["email"], "password": TEST_PASSWORD},
    ),
    Route("POST", "/auth/refresh", 200, body=lambda w: {"refresh_token": w.refresh_token}),
    Route("POST", "/auth/logout", 204, body=lambda w: {"refresh_token": w.refresh_token}),
    Route("GET", "/auth/me", 200, allowed=ACTORS),
    # the catalog: public reads, admin writes
    Route("GET", "/courses", 200, query=PAGE),
    Route("GET", "/courses/<id:course_id>", 200, ids=COURSE),
    Route("POST", "/courses", 201, ADMIN, NOT_ADMIN, body=lambda _w: course_body()),
    Route(
        "PATCH", "/courses/<id:course_id>", 200, ADMIN, NOT_ADMIN, COURSE, lambda _w: {"title": "T"}
    ),
    Route("DELETE", "/courses/<id:course_id>", 204, ADMIN, NOT_ADMIN, SPARE_COURSE),
    Route("GET", "/instructors", 200, query=PAGE),
    Route("GET", "/instructors/<id:instructor_id>", 200, ids=INSTRUCTOR),
    Route("POST", "/instructors", 201, ADMIN, NOT_ADMIN, body=lambda _w: instructor_body()),
    Route(
        "PATCH",
        "/instructors/<id:instructor_id>",
        200,
        ADMIN,
        ("student", "instructor"),  # not even their own instructor record
        INSTRUCTOR,
        lambda _w: {"full_name": "Renamed"},
    ),
    Route("DELETE", "/instructors/<id:instructor_id>", 204, ADMIN, NOT_ADMIN, SPARE_INSTRUCTOR),
    Route("GET", "/rooms", 200, query=PAGE),
    Route("GET", "/rooms/<id:room_id>", 200, ids=ROOM),
    Route("POST", "/rooms", 201, ADMIN, NOT_ADMIN, body=lambda _w: room_body()),
    Route("PATCH", "/rooms/<id:room_id>", 200, ADMIN, NOT_ADMIN, ROOM, lambda _w: {"name": "R"}),
    Route("DELETE", "/rooms/<id:room_id>", 204, ADMIN, NOT_ADMIN, SPARE_ROOM),
    # students: admins list, create and delete; a student reads and changes their own
    Route("GET", "/students", 200, ADMIN, NOT_ADMIN, query=PAGE),
    Route("POST", "/students", 201, ADMIN, NOT_ADMIN, body=lambda _w: student_body()),
    Route(
        "GET",
        "/students/<id:student_id>",
        200,
        ("admin", "student"),
        ("other_student", "instructor"),
        STUDENT,
    ),
    Route(
        "PATCH",
        "/students/<id:student_id>",
        200,
        ("admin", "student"),
        ("other_student", "instructor"),
        STUDENT,
        lambda _w: {"full_name": "Renamed Student"},
    ),
    Route(
        "DELETE",
        "/students/<id:student_id>",
        204,
        ADMIN,
        ("student", "instructor"),
        {"student_id": "spare_student"},
    ),
    Route(
        "GET",
        "/students/<id:student_id>/schedule",
        200,
        ("admin", "student"),
        ("other_student", "instructor"),
        STUDENT,
        query=PAGE,
    ),
    # sections: public reads, admin writes, instructors the notes of their own
    Route("GET", "/sections", 200, query=PAGE),
    Route("GET", "/sections/<id:section_id>", 200, ids=SECTION),
    Route("POST", "/sections", 201, ADMIN, NOT_ADMIN, body=new_section_body),
    Route(
        "PATCH",
        "/sections/<id:section_id>",
        200,
        ("admin", "instructor"),
        ("student", "other_instructor"),
        SECTION,
        lambda _w: {"notes": "Bring a laptop."},
    ),
    Route(
        "DELETE",
        "/sections/<id:section_id>",
        204,
        ADMIN,
        ("student", "instructor"),  # not even the section's own instructor
        {"section_id": "spare_section"},
    ),
    # enrollments
    Route(
        "POST",
        "/sections/<id:section_id>/enrollments",
        201,
        ("admin", "student"),
        ("other_student", "unverified", "instructor", "other_instructor"),
        {"section_id": "open_section"},
        lambda w: {"student_id": w.ids["student"]},
    ),
    Route(
        "GET",
        "/sections/<id:section_id>/enrollments",
        200,
        ("admin", "instructor"),
        ("student", "other_student", "other_instructor"),
        SECTION,
        query=PAGE,
    ),
    Route(
        "GET",
        "/sections/<id:section_id>/enrollments/<id:student_id>",
        200,
        ("admin", "student", "instructor"),
        ("other_student", "other_instructor"),
        ENROLLMENT,
    ),
    Route(
        "DELETE",
        "/sections/<id:section_id>/enrollments/<id:student_id>",
        204,
        ("admin", "student"),
        ("other_student", "instructor", "other_instructor"),
        ENROLLMENT,
    ),
    # the advisor: a verified student asks for themselves; their plans, theirs or an admin's
    Route(
        "POST",
        "/advisor/plans",
        202,
        ("student", "other_student"),
        ("admin", "unverified", "instructor", "other_instructor"),
        body=lambda _w: {"term": "2027-spring", "goals": "Anything."},
    ),
    Route(
        "GET",
        "/advisor/plans/<id:plan_id>",
        200,
        ("admin", "student"),
        ("other_student", "unverified", "instructor", "other_instructor"),
        {"plan_id": "plan"},
    ),
    Route(
        "POST",
        "/advisor/plans/<id:plan_id>/accept",
        200,
        ("admin", "student"),
        ("other_student", "unverified", "instructor", "other_instructor"),
        {"plan_id": "plan"},
    ),
    # the API's documentation: public
    Route("GET", "/openapi.json", 200),
    Route("GET", "/docs", 200),
    Route("GET", "/docs/assets/<filename>", 200, ids={"filename": "viewer_script"}),
]

PROTECTED = [route for route in ROUTES if not route.public]
WRONG = [
    pytest.param(route, actor, id=f"{route.name} as {actor}")
    for route in ROUTES
    for actor in route.denied
]
RIGHT = [
    pytest.param(route, actor, id=f"{route.name} as {actor}")
    for route in ROUTES
    for actor in route.allowed
]


def by_name(route: Route) -> str:
    return route.name


def test_the_matrix_lists_every_route_of_the_api_once(app):
    served = {
        (method, rule.rule.removeprefix(API))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    listed = [(route.method, route.rule) for route in ROUTES]

    assert len(listed) == len(set(listed))
    assert set(listed) == served


def test_the_matrix_names_every_actor_at_most_once_per_route():
    for route in ROUTES:
        assert not set(route.allowed) & set(route.denied), route.name
        assert set(route.allowed) | set(route.denied) <= set(ACTORS), route.name
        if not route.public:
            assert route.denied or set(route.allowed) == set(ACTORS), route.name


# --- the matrix: no token, wrong token, right token ------------------------------------------


@pytest.mark.parametrize("route", ROUTES, ids=by_name)
def test_without_a_token(route, world, anonymous_client, db):
    before = snapshot(db)

    response = route.call(anonymous_client, world)

    if route.public:
        assert response.status_code == route.ok, response.get_json()
        return
    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert snapshot(db) == before


@pytest.mark.parametrize(("route", "actor"), WRONG)
def test_with_a_wrong_role_or_owner_token_is_403_and_changes_nothing(
    route, actor, world, client_for, db
):
    before = snapshot(db)

    response = route.call(client_for(world.users[actor]), world)

    assert_problem(response, 403)
    assert "WWW-Authenticate" not in response.headers
    assert snapshot(db) == before


@pytest.mark.parametrize(("route", "actor"), RIGHT)
def test_with_the_right_credentials_succeeds(route, actor, world, client_for, db):
    before = snapshot(db)

    response = route.call(client_for(world.users[actor]), world)

    assert response.status_code == route.ok, response.get_json()
    if route.method == "GET":
        assert snapshot(db) == before
    else:
        assert snapshot(db) != before


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.public and r.method == "GET"], ids=by_name
)
def test_public_reads_answer_every_role_alike(route, world, anonymous_client, client_for):
    expected = route.call(anonymous_client, world)

    for actor in ACTORS:
        response = route.call(client_for(world.users[actor]), world)
        assert response.status_code == route.ok, (actor, response.get_json())
        assert response.get_json() == expected.get_json(), actor


@pytest.mark.parametrize("route", PROTECTED, ids=by_name)
def test_authentication_comes_before_the_body_and_the_id(route, world, anonymous_client):
    """A protected route answers 401 even to a broken body or an id that does not exist:
    an anonymous caller learns nothing about the data."""
    path = re.sub(r"/[0-9]+", "/987654321", route.path(world))

    response = anonymous_client.open(path, method=route.method, data="{", content_type="text/x")

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


# --- students: A against B ----------------------------------------------------------------


def student_row(db, student_id: int) -> dict:
    return db.execute("SELECT * FROM students WHERE id = %s", (student_id,)).fetchone()


def test_a_student_reads_and_changes_their_own_record_and_no_one_elses(world, client_for, db):
    a, b = client_for(world.users["student"]), client_for(world.users["other_student"])
    a_id, b_id = world.ids["student"], world.ids["other_student"]

    assert a.get(f"{API}/students/{a_id}").get_json()["id"] == a_id
    assert b.get(f"{API}/students/{b_id}").get_json()["id"] == b_id
    assert_problem(a.get(f"{API}/students/{b_id}"), 403)
    assert_problem(b.get(f"{API}/students/{a_id}"), 403)

    b_before = student_row(db, b_id)
    assert_problem(a.patch(f"{API}/students/{b_id}", json={"full_name": "Hijacked"}), 403)
    assert student_row(db, b_id) == b_before

    changed = a.patch(f"{API}/students/{a_id}", json={"full_name": "Ada Lovelace"})
    assert changed.status_code == 200
    assert changed.get_json()["full_name"] == "Ada Lovelace"
    assert student_row(db, a_id)["full_name"] == "Ada Lovelace"


def test_a_student_sees_their_own_schedule_and_no_one_elses(world, client_for):
    a, b = client_for(world.users["student"]), client_for(world.users["other_student"])
    a_id, b_id = world.ids["student"], world.ids["other_student"]

    own = a.get(f"{API}/students/{a_id}/schedule", query_string=PAGE)
    assert own.status_code == 200
    assert [item["id"] for item in own.get_json()["items"]] == [world.ids["section"]]
    assert b.get(f"{API}/students/{b_id}/schedule", query_string=PAGE).get_json()["items"] == []
    assert_problem(b.get(f"{API}/students/{a_id}/schedule", query_string=PAGE), 403)
    assert_problem(a.get(f"{API}/students/{b_id}/schedule", query_string=PAGE), 403)


def test_a_student_asking_for_an_id_that_is_not_theirs_is_403_whether_or_not_it_exists(
    world, client_for
):
    a = client_for(world.users["student"])

    for path in ("/students/987654321", "/students/987654321/schedule"):
        assert_problem(a.get(API + path, query_string=PAGE), 403)
    assert_problem(a.patch(f"{API}/students/987654321", json={"full_name": "X"}), 403)


def test_a_student_may_not_list_create_or_delete_students_not_even_themselves(
    world, client_for, db
):
    a = client_for(world.users["student"])
    before = snapshot(db)

    assert_problem(a.get(f"{API}/students"), 403)
    assert_problem(a.post(f"{API}/students", json=student_body()), 403)
    assert_problem(a.delete(f"{API}/students/{world.ids['student']}"), 403)

    assert snapshot(db) == before


def test_an_admin_reads_and_changes_any_students_record(world, client):
    for key in ("student", "other_student", "unverified", "spare_student"):
        student_id = world.ids[key]
        assert client.get(f"{API}/students/{student_id}").status_code == 200
        assert (
            client.get(f"{API}/students/{student_id}/schedule", query_string=PAGE).status_code
            == 200
        )
        patched = client.patch(
            f"{API}/students/{student_id}", json={"full_name": f"By admin {key}"}
        )
        assert patched.get_json()["full_name"] == f"By admin {key}"


# --- enrollments: A against B ----------------------------------------------------------------


def enrollment_pairs(db) -> list[tuple[int, int]]:
    rows = db.execute("SELECT section_id, student_id FROM enrollments ORDER BY 1, 2").fetchall()
    return [(row["section_id"], row["student_id"]) for row in rows]


def test_a_student_enrolls_only_themselves(world, client_for, db):
    a, b = client_for(world.users["student"]), client_for(world.users["other_student"])
    a_id, b_id = world.ids["student"], world.ids["other_student"]
    url = f"{API}/sections/{world.ids['open_section']}/enrollments"
    before = enrollment_pairs(db)

    assert_problem(b.post(url, json={"student_id": a_id}), 403)
    assert_problem(a.post(url, json={"student_id": b_id}), 403)
    assert enrollment_pairs(db) == before

    assert a.post(url, json={"student_id": a_id}).status_code == 201
    assert b.post(url, json={"student_id": b_id}).status_code == 201
    assert set(enrollment_pairs(db)) - set(before) == {
        (world.ids["open_section"], a_id),
        (world.ids["open_section"], b_id),
    }


def test_a_student_sees_and_drops_only_their_own_enrollment(world, client_for, db):
    a, b = client_for(world.users["student"]), client_for(world.users["other_student"])
    url = f"{API}/sections/{world.ids['section']}/enrollments/{world.ids['student']}"
    pair = (world.ids["section"], world.ids["student"])

    assert a.get(url).status_code == 200
    assert_problem(b.get(url), 403)
    assert_problem(b.delete(url), 403)
    assert pair in enrollment_pairs(db)

    assert a.delete(url).status_code == 204
    assert pair not in enrollment_pairs(db)
    assert_problem(a.get(url), 404)  # their own: so they may learn it is gone


def test_an_admin_enrolls_and_drops_anyone(world, client, db):
    url = f"{API}/sections/{world.ids['open_section']}/enrollments"

    for key in ("student", "other_student", "unverified", "spare_student"):
        assert client.post(url, json={"student_id": world.ids[key]}).status_code == 201
    assert client.delete(f"{url}/{world.ids['other_student']}").status_code == 204

    assert {
        student_id
        for section_id, student_id in enrollment_pairs(db)
        if section_id == world.ids["open_section"]
    } == {world.ids["student"], world.ids["unverified"], world.ids["spare_student"]}


def test_instructors_may_not_enroll_or_drop_anyone(world, client_for, db):
    teacher = client_for(world.users["instructor"])
    before = enrollment_pairs(db)

    assert_problem(
        teacher.post(
            f"{API}/sections/{world.ids['open_section']}/enrollments",
            json={"student_id": world.ids["student"]},
        ),
        403,
    )
    assert_problem(
        teacher.delete(f"{API}/sections/{world.ids['section']}/enrollments/{world.ids['student']}"),
        403,
    )
    assert enrollment_pairs(db) == before


# --- instructors: their own sections against another's -----------------------------------


def test_an_instructor_reads_the_roster_of_their_own_section_only(world, client_for, client):
    x, y = client_for(world.users["instructor"]), client_for(world.users["other_instructor"])
    other_url = f"{API}/sections/{world.ids['other_section']}/enrollments"
    client.post(other_url, json={"student_id": world.ids["other_student"]})
    own_url = f"{API}/sections/{world.ids['section']}/enrollments"

    own = x.get(own_url, query_string=PAGE)
    assert own.status_code == 200
    assert [item["student"]["id"] for item in own.get_json()["items"]] == [world.ids["student"]]
    theirs = y.get(other_url, query_string=PAGE)
    assert theirs.status_code == 200
    assert [item["student"]["id"] for item in theirs.get_json()["items"]] == [
        world.ids["other_student"]
    ]
    assert_problem(x.get(other_url, query_string=PAGE), 403)
    assert_problem(y.get(own_url, query_string=PAGE), 403)
    assert_problem(y.get(f"{own_url}/{world.ids['student']}"), 403)
    assert x.get(f"{own_url}/{world.ids['student']}").status_code == 200


def test_students_may_not_read_rosters_not_even_of_their_own_section(world, client_for):
    a = client_for(world.users["student"])

    assert_problem(
        a.get(f"{API}/sections/{world.ids['section']}/enrollments", query_string=PAGE), 403
    )


def section_row(db, section_id: int) -> dict:
    return db.execute("SELECT * FROM sections WHERE id = %s", (section_id,)).fetchone()


def test_an_instructor_changes_the_notes_of_their_own_section(world, client_for, db):
    x = client_for(world.users["instructor"])
    section_id = world.ids["section"]
    before = section_row(db, section_id)

    response = x.patch(f"{API}/sections/{section_id}", json={"notes": "Office hours moved."})

    assert response.status_code == 200
    assert response.get_json()["notes"] == "Office hours moved."
    assert section_row(db, section_id) == {**before, "notes": "Office hours moved."}


@pytest.mark.parametrize(
    "body",
    [
        {"capacity": 5},
        {"term": "2027-fall"},
        {"days": ["FRI"]},
        {"starts_at": "08:00"},
        {"ends_at": "11:00"},
        {"room_id": 1},
        {"course_id": 1},
        {"instructor_id": 1},
        {"notes": "Sneaky.", "capacity": 20},
    ],
    ids="+".join,
)
def test_an_instructor_may_not_change_other_fields_of_their_own_section(
    world, client_for, db, body
):
    x = client_for(world.users["instructor"])
    before = snapshot(db)

    assert_problem(x.patch(f"{API}/sections/{world.ids['section']}", json=body), 403)

    assert snapshot(db) == before


def test_an_instructor_may_not_change_the_notes_of_another_instructors_section(
    world, client_for, db
):
    x, y = client_for(world.users["instructor"]), client_for(world.users["other_instructor"])
    before = snapshot(db)

    assert_problem(
        x.patch(f"{API}/sections/{world.ids['other_section']}", json={"notes": "X"}), 403
    )
    assert_problem(y.patch(f"{API}/sections/{world.ids['section']}", json={"notes": "Y"}), 403)

    assert snapshot(db) == before
    assert (
        y.patch(f"{API}/sections/{world.ids['other_section']}", json={"notes": "Y"}).get_json()[
            "notes"
        ]
        == "Y"
    )


def test_an_admin_changes_any_field_of_any_section(world, client, db):
    body = {
        "notes": "Moved.",
        "capacity": 25,
        "days": ["MON", "FRI"],
        "starts_at": "13:00",
        "ends_at": "14:15",
    }

    response = client.patch(f"{API}/sections/{world.ids['section']}", json=body)

    assert response.status_code == 200, response.get_json()
    got = response.get_json()
    assert (got["notes"], got["capacity"], got["days"], got["starts_at"]) == (
        "Moved.",
        25,
        ["MON", "FRI"],
        "13:00",
    )


def test_a_students_token_may_not_patch_a_section(world, client_for, db):
    before = snapshot(db)

    for actor in ("student", "other_student", "unverified"):
        response = client_for(world.users[actor]).patch(
            f"{API}/sections/{world.ids['section']}", json={"notes": "Mine now."}
        )
        assert_problem(response, 403)

    assert snapshot(db) == before


# --- verification ----------------------------------------------------------------------------


def test_an_unverified_student_may_not_enroll_but_an_admin_may_enroll_them(
    world, client_for, client, db
):
    unverified = client_for(world.users["unverified"])
    student_id = world.ids["unverified"]
    url = f"{API}/sections/{world.ids['open_section']}/enrollments"
    before = enrollment_pairs(db)

    refused = unverified.post(url, json={"student_id": student_id})

    body = assert_problem(refused, 403)
    assert "verify" in body["detail"].lower()
    assert enrollment_pairs(db) == before

    assert client.post(url, json={"student_id": student_id}).status_code == 201
    assert (world.ids["open_section"], student_id) in enrollment_pairs(db)


def test_an_unverified_student_may_still_read_their_own_record(world, client_for):
    unverified = client_for(world.users["unverified"])

    assert unverified.get(f"{API}/students/{world.ids['unverified']}").status_code == 200
    assert unverified.get(f"{API}/auth/me").get_json()["is_verified"] is False


def test_verification_takes_effect_for_a_token_issued_before_it(world, client_for, db):
    unverified = client_for(world.users["unverified"])
    url = f"{API}/sections/{world.ids['open_section']}/enrollments"
    body = {"student_id": world.ids["unverified"]}
    assert_problem(unverified.post(url, json=body), 403)

    db.execute(
        "UPDATE users SET is_verified = true WHERE id = %s", (world.users["unverified"]["id"],)
    )

    assert unverified.post(url, json=body).status_code == 201
