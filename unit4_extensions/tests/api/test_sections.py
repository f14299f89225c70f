"""/api/v1/sections: the embedded shape, filters, paging, validation, double-booking, and
updates and deletes that must never break a room, a seat count or a student's timetable.
Unit 2 adds free-text `notes` to a section. The requests are an admin's."""

import pytest
from helpers import (
    assert_problem,
    make_course,
    make_instructor,
    make_room,
    make_section,
    make_student,
    section_body,
)

SECTIONS = "/api/v1/sections"


def section_row(db, section_id: int) -> dict | None:
    """The section as stored, to check that a failed write changed nothing."""
    return db.execute(
        "SELECT id, course_id, instructor_id, room_id, term, capacity, days::text[] AS days,"
        " starts_at, ends_at, notes FROM sections WHERE id = %s",
        (section_id,),
    ).fetchone()


def section_count(db) -> int:
    return db.execute("SELECT count(*) AS n FROM sections").fetchone()["n"]


def enroll(client, section_id: int, student_id: int) -> None:
    response = client.post(f"{SECTIONS}/{section_id}/enrollments", json={"student_id": student_id})
    assert response.status_code == 201, response.get_json()


# --- create and read ---------------------------------------------------------------------


def test_create_returns_201_location_and_the_embedded_section(client):
    course = make_course(client, title="Databases")
    instructor = make_instructor(client, full_name="Ada Lovelace")
    room = make_room(client, name="Hall A", capacity=40)

    response = client.post(
        SECTIONS,
        json={
            "course_id": course["id"],
            "instructor_id": instructor["id"],
            "room_id": room["id"],
            "term": "2027-spring",
            "capacity": 25,
            "days": ["MON", "WED"],
            "starts_at": "09:00",
            "ends_at": "10:15",
        },
    )

    assert response.status_code == 201
    section = response.get_json()
    assert isinstance(section["id"], int)
    assert response.headers["Location"] == f"{SECTIONS}/{section['id']}"
    assert section == {
        "id": section["id"],
        "term": "2027-spring",
        "capacity": 25,
        "days": ["MON", "WED"],
        "starts_at": "09:00",
        "ends_at": "10:15",
        "notes": "",
        "course": {"id": course["id"], "code": course["code"], "title": "Databases"},
        "instructor": {"id": instructor["id"], "full_name": "Ada Lovelace"},
        "room": {"id": room["id"], "name": "Hall A"},
        "enrolled": 0,
        "seats_left": 25,
        "waitlisted": 0,
    }
    fetched = client.get(response.headers["Location"])
    assert fetched.status_code == 200
    assert fetched.get_json() == section


def test_times_are_served_as_hh_mm_and_days_keep_their_order(client):
    section = make_section(client, days=["FRI", "TUE"], starts_at="08:05", ends_at="23:59")

    assert section["days"] == ["FRI", "TUE"]
    assert (section["starts_at"], section["ends_at"]) == ("08:05", "23:59")


def test_create_with_notes_stores_them_trimmed(client, db):
    section = make_section(client, notes="  Bring a laptop.  ")

    assert section["notes"] == "Bring a laptop."
    assert client.get(f"{SECTIONS}/{section['id']}").get_json() == section
    assert section_row(db, section["id"])["notes"] == "Bring a laptop."


@pytest.mark.parametrize("notes", ["", "   ", "x" * 2000])
def test_notes_may_be_blank_or_2000_characters_long(client, notes):
    assert make_section(client, notes=notes)["notes"] == notes.strip()


def test_get_missing_section_is_404(client):
    assert_problem(client.get(f"{SECTIONS}/999999"), 404)


@pytest.mark.parametrize("raw_id", ["0", "-1", "abc", "1.5", "9223372036854775808"])
def test_ids_that_are_not_positive_bigints_are_404(client, raw_id):
    assert_problem(client.get(f"{SECTIONS}/{raw_id}"), 404)


# --- list, paging, filters ---------------------------------------------------------------


def test_list_is_the_envelope_in_id_order(client):
    created = [make_section(client) for _ in range(3)]

    response = client.get(SECTIONS)

    assert response.status_code == 200
    assert response.get_json() == {"items": created, "total": 3, "limit": 20, "offset": 0}


def test_empty_list(client):
    response = client.get(SECTIONS)

    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "limit": 20, "offset": 0}


def test_paging_with_limit_and_offset(client):
    ids = [make_section(client)["id"] for _ in range(5)]

    body = client.get(f"{SECTIONS}?limit=2&offset=2").get_json()
    assert [item["id"] for item in body["items"]] == ids[2:4]
    assert (body["total"], body["limit"], body["offset"]) == (5, 2, 2)

    past_the_end = client.get(f"{SECTIONS}?limit=2&offset=10").get_json()
    assert past_the_end["items"] == []
    assert past_the_end["total"] == 5

    assert client.get(f"{SECTIONS}?limit=100").get_json()["limit"] == 100


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=101", "limit=abc", "limit=", "limit=1.5", "offset=-1", "offset=x"]
)
def test_bad_paging_parameters_are_400(client, query):
    assert_problem(client.get(f"{SECTIONS}?{query}"), 400, errors=True)


@pytest.fixture
def catalog(client) -> dict:
    """Four sections over two courses, instructors, rooms and terms, all at the same time:
    s1 (c1, i1, r1, spring), s2 (c2, i2, r2, spring), s3 (c1, i2, r1, fall), s4 (c2, i1, r2, fall).
    """
    ids = {
        "c1": make_course(client)["id"],
        "c2": make_course(client)["id"],
        "i1": make_instructor(client)["id"],
        "i2": make_instructor(client)["id"],
        "r1": make_room(client)["id"],
        "r2": make_room(client)["id"],
    }
    for name, course, instructor, room, term in (
        ("s1", "c1", "i1", "r1", "2027-spring"),
        ("s2", "c2", "i2", "r2", "2027-spring"),
        ("s3", "c1", "i2", "r1", "2027-fall"),
        ("s4", "c2", "i1", "r2", "2027-fall"),
    ):
        ids[name] = make_section(
            client,
            course_id=ids[course],
            instructor_id=ids[instructor],
            room_id=ids[room],
            term=term,
        )["id"]
    return ids


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"term": "2027-spring"}, ["s1", "s2"]),
        ({"term": "2027-fall"}, ["s3", "s4"]),
        ({"term": "2026-winter"}, []),
        ({"course_id": "c1"}, ["s1", "s3"]),
        ({"instructor_id": "i1"}, ["s1", "s4"]),
        ({"room_id": "r1"}, ["s1", "s3"]),
        ({"term": "2027-fall", "course_id": "c2"}, ["s4"]),
        ({"course_id": "c1", "instructor_id": "i2", "room_id": "r1"}, ["s3"]),
        ({"term": "2027-spring", "instructor_id": "i1", "room_id": "r2"}, []),
        (
            {"term": "2027-spring", "course_id": "c2", "instructor_id": "i2", "room_id": "r2"},
            ["s2"],
        ),
        ({"course_id": 999999}, []),
    ],
)
def test_filters_alone_and_combined(client, catalog, filters, expected):
    query = "&".join(f"{name}={catalog.get(value, value)}" for name, value in filters.items())

    body = client.get(f"{SECTIONS}?{query}").get_json()

    assert [item["id"] for item in body["items"]] == [catalog[name] for name in expected]
    assert body["total"] == len(expected)


def test_filters_and_paging_together(client, catalog):
    body = client.get(f"{SECTIONS}?course_id={catalog['c1']}&limit=1&offset=1").get_json()

    assert [item["id"] for item in body["items"]] == [catalog["s3"]]
    assert body["total"] == 2


@pytest.mark.parametrize(
    "query",
    [
        "course_id=abc",
        "course_id=0",
        "course_id=-1",
        "course_id=",
        "instructor_id=1.5",
        "instructor_id=one",
        "room_id=1e3",
        "room_id=9223372036854775808",
        "term=2027-autumn",
        "term=spring-2027",
        "term=27-spring",
        "term=2027-Spring",
        "term=",
    ],
)
def test_bad_filter_values_are_400(client, query):
    assert_problem(client.get(f"{SECTIONS}?{query}"), 400, errors=True)


@pytest.mark.parametrize(
    "query",
    [
        "course_id=%C2%B2",  # superscript two
        "limit=%C2%B2",
        "offset=%D9%A1",  # Arabic-Indic digit one
        "room_id=" + "9" * 5000,
    ],
    ids=["superscript-filter", "superscript-limit", "arabic-indic-offset", "5000-digits"],
)
def test_integer_parameters_must_be_ascii_digits(client, query):
    # str.isdigit() is true for "²" and "١", and int() refuses more than 4300 digits.
    make_section(client)
    assert_problem(client.get(f"{SECTIONS}?{query}"), 400, errors=True)


def test_term_filter_with_a_trailing_newline_is_400(client):
    # re.match with `$` would accept "2027-spring\n".
    make_section(client)
    assert_problem(client.get(f"{SECTIONS}?term=2027-spring%0A"), 400, errors=True)


# --- create: validation ------------------------------------------------------------------


@pytest.mark.parametrize("field", ["course_id", "instructor_id", "room_id"])
def test_reference_that_does_not_exist_is_422_naming_the_field(client, db, field):
    body = section_body(client, **{field: 999999})

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {field}
    assert section_count(db) == 0


def test_every_missing_reference_is_named(client, db):
    body = section_body(client, course_id=999997, instructor_id=999998, room_id=999999)

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {"course_id", "instructor_id", "room_id"}
    assert section_count(db) == 0


def test_capacity_above_the_rooms_is_422_on_capacity(client, db):
    room = make_room(client, capacity=20)

    problem = assert_problem(
        client.post(SECTIONS, json=section_body(client, room_id=room["id"], capacity=21)), 422
    )

    assert set(problem["errors"]) == {"capacity"}
    assert section_count(db) == 0


def test_capacity_equal_to_the_rooms_is_accepted(client):
    room = make_room(client, capacity=20)

    assert make_section(client, room_id=room["id"], capacity=20)["capacity"] == 20


@pytest.mark.parametrize(("starts_at", "ends_at"), [("09:00", "09:00"), ("10:00", "09:00")])
def test_ends_at_not_after_starts_at_is_422_on_ends_at(client, db, starts_at, ends_at):
    body = section_body(client, starts_at=starts_at, ends_at=ends_at)

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {"ends_at"}
    assert section_count(db) == 0


@pytest.mark.parametrize(
    "days",
    [[], ["MON", "MON"], ["MON", "FUN"], ["mon"], "MON", None, [1], ["MON", None], {"MON": True}],
)
def test_invalid_days_are_422(client, db, days):
    problem = assert_problem(client.post(SECTIONS, json=section_body(client, days=days)), 422)

    assert set(problem["errors"]) == {"days"}
    assert section_count(db) == 0


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("value", ["9:00", "24:00", "09:60", "09:00:00", "0900", "", 900, None])
def test_invalid_times_are_422(client, db, field, value):
    body = section_body(client, starts_at="00:01", ends_at="23:58")
    body[field] = value

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {field}
    assert section_count(db) == 0


@pytest.mark.parametrize(
    "term", ["2027-autumn", "27-spring", "2027spring", "spring-2027", "2027-Spring", "", 2027]
)
def test_invalid_term_is_422(client, db, term):
    problem = assert_problem(client.post(SECTIONS, json=section_body(client, term=term)), 422)

    assert set(problem["errors"]) == {"term"}
    assert section_count(db) == 0


@pytest.mark.parametrize("notes", [None, 5, ["Bring a laptop."], "x" * 2001])
def test_invalid_notes_are_422(client, db, notes):
    problem = assert_problem(client.post(SECTIONS, json=section_body(client, notes=notes)), 422)

    assert set(problem["errors"]) == {"notes"}
    assert section_count(db) == 0


@pytest.mark.parametrize("capacity", [0, -1, 10_001, "10", 1.5, True, None])
def test_invalid_capacity_is_422(client, db, capacity):
    body = section_body(client)
    body["capacity"] = capacity

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {"capacity"}
    assert section_count(db) == 0


def test_missing_fields_are_each_named(client):
    problem = assert_problem(client.post(SECTIONS, json={}), 422)

    assert set(problem["errors"]) == {
        "course_id",
        "instructor_id",
        "room_id",
        "term",
        "capacity",
        "days",
        "starts_at",
        "ends_at",
    }


def test_unknown_field_is_422(client, db):
    body = section_body(client, enrolled=3)

    problem = assert_problem(client.post(SECTIONS, json=body), 422)

    assert set(problem["errors"]) == {"enrolled"}
    assert section_count(db) == 0


def test_body_that_is_not_a_json_object_is_400(client):
    assert_problem(client.post(SECTIONS, data="[1]", content_type="application/json"), 400)
    assert_problem(client.post(SECTIONS, data="{", content_type="application/json"), 400)


# --- double-booking ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at"),
    [
        (["WED"], "10:00", "11:00"),
        (["MON"], "08:00", "09:01"),
        (["TUE", "WED"], "09:30", "09:45"),
        (["MON", "WED"], "09:00", "10:15"),
        (["WED"], "07:00", "12:00"),
    ],
)
def test_room_double_booked_is_409_and_nothing_is_inserted(client, db, days, starts_at, ends_at):
    first = make_section(client)  # MON/WED 09:00–10:15

    response = client.post(
        SECTIONS,
        json=section_body(
            client,
            room_id=first["room"]["id"],
            days=days,
            starts_at=starts_at,
            ends_at=ends_at,
        ),
    )

    problem = assert_problem(response, 409)
    assert "room" in problem["detail"].lower()
    assert section_count(db) == 1


def test_instructor_double_booked_is_409_and_nothing_is_inserted(client, db):
    first = make_section(client)

    response = client.post(
        SECTIONS,
        json=section_body(
            client,
            instructor_id=first["instructor"]["id"],
            days=["WED"],
            starts_at="10:00",
            ends_at="11:00",
        ),
    )

    problem = assert_problem(response, 409)
    assert "instructor" in problem["detail"].lower()
    assert section_count(db) == 1


@pytest.mark.parametrize("shared", ["room_id", "instructor_id"])
def test_same_room_or_instructor_in_another_term_is_allowed(client, shared):
    first = make_section(client)
    shared_id = first[shared.removesuffix("_id")]["id"]

    second = make_section(client, term="2027-fall", **{shared: shared_id})

    assert second["term"] == "2027-fall"


@pytest.mark.parametrize("shared", ["room_id", "instructor_id"])
@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at"),
    [
        (["MON", "WED"], "10:15", "11:30"),  # starts as the first one ends
        (["MON", "WED"], "07:45", "09:00"),  # ends as the first one starts
        (["TUE", "THU"], "09:00", "10:15"),  # other days
    ],
)
def test_adjacent_times_or_other_days_are_allowed(client, shared, days, starts_at, ends_at):
    first = make_section(client)
    shared_id = first[shared.removesuffix("_id")]["id"]

    second = make_section(
        client, days=days, starts_at=starts_at, ends_at=ends_at, **{shared: shared_id}
    )

    assert (second["starts_at"], second["ends_at"]) == (starts_at, ends_at)


# --- update ------------------------------------------------------------------------------


def test_patch_changes_only_the_given_fields(client, db):
    section = make_section(client)
    before = section_row(db, section["id"])

    response = client.patch(f"{SECTIONS}/{section['id']}", json={"capacity": 15})

    assert response.status_code == 200
    assert response.get_json() == {**section, "capacity": 15, "seats_left": 15}
    assert section_row(db, section["id"]) == {**before, "capacity": 15}
    assert client.get(f"{SECTIONS}/{section['id']}").get_json() == response.get_json()


def test_patch_notes_changes_only_the_notes(client, db):
    section = make_section(client, notes="Old.")
    before = section_row(db, section["id"])

    response = client.patch(f"{SECTIONS}/{section['id']}", json={"notes": "Room 12 next week."})

    assert response.status_code == 200
    assert response.get_json() == {**section, "notes": "Room 12 next week."}
    assert section_row(db, section["id"]) == {**before, "notes": "Room 12 next week."}


def test_patch_moves_a_section_to_new_times_a_new_room_and_a_new_course(client):
    section = make_section(client)
    course = make_course(client)
    room = make_room(client)

    response = client.patch(
        f"{SECTIONS}/{section['id']}",
        json={
            "days": ["TUE"],
            "starts_at": "13:00",
            "ends_at": "14:30",
            "room_id": room["id"],
            "course_id": course["id"],
            "term": "2027-fall",
        },
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["days"], body["starts_at"], body["ends_at"]) == (["TUE"], "13:00", "14:30")
    assert body["room"] == {"id": room["id"], "name": room["name"]}
    assert body["course"] == {"id": course["id"], "code": course["code"], "title": course["title"]}
    assert body["term"] == "2027-fall"
    assert body["instructor"] == section["instructor"]


def test_patch_with_an_empty_body_changes_nothing(client):
    section = make_section(client)

    response = client.patch(f"{SECTIONS}/{section['id']}", json={})

    assert response.status_code == 200
    assert response.get_json() == section


def test_patch_missing_section_is_404(client):
    assert_problem(client.patch(f"{SECTIONS}/999999", json={"capacity": 5}), 404)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"course_id": 999999}, "course_id"),
        ({"instructor_id": 999999}, "instructor_id"),
        ({"room_id": 999999}, "room_id"),
        ({"capacity": 31}, "capacity"),  # the helper's room holds 30
        ({"starts_at": "10:15"}, "ends_at"),
        ({"ends_at": "08:00"}, "ends_at"),
        ({"days": []}, "days"),
        ({"starts_at": "24:00"}, "starts_at"),
        ({"term": "2027-autumn"}, "term"),
        ({"notes": None}, "notes"),
        ({"notes": "x" * 2001}, "notes"),
        ({"id": 5}, "id"),
    ],
)
def test_patch_with_invalid_values_is_422_and_changes_nothing(client, db, body, field):
    section = make_section(client)
    before = section_row(db, section["id"])

    problem = assert_problem(client.patch(f"{SECTIONS}/{section['id']}", json=body), 422)

    assert set(problem["errors"]) == {field}
    assert section_row(db, section["id"]) == before


def test_patch_into_a_room_too_small_is_422_on_capacity(client, db):
    section = make_section(client, capacity=10)
    small = make_room(client, capacity=5)
    before = section_row(db, section["id"])

    problem = assert_problem(
        client.patch(f"{SECTIONS}/{section['id']}", json={"room_id": small["id"]}), 422
    )

    assert set(problem["errors"]) == {"capacity"}
    assert section_row(db, section["id"]) == before


@pytest.mark.parametrize(
    ("target", "change"),
    [
        ("second", lambda _first: {"starts_at": "10:00"}),  # 10:00–12:15 overlaps 09:00–10:15
        ("second", lambda _first: {"days": ["MON"], "starts_at": "09:30", "ends_at": "10:00"}),
        ("third", lambda first: {"room_id": first["room"]["id"]}),
        ("third", lambda first: {"instructor_id": first["instructor"]["id"]}),
    ],
    ids=["times-in-same-room", "days-and-times-in-same-room", "into-room", "to-instructor"],
)
def test_patch_into_an_overlapping_slot_is_409_and_changes_nothing(client, db, target, change):
    first = make_section(client)  # MON/WED 09:00–10:15
    sections = {
        # Same room as the first, later in the day.
        "second": make_section(
            client, room_id=first["room"]["id"], starts_at="11:00", ends_at="12:15"
        ),
        # Its own room and instructor, at a time inside the first one's.
        "third": make_section(client, starts_at="09:30", ends_at="10:00"),
    }
    section_id = sections[target]["id"]
    before = section_row(db, section_id)

    assert_problem(client.patch(f"{SECTIONS}/{section_id}", json=change(first)), 409)

    assert section_row(db, section_id) == before


def test_patch_capacity_below_the_enrolled_count_is_409(client, db):
    section = make_section(client, capacity=3)
    for _ in range(2):
        enroll(client, section["id"], make_student(client)["id"])
    before = section_row(db, section["id"])

    assert_problem(client.patch(f"{SECTIONS}/{section['id']}", json={"capacity": 1}), 409)
    assert section_row(db, section["id"]) == before

    response = client.patch(f"{SECTIONS}/{section['id']}", json={"capacity": 2})
    assert response.status_code == 200
    assert (response.get_json()["enrolled"], response.get_json()["seats_left"]) == (2, 0)


def test_patch_term_with_enrollments_is_409(client, db):
    section = make_section(client)
    enroll(client, section["id"], make_student(client)["id"])
    before = section_row(db, section["id"])

    assert_problem(client.patch(f"{SECTIONS}/{section['id']}", json={"term": "2027-fall"}), 409)

    assert section_row(db, section["id"]) == before


def test_patch_same_term_with_enrollments_is_allowed(client):
    section = make_section(client)
    enroll(client, section["id"], make_student(client)["id"])

    response = client.patch(
        f"{SECTIONS}/{section['id']}", json={"term": "2027-spring", "capacity": 5}
    )

    assert response.status_code == 200
    assert response.get_json()["capacity"] == 5


@pytest.mark.parametrize(
    ("schedule", "change"),
    [
        # Times only: the stored days are reused.
        ((["MON", "WED"], "10:30", "11:45"), {"starts_at": "10:00"}),
        # Days only: the stored times are reused.
        ((["TUE", "THU"], "09:00", "10:15"), {"days": ["MON"]}),
        ((["TUE", "THU"], "10:30", "11:45"), {"days": ["WED"], "starts_at": "08:00"}),
    ],
    ids=["times", "days", "days-and-times"],
)
def test_patch_times_into_a_clash_for_an_enrolled_student_is_409(client, db, schedule, change):
    first = make_section(client)  # MON/WED 09:00–10:15
    days, starts_at, ends_at = schedule
    second = make_section(client, days=days, starts_at=starts_at, ends_at=ends_at)
    student = make_student(client)
    enroll(client, first["id"], student["id"])
    enroll(client, second["id"], student["id"])
    before = section_row(db, second["id"])

    problem = assert_problem(client.patch(f"{SECTIONS}/{second['id']}", json=change), 409)

    assert "clash" in problem["detail"].lower()
    assert section_row(db, second["id"]) == before


def test_patch_times_that_clash_only_with_other_students_sections_is_allowed(client):
    first = make_section(client)  # MON/WED 09:00–10:15
    second = make_section(client, starts_at="10:30", ends_at="11:45")
    enroll(client, first["id"], make_student(client)["id"])
    enroll(client, second["id"], make_student(client)["id"])

    response = client.patch(f"{SECTIONS}/{second['id']}", json={"starts_at": "10:00"})

    assert response.status_code == 200
    assert response.get_json()["starts_at"] == "10:00"


def test_patch_times_without_clash_for_enrolled_students_is_allowed(client):
    first = make_section(client)  # MON/WED 09:00–10:15
    second = make_section(client, starts_at="10:30", ends_at="11:45")
    fall = make_section(client, term="2027-fall", starts_at="12:00", ends_at="13:00")
    student = make_student(client)
    for section in (first, second, fall):
        enroll(client, section["id"], student["id"])

    # Adjacent to the first section, and overlapping only a section in another term.
    response = client.patch(
        f"{SECTIONS}/{second['id']}", json={"starts_at": "10:15", "ends_at": "12:30"}
    )

    assert response.status_code == 200
    assert (response.get_json()["starts_at"], response.get_json()["ends_at"]) == (
        "10:15",
        "12:30",
    )


# --- delete ------------------------------------------------------------------------------


def test_delete_is_204_then_the_section_is_gone(client, db):
    section = make_section(client)

    response = client.delete(f"{SECTIONS}/{section['id']}")

    assert response.status_code == 204
    assert response.get_data() == b""
    assert section_row(db, section["id"]) is None
    assert_problem(client.get(f"{SECTIONS}/{section['id']}"), 404)
    assert_problem(client.delete(f"{SECTIONS}/{section['id']}"), 404)


def test_delete_missing_section_is_404(client):
    assert_problem(client.delete(f"{SECTIONS}/999999"), 404)


def test_delete_with_enrollments_is_409_and_the_section_remains(client, db):
    section = make_section(client)
    student = make_student(client)
    enroll(client, section["id"], student["id"])
    before = section_row(db, section["id"])

    assert_problem(client.delete(f"{SECTIONS}/{section['id']}"), 409)

    assert section_row(db, section["id"]) == before
    assert db.execute(
        "SELECT student_id FROM enrollments WHERE section_id = %s", (section["id"],)
    ).fetchall() == [{"student_id": student["id"]}]
