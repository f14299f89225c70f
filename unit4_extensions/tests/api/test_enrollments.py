"""Enrollment: POST/GET/DELETE /sections/{id}/enrollments and GET /students/{id}/schedule —
never past capacity, never twice, never into a timetable clash; failures change nothing.
The waitlist of a full section has tests of its own, in test_waitlist.py."""

from datetime import datetime

import pytest
from helpers import assert_problem, make_section, make_student

SECTIONS = "/api/v1/sections"
STUDENTS = "/api/v1/students"


def enrollments_url(section_id: int) -> str:
    return f"{SECTIONS}/{section_id}/enrollments"


def enroll(client, section_id: int, student_id: int):
    return client.post(enrollments_url(section_id), json={"student_id": student_id})


def enrolled(client, section_id: int, student_id: int) -> dict:
    response = enroll(client, section_id, student_id)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def enrollment_rows(db) -> list[dict]:
    """Every enrollment as stored, to check that a failed write changed nothing."""
    return db.execute(
        "SELECT section_id, student_id, enrolled_at FROM enrollments"
        " ORDER BY section_id, student_id"
    ).fetchall()


# --- enroll ------------------------------------------------------------------------------


def test_enroll_returns_201_the_enrollment_and_a_location_that_gets_it(client, db):
    section = make_section(client)
    student = make_student(client)

    response = enroll(client, section["id"], student["id"])

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"section_id", "student_id", "enrolled_at", "status", "position"}
    assert (body["section_id"], body["student_id"]) == (section["id"], student["id"])
    assert (body["status"], body["position"]) == ("enrolled", None)
    enrolled_at = datetime.fromisoformat(body["enrolled_at"])
    assert enrolled_at.tzinfo is not None
    location = response.headers["Location"]
    assert location == f"{enrollments_url(section['id'])}/{student['id']}"
    fetched = client.get(location)
    assert fetched.status_code == 200
    assert fetched.get_json() == body
    rows = enrollment_rows(db)
    assert [(row["section_id"], row["student_id"]) for row in rows] == [
        (section["id"], student["id"])
    ]
    assert rows[0]["enrolled_at"] == enrolled_at


def test_get_an_enrollment_that_does_not_exist_is_404(client):
    section = make_section(client)
    student = make_student(client)

    assert_problem(client.get(f"{enrollments_url(section['id'])}/{student['id']}"), 404)
    assert_problem(client.get(f"{enrollments_url(999999)}/{student['id']}"), 404)


def test_enroll_in_a_missing_section_is_404(client, db):
    student = make_student(client)

    assert_problem(enroll(client, 999999, student["id"]), 404)

    assert enrollment_rows(db) == []


def test_enroll_an_unknown_student_is_422_on_student_id(client, db):
    section = make_section(client)

    problem = assert_problem(enroll(client, section["id"], 999999), 422)

    assert set(problem["errors"]) == {"student_id"}
    assert enrollment_rows(db) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "student_id"),
        ({"student_id": "1"}, "student_id"),
        ({"student_id": True}, "student_id"),
        ({"student_id": 1.0}, "student_id"),
        ({"student_id": None}, "student_id"),
        ({"student_id": 0}, "student_id"),
        ({"student_id": 2**63}, "student_id"),
        ({"student_id": 1, "section_id": 1}, "section_id"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client, db, body, field):
    section = make_section(client)
    make_student(client)
    before = enrollment_rows(db)

    problem = assert_problem(client.post(enrollments_url(section["id"]), json=body), 422)

    assert set(problem["errors"]) == {field}
    assert enrollment_rows(db) == before


def test_body_that_is_not_json_is_415_and_not_an_object_is_400(client, db):
    section = make_section(client)
    student = make_student(client)
    url = enrollments_url(section["id"])

    assert_problem(client.post(url, data=f"student_id={student['id']}"), 415)
    assert_problem(client.post(url, json=[student["id"]]), 400)
    assert_problem(client.post(url, data="{", content_type="application/json"), 400)
    assert enrollment_rows(db) == []


def test_enrolling_twice_is_409(client, db):
    section = make_section(client)
    student = make_student(client)
    enrolled(client, section["id"], student["id"])
    before = enrollment_rows(db)

    assert_problem(enroll(client, section["id"], student["id"]), 409)

    assert enrollment_rows(db) == before


def test_a_freed_seat_of_a_section_nobody_waits_for_goes_to_the_next_to_enroll(client, db):
    section = make_section(client, capacity=2)
    first, second, third = (make_student(client) for _ in range(3))
    enrolled(client, section["id"], first["id"])
    enrolled(client, section["id"], second["id"])

    assert client.delete(f"{enrollments_url(section['id'])}/{first['id']}").status_code == 204

    assert enrolled(client, section["id"], third["id"])["status"] == "enrolled"


@pytest.mark.parametrize(
    ("days", "starts_at", "ends_at"),
    [
        (["WED"], "10:00", "11:00"),
        (["MON", "FRI"], "08:00", "09:01"),
        (["MON", "WED"], "09:00", "10:15"),
        (["WED"], "09:15", "09:30"),
    ],
)
def test_timetable_clash_in_the_same_term_is_409(client, db, days, starts_at, ends_at):
    first = make_section(client)  # MON/WED 09:00–10:15, 2027-spring
    other = make_section(client, days=days, starts_at=starts_at, ends_at=ends_at)
    student = make_student(client)
    enrolled(client, first["id"], student["id"])
    before = enrollment_rows(db)

    problem = assert_problem(enroll(client, other["id"], student["id"]), 409)

    assert first["course"]["code"] in problem["detail"]
    assert enrollment_rows(db) == before


@pytest.mark.parametrize(
    ("term", "days", "starts_at", "ends_at"),
    [
        ("2027-fall", ["MON", "WED"], "09:00", "10:15"),  # same times, another term
        ("2027-spring", ["MON", "WED"], "10:15", "11:30"),  # right after
        ("2027-spring", ["MON", "WED"], "07:30", "09:00"),  # right before
        ("2027-spring", ["TUE", "THU"], "09:00", "10:15"),  # other days
    ],
)
def test_no_clash_across_terms_or_for_adjacent_times(client, term, days, starts_at, ends_at):
    first = make_section(client)
    other = make_section(client, term=term, days=days, starts_at=starts_at, ends_at=ends_at)
    student = make_student(client)
    enrolled(client, first["id"], student["id"])

    assert enroll(client, other["id"], student["id"]).status_code == 201


def test_another_students_sections_do_not_clash(client):
    first = make_section(client)
    other = make_section(client, days=["WED"], starts_at="10:00", ends_at="11:00")
    enrolled(client, first["id"], make_student(client)["id"])

    assert enroll(client, other["id"], make_student(client)["id"]).status_code == 201


# --- roster ------------------------------------------------------------------------------


def test_roster_lists_students_joined_in_enrollment_order(client):
    section = make_section(client)
    students = [make_student(client) for _ in range(3)]
    enrollments = [enrolled(client, section["id"], student["id"]) for student in students]

    response = client.get(enrollments_url(section["id"]))

    assert response.status_code == 200
    assert response.get_json() == {
        "items": [
            {
                "student": {
                    "id": student["id"],
                    "full_name": student["full_name"],
                    "email": student["email"],
                },
                "enrolled_at": enrollment["enrolled_at"],
                "status": "enrolled",
                "position": None,
            }
            for student, enrollment in zip(students, enrollments, strict=True)
        ],
        "total": 3,
        "limit": 20,
        "offset": 0,
    }


def test_roster_pages_and_holds_only_the_sections_students(client):
    section = make_section(client)
    other_section = make_section(client)
    students = [make_student(client) for _ in range(4)]
    for student in students:
        enrolled(client, section["id"], student["id"])
    enrolled(client, other_section["id"], make_student(client)["id"])

    body = client.get(f"{enrollments_url(section['id'])}?limit=2&offset=1").get_json()

    assert [item["student"]["id"] for item in body["items"]] == [s["id"] for s in students[1:3]]
    assert (body["total"], body["limit"], body["offset"]) == (4, 2, 1)


def test_roster_of_an_empty_section(client):
    section = make_section(client)

    assert client.get(enrollments_url(section["id"])).get_json() == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }


def test_roster_of_a_missing_section_is_404(client):
    assert_problem(client.get(enrollments_url(999999)), 404)


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "offset=-1", "limit=x"])
def test_roster_bad_paging_is_400(client, query):
    section = make_section(client)

    assert_problem(client.get(f"{enrollments_url(section['id'])}?{query}"), 400, errors=True)


# --- drop --------------------------------------------------------------------------------


def test_drop_is_204_then_404(client, db):
    section = make_section(client)
    student = make_student(client)
    stays = make_student(client)
    enrolled(client, section["id"], student["id"])
    enrolled(client, section["id"], stays["id"])
    url = f"{enrollments_url(section['id'])}/{student['id']}"

    response = client.delete(url)

    assert response.status_code == 204
    assert response.get_data() == b""
    assert [(row["section_id"], row["student_id"]) for row in enrollment_rows(db)] == [
        (section["id"], stays["id"])
    ]
    assert_problem(client.get(url), 404)
    before = enrollment_rows(db)
    assert_problem(client.delete(url), 404)
    assert enrollment_rows(db) == before
    roster = client.get(enrollments_url(section["id"])).get_json()
    assert [item["student"]["id"] for item in roster["items"]] == [stays["id"]]


def test_drop_of_an_enrollment_that_never_existed_is_404(client, db):
    section = make_section(client)
    student = make_student(client)
    enrolled(client, make_section(client)["id"], student["id"])
    before = enrollment_rows(db)

    assert_problem(client.delete(f"{enrollments_url(section['id'])}/{student['id']}"), 404)
    assert_problem(client.delete(f"{enrollments_url(999999)}/{student['id']}"), 404)
    assert_problem(client.delete(f"{enrollments_url(section['id'])}/999999"), 404)
    assert enrollment_rows(db) == before


# --- seats -------------------------------------------------------------------------------


def test_enrolled_and_seats_left_follow_enrollments(client):
    section = make_section(client, capacity=3)
    students = [make_student(client) for _ in range(2)]
    url = f"{SECTIONS}/{section['id']}"

    def seats() -> tuple[int, int]:
        body = client.get(url).get_json()
        listed = client.get(SECTIONS).get_json()["items"]
        assert [item for item in listed if item["id"] == section["id"]] == [body]
        return body["enrolled"], body["seats_left"]

    assert seats() == (0, 3)
    for student in students:
        enrolled(client, section["id"], student["id"])
    assert seats() == (2, 1)
    assert client.delete(f"{enrollments_url(section['id'])}/{students[0]['id']}").status_code == 204
    assert seats() == (1, 2)


# --- schedule ----------------------------------------------------------------------------


def test_schedule_lists_the_students_sections_only(client):
    morning = make_section(client)
    afternoon = make_section(client, starts_at="14:00", ends_at="15:00")
    fall = make_section(client, term="2027-fall")
    not_mine = make_section(client, starts_at="16:00", ends_at="17:00")
    student = make_student(client)
    other = make_student(client)
    for section in (morning, afternoon, fall):
        enrolled(client, section["id"], student["id"])
    enrolled(client, not_mine["id"], other["id"])

    response = client.get(f"{STUDENTS}/{student['id']}/schedule")

    assert response.status_code == 200
    expected = [
        {
            **client.get(f"{SECTIONS}/{s['id']}").get_json(),
            "enrollment": {"status": "enrolled", "position": None},
        }
        for s in (morning, afternoon, fall)
    ]
    assert response.get_json() == {"items": expected, "total": 3, "limit": 20, "offset": 0}
    assert expected[0]["enrolled"] == 1


def test_schedule_pages(client):
    sections = [
        make_section(client, starts_at=f"{hour:02d}:00", ends_at=f"{hour:02d}:50")
        for hour in (8, 9, 10)
    ]
    student = make_student(client)
    for section in sections:
        enrolled(client, section["id"], student["id"])

    body = client.get(f"{STUDENTS}/{student['id']}/schedule?limit=1&offset=1").get_json()

    assert [item["id"] for item in body["items"]] == [sections[1]["id"]]
    assert (body["total"], body["limit"], body["offset"]) == (3, 1, 1)


def test_schedule_of_a_student_without_enrollments_is_empty(client):
    student = make_student(client)
    make_section(client)

    assert client.get(f"{STUDENTS}/{student['id']}/schedule").get_json() == {
        "items": [],
        "total": 0,
        "limit": 20,
        "offset": 0,
    }


def test_schedule_of_a_missing_student_is_404(client):
    assert_problem(client.get(f"{STUDENTS}/999999/schedule"), 404)
